"""End to end on the real broker: a worker, the seeds pushed with the CLI, outputs read back."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaProducer

from streams.io import follow
from tests.integration.support import sample

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = {
    "id": "en-after-bad",
    "published_at": "2021-03-03T10:00:00Z",
    "source": "Newswire",
    "body": "At least ten rockets struck Ain al-Asad air base in Anbar province on Wednesday, "
    "the US-led coalition said.",
}


def read_until(bootstrap: str, topic: str, done: object, timeout_s: float = 60) -> list[dict]:
    """Read ``topic`` from its start until ``done(records)`` holds or the time is up."""
    deadline = time.monotonic() + timeout_s
    records: list[dict] = []
    while time.monotonic() < deadline:
        records = [
            orjson.loads(r.value)
            for r in follow(bootstrap, topic, from_beginning=True, exit_at_end=True)
        ]
        if done(records):  # type: ignore[operator]
            return records
        time.sleep(1)
    return records


def test_seeds_bad_input_and_metrics_end_to_end(
    kafka_bootstrap: str, worker_factory: Callable[..., Any]
) -> None:
    worker = worker_factory().start()
    env = worker.env
    prefix = env["INCIDENT_TOPIC_PREFIX"]

    def topic(name: str) -> str:
        return prefix + name

    push = subprocess.run(
        [sys.executable, "-m", "streams", "push", str(ROOT / "seeds"), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert push.returncode == 0, push.stderr

    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    producer.send(topic("articles"), key=b"bad", value=b'{"id": "bad", "body": ')
    producer.send(topic("articles"), key=ENGLISH["id"].encode(), value=orjson.dumps(ENGLISH))
    producer.flush()
    producer.close()

    def has_erbil(records: list[dict]) -> bool:
        return any(
            (r.get("location") or {}).get("canonical") in ("Erbil", "Arbil")
            and (r.get("weapon") or {}).get("category") == "rocket"
            and ((r.get("counts") or {}).get("quantity") or {}).get("value") == 14
            for r in records
        )

    incidents = read_until(kafka_bootstrap, topic("incidents"), has_erbil)
    erbil = [
        r
        for r in incidents
        if (r.get("location") or {}).get("canonical") in ("Erbil", "Arbil")
        and ((r.get("counts") or {}).get("quantity") or {}).get("value") == 14
    ]
    assert erbil, f"no Erbil rocket incident among {len(incidents)} records"
    quantity = erbil[-1]["counts"]["quantity"]
    assert quantity == {"value": 14, "qualifier": "approx"}
    assert erbil[-1]["weapon"]["category"] == "rocket"
    assert any(
        s["article_id"] == "003_22300b7c73ae127c" for r in erbil for s in r.get("sources") or []
    )

    alerts = read_until(kafka_bootstrap, topic("alerts"), bool)
    assert alerts, "no alert arrived on the alerts topic"
    assert all(a["severity"] in ("high", "medium", "low") for a in alerts)

    letters = read_until(kafka_bootstrap, topic("articles.dlq"), bool)
    assert [(d["reason"], d["raw"]) for d in letters] == [("not_json", '{"id": "bad", "body": ')]
    after_bad = read_until(
        kafka_bootstrap,
        topic("incidents"),
        lambda rs: any(r["article_id"] == ENGLISH["id"] for r in rs),
    )
    assert any(r["article_id"] == ENGLISH["id"] for r in after_bad), "article after the bad one"

    text = worker.metrics()
    assert sample(text, "incident_monitor_articles_consumed_total") >= 3
    assert sample(text, "incident_monitor_articles_rejected_total", reason="not_json") == 1
    assert sample(text, "incident_monitor_alerts_total") >= len({a["alert_id"] for a in alerts})
    assert sample(text, "incident_monitor_extraction_seconds_count") >= 3
    assert sample(text, "incident_monitor_article_to_alert_seconds_count") >= 1
    assert sample(text, "faust_messages_received_total") > 0
