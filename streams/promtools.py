"""The files in deploy/prometheus and deploy/grafana: a config for given workers, their queries."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from streams.settings import PROJECT_ROOT

PROMETHEUS_DIR = PROJECT_ROOT / "deploy" / "prometheus"
PROMETHEUS_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
ALERT_RULES = PROMETHEUS_DIR / "alerts.yml"
GRAFANA_DIR = PROJECT_ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "incident-monitor.json"

# Grafana's built-in interval variables; Prometheus itself knows none of them.
GRAFANA_INTERVALS = ("$__rate_interval", "${__rate_interval}", "$__interval", "${__interval}")
GRAFANA_RANGES = ("$__range", "${__range}")


@dataclass(frozen=True)
class Rule:
    """One rule of a Prometheus rules file: ``kind`` is ``alert`` or ``record``."""

    kind: str
    name: str
    expr: str


@dataclass(frozen=True)
class PanelQuery:
    """One target of one dashboard panel."""

    panel: str
    ref_id: str
    expr: str

    def resolved(self, interval: str) -> str:
        """The expression with Grafana's interval and range variables set to ``interval``.

        >>> PanelQuery("p", "A", "rate(x[$__rate_interval])").resolved("1m")
        'rate(x[1m])'
        """
        expr = self.expr
        for variable in (*GRAFANA_INTERVALS, *GRAFANA_RANGES):
            expr = expr.replace(variable, interval)
        return expr


def render_prometheus_config(
    targets: Sequence[str],
    *,
    interval: str | None = None,
    config: Path = PROMETHEUS_CONFIG,
) -> str:
    """``config`` scraping ``targets`` (every ``interval`` if given), rule files made absolute.

    >>> text = render_prometheus_config(["127.0.0.1:7000"], interval="1s")
    >>> "127.0.0.1:7000" in text and "scrape_interval: 1s" in text
    True
    """
    data: dict[str, Any] = yaml.safe_load(config.read_text(encoding="utf-8"))
    if interval is not None:
        data.setdefault("global", {})
        data["global"]["scrape_interval"] = interval
        data["global"]["evaluation_interval"] = interval
    data["rule_files"] = [str(config.parent / name) for name in data.get("rule_files", [])]
    for job in data["scrape_configs"]:
        job["static_configs"] = [{"targets": list(targets)}]
    return yaml.safe_dump(data, sort_keys=False)


def rules(path: Path = ALERT_RULES) -> list[Rule]:
    """Every rule of a rules file, alerting and recording, in file order.

    >>> any(r.kind == "alert" and r.name == "IncidentMonitorWorkerDown" for r in rules())
    True
    """
    data: Mapping[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = []
    for group in data["groups"]:
        for rule in group["rules"]:
            kind = "alert" if "alert" in rule else "record"
            found.append(Rule(kind=kind, name=str(rule[kind]), expr=str(rule["expr"]).strip()))
    return found


def dashboard_panels(dashboard: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every panel of a Grafana dashboard, those inside collapsed rows too."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries(path: Path = DASHBOARD) -> list[PanelQuery]:
    """Every target expression of every panel of a dashboard JSON file, in panel order.

    >>> any(q.panel == "Articles/s" for q in dashboard_queries())
    True
    """
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    return [
        PanelQuery(panel=str(panel["title"]), ref_id=str(target["refId"]), expr=target["expr"])
        for panel in dashboard_panels(dashboard)
        for target in panel.get("targets", [])
        if target.get("expr")
    ]
