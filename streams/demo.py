"""The one-command demo: local broker, a worker, seeds pushed, alerts printed, metrics served."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from functools import partial
from pathlib import Path

from streams import broker
from streams.console import describe
from streams.io import follow, make_producer, push_messages, read_messages
from streams.settings import Settings, var_dir

METRICS_SHOWN = (
    "incident_monitor_articles_consumed_total",
    "incident_monitor_articles_rejected_total",
    "incident_monitor_incidents_total",
    "incident_monitor_alerts_total",
    "incident_monitor_article_to_alert_seconds_count",
)


def web_port() -> int:
    """Port of the worker's web server (``/metrics``)."""
    return int(os.environ.get("INCIDENT_WEB_PORT", "6066"))


def wait_for_http(url: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> bool:
    """Poll ``url`` until it answers 200, the time is up, or ``proc`` has exited."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and (proc is None or proc.poll() is None):
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def start_worker(log_path: Path) -> subprocess.Popen[bytes]:
    """Launch ``incident-monitor worker`` as a child process logging to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns the handle for its lifetime
    return subprocess.Popen(
        [sys.executable, "-m", "streams", "worker", "--loglevel", "warn"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_worker(proc: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    """Ask the worker to stop (SIGTERM lets Faust commit offsets), then insist."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def metric_lines(url: str) -> list[str]:
    """The headline samples of our metrics, as Prometheus text lines."""
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode("utf-8")
    return [ln for ln in text.splitlines() if ln.startswith(METRICS_SHOWN)]


def _consumed_all(url: str, sent: int) -> bool:
    """Whether the worker has read ``sent`` articles (its ``articles_consumed`` counter)."""
    try:
        lines = metric_lines(url)
    except OSError:
        return True  # nothing more to learn from it: the quiet spell counts
    for line in lines:
        if line.startswith("incident_monitor_articles_consumed_total "):
            return float(line.split()[1]) >= sent
    return False


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_demo(*, seeds: Path, keep_running: bool, wait_s: float) -> int:
    """Run the demo; with ``keep_running`` the worker serves metrics until Ctrl-C or SIGTERM."""
    # The worker runs in a session of its own (a Ctrl-C reaches the demo alone, which then
    # stops it cleanly). A process manager or ``timeout`` stops with SIGTERM instead, which
    # would end the demo at once and leave the worker running: it is taken as a Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    settings = Settings.from_env()
    t0 = time.monotonic()
    if not os.environ.get("KAFKA_BOOTSTRAP"):
        print(broker.start(broker.BrokerConfig.from_env()).describe(), flush=True)
    metrics_url = f"http://127.0.0.1:{web_port()}/metrics"
    worker = start_worker(var_dir() / "demo-worker.log")
    try:
        if not wait_for_http(metrics_url, 90, worker):
            print(f"error: the worker did not come up; see {var_dir() / 'demo-worker.log'}")
            return 1
        print(f"worker up, metrics at {metrics_url}", flush=True)
        producer = make_producer(settings.bootstrap)
        pushed_at = time.monotonic()
        messages = list(read_messages([str(seeds)]))
        for _ in push_messages(producer, settings.topics.articles, messages):
            pass
        producer.close()
        sent = len(messages)
        print(f"pushed {sent} seed article(s) from {seeds}; alerts as they arrive:", flush=True)
        pushed_ms = int(time.time() * 1000) - int((time.monotonic() - pushed_at) * 1000)
        first_alert: float | None = None
        # From the beginning: a re-run pushes articles already processed (same ids are
        # processed once), so its alerts are the earlier ones; they are shown and marked.
        for rec in follow(
            settings.bootstrap,
            settings.topics.alerts,
            from_beginning=True,
            exit_at_end=False,
            idle_timeout_s=10,
            first_timeout_s=wait_s,
            # A quiet spell while the worker still has seeds to read (joining its group on a
            # new broker, a rebalance) is not the end of the alerts.
            quiet_counts=partial(_consumed_all, metrics_url, sent),
        ):
            if first_alert is None:
                first_alert = time.monotonic()
                if rec.timestamp_ms >= pushed_ms:
                    print(f"(first alert {first_alert - pushed_at:.1f} s after push)", flush=True)
            earlier = "" if rec.timestamp_ms >= pushed_ms else "(from an earlier run) "
            print(earlier + describe(rec.topic, rec.value), flush=True)
        if first_alert is None:
            print(f"no alert within {wait_s:.0f} s; see {var_dir() / 'demo-worker.log'}")
        print(f"\nmetrics at {metrics_url}:")
        for line in metric_lines(metrics_url):
            print(f"  {line}")
        print(f"demo wall time {time.monotonic() - t0:.1f} s", flush=True)
        if keep_running:
            print(
                "serving metrics; Ctrl-C stops the worker (the broker keeps running:"
                " 'incident-monitor broker stop')",
                flush=True,
            )
            worker.wait()
        return 0 if first_alert is not None else 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_worker(worker)
