"""Faults under load: a worker SIGKILLed mid-stream, the broker restarted mid-stream.

Either way every pushed record is accounted for exactly once (its incidents in the clusters,
or its dead letter on the DLQ), no cluster or alert revision is published twice, and the
outputs end where an uninterrupted offline replay of the same input ends.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from base64 import b64encode
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition

from streams import broker
from streams.broker import BrokerConfig
from streams.extract.engine import get_extractor
from streams.ingest import RejectedInput, parse_article
from streams.pipeline import Pipeline
from streams.replay import replay_paths
from streams.settings import Topics
from tests.integration.support import alert_state, read_all, sample, wait_for

# Cities of several governorates, as written in English and in Arabic.
PLACES = [
    ("Mosul", "الموصل"),
    ("Kirkuk", "كركوك"),
    ("Baghdad", "بغداد"),
    ("Basra", "البصرة"),
    ("Baqubah", "بعقوبة"),
    ("Tikrit", "تكريت"),
    ("Fallujah", "الفلوجة"),
    ("Erbil", "أربيل"),
    ("Ramadi", "الرمادي"),
    ("Sinjar", "سنجار"),
    ("Najaf", "النجف"),
]
ENGLISH = [
    "Gunmen killed {k} soldiers at a checkpoint in {p}.",
    "A roadside bomb wounded {w} policemen in {p}.",
    "{q} Katyusha rockets struck near an army base in {p}.",
    "A car bomb killed {k} civilians at a market in {p}.",
    "Mortar shells hit a village near {p}, wounding {w} people.",
    "A drone strike killed {k} militants near {p}.",
    "A suicide bomber killed {k} people at a mosque in {p}.",
    "Islamic State claimed responsibility for an attack that killed {k} soldiers in {p}.",
    "Police said {w} people were wounded when a grenade was thrown at a shop in {p}. "
    "Separately, gunmen killed {k} farmers near {p}.",
]
ARABIC = [
    "قتل {k} جنود بهجوم مسلح على نقطة تفتيش في {p}.",
    "أصيب {w} من عناصر الشرطة بانفجار عبوة ناسفة في {p}.",
    "سقطت {q} صواريخ كاتيوشا قرب قاعدة عسكرية في {p}.",
    "قتل {k} مدنيين بانفجار سيارة مفخخة في سوق {p}.",
    "قصفت قذائف هاون قرية قرب {p} مما أدى إلى إصابة {w} أشخاص.",
    "قتل {k} مسلحين بغارة لطائرة مسيرة قرب {p}.",
]
QUIET = [
    "Officials in {p} announced a new budget for schools and hospitals.",
    "أعلن مسؤولون في {p} عن ميزانية جديدة للمدارس.",
]


def articles(count: int, seed: int, end: datetime) -> list[dict[str, Any]]:
    """``count`` distinct articles, in published order over the six hours before ``end``."""
    rng = random.Random(seed)
    start = end - timedelta(hours=6)
    step = timedelta(hours=6) / count
    docs = []
    for i in range(count):
        english, arabic = rng.choice(PLACES)
        roll = rng.random()
        if roll < 0.1:
            lang, template = rng.choice([("en", QUIET[0]), ("ar", QUIET[1])])
        elif roll < 0.55:
            lang, template = "en", rng.choice(ENGLISH)
        else:
            lang, template = "ar", rng.choice(ARABIC)
        body = template.format(
            p=english if lang == "en" else arabic,
            k=rng.randint(2, 9),
            w=rng.randint(2, 12),
            q=rng.randint(2, 6),
        )
        doc = {
            "id": f"fault-{seed}-{i:03d}",
            "body": body,
            "published_at": (start + i * step).isoformat(),
            "source": f"outlet-{rng.randrange(6)}",
        }
        if rng.random() < 0.7:  # else detected
            doc["language"] = lang
        docs.append(doc)
    return docs


def malformed(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    """``count`` distinct bad records (key, value) of several kinds."""
    kinds: list[Callable[[int], bytes]] = [
        lambda i: b'{"id": "bad-%d", "body": ' % i,  # truncated JSON
        lambda i: b"not json at all %d" % i,
        lambda i: orjson.dumps({"id": f"bad-{i}"}),  # no body
        lambda i: orjson.dumps({"id": i, "body": "Gunmen attacked a checkpoint."}),
        lambda i: orjson.dumps({"id": f"bad-{i}", "body": "   "}),
        lambda i: b'{"id": "bad-%d", "body": "\xff\xfe"}' % i,  # not UTF-8
        lambda i: orjson.dumps([f"bad-{i}", "a list"]),
        lambda i: orjson.dumps({"id": f"bad-{i}", "body": ["not", "text"]}),
    ]
    return [(f"bad-{seed}-{i}".encode(), kinds[i % len(kinds)](i)) for i in range(count)]


def interleave(
    docs: list[dict[str, Any]], bad: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """The articles in order, with the bad records spread evenly among them."""
    out = [(d["id"].encode(), orjson.dumps(d)) for d in docs]
    every = max(1, len(out) // (len(bad) + 1))
    for n, record in enumerate(bad, start=1):
        out.insert(n * every + n - 1, record)
    return out


# The producer runs in a process of its own: kafka-python leaves sockets of failed connection
# attempts (the broker is down) to the garbage collector, which must not warn in this one.
PUSH = """
import base64, sys, time
import orjson
from kafka import KafkaProducer

