"""The real Prometheus scraping a real worker: targets, our metrics, every rule and panel query."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest

from streams.promtools import PanelQuery, Rule, dashboard_queries, render_prometheus_config, rules

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = shutil.which("prometheus")
# Fast enough that a test sees a few scrapes and rule rounds within seconds.
INTERVAL = "1s"
# What Grafana's $__rate_interval and $__range become in the panel queries: longer than the
# whole module runs, so every observation made after the first scrape is inside the window.
WINDOW = "3m"
BAD_MESSAGE = '{"id": "prometheus-bad", "body": '

pytestmark = pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus not on PATH (Debian/Ubuntu: apt-get install prometheus)"
)

T = TypeVar("T")


@dataclass(frozen=True)
class Stack:
    """A Prometheus scraping one worker, after the worker has processed the pushed articles."""

    prometheus: str
    worker: str
    logs: Path


def free_ports(count: int) -> list[int]:
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as error:  # Prometheus explains a bad query in the body
        with error:
            return json.load(error)


def api(base: str, path: str, **params: str) -> Any:
    """``data`` of a Prometheus HTTP API answer; fails with Prometheus's error otherwise."""
    body = get_json(f"{base}/api/v1/{path}?{urllib.parse.urlencode(params)}")
    assert body["status"] == "success", f"{path} {params}: {body.get('error')}"
    return body["data"]


def query(base: str, expr: str) -> list[dict[str, Any]]:
    """The instant vector ``expr`` evaluates to now."""
    data = api(base, "query", query=expr)
    if data["resultType"] == "scalar":
        return [{"metric": {}, "value": data["result"]}]
    return list(data["result"])


