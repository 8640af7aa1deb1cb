"""deploy/prometheus and deploy/grafana: valid for promtool, and every query names real metrics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from faust.sensors.prometheus import FaustMetrics
from prometheus_client import CollectorRegistry

from streams.metrics import Metrics
from streams.promtools import (
    ALERT_RULES,
    DASHBOARD,
    GRAFANA_DIR,
    PROMETHEUS_CONFIG,
    PROMETHEUS_DIR,
    PanelQuery,
    Rule,
    dashboard_panels,
    dashboard_queries,
    render_prometheus_config,
    rules,
)

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not on PATH (Debian/Ubuntu: apt-get install prometheus)"
)
# Metric names in PromQL; recording rules (level:metric:operation) have colons and are left out.
METRIC_NAME = re.compile(r"(?<![\w:])(?:incident_monitor|faust)_[a-z0-9_]+(?![\w:])")
ALERTS = [r for r in rules() if r.kind == "alert"]
RECORDS = [r for r in rules() if r.kind == "record"]
QUERIES = dashboard_queries()


@cache
def exported_names() -> frozenset[str]:
    """Every sample name a worker's /metrics can hold: our metrics and Faust's ``faust_`` ones."""
    registry = CollectorRegistry()
    Metrics.create(registry)
    FaustMetrics.create(registry, "faust")
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "gauge": ("",),
    }
    return frozenset(
        family.name + suffix for family in registry.collect() for suffix in suffixes[family.type]
    )


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- Prometheus ------------------------------------------------------------------------------
def test_scrape_config_targets_the_default_worker_port_and_loads_the_rules() -> None:
    config = load_yaml(PROMETHEUS_CONFIG)
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "incident-monitor"
    assert job["static_configs"] == [{"targets": ["127.0.0.1:6066"]}]
    assert [PROMETHEUS_DIR / name for name in config["rule_files"]] == [ALERT_RULES]


def test_rendered_config_scrapes_the_given_workers_with_absolute_rule_files() -> None:
    config = yaml.safe_load(
        render_prometheus_config(["127.0.0.1:7001", "10.0.0.2:7002"], interval="1s")
    )
    assert config["global"] == {"scrape_interval": "1s", "evaluation_interval": "1s"}
    assert config["scrape_configs"][0]["static_configs"] == [
        {"targets": ["127.0.0.1:7001", "10.0.0.2:7002"]}
    ]
    assert [Path(p) for p in config["rule_files"]] == [ALERT_RULES]


@pytest.mark.parametrize(
    ("alert", "metric"),
    [
        ("IncidentMonitorConsumerLag", "faust_topic_partition_end_offset"),
        ("IncidentMonitorConsumerLag", "faust_topic_partition_offset_commited"),
        ("IncidentMonitorDeadLetterRate", "incident_monitor_articles_rejected_total"),
        ("IncidentMonitorNoArticles", "incident_monitor_articles_consumed_total"),
        ("IncidentMonitorMetricsAbsent", "absent(incident_monitor_articles_consumed_total"),
        ("IncidentMonitorExtractionErrors", "incident_monitor_extraction_errors_total"),
        ("IncidentMonitorExtractionProcessDying", "incident_monitor_extraction_restarts_total"),
        ("IncidentMonitorWorkerDown", "up{"),
        ("IncidentMonitorAlertLatencyHigh", "incident_monitor_article_to_alert_seconds_bucket"),
    ],
)
def test_the_issue_alerts_exist(alert: str, metric: str) -> None:
    exprs = {r.name: r.expr for r in ALERTS}
    assert metric in exprs[alert]


@pytest.mark.parametrize("rule", ALERTS, ids=lambda r: r.name)
def test_every_alert_has_a_severity_summary_and_description(rule: Rule) -> None:
    raw = {
        r["alert"]: r for g in load_yaml(ALERT_RULES)["groups"] for r in g["rules"] if "alert" in r
    }[rule.name]
    assert raw["labels"]["severity"] in ("critical", "warning")
    assert raw["annotations"]["summary"].strip()
    assert raw["annotations"]["description"].strip()


def test_alerts_use_only_recording_rules_defined_alongside() -> None:
    recorded = {r.name for r in RECORDS}
    used = {name for r in ALERTS for name in re.findall(r"[a-z_]+:[a-z_]+:[a-z_]+", r.expr)}
    assert used <= recorded


@pytest.mark.parametrize(
    "expr",
    [pytest.param(r.expr, id=f"rule-{r.name}") for r in rules()]
    + [pytest.param(q.expr, id=f"panel-{q.panel}-{q.ref_id}") for q in QUERIES],
)
def test_every_query_names_metrics_the_worker_exports(expr: str) -> None:
    names = set(METRIC_NAME.findall(expr))
    assert names <= exported_names(), f"unknown: {sorted(names - exported_names())}"


@needs_promtool
def test_promtool_check_config() -> None:
    result = promtool("check", "config", str(PROMETHEUS_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_check_rules() -> None:
    result = promtool("check", "rules", str(ALERT_RULES))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_test_rules() -> None:
    tests = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))
    assert tests
    result = promtool("test", "rules", *map(str, tests))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_every_panel_query_is_valid_promql(tmp_path: Path) -> None:
    # promtool parses rule expressions, so each panel query becomes a recording rule.
    records = [
        {"record": f"dashboard:query_{i}:check", "expr": q.resolved("5m")}
        for i, q in enumerate(QUERIES)
    ]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}))
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


# --- Grafana ---------------------------------------------------------------------------------
DASHBOARD_JSON: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
DATASOURCES = load_yaml(GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yaml")
PROVIDERS = load_yaml(GRAFANA_DIR / "provisioning" / "dashboards" / "provider.yaml")
DATASOURCE_REF = {"type": "prometheus", "uid": "${datasource}"}


def test_dashboard_selects_its_data_source_by_variable_defaulting_to_the_provisioned_uid() -> None:
    (variable,) = DASHBOARD_JSON["templating"]["list"]
    (source,) = DATASOURCES["datasources"]
    assert (variable["name"], variable["type"], variable["query"]) == (
        "datasource",
        "datasource",
        "prometheus",
    )
    assert source["type"] == "prometheus"
    assert variable["current"]["value"] == source["uid"]


def test_every_panel_and_target_uses_the_data_source_variable() -> None:
    for panel in dashboard_panels(DASHBOARD_JSON):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == DATASOURCE_REF, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE_REF, panel["title"]


def test_panels_have_unique_ids_and_refids_and_fit_the_grid() -> None:
    panels = list(dashboard_panels(DASHBOARD_JSON))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        refs = [t["refId"] for t in panel.get("targets", [])]
        assert len(refs) == len(set(refs)), panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
    assert DASHBOARD_JSON["uid"] == "incident-monitor"


@pytest.mark.parametrize(
    ("panel", "needle"),
    [
        ("Articles/s", "rate(incident_monitor_articles_consumed_total"),
        (
            "Incidents by region (rolling hour)",
            "sum by (region) (increase(incident_monitor_incidents_total",
        ),
        (
            "Incidents by weapon (rolling hour)",
            "sum by (weapon) (increase(incident_monitor_incidents_total",
        ),
        (
            "Alerts by severity (rolling hour)",
            "sum by (severity) (increase(incident_monitor_alerts_total",
        ),
        (
            "Article → alert latency",
            "rate(incident_monitor_article_to_alert_seconds_bucket",
        ),
        (
            "Article → incident latency",
            "rate(incident_monitor_article_to_incident_seconds_bucket",
        ),
        (
            "Extraction time",
            "rate(incident_monitor_extraction_seconds_bucket",
        ),
        (
            "Consumer lag by topic",
            "faust_topic_partition_end_offset - faust_topic_partition_offset_commited",
        ),
        ("Dead-letter reasons", "sum by (reason) (rate(incident_monitor_articles_rejected_total"),
    ],
)
def test_the_issue_panels_exist(panel: str, needle: str) -> None:
    assert any(needle in q.expr for q in QUERIES if q.panel == panel)


@pytest.mark.parametrize(
    "panel", ["Article → alert latency", "Article → incident latency", "Extraction time"]
)
def test_latency_panels_show_p50_p95_p99(panel: str) -> None:
    quantiles = [
        re.match(r"histogram_quantile\(([0-9.]+),", q.expr) for q in QUERIES if q.panel == panel
    ]
    assert [m.group(1) for m in quantiles if m] == ["0.5", "0.95", "0.99"]


def test_grafana_variables_resolve_to_plain_promql() -> None:
    query = PanelQuery("p", "A", "increase(x[$__range]) / rate(x[${__rate_interval}])")
    assert query.resolved("2m") == "increase(x[2m]) / rate(x[2m])"
    assert not [q.expr for q in QUERIES if "$" in q.resolved("1m")]


def test_dashboard_provider_reads_json_files() -> None:
    (provider,) = PROVIDERS["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"]
