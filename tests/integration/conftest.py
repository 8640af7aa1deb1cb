"""Integration fixtures: one real Kafka broker per session, or the cluster in KAFKA_BOOTSTRAP."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from streams.broker import BrokerConfig, start, stop

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration, so `-m "not integration"` leaves them all out."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free right now (all held open together so none repeats)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


@pytest.fixture(scope="session")
def _local_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerConfig | None]:
    # A failure to start raises here, so every test that needs Kafka errors out loudly:
    # integration tests are never skipped for want of a broker.
    if os.environ.get("KAFKA_BOOTSTRAP"):
        yield None
        return
    port, controller_port = free_ports(2)
    cfg = BrokerConfig(
        port=port, controller_port=controller_port, data_dir=tmp_path_factory.mktemp("kafka")
    )
    start(cfg, timeout=120.0)
    try:
        yield cfg
    finally:
        stop(cfg)


@pytest.fixture(scope="session")
def kafka_bootstrap(_local_broker: BrokerConfig | None) -> str:
    """``host:port`` of the cluster under test: KAFKA_BOOTSTRAP, or the session's own broker."""
    if _local_broker is None:
        return os.environ["KAFKA_BOOTSTRAP"]
    return _local_broker.bootstrap


@pytest.fixture(scope="session")
def broker_config(_local_broker: BrokerConfig | None) -> BrokerConfig:
    """The session broker's config, for tests that stop and restart it (local broker only)."""
    if _local_broker is None:
        pytest.skip("KAFKA_BOOTSTRAP points at an external cluster; this test manages a local one")
    return _local_broker