source, topic, bootstrap, pace, progress = sys.argv[1:6]
records = [orjson.loads(line) for line in open(source, "rb")]
# Idempotent with acks=all: a retried batch is written once, and in order.
producer = KafkaProducer(
    bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5,
    delivery_timeout_ms=180_000, request_timeout_ms=10_000, max_block_ms=120_000,
)
futures = []
for n, record in enumerate(records, start=1):
    key, value = (base64.b64decode(record[k]) for k in ("key", "value"))
    futures.append(producer.send(topic, key=key, value=value))
    with open(progress, "w") as out:
        out.write(str(n))
    time.sleep(float(pace))
producer.flush(timeout=180)
for future in futures:
    future.get(timeout=1)
producer.close()
"""


@dataclass
class Pusher:
    """Pushes records in the background at a steady pace, retrying through broker outages."""

    bootstrap: str
    topic: str
    records: list[tuple[bytes, bytes]]
    pace_s: float
    folder: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Pusher:
        source = self.folder / "push.jsonl"
        source.write_bytes(
            b"\n".join(
                orjson.dumps({"key": b64encode(k).decode(), "value": b64encode(v).decode()})
                for k, v in self.records
            )
        )
        progress, log = self.folder / "push.progress", self.folder / "push.log"
        with open(log, "wb") as err:
            command = [sys.executable, "-c", PUSH, str(source), self.topic, self.bootstrap]
            self.proc = subprocess.Popen(
                [*command, str(self.pace_s), str(progress)], stdout=err, stderr=err
            )
        return self

    @property
    def sent(self) -> int:
        """Records handed to the producer so far."""
        try:
            return int((self.folder / "push.progress").read_text() or 0)
        except (OSError, ValueError):
            return 0

    def join(self, timeout_s: float) -> None:
        assert self.proc is not None
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the producer did not finish") from None
        log = (self.folder / "push.log").read_text(errors="replace")
        assert self.proc.returncode == 0, f"the producer failed: {log[-3000:]}"
        assert self.sent == len(self.records)

    def stop(self) -> None:
        """Kill the producer if it still runs (a test that failed half-way)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture()
def pusher(
    tmp_path: Path,
) -> Iterator[Callable[[str, str, list[tuple[bytes, bytes]], float], Pusher]]:
    """Start a Pusher; a test that fails half-way leaves none running."""
    made: list[Pusher] = []

    def start(
        bootstrap: str, topic: str, records: list[tuple[bytes, bytes]], pace_s: float
    ) -> Pusher:
        made.append(Pusher(bootstrap, topic, records, pace_s, tmp_path).start())
        return made[-1]

    yield start
    for pushing in made:
        pushing.stop()


