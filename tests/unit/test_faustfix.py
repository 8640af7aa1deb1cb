"""The commit barrier: a commit never falls inside an event, and holds the events it acks."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from streams.faustfix import CommitBarrier, patch_atomic_commits, patch_fetch_wait


class Stream:
    """What the barrier needs of a ``noack`` Faust stream: ``ack``, recorded in order."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def ack(self, event: Any) -> bool:
        self.log.append(f"ack {event}")
        return True


async def test_a_commit_waits_for_the_event_in_progress_and_sees_it_acked() -> None:
    barrier = CommitBarrier()
    log: list[str] = []
    stream = Stream(log)
    halfway = asyncio.Event()
    go_on = asyncio.Event()

    async def process() -> None:
        async with barrier.event(stream, "e1"):  # type: ignore[arg-type]
            log.append("write state")
            halfway.set()
            await go_on.wait()  # e.g. waiting for a send
            log.append("publish")

    async def commit() -> None:
        async with barrier.exclusive():
            log.append("commit")

    worker = asyncio.create_task(process())
    await halfway.wait()
    committer = asyncio.create_task(commit())
    await asyncio.sleep(0.01)
    assert "commit" not in log  # the event is halfway: no commit now
    go_on.set()
    await asyncio.gather(worker, committer)
    assert log == ["write state", "publish", "ack e1", "commit"]


async def test_an_event_waits_for_the_commit_in_progress() -> None:
    barrier = CommitBarrier()
    log: list[str] = []
    stream = Stream(log)
    committing = asyncio.Event()
    release = asyncio.Event()

    async def commit() -> None:
        async with barrier.exclusive():
            committing.set()
            await release.wait()  # the transaction's round trips
            log.append("committed")

    async def process() -> None:
        async with barrier.event(stream, "e2"):  # type: ignore[arg-type]
            log.append("write state")

    committer = asyncio.create_task(commit())
    await committing.wait()
    worker = asyncio.create_task(process())
    await asyncio.sleep(0.01)
    assert log == []
    release.set()
    await asyncio.gather(committer, worker)
    assert log == ["committed", "write state", "ack e2"]


async def stuck_event(barrier: CommitBarrier, log: list[str], name: str) -> asyncio.Task[None]:
    """An event that has started and never ends by itself."""
    started = asyncio.Event()

    async def process() -> None:
        async with barrier.event(Stream(log), name):  # type: ignore[arg-type]
            started.set()
            await asyncio.sleep(3600)

    worker = asyncio.create_task(process())
    await started.wait()
    return worker


async def test_a_cancelled_event_is_not_acked_and_does_not_hold_commits() -> None:
    barrier = CommitBarrier()
    log: list[str] = []
    worker = await stuck_event(barrier, log, "e3")
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker
    async with barrier.exclusive():
        log.append("commit")
    assert log == ["commit"]  # processed again after the restart, from the last commit


async def test_an_event_that_fails_is_acked_as_faust_would() -> None:
    barrier = CommitBarrier()
    log: list[str] = []
    with pytest.raises(ValueError):
        async with barrier.event(Stream(log), "e4"):  # type: ignore[arg-type]
            raise ValueError("boom")
    assert log == ["ack e4"]


async def test_a_stuck_event_delays_a_commit_only_up_to_the_timeout() -> None:
    barrier = CommitBarrier(timeout_s=0.05)
    log: list[str] = []
    worker = await stuck_event(barrier, log, "e5")
    async with barrier.exclusive():
        log.append("commit")
    assert log == ["commit"]
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker


class Events(Stream):
    """A stream of named events (``boom`` fails the stream when reached)."""

    def __init__(self, log: list[str], names: list[str]) -> None:
        super().__init__(log)
        self.names = names

    def noack(self) -> Events:
        return self

    async def events(self) -> Any:
        for name in self.names:
            if name == "boom":
                raise RuntimeError("the stream failed")
            yield name

    def _set_current_event(self, event: Any) -> None:
        self.log.append(f"current {event}")


async def test_run_ahead_begins_the_next_events_while_one_is_handled_and_handles_in_order() -> None:
    barrier = CommitBarrier()
    log: list[str] = []

    def begin(event: str) -> str:
        log.append(f"begin {event}")
        return event.upper()

    async def handle(event: str, begun: str) -> None:
        if event == "e1":
            await asyncio.sleep(0.01)  # waiting for its work, done elsewhere
        log.append(f"handle {event} {begun}")

    stream = Events(log, ["e1", "e2", "e3"])
    await barrier.run_ahead(stream, begin, handle, depth=2)  # type: ignore[arg-type]
    assert log.index("begin e2") < log.index("handle e1 E1")
    assert [line for line in log if not line.startswith("begin")] == [
        "current e1", "handle e1 E1", "ack e1",
        "current e2", "handle e2 E2", "ack e2",
        "current e3", "handle e3 E3", "ack e3",
    ]  # fmt: skip


