"""Workarounds for defects of Faust 0.15 met in this worker, each with its reason."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import faust
from aiokafka.client import AIOKafkaClient
from faust.sensors.prometheus import PrometheusMonitor, setup_prometheus_sensors
from faust.tables.manager import TableManager
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP
from prometheus_client import CollectorRegistry

logger = logging.getLogger(__name__)

T = TypeVar("T")


class QuietWorker(faust.Worker):
    """Faust's worker without its terminal spinner.

    To spin on every log message the spinner sets the root logger to DEBUG (whenever the log
    level is warn or above), so every debug call in Faust and aiokafka built and handled a
    record: 4 % of the worker's time under load, for a spinner nobody sees in a service.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spinner = None


class _Monitor(PrometheusMonitor):
    """Faust's Prometheus sensors less the per-message and per-key work nobody reads.

    Every record in and out went through several labelled counters, histograms and Faust's
    own in-memory statistics (about 14 records out per article: changelogs, reports,
    outputs), and corroboration reads and writes dozens of state keys per report: together
    a tenth of the event loop. Kept: what the alerting rules and the dashboard read (records
    received, in all and per topic, committed and end offsets, send errors) and everything per
    rebalance, commit or table recovery; ``table_keys`` says how big the state is.
    """

    def on_message_in(self, tp: TP, offset: int, message: Any) -> None:
        """Count the record, in all and on its topic."""
        self._metrics.messages_received.inc()
        self._metrics.messages_received_per_topics.labels(topic=tp.topic).inc()

    def on_message_out(self, tp: TP, offset: int, message: Any) -> None:
        """Not counted."""

    def on_stream_event_in(self, tp: TP, offset: int, stream: Any, event: Any) -> None:
        """Not counted."""

    def on_stream_event_out(
        self, tp: TP, offset: int, stream: Any, event: Any, state: Any = None
    ) -> None:
        """Not counted."""

    def on_send_initiated(
        self, producer: Any, topic: str, message: Any, keysize: int, valsize: int
    ) -> None:
        """Not counted."""

    def on_send_completed(self, producer: Any, state: Any, metadata: Any) -> None:
        """Not counted."""

    def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
        """Counted (``faust_total_error_messages_sent``), without a latency."""
        self._metrics.total_error_messages_sent.inc()

    def on_table_get(self, table: Any, key: Any) -> None:
        """Not counted."""

    def on_table_set(self, table: Any, key: Any, value: Any) -> None:
        """Not counted."""

    def on_table_del(self, table: Any, key: Any) -> None:
        """Not counted."""


class PromptTableManager(TableManager):
    """Faust's table manager without the one-second pause it takes before registering tables.

    Our tables are declared when ``streams.app`` is imported, long before the worker starts;
    the pause only delayed the group join, and so the first article, by a second.
    """

    async def on_start(self) -> None:
        """Register the changelog channels and start recovery, at once."""
        if not self.should_stop:
            await self._update_channels()
            await self.recovery.start()


def install_prometheus(app: faust.App, registry: CollectorRegistry) -> None:
    """Faust's sensors (``faust_*``) on ``registry`` and ``/metrics`` serving it."""
    setup_prometheus_sensors(app, registry=registry, name_prefix="faust")
    app.monitor = _Monitor(metrics=cast(PrometheusMonitor, app.monitor)._metrics)


async def _stable_end_offsets(
    thread: AIOKafkaConsumerThread, partitions: list[TP]
) -> Mapping[TP, int]:
    """End offsets for table recovery by a ListOffsets request (read_committed: the LSO).

    Under exactly_once Faust 0.15.3 reads aiokafka's ``last_stable_offset``, which stays None
    until the partition has been fetched: every changelog looked empty ("highwater -1"), so a
    restarted worker, or one taking over a dead worker's partitions, started with empty
    tables (robinhood/faust#658). Faust's recovery already steps over the commit markers.
    """
    return await thread._ensure_consumer().end_offsets(partitions)


def patch_recovery_offsets() -> None:
    """Table recovery reads the changelogs' end offsets from the broker (see above)."""
    AIOKafkaConsumerThread._highwaters = _stable_end_offsets  # type: ignore[method-assign,assignment]


