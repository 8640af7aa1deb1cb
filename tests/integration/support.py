"""Helpers the broker tests share: clients, topics, read a topic whole, wait, read /metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka.helpers import create_ssl_context
from kafka import KafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from streams.broker import client_security_kwargs
from streams.io import follow


def read_keyed(bootstrap: str, topic: str) -> list[tuple[bytes | None, Any]]:
    """Every committed record of ``topic`` now, in order: (key, value as JSON)."""
    return [
        (r.key, orjson.loads(r.value))
        for r in follow(bootstrap, topic, from_beginning=True, exit_at_end=True)
    ]


def read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every committed record's value of ``topic`` now, in order, as JSON."""
    return [value for _key, value in read_keyed(bootstrap, topic)]


def wait_for(check: Callable[[], bool], timeout_s: float, what: str | Callable[[], str]) -> None:
    """Poll ``check`` until it holds; fail with ``what`` (or what it says then) at the timeout."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() >= deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"timed out waiting for {said}")
        time.sleep(0.5)


def sample(text: str, name: str, **labels: str) -> float:
    """Sum of the samples called ``name`` in a /metrics page whose labels include ``labels``."""
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    )


def consumed(text: str) -> float:
    """Articles the worker has consumed, from its /metrics page."""
    return sample(text, "incident_monitor_articles_consumed_total")


def alert_state(alert: dict[str, Any]) -> tuple[Any, ...]:
    """What a subscriber sees of an alert (not when it was made)."""
    return (
        alert["alert_id"],
        alert["revision"],
        alert["rule"],
        alert["severity"],
        tuple(sorted(alert["figures"].items())),
        tuple(sorted(i["incident_id"] for i in alert["incidents"])),
    )


def aiokafka_security_kwargs() -> dict[str, Any]:
    """The same settings for aiokafka, which takes an SSL context instead of a CA file."""
    kwargs: dict[str, Any] = dict(client_security_kwargs())
    cafile = kwargs.pop("ssl_cafile", None)
    if cafile is not None:
        kwargs["ssl_context"] = create_ssl_context(cafile=cafile)
    return kwargs


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    """Create ``topic`` and wait until the broker lists it."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **client_security_kwargs())
    try:
        admin.create_topics(
            {topic: {"num_partitions": partitions, "replication_factor": 1}},
            wait_for_metadata=True,
        )
    finally:
        admin.close()