def wait_for(what: str, check: Callable[[], T | None], timeout: float, logs: Path) -> T:
    """Poll ``check`` until it returns something, or fail with the process logs."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
        except OSError:
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in logs.glob("*.log"))
            pytest.fail(f"timed out waiting for {what}\n{tails}")
        time.sleep(0.5)


def start(
    stack: ExitStack, name: str, cmd: list[str], logs: Path, **popen: Any
) -> subprocess.Popen[bytes]:
    """Start ``cmd`` logging to ``logs/name.log``; ``stack`` terminates it (kills if it hangs)."""
    log = stack.enter_context((logs / f"{name}.log").open("wb"))
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **popen)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    stack.callback(stop)
    return proc


def fresh_articles(tag: str) -> bytes:
    """The seeds as JSON Lines with new ids, moved by whole weeks into the last seven days.

    New ids so the worker extracts them even when an earlier test pushed the seeds; recent
    dates so their incidents fall in fresh windows and raise fresh alerts; whole weeks so
    "on Wednesday" still means the same day. Last, one malformed message for the DLQ.
    """
    lines = []
    for path in sorted((ROOT / "seeds").glob("*.json")):
        article = json.loads(path.read_text(encoding="utf-8"))
        article["id"] = f"{article['id']}-{tag}"
        published = article.get("published_at")
        if published:
            day = date.fromisoformat(published[:10])
            weeks = (datetime.now(UTC).date() - day).days // 7
            moved = day + timedelta(weeks=weeks)
            article["published_at"] = moved.isoformat() + published[10:]
        lines.append(json.dumps(article, ensure_ascii=False))
    lines.append(BAD_MESSAGE)
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    assert PROMETHEUS is not None
    tmp = tmp_path_factory.mktemp("prometheus")
    web_port, prom_port = free_ports(2)
    worker = f"127.0.0.1:{web_port}"
    base = f"http://127.0.0.1:{prom_port}"
    config = tmp / "prometheus.yml"
    config.write_text(render_prometheus_config([worker], interval=INTERVAL), encoding="utf-8")
    tag = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP": kafka_bootstrap,
        "INCIDENT_WEB_PORT": str(web_port),
        "INCIDENT_VAR_DIR": str(tmp),
        "INCIDENT_TICK_SECONDS": "1",
        # A consumer group and tables of its own, whatever earlier tests left on the topics.
        "INCIDENT_APP_ID": f"incident-monitor-prom-{tag}",
    }
    with ExitStack() as procs:
        # Prometheus first: its first scrape of the worker holds the zeros every rate() needs.
        prometheus = start(
            procs,
            "prometheus",
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                "--log.level=warn",
            ],
            tmp,
        )
        wait_for("Prometheus to be ready", lambda: _ready(base, prometheus), 30, tmp)
        start(
            procs,
            "worker",
            [sys.executable, "-m", "streams", "worker", "--loglevel", "info"],
            tmp,
            env=env,
            cwd=tmp,
        )
        wait_for("the worker's target to be up", lambda: _target_health(base) == "up", 90, tmp)
        push = subprocess.run(
            [sys.executable, "-m", "streams", "push", "-", "--quiet"],
            input=fresh_articles(tag),
            env=env,
            capture_output=True,
            timeout=60,
        )
        assert push.returncode == 0, push.stderr.decode()
        for expr in (
            "incident_monitor_articles_consumed_total > 0",
            "incident_monitor_articles_rejected_total > 0",
            "incident_monitor_alerts_total > 0",
            "incident_monitor_article_to_alert_seconds_count > 0",
            "faust_topic_partition_offset_commited",
        ):
            wait_for(f"{expr!r} in Prometheus", partial(query, base, expr), 60, tmp)
        yield Stack(prometheus=base, worker=worker, logs=tmp)


def _ready(base: str, proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        pytest.fail(f"prometheus exited with {proc.returncode}")
    with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as resp:
        return bool(resp.status == 200)


def _target_health(base: str) -> str | None:
    targets = api(base, "targets", state="active")["activeTargets"]
    return next(
        (str(t["health"]) for t in targets if t["labels"]["job"] == "incident-monitor"), None
    )


def test_the_worker_is_scraped_with_our_metrics_and_fausts(stack: Stack) -> None:
    (target,) = api(stack.prometheus, "targets", state="active")["activeTargets"]
    assert (target["labels"]["instance"], target["health"]) == (stack.worker, "up")
    (consumed,) = query(stack.prometheus, "incident_monitor_articles_consumed_total")
    assert float(consumed["value"][1]) >= 2
    reasons = query(stack.prometheus, "incident_monitor_articles_rejected_total")
    assert {r["metric"]["reason"] for r in reasons} >= {"not_json"}
    assert query(stack.prometheus, "faust_messages_received_total > 0")


RULES = rules()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_every_rule_expression_evaluates(stack: Stack, rule: Rule) -> None:
    # Most alerts are quiet on a healthy run, so an empty answer is right; an error is not.
    query(stack.prometheus, rule.expr)


def test_every_rule_is_loaded_and_healthy(stack: Stack) -> None:
    def evaluated() -> list[dict[str, Any]] | None:
        groups = api(stack.prometheus, "rules")["groups"]
        loaded = [r for g in groups for r in g["rules"]]
        return loaded if all(r["health"] != "unknown" for r in loaded) else None

    loaded = wait_for("a round of rule evaluations", evaluated, 20, stack.logs)
    assert sorted(r["name"] for r in loaded) == sorted(r.name for r in RULES)
    unhealthy = {r["name"]: r.get("lastError") for r in loaded if r["health"] != "ok"}
    assert not unhealthy


def test_no_pipeline_alert_fires_on_a_healthy_run(stack: Stack) -> None:
    alerts = api(stack.prometheus, "alerts")["alerts"]
    assert [a["labels"]["alertname"] for a in alerts if a["state"] == "firing"] == []


QUERIES = dashboard_queries()


@pytest.mark.parametrize("panel", QUERIES, ids=lambda q: f"{q.panel}-{q.ref_id}")
def test_every_panel_query_returns_data(stack: Stack, panel: PanelQuery) -> None:
    expr = panel.resolved(WINDOW)

    def finite() -> list[dict[str, Any]] | None:
        result = query(stack.prometheus, expr)
        return result if any(math.isfinite(float(r["value"][1])) for r in result) else None

    # Series appear a scrape or two after the worker counts something; give them a moment.
    assert wait_for(f"data for {panel.panel!r} {expr!r}", finite, 15, stack.logs)
