"""Load smoke test: a short sustained stream through the real broker, nothing lost or invented.

The load generator of ``bench/bench_load.py`` pushes generated English and Arabic incident
reports, seed articles under fresh ids and a few malformed messages at a steady rate for a few
seconds; the worker must account for every one of them (consumed, or on ``articles.dlq``), its
extraction stage must send on the reports the offline extractor reads from the same messages,
and what reaches ``incidents``, ``alerts`` and ``incidents.late`` must be what the offline
corroboration stage publishes for those reports and the worker's clock ticks.
Correctness under sustained input, not speed: no figure of time is asserted here
(``bench/bench_load.py`` prints those).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

from streams.extract.engine import get_extractor
from streams.ingest import RejectedInput, parse_article, parse_timestamp
from streams.pipeline import Pipeline
from streams.records import Incident
from tests.integration.support import read_all

ROOT = Path(__file__).resolve().parents[2]
RATE = 40.0  # articles/s
SECONDS = 15.0


def load_bench() -> ModuleType:
    """``bench/bench_load.py`` as a module (bench/ is a folder of scripts, not a package)."""
    name = "bench_load_for_tests"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "bench_load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def extract_offline(values: list[bytes]) -> list[dict[str, Any]]:
    """The reports the extraction stage should send for ``values`` pushed in this order."""
    extractor = get_extractor()
    reports = []
    for value in values:
        try:
            article = parse_article(value, max_bytes=1_000_000)
        except RejectedInput:
            continue
        reports += [orjson.loads(incident.dumps()) for incident in extractor.extract(article)]
    return reports


def corroborate_offline(work: list[dict[str, Any]]) -> dict[str, Any]:
    """What the corroboration stage should publish for ``work`` (reports and clock ticks).

    Ticks close windows and forget clusters past their retention on the wall clock, so the
    outcome depends on where they fall among the reports: they are taken from the worker's
    own ``incidents.reports``, in order.
    """
    pipeline = Pipeline(store={})
    revisions: set[tuple[str, int]] = set()
    incident_ids: set[str] = set()
    alerts: set[tuple[str, int]] = set()
    late = 0
    for item in work:
        if item.get("tick"):
            found = pipeline.on_tick(parse_timestamp(item["tick"]))
        else:
            found = []
            for cluster in pipeline.on_incident(Incident.from_data(item["report"])):
                revisions.add((cluster.cluster_id or cluster.incident_id, cluster.revision))
                incident_ids.update(s.incident_id for s in cluster.sources or [])
                more, lates = pipeline.on_cluster(cluster)
                found += more
                late += len(lates)
        alerts.update((alert.alert_id, alert.revision) for alert in found)
    return {"revisions": revisions, "incident_ids": incident_ids, "alerts": alerts, "late": late}


def test_sustained_stream_is_processed_whole(
    kafka_bootstrap: str, worker_factory: Callable[..., Any]
) -> None:
    bench = load_bench()
    worker = worker_factory().start()
    assert worker.proc is not None
    target = bench.Target(
        bootstrap=kafka_bootstrap,
        prefix=worker.env["INCIDENT_TOPIC_PREFIX"],
        metrics_url=f"http://127.0.0.1:{worker.port}/metrics",
        pid=worker.proc.pid,
    )
    factory = bench.ArticleFactory(seed=11, invalid_every=97)
    run = bench.start_run(target, factory, keep_messages=True)
    try:
        bench.warm_up(run)
        run.pusher.run_step(bench.Step(RATE, SECONDS))
        bench.drain(run, timeout_s=180.0)
    finally:
        bench.stop_run(run)
    assert run.drained, "the worker did not catch up:\n" + worker.log_path.read_text()[-3000:]

    # Every message pushed is accounted for: consumed, or on the dead-letter topic.
    lost = bench.loss(run)
    pushed = run.pusher.messages
    assert lost.failed_sends == 0
    assert lost.valid_pushed == sum(m.valid for m in pushed) > RATE * SECONDS * 0.9
    assert lost.invalid_pushed == sum(not m.valid for m in pushed) >= 5
    assert lost.unaccounted_articles == 0, lost
    assert lost.missing_dead_letters == 0, lost
    assert lost.missing_incidents == 0, lost
    assert lost.missing_alerts == 0, lost
    assert lost.total == 0
    reasons = {reason for _t, _key, reason in run.reader.out.dead_letters}
    assert reasons <= {"not_json", "not_utf8", "missing_field", "not_object"}, reasons

    # The extraction stage sent on exactly the reports the offline extractor reads, in order.
    work = read_all(kafka_bootstrap, target.topic("incidents.reports"))
    sent = [item["report"] for item in work if item.get("report")]
    expected_reports = extract_offline([m.value for m in pushed])
    assert [r["incident_id"] for r in sent] == [r["incident_id"] for r in expected_reports]
    assert [_without_clock(r) for r in sent] == [_without_clock(r) for r in expected_reports]

    # What reached the topics is what the offline flow publishes for those reports and ticks.
    expected = corroborate_offline(work)
    out = run.reader.out
    assert expected["incident_ids"] and expected["alerts"], "the stream should fire alerts"
    assert out.incident_ids == expected["incident_ids"]
    assert out.revisions == expected["revisions"]
    assert {(aid, rev) for _s, _t, aid, rev, _p in out.alerts} == expected["alerts"]
    assert out.late == expected["late"]


def _without_clock(report: dict[str, Any]) -> dict[str, Any]:
    """A report without ``produced_at`` (the article's Kafka timestamp, unknown offline)."""
    return {k: v for k, v in report.items() if k != "produced_at"}
