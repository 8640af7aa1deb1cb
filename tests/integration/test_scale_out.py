"""Two workers in one group share the partitions; when one dies the other takes over its state."""

from __future__ import annotations

import json
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka.partitioner import DefaultPartitioner
from kafka import KafkaConsumer, KafkaProducer

from streams.extract.engine import get_extractor
from streams.ingest import parse_article
from streams.pipeline import Pipeline
from streams.replay import replay_paths
from streams.settings import Topics
from tests.integration.support import consumed, read_all, wait_for

PARTITIONS = 4
# One city in each of nine governorates, in English and Arabic: with four partitions the
# default partitioner puts at least one of their region ids on every partition.
PLACES = {
    "Mosul": "الموصل",
    "Kirkuk": "كركوك",
    "Baghdad": "بغداد",
    "Basra": "البصرة",
    "Baqubah": "بعقوبة",
    "Tikrit": "تكريت",
    "Fallujah": "الفلوجة",
    "Erbil": "أربيل",
    "Najaf": "النجف",
}
# Before the kill, in every region: a car bombing and a shooting, each reported by several
# outlets in both languages (they corroborate into two clusters: 7 killed, two incidents in
# the day's windows), and an article that reports nothing.
BOMBING = [
    ("en", "A car bomb killed 4 civilians at a market in {en}."),
    ("ar", "قتل 4 مدنيين بانفجار سيارة مفخخة في سوق {ar}."),
    ("en", "Four civilians were killed when a car bomb exploded at a market in {en}."),
    ("ar", "انفجرت سيارة مفخخة في سوق {ar} مما أسفر عن مقتل 4 مدنيين."),
]
SHOOTING = [
    ("en", "Gunmen killed 3 soldiers at a checkpoint in {en}."),
    ("ar", "قتل 3 جنود بهجوم مسلح على نقطة تفتيش في {ar}."),
    ("en", "Three soldiers were killed when gunmen attacked a checkpoint in {en}."),
]
QUIET = ("en", "Officials in {en} announced a new budget for schools and hospitals.")
# After the kill, in every region: the bombing reported by one more outlet (its cluster
# gains a source and a revision) and a new rocket attack that kills two (the day's windows
# go from two incidents and 7 killed to three and 9: the same alerts escalate).
MORE_BOMBING = ("en", "A car bomb exploded at a market in {en}, killing 4 people.")
ROCKETS = ("en", "Three Katyusha rockets struck an army base in {en}, killing 2 soldiers.")


def article(
    article_id: str, text: tuple[str, str], place: str, at: datetime, source: str
) -> dict[str, Any]:
    lang, template = text
    return {
        "id": article_id,
        "body": template.format(en=place, ar=PLACES[place]),
        "published_at": at.isoformat(),
        "source": source,
        "language": lang,
    }


def before_kill(base: datetime) -> list[dict[str, Any]]:
    docs = []
    for n, place in enumerate(PLACES):
        at = base + timedelta(seconds=n)
        reports = [("bomb", i, text) for i, text in enumerate(BOMBING)]
        reports += [("shot", i, text) for i, text in enumerate(SHOOTING)]
        for kind, i, text in reports:
            docs.append(article(f"{kind}-{place}-{i}", text, place, at, f"outlet-{i}"))
            at += timedelta(minutes=1)
        docs.append(article(f"quiet-{place}", QUIET, place, at, "outlet-q"))
    return docs


def after_kill(base: datetime) -> list[dict[str, Any]]:
    docs = []
    for n, place in enumerate(PLACES):
        at = base + timedelta(minutes=20, seconds=n)
        docs.append(article(f"bomb-{place}-late", MORE_BOMBING, place, at, "outlet-late"))
        docs.append(article(f"rockets-{place}", ROCKETS, place, at, "outlet-r"))
    return docs


def owned(worker: Any, topic: str) -> set[int]:
    """Partitions of ``topic`` this worker holds, as Faust's router (``/router/``) tells."""
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/router/", timeout=5) as resp:
        routes = json.loads(resp.read())
    return {
        partition
        for url, topics in routes.items()
        if url.rstrip("/").endswith(f":{worker.port}")
        for partition in topics.get(topic, ())
    }


def region_partition(region: str) -> int:
    partitions = list(range(PARTITIONS))
    return int(DefaultPartitioner()(region.encode(), partitions, partitions))


def region_of(place: str, when: datetime) -> str:
    """The region id the extractor gives ``place`` (the reports' Kafka key)."""
    raw = orjson.dumps(article("probe", BOMBING[0], place, when, "probe"))
    (incident,) = get_extractor().extract(parse_article(raw, max_bytes=1 << 20))
    assert incident.location is not None and incident.location.region_id is not None
    return incident.location.region_id


