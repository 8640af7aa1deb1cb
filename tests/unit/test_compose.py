"""deploy/compose without Docker: services, environment, mounts and copies that exist, configs."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.broker import KAFKA_VERSION
from streams.settings import PROJECT_ROOT

COMPOSE_DIR = PROJECT_ROOT / "deploy" / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
BROKERS = ("kafka-1", "kafka-2", "kafka-3")
PROMTOOL = shutil.which("promtool")


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"no service {name!r}"
    return dict(services[name])


def env(name: str) -> dict[str, str]:
    """A service's environment as strings (the list form too)."""
    raw = service(name).get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: str(value) for key, value in raw.items()}


def bind_mounts(name: str) -> list[tuple[Path, str]]:
    """``(host path, container path)`` of a service's bind mounts (named volumes left out)."""
    mounts = []
    for volume in service(name).get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts.append(((COMPOSE_DIR / source).resolve(), target))
    return mounts


def in_container(name: str, path: str) -> Path | None:
    """The host file a container path of ``name`` shows, through its bind mounts."""
    for source, target in sorted(bind_mounts(name), key=lambda m: -len(m[1])):
        if path == target:
            return source
        if path.startswith(target.rstrip("/") + "/"):
            return source / path[len(target.rstrip("/")) + 1 :]
    return None


def test_three_kraft_brokers_of_one_cluster_at_the_project_kafka_version() -> None:
    ids = []
    for name in BROKERS:
        broker = service(name)
        variables = env(name)
        major_minor = ".".join(KAFKA_VERSION.split(".")[:2])
        assert broker["image"].startswith(f"apache/kafka:{major_minor}."), broker["image"]
        assert set(variables["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
        ids.append(variables["KAFKA_NODE_ID"])
        assert f"INTERNAL://{name}:19092" in variables["KAFKA_ADVERTISED_LISTENERS"]
        assert "healthcheck" in broker
    assert sorted(ids) == ["1", "2", "3"]
    voters = {env(name)["KAFKA_CONTROLLER_QUORUM_VOTERS"] for name in BROKERS}
    assert voters == {"1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"}
    assert len({env(name)["CLUSTER_ID"] for name in BROKERS}) == 1
    for name in BROKERS:
        variables = env(name)
        for key in ("OFFSETS_TOPIC", "TRANSACTION_STATE_LOG", "DEFAULT"):
            assert variables[f"KAFKA_{key}_REPLICATION_FACTOR"] == "3", key
        assert int(variables["KAFKA_MIN_INSYNC_REPLICAS"]) == 2


def test_workers_use_the_cluster_with_replicated_partitioned_topics() -> None:
    variables = env("worker")
    assert int(variables["INCIDENT_PARTITIONS"]) >= 6
    assert variables["INCIDENT_REPLICATION_FACTOR"] == "3"
    assert set(variables["KAFKA_BOOTSTRAP"].split(",")) == {f"{b}:19092" for b in BROKERS}
    assert variables.get("INCIDENT_PROCESSING_GUARANTEE", "exactly_once") == "exactly_once"
    # Every variable the compose file sets is one the worker reads.
    settings_source = (PROJECT_ROOT / "streams" / "settings.py").read_text(encoding="utf-8")
    for key in variables:
        assert f'"{key}"' in settings_source, f"{key} is read by nobody"
    depends = service("worker")["depends_on"]
    assert {b: {"condition": "service_healthy"} for b in BROKERS} == depends
    # Replicas cannot share one published host port: --scale must stay possible.
    assert "ports" not in service("worker")


def test_worker_image_builds_from_the_project() -> None:
    build = service("worker")["build"]
    context = (COMPOSE_DIR / build["context"]).resolve()
    assert (context / "pyproject.toml").is_file()
    dockerfile = context / build["dockerfile"]
    text = dockerfile.read_text(encoding="utf-8")
    assert re.search(r"^RUN pip install --no-cache-dir \.$", text, re.M)
    copied = [
        part
        for line in re.findall(r"^COPY (.+)$", text, re.M)
        for part in line.split()[:-1]
        if not part.startswith("--")
    ]
    assert copied, "nothing copied"
    ignore = (dockerfile.parent / f"{dockerfile.name}.dockerignore").read_text(encoding="utf-8")
    allowed = {line[1:].rstrip("/") for line in ignore.splitlines() if line.startswith("!")}
    for path in copied:
        assert (context / path).exists(), f"COPY {path}: not in the build context"
        assert path.rstrip("/") in allowed, f"COPY {path}: excluded by the .dockerignore"
    assert "incident-monitor = " in (context / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^CMD \["incident-monitor", "worker"\]$', text, re.M)


@pytest.mark.parametrize("name", ["worker", "prometheus", "grafana", *BROKERS])
def test_every_bind_mount_exists(name: str) -> None:
    for source, target in bind_mounts(name):
        assert source.exists(), f"{name}: {source} (mounted at {target}) does not exist"


def prometheus_config() -> tuple[Path, dict[str, Any]]:
    command = service("prometheus")["command"]
    flag = next(arg for arg in command if arg.startswith("--config.file="))
    path = in_container("prometheus", flag.split("=", 1)[1])
    assert path is not None and path.is_file(), flag
    return path, yaml.safe_load(path.read_text(encoding="utf-8"))


def test_prometheus_scrapes_every_worker_replica_and_loads_the_alert_rules() -> None:
    _, config = prometheus_config()
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "incident-monitor"  # what alerts.yml and the dashboard select
    (sd,) = job["dns_sd_configs"]
    assert sd["names"] == ["worker"] and sd["type"] == "A"
    assert str(sd["port"]) == env("worker")["INCIDENT_WEB_PORT"]
    for rule_file in config["rule_files"]:
        local = in_container("prometheus", rule_file)
        assert local == PROJECT_ROOT / "deploy" / "prometheus" / "alerts.yml", rule_file


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not on PATH (apt-get install prometheus)")
def test_prometheus_config_passes_promtool(tmp_path: Path) -> None:
    _, config = prometheus_config()
    # The same file with the rule files where they are on this machine.
    config["rule_files"] = [str(in_container("prometheus", f)) for f in config["rule_files"]]
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, "check", "config", str(local)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_gets_the_dashboard_and_its_data_source_at_the_compose_prometheus() -> None:
    mounts = {target: source for source, target in bind_mounts("grafana")}
    provider_path = mounts["/etc/grafana/provisioning/dashboards/provider.yaml"]
    provider = yaml.safe_load(provider_path.read_text(encoding="utf-8"))
    (entry,) = provider["providers"]
    dashboards = in_container("grafana", entry["options"]["path"])
    assert dashboards is not None and (dashboards / "incident-monitor.json").is_file()

    ours = mounts["/etc/grafana/provisioning/datasources/prometheus.yaml"]
    (source,) = yaml.safe_load(ours.read_text(encoding="utf-8"))["datasources"]
    reference = PROJECT_ROOT / "deploy" / "grafana" / "provisioning" / "datasources"
    (original,) = yaml.safe_load((reference / "prometheus.yaml").read_text())["datasources"]
    assert source["uid"] == original["uid"]
    assert {k: v for k, v in source.items() if k != "url"} == {
        k: v for k, v in original.items() if k != "url"
    }
    published = {p.split(":")[-1] for p in service("prometheus")["ports"]}
    assert source["url"] == f"http://prometheus:{published.pop()}"
