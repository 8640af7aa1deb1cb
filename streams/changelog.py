"""Tables whose changelog goes out at each commit: the last value of each key, in batches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any, cast

import faust
from faust.stores.memory import Store as MemoryStore
from faust.types import TP

from streams.faustfix import transactional_id

logger = logging.getLogger(__name__)


class CommitTable(faust.Table):
    """A Faust table that writes its changelog when offsets are committed, not on each write.

    Faust sends one changelog record per assignment, through its whole send path (a future,
    its buffer, its sensors, aiokafka's per-record ``send``): corroboration writes about
    seven keys a report, over half of the records a worker writes. Here a write only marks
    its key; :meth:`write_changelog`, called by the commit
    (``streams.faustfix.patch_atomic_commits``) while no event is in progress, sends each
    marked key's value as it is then (a tombstone when deleted) in one record batch per
    partition (more when a batch fills), into the same transaction as the offsets. A key
    written many times between two commits is sent once. What a crash loses is unchanged:
    the uncommitted transaction, whose events are processed again.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._dirty: dict[int, dict[Any, None]] = {}  # partition -> keys, in write order

    def on_key_set(self, key: Any, value: Any) -> None:
        """Mark ``key`` for the next commit."""
        self._mark(key)
        self._sensor_on_set(self, key, value)

    def on_key_del(self, key: Any) -> None:
        """Mark ``key`` for the next commit (sent as a tombstone unless written again)."""
        self._mark(key)
        self._sensor_on_del(self, key)

    def _mark(self, key: Any) -> None:
        # Raises outside a stream event, as Faust's own write does.
        partition = self.partition_for_key(key)
        if partition is None:
            raise TypeError(f"{self.name}: a commit table needs the event's partition")
        self._dirty.setdefault(partition, {})[key] = None

    def view(self) -> TableView:
        """This table as a plain mapping (see :class:`TableView`)."""
        return TableView(self)

    @property
    def pending(self) -> int:
        """Keys written since the last commit."""
        return sum(len(keys) for keys in self._dirty.values())

    async def on_rebalance(
        self, assigned: set[TP], revoked: set[TP], newly_assigned: set[TP], generation_id: int = 0
    ) -> None:
        """Forget the writes of partitions this worker no longer holds: their owner redoes them.

        A partition revoked and assigned again keeps its writes: its events are processed
        again from the last commit on top of this memory, which already holds their effects,
        so the changelog must get them too.
        """
        kept = {tp.partition for tp in assigned if tp.topic == self.changelog_topic_name}
        for partition in [p for p in self._dirty if p not in kept]:
            del self._dirty[partition]
        await super().on_rebalance(assigned, revoked, newly_assigned, generation_id)

    @property
    def changelog_topic_name(self) -> str:
        """The changelog topic's name."""
        return str(self.changelog_topic.get_topic_name())

    async def write_changelog(self) -> list[asyncio.Future[Any]]:
        """Send every marked key's current value: the delivery futures of the batches.

        Called with no event in progress, before the producers are flushed and the offsets
        committed, so the records join the transaction that commits the events that made them.
        """
        dirty, self._dirty = self._dirty, {}
        sent: list[asyncio.Future[Any]] = []
        for partition, keys in dirty.items():
            sent.extend(await self._send(partition, keys))
        return sent

    async def _send(self, partition: int, keys: Iterable[Any]) -> list[asyncio.Future[Any]]:
        app = self.app
        name = self.changelog_topic_name
        producer: Any = app.producer  # the aiokafka driver's, whose clients are used as they are
        lock: AbstractAsyncContextManager[Any] = nullcontext()
        if app.in_transaction:
            tid = transactional_id(app, name, partition)
            client = producer._transaction_producers.get(tid)
            if client is None:  # the partition has moved since these writes
                logger.warning("%s: partition %d is not held here; writes dropped", name, partition)
                return []
            lock = producer._trn_locks[tid]
        else:
            client = producer._ensure_producer()
        topic = self.changelog_topic
        data = self.view()
        batches = []
        batch = client.create_batch()
        for key in keys:
            key_bytes, _ = topic.prepare_key(key, self.key_serializer)
            value_bytes = None
            if key in data:
                value_bytes, _ = topic.prepare_value(data[key], self.value_serializer)
            if batch.append(key=key_bytes, value=value_bytes, timestamp=None) is None:
                batches.append(batch)  # full: an empty batch takes any one record
                batch = client.create_batch()
                batch.append(key=key_bytes, value=value_bytes, timestamp=None)
        batches.append(batch)
        sent = []
        for full in batches:
            async with lock:
                sent.append(await client.send_batch(full, name, partition=partition))
        return sent


class TableView(MutableMapping[Any, Any]):
    """A commit table read and written without Faust's per-access hooks.

    A read of a Faust table goes through five Python calls (its sensor hook, two layers of
    user dicts, a ``__missing__`` check) and a ``get`` that misses raises and catches a
    KeyError; corroboration reads dozens of keys a report. Here reads are the store's dict
    itself, and writes mark the key for the commit as the table's own writes do (without
    Faust's per-key sensors, which our monitor does not count). In-memory store only.
    """

    def __init__(self, table: CommitTable) -> None:
        store = table.data
        if not isinstance(store, MemoryStore):
            raise TypeError(f"{table.name}: a table view needs the in-memory store")
        self._table = table
        self._data = cast(dict[Any, Any], store.data)  # cleared, refilled in place, never replaced

    @property
    def reads(self) -> Mapping[Any, Any]:
        """The store's dict, read-only by contract: a write there would miss the changelog."""
        return self._data

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def get(self, key: Any, default: Any = None) -> Any:
        """The value, or ``default``."""
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __setitem__(self, key: Any, value: Any) -> None:
        self._table._mark(key)
        self._data[key] = value

    def __delitem__(self, key: Any) -> None:
        self._table._mark(key)
        del self._data[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


async def write_changelogs(app: faust.App) -> list[asyncio.Future[Any]]:
    """Every commit table's pending writes sent: the deliveries the commit must see succeed."""
    sent: list[asyncio.Future[Any]] = []
    for table in app.tables.values():
        if isinstance(table, CommitTable):
            sent.extend(await table.write_changelog())
    return sent
