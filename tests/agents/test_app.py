"""The agents of streams/app.py driven in process with Faust's test_context (no broker)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest

from streams.offload import ExtractionPool
from streams.records import Alert, DeadLetter, Incident
from tests.agents.extractors import crashing, fragile

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@dataclass
class Sent:
    """What the agents sent, per topic name."""

    records: dict[str, list[tuple[Any, Any]]] = field(default_factory=dict)

    def values(self, topic: str) -> list[Any]:
        return [v for _, v in self.records.get(topic, [])]


@pytest.fixture()
def flow(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, Sent]]:
    from streams import app as flow
    from streams.faustfix import CommitBarrier
    from streams.pipeline import Pipeline
    from streams.sink import SinkLedger

    flow.app.finalize()
    flow.app.flow_control.resume()
    # Each test starts from empty tables, as a worker on fresh topics would.
    flow.article_seen.data.clear()
    flow.region_state.data.clear()
    monkeypatch.setattr(flow, "pipeline", Pipeline(store=flow.state))
    # Its asyncio events belong to the event loop of the test that first waits on them.
    monkeypatch.setattr(flow, "barrier", CommitBarrier())
    # No broker here: the output topics start empty.
    ledger = SinkLedger()
    ledger.ready.set()
    monkeypatch.setattr(flow, "sink_ledger", ledger)
    sent = Sent()
    types = {t.get_topic_name(): t.value_type for t in [flow.reports_topic, *flow.OUTPUTS]}

    def record(name: str, key: Any, value: Any) -> None:
        kind = types[name]
        if isinstance(value, bytes) and kind is not None and kind is not bytes:
            value = kind.loads(value)  # sent serialised: read it as a subscriber would
        sent.records.setdefault(name, []).append((key, value))

    async def send_report(*, key: Any = None, value: Any = None) -> None:
        record(flow.reports_topic.get_topic_name(), key, value)

    # Reports go through the topic (no transaction here), outputs straight to the producer.
    monkeypatch.setattr(flow.reports_topic, "send", send_report)

    class Producer:
        async def send(self, name: str, key: bytes | None, value: bytes, *_: Any) -> Any:
            record(name, None if key is None else key.decode(), value)
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done

    monkeypatch.setattr(flow.app, "producer", Producer())
    yield flow, sent


async def put(agent: Any, value: Any, key: Any) -> None:
    """``agent.put``, then wait until the agent is done with the event (acked), not only has it.

    Extraction runs in another process: the event is handled some time after it is received.
    """
    await until_acked([await agent.put(value, key=key)])


async def until_acked(events: list[Any]) -> None:
    """Wait until the agent is done with every one of ``events``."""
    for _ in range(3000):
        if all(event.message.acked for event in events):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the agent did not finish the events within 30 s")


@contextmanager
def extracting_with(
    extract: Any, module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The agent extracts with ``extract``, in an extraction process of its own."""
    pool = ExtractionPool(extract, on_death=module.metrics.extraction_restarts.inc)
    monkeypatch.setattr(module, "extraction", pool)
    try:
        yield
    finally:
        pool.close()


def seed_bytes() -> list[bytes]:
    return [orjson.dumps(orjson.loads(p.read_bytes())) for p in sorted(SEEDS.glob("*.json"))]


async def test_malformed_message_is_dead_lettered_and_next_article_still_processed(
    flow: tuple[ModuleType, Sent],
) -> None:
    module, sent = flow
    async with module.extract_incidents.test_context() as agent:
        await put(agent, b'{"id": "broken", "body": ', key=b"broken")
        await put(agent, seed_bytes()[1], key=b"003_22300b7c73ae127c")
    letters = sent.values("articles.dlq")
    assert len(letters) == 1
    assert isinstance(letters[0], DeadLetter)
    assert letters[0].reason == "not_json"
    assert letters[0].raw == '{"id": "broken", "body": '
    reports = [w.report for w in sent.values("incidents.reports")]
    assert reports and all(isinstance(r, Incident) for r in reports)
    assert {r.article_id for r in reports} == {"003_22300b7c73ae127c"}


async def test_same_article_id_twice_is_processed_once(flow: tuple[ModuleType, Sent]) -> None:
    module, sent = flow
    article = seed_bytes()[1]
    async with module.extract_incidents.test_context() as agent:
        await put(agent, article, key=b"003_22300b7c73ae127c")
        first = len(sent.values("incidents.reports"))
        await put(agent, article, key=b"003_22300b7c73ae127c")
    assert first > 0
    assert len(sent.values("incidents.reports")) == first
    assert (
        module.metrics.registry.get_sample_value("incident_monitor_articles_duplicate_total") >= 1
    )


