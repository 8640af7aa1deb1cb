"""Every kind of bad input through one worker on the real broker, each followed by a valid
article: the bad ones land on the dead-letter topic with their reasons, the worker keeps going."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
from kafka import KafkaProducer

from tests.integration.support import read_keyed, sample, wait_for

CATALOGUE_PATH = Path(__file__).resolve().parents[1] / "data" / "bad_input" / "catalogue.py"
# The broker refuses a record over message.max.bytes (1,048,588 by default): such a message
# never reaches a worker, so it is not pushed (the producer would raise MessageSizeTooLarge).
BROKER_LIMIT = 1_040_000
VALID_BODIES = (
    "Rockets hit Erbil airport on Monday, officials said.",
    "Assailants fired three rockets at Baghdad airport on Monday.",
    "A roadside bomb exploded in Mosul on Tuesday, killing two soldiers.",
    "قصف صاروخي استهدف مطار أربيل يوم الاثنين.",
    "انفجرت عبوة ناسفة في الموصل يوم الثلاثاء ما أسفر عن مقتل جنديين.",
)


def load_catalogue() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bad_input_catalogue", CATALOGUE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_bad_input_is_dead_lettered_and_the_worker_goes_on(
    kafka_bootstrap: str, worker_factory: Callable[..., Any]
) -> None:
    catalogue = load_catalogue()
    deliverable = [c for c in catalogue.BAD + catalogue.GOOD if len(c.raw) < BROKER_LIMIT]
    bad = [c for c in deliverable if c.reason is not None]
    good = [c for c in deliverable if c.reason is None]
    assert len(bad) >= 20
    worker = worker_factory().start()
    prefix = worker.env["INCIDENT_TOPIC_PREFIX"]

    # bad, valid, bad, valid ...: each valid article right after a bad (or odd) one.
    valid_ids: list[str] = []
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, max_request_size=1_048_576)
    try:
        for i, case in enumerate(deliverable):
            producer.send(prefix + "articles", key=case.key, value=case.raw)
            article_id = f"valid-after-{case.kind}"
            valid_ids.append(article_id)
            valid = {
                "id": article_id,
                "body": VALID_BODIES[i % len(VALID_BODIES)],
                "published_at": f"2021-03-01T{i % 24:02d}:00:00Z",
                "source": "e2e",
            }
            producer.send(prefix + "articles", key=article_id.encode(), value=orjson.dumps(valid))
        producer.flush()
    finally:
        producer.close()

    dlq: list[Any] = []

    def all_dead_lettered() -> bool:
        dlq[:] = read_keyed(kafka_bootstrap, prefix + "articles.dlq")
        return len(dlq) >= len(bad)

    wait_for(all_dead_lettered, 40, lambda: f"the dead letters ({len(dlq)} of {len(bad)})")
    by_kind = {c.kind: c for c in bad}
    assert sorted((key, letter["reason"]) for key, letter in dlq) == sorted(
        (c.kind, c.reason) for c in bad
    )
    for key, letter in dlq:
        case = by_kind[key]
        raw = (
            base64.b64decode(letter["raw"])
            if letter["raw_encoding"] == "base64"
            else letter["raw"].encode("utf-8")
        )
        if case.reason == "too_large":
            assert case.raw.startswith(raw)
            assert hashlib.sha256(case.raw).hexdigest() in letter["detail"], key
        else:
            assert raw == case.raw, key

    seen: set[str] = set()

    def all_valid_processed() -> bool:
        for _, cluster in read_keyed(kafka_bootstrap, prefix + "incidents"):
            seen.update(s["article_id"] for s in cluster.get("sources") or [])
        return set(valid_ids) <= seen

    wait_for(
        all_valid_processed, 30, lambda: f"every valid article: {sorted(set(valid_ids) - seen)}"
    )

    consumed = len(valid_ids) + len(good)
    name = "incident_monitor_articles_consumed_total"
    wait_for(lambda: sample(worker.metrics(), name) >= consumed, 10, "the consumed counter")
    metrics = worker.metrics()
    assert sample(metrics, name) == consumed
    for reason, count in Counter(c.reason for c in bad).items():
        rejected = sample(metrics, "incident_monitor_articles_rejected_total", reason=reason)
        assert rejected == count, reason
    assert worker.proc is not None and worker.proc.poll() is None, "the worker stopped"