def patch_fetch_wait(seconds: float) -> None:
    """The worker's consumer waits at most ``seconds`` for a fetch (Faust 0.15.3: 1.5 s).

    aiokafka sends a node its next fetch only when the last one has returned, and leaves
    out the partitions whose records are still being handed on. Reports are read committed:
    a fetch for them alone waited at the broker until the next commit made some visible, or
    for the whole 1.5 s, and the articles read meanwhile waited for it to come back.
    """
    original = AIOKafkaConsumerThread._create_worker_consumer

    def create(self: AIOKafkaConsumerThread, transport: Any) -> Any:
        consumer = original(self, transport)
        consumer._fetch_max_wait_ms = int(seconds * 1000)  # read when it starts its fetcher
        return consumer

    AIOKafkaConsumerThread._create_worker_consumer = create  # type: ignore[method-assign]


def patch_topic_tracking() -> None:
    """Every topic a producer sends to stays in its metadata (aiokafka 0.14 can drop it).

    A client that tracks no topic asks the broker for all of them, and a send to a topic found
    there is not tracked. Once a send to a topic unknown at that moment makes the client track
    that one, each refresh asks for the tracked topics alone: the others leave the metadata, and
    a batch still lingering for one of them waits for its partition's leader for good. The
    worker's first alerts and incidents were sent just before its first send to a new alert
    topic; a commit then waited for them, and every agent behind it (flaky tests, a worker
    standing still after "Ready"). Here a topic is tracked from its first send on.
    """
    original = AIOKafkaClient._wait_on_metadata
    if getattr(original, "tracks_topics", False):
        return

    async def wait_on_metadata(self: AIOKafkaClient, topic: str) -> Any:
        if topic not in self._topics:
            self.add_topic(topic)  # its metadata refresh runs in the background
        return await original(self, topic)

    wait_on_metadata.tracks_topics = True  # type: ignore[attr-defined]
    AIOKafkaClient._wait_on_metadata = wait_on_metadata


class CommitBarrier:
    """Commits happen between events, never inside one, and after the events' sends are out.

    Faust 0.15.3 commits on a timer, whatever the agents are doing. A transaction could close
    while an agent was suspended halfway through an event (at any ``await``): it held that
    event's first table writes but not its offset, so after a crash the event ran again on
    top of its own partial effects (a report found "already merged" and never counted in any
    window; an alert the ledger says went out that never did). And a commit does not wait for
    Faust's producer buffer (table writes queue there) nor for the plain producer (output
    topics): a commit sent ahead of them lost them both if the worker died right after.

    Agents consume through :meth:`run`, which wraps each event in :meth:`event` (acked on the
    way out); the patched commit (:func:`patch_atomic_commits`) takes :meth:`exclusive`,
    flushes every producer, then commits. A commit therefore holds exactly the effects of the
    events it acknowledges.
    """

    def __init__(self, timeout_s: float = 20.0) -> None:
        # Shorter than the transaction timeout: an event stuck that long must not get the
        # worker's producer fenced; the commit then goes ahead, as Faust's did, and says so.
        self.timeout_s = timeout_s
        self._active = 0
        self._idle = asyncio.Event()  # no event in progress
        self._open = asyncio.Event()  # no commit in progress
        self._idle.set()
        self._open.set()

    async def run(
        self, stream: faust.StreamT[Any], handle: Callable[[faust.EventT[Any]], Awaitable[None]]
    ) -> None:
        """An agent's loop: ``handle`` each event of ``stream``, acked by :meth:`event`."""
        acks = cast(faust.Stream[Any], stream).noack()
        async for event in acks.events():
            async with self.event(acks, event):
                await handle(event)

    async def run_ahead(
        self,
        stream: faust.StreamT[Any],
        begin: Callable[[faust.EventT[Any]], T],
        handle: Callable[[faust.EventT[Any], T], Awaitable[None]],
        depth: int,
    ) -> None:
        """As :meth:`run`, with ``begin(event)`` called up to ``depth`` events ahead of ``handle``.

        For work done elsewhere (extraction in a child process): while one event is handled,
        the next ones' work is under way, so neither side waits for the other's turn.
        ``begin`` runs outside any event: it must not write tables. Events are still handled,
        acked and committed one at a time, in order; one read ahead and not handled when the
        agent stops is not acked, so it is processed again.
        """
        acks = cast(faust.Stream[Any], stream).noack()
        queue: asyncio.Queue[tuple[faust.EventT[Any], T]] = asyncio.Queue(depth)

        async def read() -> None:
            async for event in acks.events():
                await queue.put((event, begin(event)))

        reader = asyncio.ensure_future(read())
        try:
            while True:
                if queue.empty():
                    getter = asyncio.ensure_future(queue.get())
                    await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                    if not getter.done():
                        getter.cancel()
                        reader.result()  # the stream's error, if it failed
                        return
                    event, begun = getter.result()
                else:
                    event, begun = queue.get_nowait()
                # Tables find the event (and so the changelog partition) through this context
                # variable, which the stream set in the reading task, not in this one.
                cast(faust.Stream[Any], acks)._set_current_event(event)
                async with self.event(acks, event):
                    await handle(event, begun)
        finally:
            reader.cancel()

    @asynccontextmanager
    async def event(
        self, stream: faust.StreamT[Any], event: faust.EventT[Any]
    ) -> AsyncIterator[None]:
        """Process ``event`` with no commit in between; ack it in ``stream`` (a ``noack`` one).

        Not acked when cancelled (a rebalance or shutdown stopped it halfway): it is processed
        again from the last commit.
        """
        while not self._open.is_set():
            await self._open.wait()
        self._active += 1
        self._idle.clear()
        try:
            try:
                yield
            except Exception:
                await stream.ack(event)  # the agent crashed on it: Faust goes past it too
                raise
            await stream.ack(event)
        finally:
            self._active -= 1
            if not self._active:
                self._idle.set()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """No event in progress until the block ends (one block at a time)."""
        while not self._open.is_set():
            await self._open.wait()
        self._open.clear()
        try:
            try:
                await asyncio.wait_for(self._idle.wait(), self.timeout_s)
            except TimeoutError:
                logger.warning(
                    "commit: an event has been in progress for %.0f s; committing anyway",
                    self.timeout_s,
                )
            yield
        finally:
            self._open.set()