async def test_reports_become_clusters_and_alerts(flow: tuple[ModuleType, Sent]) -> None:
    module, sent = flow
    async with module.extract_incidents.test_context() as agent:
        for raw in seed_bytes():
            await put(agent, raw, key=orjson.loads(raw)["id"].encode())
    work = sent.values("incidents.reports")
    async with module.corroborate_and_alert.test_context() as agent:
        for item in work:
            await put(agent, item, key=module.pipeline.region_key(item.report))
    clusters = sent.values("incidents")
    assert clusters and all(c.cluster_id and c.sources for c in clusters)
    erbil = [c for c in clusters if c.location and c.location.canonical in ("Erbil", "Arbil")]
    assert erbil, "the Erbil rocket attack is reported in both seeds"
    assert max(len(c.sources or []) for c in erbil) == 2
    alerts = sent.values("alerts")
    assert alerts and all(isinstance(a, Alert) for a in alerts)
    for a in alerts:
        assert a in sent.values(f"alerts.{a.severity}")


async def test_an_output_the_broker_refuses_is_counted_and_the_stream_goes_on(
    flow: tuple[ModuleType, Sent], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, sent = flow

    class Refusing:
        async def send(self, *_: Any) -> Any:
            failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            failed.set_exception(OSError("record too large"))
            return failed

    monkeypatch.setattr(module.app, "producer", Refusing())
    name = "faust_total_error_messages_sent_total"
    before = module.metrics.registry.get_sample_value(name) or 0
    async with module.extract_incidents.test_context() as agent:
        await put(agent, b"not json at all", key=b"x")  # to the DLQ: refused
        await put(agent, seed_bytes()[1], key=b"003_22300b7c73ae127c")
        await asyncio.sleep(0)  # the failure's callback
    assert module.metrics.registry.get_sample_value(name) == before + 1
    assert sent.values("incidents.reports"), "the next article was still processed"


async def test_extractor_failure_dead_letters_the_article_and_the_stream_goes_on(
    flow: tuple[ModuleType, Sent], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, sent = flow
    poison = orjson.dumps({"id": "poison", "body": "قصف مدفعي على بلدة"})
    with extracting_with(fragile, module, monkeypatch):
        async with module.extract_incidents.test_context() as agent:
            await put(agent, poison, key=b"poison")
            await put(agent, seed_bytes()[1], key=b"003_22300b7c73ae127c")
    letters = sent.values("articles.dlq")
    assert [(d.reason, d.key) for d in letters] == [("extraction_error", "poison")]
    assert "cannot read this one" in letters[0].detail
    assert orjson.loads(letters[0].raw)["id"] == "poison"
    assert sent.values("incidents.reports"), "the next article was still processed"


async def test_an_article_that_kills_the_extraction_process_is_dead_lettered_and_the_next_is_read(
    flow: tuple[ModuleType, Sent], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, sent = flow

    def restarts() -> float:
        name = "incident_monitor_extraction_restarts_total"
        return float(module.metrics.registry.get_sample_value(name) or 0.0)

    before = restarts()
    crash = orjson.dumps({"id": "crash", "body": "Gunmen killed 3 soldiers in Mosul."})
    after = [
        orjson.dumps({"id": f"after-{n}", "body": f"Gunmen killed {n} soldiers in Mosul."})
        for n in (4, 5, 6)
    ]
    with extracting_with(crashing, module, monkeypatch):
        async with module.extract_incidents.test_context() as agent:
            # All four are handed to the extraction process together (read ahead), so the
            # three after the crash die with it once; they must not be rejected for it.
            events = [await agent.put(raw, key=orjson.loads(raw)["id"].encode(), wait=False)
                      for raw in (crash, *after)]  # fmt: skip
            await until_acked(events)
    letters = sent.values("articles.dlq")
    assert [(d.reason, d.key) for d in letters] == [("extraction_crashed", "crash")]
    assert orjson.loads(letters[0].raw)["id"] == "crash"
    reported = {w.report.article_id for w in sent.values("incidents.reports")}
    assert reported == {"after-4", "after-5", "after-6"}
    assert restarts() - before == 2  # with all four in it, then with the crash alone
