"""Publisher-side de-duplication: each output record's identity goes out once per topic."""

from __future__ import annotations

import time

import orjson
import pytest
from kafka import TopicPartition

from streams import sink
from streams.sink import SinkLedger, identity


def alert(revision: int) -> bytes:
    return orjson.dumps({"alert_id": "a1", "revision": revision, "rule": "casualties"})


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"alert_id": "x", "revision": 3}, "alert:x#3"),
        ({"cluster_id": "c", "revision": 2, "incident_id": "i"}, "cluster:c#2"),
        ({"region": "IQ.07", "incident": {"cluster_id": "c", "revision": 1}}, "late:c#1"),
        (
            {"reason": "not_json", "topic": "articles", "partition": 0, "offset": 9},
            "dlq:articles|0|9",
        ),
        ({"something": "else"}, None),
    ],
)
def test_identity_of_each_output_record(record: dict[str, object], expected: str | None) -> None:
    assert identity(record) == expected


def test_same_state_is_admitted_once_and_an_escalation_again() -> None:
    ledger = SinkLedger()
    assert ledger.first_time("alerts", alert(1))
    assert not ledger.first_time("alerts", alert(1))
    assert ledger.first_time("alerts", alert(2))


def test_the_same_record_on_another_topic_is_its_own() -> None:
    ledger = SinkLedger()
    assert ledger.first_time("alerts", alert(1))
    assert ledger.first_time("alerts.high", alert(1))


def test_records_without_identity_always_go_out() -> None:
    ledger = SinkLedger()
    assert ledger.first_time("x", b"not json")
    assert ledger.first_time("x", b"not json")


def test_entries_older_than_the_horizon_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = SinkLedger(horizon_s=60)
    clock = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    assert ledger.first_time("alerts", alert(1))
    clock[0] += 61
    assert ledger.first_time("alerts", alert(5))  # a later entry prunes the old one
    assert ledger.first_time("alerts", alert(1))


class StuckConsumer:
    """A consumer whose partition never reaches its end offset (no record ever arrives)."""

    def __init__(self, **_: object) -> None:
        self.closed = False

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0}

    def assign(self, tps: object) -> None:
        pass

    def offsets_for_times(self, times: dict[TopicPartition, int]) -> dict[TopicPartition, None]:
        return dict.fromkeys(times)

    def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(tps, 10)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        pass

    def position(self, tp: TopicPartition) -> int:
        return 3

    def poll(self, timeout_ms: int) -> dict[TopicPartition, list[object]]:
        return {}

    def close(self) -> None:
        self.closed = True


def test_reading_the_outputs_gives_up_at_its_timeout_instead_of_holding_publishing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sink, "KafkaConsumer", StuckConsumer)
    ledger = SinkLedger(read_timeout_s=0.05)
    assert ledger.seed("127.0.0.1:1", ["alerts"]) == 0
    assert "gave up reading ['alerts[0]']" in caplog.text