def transactional_id(app: faust.types.AppT, topic: str, partition: int) -> str:
    """The transaction Faust commits ``partition`` of ``topic`` (and its group) in."""
    return f"{app.conf.id}-{app.assignor.group_for_topic(topic)}-{partition}"


async def flush_producers(producer: Any) -> None:
    """Every record sent so far delivered: Faust's buffer first, then all Kafka producers.

    Faust's ``Producer.flush`` waits for its producers one after the other, and each of them
    first lets its batches linger their full time; a commit holds the agents meanwhile.
    Here the lingering batches go out at once (as a transaction's commit sends them), from
    every producer side by side.
    """
    await producer.buffer.flush()
    clients = [producer._producer, *producer._transaction_producers.values()]
    await asyncio.gather(
        *(client._message_accumulator.flush_for_commit() for client in clients if client)
    )


async def _nothing_held() -> list[asyncio.Future[Any]]:
    return []


def patch_atomic_commits(
    barrier: CommitBarrier,
    on_pause: Callable[[float], None] = lambda seconds: None,
    held: Callable[[], Awaitable[list[asyncio.Future[Any]]]] = _nothing_held,
    on_phase: Callable[[str, float], None] = lambda phase, seconds: None,
) -> None:
    """Every consumer commit goes through ``barrier`` and flushes the producers first.

    ``on_pause``: told, after each commit, how long the agents were held for it (seconds).
    ``on_phase``: told the seconds of each phase of a commit that completed: ``changelogs``,
    ``flush`` (the deliveries of every producer), ``transaction`` (Faust's commit).
    ``held``: sends what the events left to the commit (table changelogs, see
    ``streams.changelog``) and gives their deliveries; one that failed fails the commit, so
    no offset is committed past a lost state write.
    """
    original = Consumer.commit

    async def commit(self: Consumer, *args: Any, **kwargs: Any) -> bool:
        started = time.perf_counter()
        try:
            async with barrier.exclusive():
                began = time.perf_counter()
                deliveries = await held()
                sent = time.perf_counter()
                await flush_producers(self.app.producer)
                await asyncio.gather(*deliveries)
                flushed = time.perf_counter()
                committed = await original(self, *args, **kwargs)
                on_phase("changelogs", sent - began)
                on_phase("flush", flushed - sent)
                on_phase("transaction", time.perf_counter() - flushed)
                return committed
        finally:
            on_pause(time.perf_counter() - started)

    Consumer.commit = commit  # type: ignore[method-assign]