def latest_clusters(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for c in records:
        if c["cluster_id"] not in latest or c["revision"] > latest[c["cluster_id"]]["revision"]:
            latest[c["cluster_id"]] = c
    return latest


def live(clusters: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Without the clusters renamed after an earlier report (their id is another's source)."""
    renamed = {
        s["incident_id"]
        for c in clusters.values()
        for s in c["sources"]
        if s["incident_id"] != c["cluster_id"]
    }
    return {cid: c for cid, c in clusters.items() if cid not in renamed}


@dataclass
class Expected:
    """What the input must produce: from the extractor and the replay, offline."""

    incidents: dict[str, set[str]]  # article id -> incident ids (empty: none reported)
    bad_keys: set[str]  # keys of the records that must be dead-lettered
    clusters: dict[str, set[str]]  # cluster id -> incident ids (latest revision)
    alerts: set[tuple[Any, ...]]  # every alert state published

    @classmethod
    def of(
        cls, docs: list[dict[str, Any]], bad: list[tuple[bytes, bytes]], topics: Topics, tmp: Path
    ) -> Expected:
        bad_keys = set()
        for key, value in bad:
            try:
                parse_article(value, max_bytes=1_000_000)
            except RejectedInput:
                bad_keys.add(key.decode())
        extractor = get_extractor()
        incidents = {
            d["id"]: {
                i.incident_id
                for i in extractor.extract(parse_article(orjson.dumps(d), max_bytes=1_000_000))
            }
            for d in docs
        }
        source = tmp / "input.jsonl"
        source.write_bytes(b"\n".join(orjson.dumps(d) for d in docs))
        out = list(replay_paths([str(source)], pipeline=Pipeline(topics=topics)))
        clusters = {
            v.cluster_id: {s.incident_id for s in v.sources or []}
            for t, _, v in out
            if t == topics.incidents
        }
        alerts = {alert_state(orjson.loads(v.dumps())) for t, _, v in out if t == topics.alerts}
        return cls(incidents, bad_keys, clusters, alerts)


def committed_to_end(bootstrap: str, group: str, topic: str) -> bool:
    """Whether ``group`` has committed every record of ``topic`` (all were processed)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = consumer.end_offsets(tps)
        return bool(tps) and all((consumer.committed(tp) or 0) >= ends[tp] for tp in tps)
    finally:
        consumer.close()


def settle(bootstrap: str, topics: Topics, want: Expected, group: str) -> None:
    """Wait for the whole input to be committed and its outputs (clusters, alerts) published."""
    wait_for(
        lambda: committed_to_end(bootstrap, group, topics.articles),
        90,
        "the worker to commit every pushed record",
    )

    def clusters_now() -> dict[str, set[str]]:
        latest = latest_clusters(read_all(bootstrap, topics.incidents))
        return {cid: {s["incident_id"] for s in c["sources"]} for cid, c in latest.items()}

    wait_for(lambda: clusters_now() == want.clusters, 90, "the clusters of the replay")
    wait_for(
        lambda: {alert_state(a) for a in read_all(bootstrap, topics.alerts)} >= want.alerts,
        30,
        "the alerts of the replay",
    )
    time.sleep(3)  # a duplicate, if any, would be published right behind


def check_accounting(bootstrap: str, topics: Topics, want: Expected) -> dict[str, int]:
    """Every record once, nothing twice, the replay's outputs; returns the figures."""
    # Dead letters are counted as they are on the topic: no de-duplication here.
    letters = read_all(bootstrap, topics.dlq)
    per_key = Counter(letter["key"] for letter in letters)
    assert set(per_key) == want.bad_keys, "dead letters for the wrong records"
    assert all(n == 1 for n in per_key.values()), f"dead-lettered twice: {per_key}"

    records = read_all(bootstrap, topics.incidents)
    twice = [
        k for k, n in Counter((c["cluster_id"], c["revision"]) for c in records).items() if n > 1
    ]
    assert not twice, f"cluster revisions published twice: {twice}"
    for name in (topics.alerts, *(topics.alerts_for(s) for s in ("high", "medium", "low"))):
        states = [alert_state(a) for a in read_all(bootstrap, name)]
        assert len(states) == len(set(states)), f"an alert revision published twice on {name}"
        keys = Counter((s[0], s[1]) for s in states)
        assert all(n == 1 for n in keys.values()), f"two states of one revision on {name}"
    lates = [
        (r["incident"]["cluster_id"], r["incident"]["revision"])
        for r in read_all(bootstrap, topics.late)
    ]
    assert len(lates) == len(set(lates)), "a late incident published twice"

    # Each article's incidents are in exactly one live cluster; an article without any, in none.
    holders: dict[str, list[str]] = {}
    articles_in: set[str] = set()
    for cid, cluster in live(latest_clusters(records)).items():
        for s in cluster["sources"]:
            holders.setdefault(s["incident_id"], []).append(cid)
            articles_in.add(s["article_id"])
    expected_ids = {i for ids in want.incidents.values() for i in ids}
    assert set(holders) == expected_ids, "incidents missing from (or foreign to) the clusters"
    assert all(len(c) == 1 for c in holders.values()), "an incident in two clusters"
    assert articles_in == {a for a, ids in want.incidents.items() if ids}

    published = {alert_state(a) for a in read_all(bootstrap, topics.alerts)}
    assert published == want.alerts, "the alerts differ from the replay's"
    return {
        "articles": len(want.incidents),
        "with_incidents": len(articles_in),
        "dead_lettered": len(letters),
        "cluster_records": len(records),
        "live_clusters": len(live(latest_clusters(records))),
        "alerts": len(published),
    }


def test_worker_sigkilled_under_load_then_restarted_loses_and_repeats_nothing(
    kafka_bootstrap: str,
    worker_factory: Callable[..., Any],
    pusher: Callable[..., Pusher],
    tmp_path: Path,
) -> None:
    docs = articles(240, seed=1, end=datetime.now(UTC).replace(microsecond=0))
    bad = malformed(12, seed=1)
    worker = worker_factory(INCIDENT_SESSION_TIMEOUT="6").start()
    topics = Topics.with_prefix(worker.env["INCIDENT_TOPIC_PREFIX"])
    want = Expected.of(docs, bad, topics, tmp_path)
    assert want.bad_keys == {k.decode() for k, _ in bad}

    pushing = pusher(kafka_bootstrap, topics.articles, interleave(docs, bad), 0.03)
    wait_for(
        lambda: sample(worker.metrics(), "incident_monitor_articles_consumed_total") >= 80,
        60,
        "a third of the load to be consumed",
    )
    consumed_before = sample(worker.metrics(), "incident_monitor_articles_consumed_total")
    worker.kill()  # mid-stream: the pusher goes on
    killed_at = time.monotonic()
    time.sleep(1)
    worker.start()
    restarted_in = time.monotonic() - killed_at
    pushing.join(60)

    settle(kafka_bootstrap, topics, want, worker.env["INCIDENT_APP_ID"])
    figures = check_accounting(kafka_bootstrap, topics, want)
    after = worker.metrics()
    print(
        f"sigkill: {figures} pushed={len(docs) + len(bad)}"
        f" consumed_before_kill={consumed_before:.0f}"
        f" consumed_after_restart={sample(after, 'incident_monitor_articles_consumed_total'):.0f}"
        f" suppressed={sample(after, 'incident_monitor_duplicates_suppressed_total'):.0f}"
        f" restart_s={restarted_in:.1f}"
    )
    assert worker.proc is not None and worker.proc.poll() is None


def test_broker_restarted_under_load_loses_and_repeats_nothing(
    kafka_bootstrap: str,
    broker_config: BrokerConfig,
    worker_factory: Callable[..., Any],
    pusher: Callable[..., Pusher],
    tmp_path: Path,
) -> None:
    docs = articles(200, seed=2, end=datetime.now(UTC).replace(microsecond=0))
    bad = malformed(10, seed=2)
    worker = worker_factory().start()
    topics = Topics.with_prefix(worker.env["INCIDENT_TOPIC_PREFIX"])
    want = Expected.of(docs, bad, topics, tmp_path)

    pushing = pusher(kafka_bootstrap, topics.articles, interleave(docs, bad), 0.04)
    wait_for(
        lambda: sample(worker.metrics(), "incident_monitor_articles_consumed_total") >= 60,
        60,
        "part of the load to be consumed",
    )
    began = time.monotonic()
    sent_at_stop = pushing.sent
    try:
        broker.stop(broker_config)
        stopped_in = time.monotonic() - began
        time.sleep(3)  # the producer and the worker keep trying meanwhile
    finally:
        began = time.monotonic()
        broker.start(broker_config, timeout=120.0)  # whatever happened: the next tests need it
        started_in = time.monotonic() - began
    pushing.join(120)

    settle(kafka_bootstrap, topics, want, worker.env["INCIDENT_APP_ID"])
    figures = check_accounting(kafka_bootstrap, topics, want)
    assert worker.proc is not None and worker.proc.poll() is None, "the worker died"
    print(
        f"broker restart: {figures} pushed={len(docs) + len(bad)} sent_at_stop={sent_at_stop}"
        f" stop_s={stopped_in:.1f} start_s={started_in:.1f}"
    )
