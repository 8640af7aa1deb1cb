"""Commit tables: the changelog gets each key's last value at the commit, in record batches."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import faust
import orjson
import pytest
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatch
from faust.types import TP

from streams.changelog import CommitTable, write_changelogs


class Client:
    """An aiokafka producer as a commit table uses it: batches built for real, sends recorded."""

    def __init__(self, batch_size: int = 16384) -> None:
        self.batch_size = batch_size
        self.sent: list[tuple[str, int, list[tuple[str, Any]]]] = []

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(self.batch_size, 0, is_transactional=False)

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> Any:
        records = [
            (orjson.loads(r.key), None if r.value is None else orjson.loads(r.value))
            for r in DefaultRecordBatch(batch._build())
        ]
        self.sent.append((topic, partition, records))
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def records(self) -> list[tuple[str, Any]]:
        return [record for _, _, records in self.sent for record in records]


class Producer:
    """Faust's producer: one plain client and one client per transactional id."""

    def __init__(self, plain: Client, transactional: dict[str, Client] | None = None) -> None:
        self.plain = plain
        self._transaction_producers = transactional or {}
        self._trn_locks = {tid: asyncio.Lock() for tid in self._transaction_producers}

    def _ensure_producer(self) -> Client:
        return self.plain


@pytest.fixture
def app() -> Iterator[faust.App]:
    yield faust.App("commit-tables", Table=CommitTable, processing_guarantee="at_least_once")


def table_on(app: faust.App, name: str, partition: list[int]) -> CommitTable:
    """A table whose writes come from an event of ``partition[0]`` (changeable)."""
    table = app.Table(name, default=None, key_type=str)
    assert isinstance(table, CommitTable)
    table.partition_for_key = lambda key: partition[0]  # type: ignore[method-assign]
    return table


async def test_each_key_is_sent_once_with_its_last_value_and_a_deleted_key_as_a_tombstone(
    app: faust.App,
) -> None:
    client = Client()
    app.producer = Producer(client)  # type: ignore[assignment]
    table = table_on(app, "state", [0])
    table["windows:IQ.11|2026-11-22"] = {"count": 1}
    table["clusters:a"] = {"killed": 3}
    table["windows:IQ.11|2026-11-22"] = {"count": 2}  # written again before the commit
    table["reports:r1"] = "a"
    del table["reports:r1"]
    assert client.sent == []  # nothing goes out before the commit
    assert table.pending == 3
    await write_changelogs(app)
    assert client.records() == [
        ("windows:IQ.11|2026-11-22", {"count": 2}),
        ("clusters:a", {"killed": 3}),
        ("reports:r1", None),
    ]
    assert {(topic, partition) for topic, partition, _ in client.sent} == {
        ("commit-tables-state-changelog", 0)
    }
    assert table.pending == 0
    await write_changelogs(app)
    assert len(client.records()) == 3  # a commit without writes sends nothing
    assert table["windows:IQ.11|2026-11-22"] == {"count": 2}  # reads see writes at once


async def test_writes_go_to_their_partition_in_as_many_batches_as_they_need(
    app: faust.App,
) -> None:
    client = Client(batch_size=300)  # a few records a batch
    app.producer = Producer(client)  # type: ignore[assignment]
    partition = [0]
    table = table_on(app, "state", partition)
    for n in range(10):
        partition[0] = n % 2
        table[f"clusters:{n}"] = {"sources": ["x" * 40] * 2, "n": n}
    table["big"] = {"text": "ي" * 2000}  # bigger than a batch: it goes alone
    await write_changelogs(app)
    by_partition: dict[int, list[str]] = {}
    for _, partition_, records in client.sent:
        by_partition.setdefault(partition_, []).extend(key for key, _ in records)
    assert by_partition[0] == [f"clusters:{n}" for n in range(0, 10, 2)]
    assert by_partition[1] == [f"clusters:{n}" for n in range(1, 10, 2)] + ["big"]
    assert len(client.sent) > 2
    assert ("big", {"text": "ي" * 2000}) in client.records()


async def test_in_a_transaction_writes_go_through_their_partitions_producer() -> None:
    app = faust.App("commit-tables", Table=CommitTable, processing_guarantee="exactly_once")
    app.in_worker = True
    plain, p0 = Client(), Client()
    table = table_on(app, "state", [0])
    name = table.changelog_topic_name
    app.assignor._topic_groups = {name: 3}  # the group Faust names the transaction after
    app.producer = Producer(plain, {"commit-tables-3-0": p0})  # type: ignore[assignment]
    table["a"] = 1
    await write_changelogs(app)
    assert p0.records() == [("a", 1)] and plain.sent == []
    # A partition with no producer here has moved to another worker: its writes are dropped.
    app.producer = Producer(plain, {})  # type: ignore[assignment]
    table["b"] = 2
    await write_changelogs(app)
    assert plain.sent == [] and table.pending == 0


async def test_a_rebalance_keeps_the_writes_of_partitions_still_held_only(
    app: faust.App,
) -> None:
    client = Client()
    app.producer = Producer(client)  # type: ignore[assignment]
    partition = [0]
    table = table_on(app, "state", partition)
    table["kept"] = 1
    partition[0] = 1
    table["moved"] = 2
    name = table.changelog_topic_name
    await table.on_rebalance(
        assigned={TP(name, 0), TP("incidents.reports", 0)},
        revoked={TP(name, 0), TP(name, 1)},
        newly_assigned=set(),
    )
    await write_changelogs(app)
    assert client.records() == [("kept", 1)]


async def test_a_view_reads_the_tables_data_and_its_writes_go_out_at_the_commit(
    app: faust.App,
) -> None:
    client = Client()
    app.producer = Producer(client)  # type: ignore[assignment]
    table = table_on(app, "state", [0])
    view = table.view()
    table["a"] = 1
    assert view["a"] == 1 and view.get("b") is None and "a" in view and len(view) == 1
    view["b"] = 2
    del view["a"]
    assert table.get("b") == 2 and "a" not in table
    table.data.data.update({"recovered": 3})  # as a recovery refills the store, in place
    assert view["recovered"] == 3 and sorted(view) == ["b", "recovered"]
    await write_changelogs(app)
    assert client.records() == [("a", None), ("b", 2)]  # the recovered key was never written
