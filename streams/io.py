"""Getting articles onto Kafka and records off it: input files, producer, topic follower."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from streams.broker import client_security_kwargs

INPUT_SUFFIXES = (".json", ".jsonl", ".ndjson")
BOOTSTRAP_TIMEOUT_MS = 8000


class KafkaUnreachable(Exception):
    """The configured bootstrap servers did not answer."""


@dataclass(frozen=True)
class Message:
    """One message to push: its key (the article id when it can be read) and raw value."""

    key: bytes | None
    value: bytes
    origin: str


def _key_of(value: bytes) -> bytes | None:
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        return str(data["id"]).encode("utf-8")
    return None


def _messages_from_bytes(data: bytes, origin: str, json_lines: bool) -> Iterator[Message]:
    if not json_lines:
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            for i, item in enumerate(parsed):
                value = orjson.dumps(item)
                yield Message(_key_of(value), value, f"{origin}[{i}]")
            return
        if parsed is not None:
            yield Message(_key_of(data), data.strip(), origin)
            return
        # Not one JSON document: try JSON Lines before handing the worker raw bytes.
        if b"\n" not in data.strip():
            yield Message(None, data, origin)
            return
    for n, line in enumerate(data.splitlines(), start=1):
        if line.strip():
            yield Message(_key_of(line), line, f"{origin}:{n}")


def read_messages(paths: Iterable[str], stdin: BinaryIO | None = None) -> Iterator[Message]:
    """Messages from files, folders (their .json/.jsonl files, sorted) and ``-`` (stdin, JSONL).

    Invalid records are passed on as they are: rejecting them is the worker's job, so that
    they reach the dead-letter topic with a reason instead of vanishing at the edge.
    """
    for raw_path in paths:
        if raw_path == "-":
            source = stdin if stdin is not None else sys.stdin.buffer
            yield from _messages_from_bytes(source.read(), "<stdin>", json_lines=True)
            continue
        path = Path(raw_path)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in INPUT_SUFFIXES and p.is_file())
        elif path.is_file():
            files = [path]
        else:
            raise FileNotFoundError(f"no such file or folder: {raw_path}")
        for file in files:
            yield from _messages_from_bytes(
                file.read_bytes(), str(file), json_lines=file.suffix in (".jsonl", ".ndjson")
            )


def make_producer(bootstrap: str) -> KafkaProducer:
    """An idempotent producer (acks=all); raises KafkaUnreachable when no broker answers."""
    try:
        return KafkaProducer(
            bootstrap_servers=bootstrap.split(","),
            acks="all",
            linger_ms=5,
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
            **client_security_kwargs(),
        )
    except KafkaError as exc:
        raise KafkaUnreachable(
            f"cannot reach Kafka at {bootstrap} ({exc}); start the local broker with "
            "'incident-monitor broker start' or set KAFKA_BOOTSTRAP"
        ) from None


def push_messages(
    producer: KafkaProducer, topic: str, messages: Iterable[Message]
) -> Iterator[int]:
    """Send messages, yielding the running count; flushes before the last yield."""
    for sent, message in enumerate(messages, start=1):
        producer.send(topic, key=message.key, value=message.value)
        yield sent
    producer.flush()


@dataclass(frozen=True)
class Received:
    """One record read from a topic."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: str | None
    value: bytes


def follow(
    bootstrap: str,
    topic: str,
    *,
    from_beginning: bool,
    exit_at_end: bool,
    idle_timeout_s: float | None = None,
    first_timeout_s: float | None = None,
    quiet_counts: Callable[[], bool] | None = None,
) -> Iterator[Received]:
    """Read a topic without joining a group (like kcat): from its start or its end.

    With ``exit_at_end`` it stops at the end offsets seen when it started; with
    ``idle_timeout_s`` it stops after that long without a record (``first_timeout_s``, when
    given, applies instead until the first record arrives). ``quiet_counts``: while it says
    False, time without a record does not count (more is known to be on its way).
    """
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap.split(","),
            enable_auto_commit=False,
            # Workers write in transactions (exactly-once): never show aborted records.
            isolation_level="read_committed",
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
            **client_security_kwargs(),
        )
    except KafkaError as exc:
        raise KafkaUnreachable(f"cannot reach Kafka at {bootstrap} ({exc})") from None
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        waited = 0.0
        while not partitions and not exit_at_end:
            # A worker creates its topics as it starts: wait for the topic within the timeout.
            limit = first_timeout_s if first_timeout_s is not None else idle_timeout_s
            if limit is not None and waited >= limit:
                return
            time.sleep(0.5)
            waited += 0.5
            consumer.topics()  # refreshes the cluster metadata
            partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            return
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        if from_beginning:
            consumer.seek_to_beginning(*tps)
        else:
            consumer.seek_to_end(*tps)
        end: dict[Any, int] = consumer.end_offsets(tps) if exit_at_end else {}
        quiet_since = time.monotonic()
        seen_any = False
        while True:
            if exit_at_end and all(consumer.position(tp) >= end[tp] for tp in tps):
                return
            batch = consumer.poll(timeout_ms=500)
            if not batch:
                if quiet_counts is not None and not quiet_counts():
                    quiet_since = time.monotonic()
                limit = idle_timeout_s if seen_any or first_timeout_s is None else first_timeout_s
                if limit is not None and time.monotonic() - quiet_since >= limit:
                    return
                continue
            quiet_since = time.monotonic()
            seen_any = True
            for records in batch.values():
                for r in records:
                    yield Received(
                        topic=r.topic,
                        partition=r.partition,
                        offset=r.offset,
                        timestamp_ms=r.timestamp,
                        key=r.key.decode("utf-8", "replace") if r.key is not None else None,
                        value=r.value if r.value is not None else b"",
                    )
    finally:
        consumer.close()
