"""A worker SIGKILLed mid-window and restarted ends where an uninterrupted replay ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaProducer

from streams.pipeline import Pipeline
from streams.replay import replay_paths
from streams.settings import Topics
from tests.integration.support import alert_state, consumed, read_all, wait_for

# Reports from one day, so the daily windows are still open when the worker dies.
REPORTS = [
    "Gunmen killed three soldiers at a checkpoint in Mosul.",
    "A roadside bomb wounded four policemen in Kirkuk.",
    "Two Katyusha rockets struck near the US embassy in Baghdad's Green Zone.",
    "A car bomb killed seven civilians at a market in Mosul.",
    "Islamic State militants attacked an army post in Tarmiyah, killing two soldiers.",
    "A suicide bomber killed twelve people at a mosque in Kirkuk.",
    "Mortar shells hit a village near Tuz Khurmatu, wounding five people.",
    "A drone strike killed four militants near Sinjar.",
    "An IED exploded near a patrol in Fallujah, killing one soldier.",
    "Islamic State claimed responsibility for a bombing that killed nine people in Baghdad.",
    "A second car bomb killed six people near a market in Mosul.",
    "Rockets hit Erbil airport; no casualties were reported.",
]


def articles(now: datetime) -> list[dict[str, Any]]:
    start = now - timedelta(hours=len(REPORTS) + 1)
    return [
        {
            "id": f"recovery-{i:02d}",
            "body": body,
            "published_at": (start + timedelta(hours=i)).isoformat(),
            "source": f"outlet-{i % 3}",
            "language": "en",
        }
        for i, body in enumerate(REPORTS)
    ]


def test_sigkill_mid_window_then_restart_matches_replay(
    kafka_bootstrap: str, worker_factory: Callable[..., Any], tmp_path: Path
) -> None:
    docs = articles(datetime.now(UTC).replace(microsecond=0))
    first = worker_factory(INCIDENT_SESSION_TIMEOUT="6").start()
    topics = Topics.with_prefix(first.env["INCIDENT_TOPIC_PREFIX"])
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)

    def push(batch: list[dict[str, Any]]) -> None:
        for doc in batch:
            producer.send(topics.articles, key=doc["id"].encode(), value=orjson.dumps(doc))
        producer.flush()

    half = len(docs) // 2
    push(docs[:half])
    wait_for(lambda: consumed(first.metrics()) >= half, 60, "the first half to be consumed")
    first.kill()

    push(docs[half:])
    second = worker_factory(**{k: v for k, v in first.env.items() if k.startswith("INCIDENT_")})
    second.start()
    producer.close()

    # The replay of the same input, uninterrupted, is what the restarted worker must reach.
    source = tmp_path / "input.jsonl"
    source.write_bytes(b"\n".join(orjson.dumps(d) for d in docs))
    expected = list(replay_paths([str(source)], pipeline=Pipeline(topics=topics)))
    want_alerts = {
        alert_state(orjson.loads(v.dumps())) for t, _, v in expected if t == topics.alerts
    }
    want_clusters: dict[str, set[str]] = {}
    for t, _, v in expected:
        if t == topics.incidents:
            want_clusters[v.cluster_id] = {s.incident_id for s in v.sources or []}
    assert want_alerts and want_clusters

    def clusters_now() -> dict[str, set[str]]:
        latest: dict[str, set[str]] = {}
        for c in read_all(kafka_bootstrap, topics.incidents):
            latest[c["cluster_id"]] = {s["incident_id"] for s in c["sources"]}
        return latest

    def clusters_differ() -> str:
        got = clusters_now()
        missing = {k: sorted(v) for k, v in want_clusters.items() if got.get(k) != v}
        extra = {k: sorted(v) for k, v in got.items() if want_clusters.get(k) != v}
        try:
            read = f"{consumed(second.metrics()):.0f} of {len(docs)}"
        except OSError:
            read = "not answering"
        return (
            f"the clusters of the replay; missing or different {missing}; unexpected {extra}; "
            f"the restarted worker consumed {read}"
        )

    wait_for(lambda: clusters_now() == want_clusters, 120, clusters_differ)

    def alerts_now() -> set[tuple[Any, ...]]:
        return {alert_state(a) for a in read_all(kafka_bootstrap, topics.alerts)}

    wait_for(
        lambda: alerts_now() >= want_alerts,
        60,
        lambda: (
            f"the alerts of the replay; missing {want_alerts - alerts_now()}, "
            f"not in the replay {alerts_now() - want_alerts}"
        ),
    )
    time.sleep(3)  # a duplicate, if any, would be published right behind

    published = [alert_state(a) for a in read_all(kafka_bootstrap, topics.alerts)]
    assert len(published) == len(set(published)), "an alert state was published twice"
    assert set(published) == want_alerts
    for severity in ("high", "medium", "low"):
        on_topic = [alert_state(a) for a in read_all(kafka_bootstrap, topics.alerts_for(severity))]
        assert len(on_topic) == len(set(on_topic))
        assert set(on_topic) == {a for a in want_alerts if a[3] == severity}
    assert clusters_now() == want_clusters
