"""Integration fixtures: one real Kafka broker per session, or the cluster in KAFKA_BOOTSTRAP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
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


class Worker:
    """An ``incident-monitor worker`` process with its own web port, state folder and log."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.port = int(env["INCIDENT_WEB_PORT"])
        self.log_path = folder / "worker.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 90.0) -> Worker:
        """Launch and wait until ``/metrics`` answers."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streams", "worker", "--loglevel", "info"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.metrics()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail("worker did not start:\n" + self.log_path.read_text()[-5000:])
                time.sleep(0.5)

    def metrics(self) -> str:
        """The worker's ``/metrics`` text."""
        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as resp:
            return str(resp.read().decode("utf-8"))

    def kill(self) -> None:
        """SIGKILL: no shutdown, no offset commit, no flush."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it hangs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture()
def worker_factory(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Make workers on a topic namespace of this test's own (several share it like a group)."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    made: list[Worker] = []

    def make(**extra: str) -> Worker:
        folder = tmp_path / f"worker{len(made)}"
        folder.mkdir()
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP": kafka_bootstrap,
            "INCIDENT_TOPIC_PREFIX": prefix,
            "INCIDENT_APP_ID": f"{prefix}incident-monitor",
            "INCIDENT_WEB_PORT": str(free_ports(1)[0]),
            "INCIDENT_VAR_DIR": str(folder),
            "INCIDENT_TICK_SECONDS": "1",
            **extra,
        }
        worker = Worker(env, folder)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop()
