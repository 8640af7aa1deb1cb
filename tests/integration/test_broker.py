"""The local broker on a real JVM: clients work, consumer groups form, data survives a restart."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka import KafkaConsumer, KafkaProducer

from streams.broker import BrokerConfig, client_security_kwargs, start, status, stop
from tests.integration.support import aiokafka_security_kwargs, create_topic


def unique_topic() -> str:
    # Fresh names keep tests independent on a shared (or external) cluster.
    return f"test-broker-{uuid.uuid4().hex[:12]}"


def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, **client_security_kwargs())
    try:
        for value in values:
            producer.send(topic, value=value, key=b"k").get(timeout=30)
    finally:
        producer.close()


def consume_all(bootstrap: str, topic: str, expected: int, group: str | None = None) -> list[bytes]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        consumer_timeout_ms=20_000,
        **client_security_kwargs(),
    )
    values: list[bytes] = []
    try:
        for record in consumer:
            values.append(record.value)
            if len(values) >= expected:
                break
        if group is not None:
            consumer.commit()
    finally:
        consumer.close()
    return values


def test_status_reports_the_running_broker(broker_config: BrokerConfig) -> None:
    current = status(broker_config)

    assert current.running
    assert current.pid is not None
    assert current.bootstrap == broker_config.bootstrap
    assert current.data_dir == broker_config.data_dir
    assert "Kafka Server started" in current.log_path.read_text()
    assert f"pid {current.pid}" in current.describe()


def test_start_when_running_is_a_no_op(broker_config: BrokerConfig) -> None:
    before = status(broker_config)

    again = start(broker_config)

    assert again.running
    assert again.pid == before.pid
    assert "already running" in again.describe()


def test_kafka_python_produces_and_consumes(kafka_bootstrap: str) -> None:
    topic = unique_topic()
    values = [f"message {i}".encode() for i in range(5)]

    produce(kafka_bootstrap, topic, values)  # auto-created on first send

    assert consume_all(kafka_bootstrap, topic, expected=5) == values


async def test_aiokafka_consumer_group_splits_partitions(kafka_bootstrap: str) -> None:
    # Two members of one group, as two Faust workers: the classic group protocol must
    # join, sync, assign one partition each, and commit.
    topic, group = unique_topic(), f"group-{uuid.uuid4().hex[:8]}"
    create_topic(kafka_bootstrap, topic, partitions=2)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **aiokafka_security_kwargs())
    await producer.start()
    try:
        for partition in (0, 1):
            await producer.send_and_wait(topic, f"p{partition}".encode(), partition=partition)
    finally:
        await producer.stop()
    members = [
        AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            heartbeat_interval_ms=300,
            **aiokafka_security_kwargs(),
        )
        for _ in range(2)
    ]
    seen: set[bytes] = set()
    try:
        for member in members:
            await member.start()
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            for member in members:
                batches = await member.getmany(timeout_ms=200)
                seen.update(r.value for records in batches.values() for r in records if r.value)
            assignments = [member.assignment() for member in members]
            if seen == {b"p0", b"p1"} and all(len(a) == 1 for a in assignments):
                break
            await asyncio.sleep(0.05)

        assert seen == {b"p0", b"p1"}
        assignments = [member.assignment() for member in members]
        assert set().union(*assignments) == {TopicPartition(topic, 0), TopicPartition(topic, 1)}
        assert all(len(a) == 1 for a in assignments)
        for member in members:
            # Read each owned partition to its end, then commit that position.
            (owned,) = member.assignment()
            await member.seek_to_end(owned)
            await member.commit()
            assert await member.committed(owned) == 1
    finally:
        for member in members:
            await member.stop()


def test_messages_survive_a_broker_restart(broker_config: BrokerConfig) -> None:
    bootstrap = broker_config.bootstrap
    topic, group = unique_topic(), f"group-{uuid.uuid4().hex[:8]}"
    produce(bootstrap, topic, [b"before restart"])
    assert consume_all(bootstrap, topic, expected=1, group=group) == [b"before restart"]
    old_pid = status(broker_config).pid

    try:
        stopped = stop(broker_config)
        assert not stopped.running
        assert not status(broker_config).running
        assert not broker_config.pid_path.exists()
        with socket.socket() as probe:
            assert probe.connect_ex((broker_config.host, broker_config.port)) != 0
    finally:
        # Whatever happened, later tests get their broker back.
        restarted = start(broker_config)

    assert restarted.running
    assert restarted.pid != old_pid
    assert consume_all(bootstrap, topic, expected=1) == [b"before restart"]
    produce(bootstrap, topic, [b"after restart"])
    # The group's committed offset survived too: it reads only the new message.
    assert consume_all(bootstrap, topic, expected=1, group=group) == [b"after restart"]
