"""The local broker's config, rendering, security settings and pid bookkeeping, without Kafka."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from streams import broker
from streams.broker import (
    KAFKA_VERSION,
    POM_PATH,
    BrokerConfig,
    BrokerError,
    BrokerStatus,
    client_security_kwargs,
    ensure_jars,
    new_cluster_id,
    render_properties,
    start,
    status,
    stop,
)


def properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


PORT, CONTROLLER = "INCIDENT_KAFKA_PORT", "INCIDENT_KAFKA_CONTROLLER_PORT"


@pytest.mark.parametrize(
    ("env", "port", "controller_port", "heap", "partitions"),
    [
        ({}, 9092, 9093, "512m", 1),
        ({PORT: "19092"}, 19092, 19093, "512m", 1),
        ({PORT: "19092", CONTROLLER: "29093"}, 19092, 29093, "512m", 1),
        ({PORT: " 9100 ", CONTROLLER: ""}, 9100, 9101, "512m", 1),
        ({"INCIDENT_KAFKA_HEAP": "1g", "INCIDENT_KAFKA_PARTITIONS": "3"}, 9092, 9093, "1g", 3),
    ],
)
def test_from_env(
    env: dict[str, str], port: int, controller_port: int, heap: str, partitions: int
) -> None:
    cfg = BrokerConfig.from_env(env)

    assert (cfg.port, cfg.controller_port, cfg.heap, cfg.num_partitions) == (
        port,
        controller_port,
        heap,
        partitions,
    )
    assert cfg.bootstrap == f"127.0.0.1:{port}"


def test_from_env_data_dir(tmp_path: Path) -> None:
    assert BrokerConfig.from_env({"INCIDENT_KAFKA_DATA": str(tmp_path)}).data_dir == tmp_path


def test_default_data_dir_follows_var_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INCIDENT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("INCIDENT_CACHE_DIR", str(tmp_path / "cache"))

    cfg = BrokerConfig()

    assert cfg.data_dir == tmp_path / "kafka"
    assert cfg.libs_dir == tmp_path / "cache" / "kafka" / "libs"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INCIDENT_KAFKA_PORT": "kafka"}, "INCIDENT_KAFKA_PORT must be a whole number"),
        ({"INCIDENT_KAFKA_PORT": "70000"}, "port must be in 1..65535"),
        ({"INCIDENT_KAFKA_CONTROLLER_PORT": "-3"}, "controller_port must be in 1..65535"),
        ({"INCIDENT_KAFKA_CONTROLLER_PORT": "9092"}, "must differ"),
        ({"INCIDENT_KAFKA_HEAP": "lots"}, "heap must look like 512m"),
        ({"INCIDENT_KAFKA_PARTITIONS": "0"}, "num_partitions must be at least 1"),
    ],
)
def test_from_env_rejects(env: dict[str, str], message: str) -> None:
    with pytest.raises(BrokerError, match=re.escape(message)):
        BrokerConfig.from_env(env)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("process.roles", "broker,controller"),
        ("node.id", "1"),
        ("controller.quorum.voters", "1@127.0.0.1:19093"),
        ("listeners", "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"),
        ("advertised.listeners", "PLAINTEXT://127.0.0.1:19092"),
        ("controller.listener.names", "CONTROLLER"),
        ("inter.broker.listener.name", "PLAINTEXT"),
        ("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"),
        ("log.dirs", "/srv/kafka/data"),
        ("num.partitions", "4"),
        ("auto.create.topics.enable", "true"),
        ("group.initial.rebalance.delay.ms", "0"),
        ("offsets.topic.replication.factor", "1"),
        ("transaction.state.log.replication.factor", "1"),
        ("transaction.state.log.min.isr", "1"),
        ("share.coordinator.state.topic.replication.factor", "1"),
        ("share.coordinator.state.topic.min.isr", "1"),
        ("default.replication.factor", "1"),
    ],
)
def test_render_properties(key: str, value: str) -> None:
    cfg = BrokerConfig(port=19092, data_dir=Path("/srv/kafka"), num_partitions=4)

    assert properties(render_properties(cfg))[key] == value


def test_render_properties_escapes_backslashes() -> None:
    cfg = BrokerConfig(data_dir=Path("C:\\kafka"))

    assert properties(render_properties(cfg))["log.dirs"] == "C:\\\\kafka/data"


def test_paths_live_in_the_data_dir() -> None:
    cfg = BrokerConfig(data_dir=Path("/srv/kafka"))

    assert [cfg.log_dirs, cfg.properties_path, cfg.log_path, cfg.pid_path] == [
        Path("/srv/kafka/data"),
        Path("/srv/kafka/server.properties"),
        Path("/srv/kafka/broker.log"),
        Path("/srv/kafka/broker.pid"),
    ]


def test_pom_pins_the_same_kafka_version() -> None:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    pom = ET.parse(POM_PATH).getroot()

    assert pom.findtext("m:properties/m:kafka.version", namespaces=ns) == KAFKA_VERSION


def test_new_cluster_id_has_kafkas_uuid_shape() -> None:
    ids = {new_cluster_id() for _ in range(200)}

    assert len(ids) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) and not i.startswith("-") for i in ids)


@pytest.mark.parametrize(
    ("running", "pid", "detail", "expected"),
    [
        (True, 42, "", "Kafka running (pid 42) on 127.0.0.1:9092; data /d; log /d/broker.log"),
        (False, None, "", "Kafka not running (127.0.0.1:9092); data /d; log /d/broker.log"),
        (True, 7, "started in 3.1s", "Kafka running (pid 7) on 127.0.0.1:9092; data /d; "
         "log /d/broker.log; started in 3.1s"),
    ],
)  # fmt: skip
def test_describe(running: bool, pid: int | None, detail: str, expected: str) -> None:
    st = BrokerStatus(running, pid, "127.0.0.1:9092", Path("/d"), Path("/d/broker.log"), detail)

    assert st.describe() == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, {}),
        ({"KAFKA_SECURITY_PROTOCOL": "plaintext"}, {"security_protocol": "PLAINTEXT"}),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "KAFKA_SASL_USERNAME": "ana",
                "KAFKA_SASL_PASSWORD": "s3cret",
            },
            {
                "security_protocol": "SASL_PLAINTEXT",
                "sasl_mechanism": "PLAIN",
                "sasl_plain_username": "ana",
                "sasl_plain_password": "s3cret",
            },
        ),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
                "KAFKA_SASL_MECHANISM": "scram-sha-512",
                "KAFKA_SASL_USERNAME": "ana",
                "KAFKA_SASL_PASSWORD": "s3cret",
            },
            {
                "security_protocol": "SASL_SSL",
                "sasl_mechanism": "SCRAM-SHA-512",
                "sasl_plain_username": "ana",
                "sasl_plain_password": "s3cret",
            },
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "OAUTHBEARER"},
            {"security_protocol": "SASL_SSL", "sasl_mechanism": "OAUTHBEARER"},
        ),
    ],
)
def test_client_security_kwargs(env: dict[str, str], expected: dict[str, str]) -> None:
    assert client_security_kwargs(env) == expected


def test_client_security_kwargs_ca_file(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")

    kwargs = client_security_kwargs({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": str(ca)})

    assert kwargs == {"security_protocol": "SSL", "ssl_cafile": str(ca)}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "is not one of PLAINTEXT, SSL"),
        ({"KAFKA_SASL_USERNAME": "ana"}, "KAFKA_SECURITY_PROTOCOL is not"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs KAFKA_SASL_USERNAME"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "MD5"},
            "KAFKA_SASL_MECHANISM='MD5' is not one of",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SASL_USERNAME": "ana"},
            "does not use SASL",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "PLAINTEXT", "KAFKA_SSL_CAFILE": "/etc/ca.pem"},
            "KAFKA_SSL_CAFILE is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "/no/such/ca.pem"},
            "is not a readable file",
        ),
    ],
)
def test_client_security_kwargs_rejects(env: dict[str, str], message: str) -> None:
    with pytest.raises(BrokerError, match=re.escape(message)):
        client_security_kwargs(env)


def test_status_without_pid_file(tmp_path: Path) -> None:
    st = status(BrokerConfig(data_dir=tmp_path))

    assert (st.running, st.pid, st.detail) == (False, None, "")


def test_status_ignores_a_pid_that_is_not_a_broker(tmp_path: Path) -> None:
    # Our own pid is alive but not kafka.Kafka: a reused pid must not count as the broker.
    cfg = BrokerConfig(data_dir=tmp_path)
    cfg.pid_path.write_text(f"{os.getpid()}\n")

    st = status(cfg)

    assert not st.running
    assert "stale pid file" in st.detail


def test_status_ignores_a_dead_pid(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    cfg = BrokerConfig(data_dir=tmp_path)
    cfg.pid_path.write_text(done.stdout)

    assert not status(cfg).running


def test_stop_when_not_running_clears_a_stale_pid_file(tmp_path: Path) -> None:
    cfg = BrokerConfig(data_dir=tmp_path)
    cfg.pid_path.write_text(f"{os.getpid()}\n")

    st = stop(cfg)

    assert not st.running
    assert st.detail == "was not running"
    assert not cfg.pid_path.exists()


def test_start_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = BrokerConfig(port=port, data_dir=tmp_path)

        with pytest.raises(BrokerError, match=f"127.0.0.1:{port} is already in use"):
            start(cfg)


def test_ensure_jars_skips_maven_when_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    libs = tmp_path / "libs"
    libs.mkdir()
    (libs / ".resolved").write_text(KAFKA_VERSION + "\n")
    monkeypatch.setattr(broker.shutil, "which", lambda tool: None)  # Maven would fail loudly

    assert ensure_jars(libs) == libs


@pytest.mark.parametrize("marker", [None, "3.9.0"])
def test_ensure_jars_names_the_missing_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, marker: str | None
) -> None:
    libs = tmp_path / "libs"
    if marker is not None:
        libs.mkdir()
        (libs / ".resolved").write_text(marker)
    monkeypatch.setattr(broker.shutil, "which", lambda tool: None)

    with pytest.raises(BrokerError, match="`mvn` is not on PATH"):
        ensure_jars(libs)