async def test_run_ahead_handles_what_it_read_then_raises_the_streams_error() -> None:
    barrier = CommitBarrier()
    log: list[str] = []

    async def handle(event: str, begun: str) -> None:
        log.append(f"handle {event}")

    stream = Events(log, ["e1", "boom"])
    with pytest.raises(RuntimeError, match="the stream failed"):
        await barrier.run_ahead(stream, str, handle, depth=4)  # type: ignore[arg-type]
    assert "ack e1" in log


class Accumulator:
    """An aiokafka producer's batches: ``flush_for_commit`` waits until every producer flushes."""

    def __init__(self, name: str, log: list[str], flushing: list[str], count: int) -> None:
        self.name, self.log, self.flushing, self.count = name, log, flushing, count

    async def flush_for_commit(self) -> None:
        self.flushing.append(self.name)
        # Returns only once all producers are flushing: one after the other would never end.
        while len(self.flushing) < self.count:
            await asyncio.sleep(0.001)
        self.log.append(f"flushed {self.name}")


async def test_a_commit_flushes_every_producer_side_by_side_then_commits_and_reports_its_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log: list[str] = []
    flushing: list[str] = []

    def client(name: str) -> Any:
        return SimpleNamespace(_message_accumulator=Accumulator(name, log, flushing, 3))

    async def buffer_flush() -> None:
        log.append("faust buffer")

    producer = SimpleNamespace(
        buffer=SimpleNamespace(flush=buffer_flush),
        _producer=client("plain"),
        _transaction_producers={"app-articles-0": client("t0"), "app-reports-0": client("t1")},
    )

    async def faust_commit(self: Any, *args: Any, **kwargs: Any) -> bool:
        await asyncio.sleep(0.05)  # the transaction's round trips
        log.append("commit")
        return True

    monkeypatch.setattr(Consumer, "commit", faust_commit)
    pauses: list[float] = []
    phases: list[tuple[str, float]] = []
    patch_atomic_commits(
        CommitBarrier(),
        on_pause=pauses.append,
        on_phase=lambda phase, seconds: phases.append((phase, seconds)),
    )
    consumer: Any = SimpleNamespace(app=SimpleNamespace(producer=producer))
    committed = await asyncio.wait_for(Consumer.commit(consumer), 5)
    assert committed
    assert log[0] == "faust buffer" and log[-1] == "commit"
    assert sorted(log[1:-1]) == ["flushed plain", "flushed t0", "flushed t1"]
    (pause,) = pauses
    assert pause >= 0.05  # the whole commit, its round trips included
    assert [name for name, _ in phases] == ["changelogs", "flush", "transaction"]
    seconds = dict(phases)
    assert seconds["transaction"] >= 0.05  # the round trips are the transaction's
    assert seconds["changelogs"] + seconds["flush"] < 0.05
    assert sum(seconds.values()) <= pause


async def test_held_writes_go_out_before_the_flush_and_a_failed_one_fails_the_commit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log: list[str] = []
    failure: list[BaseException] = []

    async def buffer_flush() -> None:
        log.append("flush")

    producer = SimpleNamespace(
        buffer=SimpleNamespace(flush=buffer_flush), _producer=None, _transaction_producers={}
    )

    async def faust_commit(self: Any, *args: Any, **kwargs: Any) -> bool:
        log.append("commit")
        return True

    async def held() -> list[asyncio.Future[Any]]:
        log.append("changelogs sent")
        delivered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if failure:
            delivered.set_exception(failure[0])
        else:
            delivered.set_result(None)
        return [delivered]

    monkeypatch.setattr(Consumer, "commit", faust_commit)
    patch_atomic_commits(CommitBarrier(), held=held)
    consumer: Any = SimpleNamespace(app=SimpleNamespace(producer=producer))
    assert await Consumer.commit(consumer)
    assert log == ["changelogs sent", "flush", "commit"]
    log.clear()
    failure.append(OSError("broker gone"))
    with pytest.raises(OSError, match="broker gone"):
        await Consumer.commit(consumer)
    assert log == ["changelogs sent", "flush"]  # no offset committed past a lost write


def test_the_worker_consumer_waits_for_a_fetch_only_as_long_as_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As Faust 0.15.3 builds it: every fetch may wait at the broker for 1.5 s.
    made = SimpleNamespace(_fetch_max_wait_ms=1500)
    monkeypatch.setattr(
        AIOKafkaConsumerThread, "_create_worker_consumer", lambda self, transport: made
    )
    patch_fetch_wait(0.05)
    consumer = AIOKafkaConsumerThread._create_worker_consumer(object(), None)  # type: ignore[arg-type]
    assert consumer is made and consumer._fetch_max_wait_ms == 50