def live_clusters(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The latest revision of each cluster, without those renamed after an earlier report."""
    latest: dict[str, dict[str, Any]] = {}
    for c in records:
        if c["cluster_id"] not in latest or c["revision"] > latest[c["cluster_id"]]["revision"]:
            latest[c["cluster_id"]] = c
    renamed = {
        s["incident_id"]
        for c in latest.values()
        for s in c["sources"]
        if s["incident_id"] != c["cluster_id"]
    }
    return {cid: c for cid, c in latest.items() if cid not in renamed}


def membership(clusters: dict[str, dict[str, Any]]) -> dict[str, frozenset[str]]:
    return {cid: frozenset(s["article_id"] for s in c["sources"]) for cid, c in clusters.items()}


def differences(
    got: dict[str, frozenset[str]], want: dict[str, frozenset[str]], *workers: Any
) -> str:
    """What a failure says: clusters missing and unexpected, and what each worker consumed."""
    missing = {k: sorted(v) for k, v in want.items() if got.get(k) != v}
    extra = {k: sorted(v) for k, v in got.items() if want.get(k) != v}
    counts = []
    for worker in workers:
        try:
            counts.append(consumed(worker.metrics()))
        except OSError:
            counts.append(-1.0)  # not answering
    return f"missing or different {missing}; unexpected {extra}; consumed {counts}"


def latest_alerts(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for a in records:
        if a["alert_id"] not in latest or a["revision"] > latest[a["alert_id"]]["revision"]:
            latest[a["alert_id"]] = a
    return latest


def alert_content(alert: dict[str, Any]) -> tuple[Any, ...]:
    """What an alert says, without its revision (which also counts intermediate states)."""
    return (
        alert["rule"],
        alert["severity"],
        alert["region"],
        tuple(sorted(alert["figures"].items())),
        tuple(sorted(i["incident_id"] for i in alert["incidents"])),
    )


def replayed(
    docs: list[dict[str, Any]], topics: Topics, tmp_path: Path
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Live clusters and latest alerts of an uninterrupted offline run of ``docs``."""
    source = tmp_path / f"replay-{len(docs)}.jsonl"
    source.write_bytes(b"\n".join(orjson.dumps(d) for d in docs))
    out = list(replay_paths([str(source)], pipeline=Pipeline(topics=topics)))
    clusters = [orjson.loads(v.dumps()) for t, _, v in out if t == topics.incidents]
    alerts = [orjson.loads(v.dumps()) for t, _, v in out if t == topics.alerts]
    return live_clusters(clusters), latest_alerts(alerts)


# Intermittent in clean-clone CI runs only (3 of 6 in one session), the first load's clusters
# never matching the replay. The same kind of stall was caught in the recovery test with its
# cause in the log: an output topic created only by a worker's first send to it, on which the
# send waited for good. Output topics are now created at start (tested below); the rerun stays
# until more clean-clone runs have passed without one.
@pytest.mark.flaky(reruns=2)
def test_two_workers_share_the_load_and_one_takes_over_when_the_other_dies(
    kafka_bootstrap: str, worker_factory: Callable[..., Any], tmp_path: Path
) -> None:
    # Whole-hour aligned, so every report of a region falls in the same day and hour.
    base = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    first_docs, second_docs = before_kill(base), after_kill(base)
    env = {"INCIDENT_PARTITIONS": str(PARTITIONS), "INCIDENT_SESSION_TIMEOUT": "6"}
    survivor = worker_factory(**env).start()  # declares the topics, with four partitions
    group = {k: survivor.env[k] for k in ("INCIDENT_TOPIC_PREFIX", "INCIDENT_APP_ID")}
    doomed = worker_factory(**group, **env).start()
    topics = Topics.with_prefix(group["INCIDENT_TOPIC_PREFIX"])
    changelog = f"{group['INCIDENT_APP_ID']}-region_state-changelog"

    def split() -> bool:
        a, b = owned(survivor, changelog), owned(doomed, changelog)
        return bool(a) and bool(b) and a | b == set(range(PARTITIONS)) and not a & b

    wait_for(split, 150, "the two workers to split the partitions")
    region = {place: region_of(place, base) for place in PLACES}
    doomed_regions = {r for r in region.values() if region_partition(r) in owned(doomed, changelog)}
    assert doomed_regions, "the worker to be killed holds none of the regions"

    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    try:

        def push(batch: list[dict[str, Any]]) -> None:
            for doc in batch:
                producer.send(topics.articles, key=doc["id"].encode(), value=orjson.dumps(doc))
            producer.flush()

        # 1. The load is shared: each worker consumes some articles, together all of them.
        push(first_docs)
        want_clusters, _ = replayed(first_docs, topics, tmp_path)

        def clusters_now() -> dict[str, dict[str, Any]]:
            return live_clusters(read_all(kafka_bootstrap, topics.incidents))

        wait_for(
            lambda: membership(clusters_now()) == membership(want_clusters),
            150,  # a hang guard for a loaded machine, not a speed check
            lambda: (
                "the clusters of the first load: "
                + differences(
                    membership(clusters_now()), membership(want_clusters), survivor, doomed
                )
            ),
        )
        counts = consumed(survivor.metrics()), consumed(doomed.metrics())
        assert min(counts) > 0 and sum(counts) == len(first_docs), counts
        before = clusters_now()
        alerts_before = latest_alerts(read_all(kafka_bootstrap, topics.alerts))

        # 2. More reports; the worker dies as soon as it has published part of its share.
        push(second_docs)

        def doomed_published() -> bool:
            return any(
                c["article_id"].startswith("rockets-")
                and c["location"]["region_id"] in doomed_regions
                for c in read_all(kafka_bootstrap, topics.incidents)
            )

        wait_for(doomed_published, 30, "the doomed worker to publish")
        doomed.kill()
        wait_for(
            lambda: owned(survivor, changelog) == set(range(PARTITIONS)),
            150,  # a hang guard for a loaded machine, not a speed check
            "the survivor to take over every partition",
        )
    finally:
        producer.close()

    # 3. The survivor ends where an uninterrupted run ends.
    want_clusters, want_alerts = replayed(first_docs + second_docs, topics, tmp_path)
    wait_for(
        lambda: membership(clusters_now()) == membership(want_clusters),
        90,
        lambda: (
            "the clusters of the whole input: "
            + differences(membership(clusters_now()), membership(want_clusters), survivor)
        ),
    )

    def alerts_match() -> bool:
        got = latest_alerts(read_all(kafka_bootstrap, topics.alerts))
        return {k: alert_content(a) for k, a in got.items()} == {
            k: alert_content(a) for k, a in want_alerts.items()
        }

    wait_for(alerts_match, 30, "the alerts of the whole input")
    time.sleep(3)  # a duplicate, if any, would be published right behind

    # 4. Nothing twice: every (cluster, revision) and (alert, revision) once per topic.
    records = read_all(kafka_bootstrap, topics.incidents)
    repeated = [
        k for k, n in Counter((c["cluster_id"], c["revision"]) for c in records).items() if n > 1
    ]
    assert not repeated, f"clusters published twice: {repeated}"
    for name in (topics.alerts, *(topics.alerts_for(s) for s in ("high", "medium", "low"))):
        published = Counter((a["alert_id"], a["revision"]) for a in read_all(kafka_bootstrap, name))
        assert all(n == 1 for n in published.values()), f"an alert twice on {name}"

    # 5. The dead worker's regions went on from its state: merged, escalated, not restarted.
    after = clusters_now()
    alerts_after = latest_alerts(read_all(kafka_bootstrap, topics.alerts))
    for place in PLACES:
        old = next(c for c in before.values() if c["article_id"].startswith(f"bomb-{place}-"))
        new = after[old["cluster_id"]]
        assert new["revision"] == old["revision"] + 1
        assert len(new["sources"]) == len(old["sources"]) + 1 == len(BOMBING) + 1
        for alert_id, alert in alerts_before.items():
            if alert["region"] == region[place] and alert["rule"] in (
                "casualties",
                "incidents_24h",
            ):
                assert alerts_after[alert_id]["revision"] > alert["revision"]
        casualties = [
            a
            for a in alerts_after.values()
            if a["region"] == region[place] and a["rule"] == "casualties"
        ]
        assert [a["figures"]["killed"] for a in casualties] == [9]

    # Faust 0.15.3 can hang on SIGTERM after a takeover (its shutdown commits twice, the
    # second time outside a transaction); the test is over, so no graceful stop.
    survivor.kill()


def test_a_worker_creates_its_output_topics_with_its_partitions_before_any_input(
    kafka_bootstrap: str, worker_factory: Callable[..., Any]
) -> None:
    worker = worker_factory(INCIDENT_PARTITIONS=str(PARTITIONS)).start()
    topics = Topics.with_prefix(worker.env["INCIDENT_TOPIC_PREFIX"])
    outputs = [topics.incidents, topics.late, topics.dlq, topics.alerts]
    outputs += [topics.alerts_for(s) for s in ("high", "medium", "low")]
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap)
    try:

        def partitions() -> dict[str, int]:
            consumer.topics()  # refreshes the metadata of every topic
            return {name: len(consumer.partitions_for_topic(name) or ()) for name in outputs}

        # Subscribers can subscribe before the first alert, and every output topic is
        # partitioned like the worker's own (not with the broker's default).
        wait_for(
            lambda: set(partitions().values()) == {PARTITIONS},
            60,
            lambda: f"the output topics with {PARTITIONS} partitions each: {partitions()}",
        )
    finally:
        consumer.close()
