"""Publisher-side de-duplication for the output topics, seeded from their recent tail at start.

Faust's exactly-once covers table changelogs, internal topics and consumer offsets, but a
send to a topic the app does not consume goes out outside the transaction. After a crash the
aborted transaction's input is processed again and would re-publish what already went out.
Every output record has a deterministic identity, so the worker remembers what it has
published and, whenever partitions are assigned to it (at start, and when it takes over a
dead or departed worker's partitions, whose outputs it has never seen), reads the identities
of the last minutes of each output topic before publishing again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterable, Mapping

import orjson
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from streams.broker import client_security_kwargs

logger = logging.getLogger(__name__)


def identity(value: Mapping[str, object]) -> str | None:
    """The identity of an output record (its JSON, or its fields): same state, same identity.

    >>> identity({"alert_id": "a1", "revision": 2, "rule": "x"})
    'alert:a1#2'
    """
    if "alert_id" in value:
        return f"alert:{value['alert_id']}#{value.get('revision')}"
    if "incident" in value and "region" in value:  # a LateIncident
        inner = value["incident"]
        if isinstance(inner, Mapping):
            return f"late:{inner.get('cluster_id')}#{inner.get('revision')}"
        if inner is not None:  # a record's own fields (``to_representation``): the Incident
            return f"late:{getattr(inner, 'cluster_id', None)}#{getattr(inner, 'revision', None)}"
    if "cluster_id" in value:
        return f"cluster:{value['cluster_id']}#{value.get('revision')}"
    if "reason" in value and "offset" in value:  # a DeadLetter
        return f"dlq:{value.get('topic')}|{value.get('partition')}|{value.get('offset')}"
    return None


class SinkLedger:
    """Identities published per topic within a time horizon; ``first_time`` admits each once."""

    def __init__(self, horizon_s: float = 900.0, read_timeout_s: float = 30.0) -> None:
        self.horizon_s = horizon_s
        self.read_timeout_s = read_timeout_s
        self._seen: set[tuple[str, str]] = set()
        self._order: deque[tuple[float, tuple[str, str]]] = deque()
        self.ready = asyncio.Event()
        self._wanted = 0  # seeds asked for; only the latest one opens ``ready``
        self._seeding = asyncio.Lock()

    def _remember(self, entry: tuple[str, str], at: float) -> None:
        self._seen.add(entry)
        self._order.append((at, entry))
        cutoff = time.time() - self.horizon_s
        while self._order and self._order[0][0] < cutoff:
            self._seen.discard(self._order.popleft()[1])

    def first_time(self, topic: str, payload: bytes) -> bool:
        """True (and remembered) unless this record's identity already went out on ``topic``."""
        try:
            return self.admit(topic, identity(orjson.loads(payload)))
        except orjson.JSONDecodeError:
            return True

    def admit(self, topic: str, key: str | None) -> bool:
        """:meth:`first_time` for a record whose identity is known (None: it has none)."""
        if key is None:
            return True
        entry = (topic, key)
        if entry in self._seen:
            return False
        self._remember(entry, time.time())
        return True

    async def reseed(self, bootstrap: str, topics: Iterable[str]) -> int:
        """Hold publishing (``ready``) until the topics' tails are read again; returns count.

        Called on every partition assignment. Seeds run one at a time, in a thread; when
        another assignment asks for a seed meanwhile, only the last one opens ``ready``.
        """
        self.ready.clear()
        self._wanted += 1
        wanted = self._wanted
        names = list(topics)
        async with self._seeding:
            if wanted != self._wanted:
                return 0  # a later assignment's seed follows
            loop = asyncio.get_running_loop()
            count = 0
            started = time.monotonic()
            for attempt in range(4):
                try:
                    count = await loop.run_in_executor(None, self.seed, bootstrap, names)
                    logger.info(
                        "sink ledger: %d records of the outputs read in %.1f s",
                        count,
                        time.monotonic() - started,
                    )
                    break
                except Exception as exc:  # e.g. no broker answers yet after an outage
                    logger.warning("sink ledger: reading the outputs failed (%r), retrying", exc)
                    await asyncio.sleep(2**attempt)
            # Never hold publishing for good: at worst a record goes out twice, none is lost.
            if wanted == self._wanted:
                self.ready.set()
            return count

    def seed(self, bootstrap: str, topics: Iterable[str]) -> int:
        """Read the last ``horizon_s`` of each topic and remember its identities; returns count."""
        since_ms = int((time.time() - self.horizon_s) * 1000)
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap.split(","),
            enable_auto_commit=False,
            **client_security_kwargs(),
        )
        seeded = 0
        try:
            tps = [
                TopicPartition(t, p)
                for t in topics
                for p in sorted(consumer.partitions_for_topic(t) or ())
            ]
            if not tps:
                return 0
            consumer.assign(tps)
            starts = consumer.offsets_for_times({tp: since_ms for tp in tps})
            ends = consumer.end_offsets(tps)
            for tp in tps:
                found = starts.get(tp)
                consumer.seek(tp, found.offset if found is not None else ends[tp])
            # Bounded: publishing waits for this, and an unread tail costs at most a duplicate.
            deadline = time.monotonic() + self.read_timeout_s
            while behind := [tp for tp in tps if consumer.position(tp) < ends[tp]]:
                if time.monotonic() > deadline:
                    logger.warning(
                        "sink ledger: gave up reading %s after %.0f s",
                        [f"{tp.topic}[{tp.partition}]" for tp in behind],
                        self.read_timeout_s,
                    )
                    break
                for records in consumer.poll(timeout_ms=1000).values():
                    for r in records:
                        if r.value is not None and self.first_time(r.topic, r.value):
                            seeded += 1
        except KafkaError:
            # Unreadable tails cost at most a duplicate after a crash, never a lost record.
            return seeded
        finally:
            consumer.close()
        return seeded
