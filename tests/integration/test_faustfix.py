"""Workarounds of streams.faustfix against the real broker."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from aiokafka import AIOKafkaProducer

from streams.faustfix import patch_topic_tracking
from tests.integration.support import aiokafka_security_kwargs, create_topic


async def test_a_record_lingering_for_a_topic_found_in_the_first_metadata_is_delivered(
    kafka_bootstrap: str,
) -> None:
    # The worker's stall right after "Ready": its first incident and alert lingered in the
    # producer for topics it had found in its all-topics metadata, when a send to a topic
    # created since made the client track that topic alone; their partitions then left the
    # metadata and the records waited for a leader for good (and every commit with them).
    patch_topic_tracking()
    name = f"test-tracking-{uuid.uuid4().hex[:12]}"
    known, created_later = f"{name}.known", f"{name}.later"
    create_topic(kafka_bootstrap, known, partitions=1)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, linger_ms=300, **aiokafka_security_kwargs()
    )
    await producer.start()
    try:
        await producer.client.force_metadata_update()
        assert producer.client.cluster.partitions_for_topic(known) == {0}
        lingering = await producer.send(known, b"first")
        create_topic(kafka_bootstrap, created_later, partitions=1)
        await producer.send_and_wait(created_later, b"second")

        delivered = await asyncio.wait_for(lingering, timeout=15)

        assert (delivered.topic, delivered.offset) == (known, 0)
    finally:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(producer.stop(), timeout=10)
