"""The local single-node Apache Kafka (KRaft) for development and tests, run from Maven jars."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from streams.settings import PROJECT_ROOT, cache_dir, var_dir

# Must equal <kafka.version> in deploy/kafka/pom.xml (tests/unit/test_broker.py checks it).
# 4.1 is the first line released after 4.0's protocol removals settled (JoinGroup v0/v1 came
# back, KAFKA-19444); .2 is its latest bug-fix release. aiokafka and kafka-python negotiate API
# versions; tests/integration/test_broker.py proves produce, consume and group joins against it.
KAFKA_VERSION = "4.1.2"

POM_PATH = PROJECT_ROOT / "deploy" / "kafka" / "pom.xml"
READY_LINE = "Kafka Server started"
NODE_ID = 1
# Ample for development and tests; the stock start script defaults to 1 GB.
DEFAULT_HEAP = "512m"

_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI")
_HEAP_RE = re.compile(r"^[1-9][0-9]*[kKmMgG]?$")


class BrokerError(Exception):
    """The local broker cannot be resolved, started, stopped or configured; the message says why."""


def _default_data_dir() -> Path:
    return var_dir() / "kafka"


def _default_libs_dir() -> Path:
    return cache_dir() / "kafka" / "libs"


@dataclass(frozen=True)
class BrokerConfig:
    """Where and how the local broker runs.

    ``controller_port=0`` means ``port + 1``. Example::

        cfg = BrokerConfig(port=19092, data_dir=Path("scratch/kafka"))
        cfg.bootstrap  # '127.0.0.1:19092'; cfg.controller_port == 19093
    """

    host: str = "127.0.0.1"
    port: int = 9092
    controller_port: int = 0
    data_dir: Path = field(default_factory=_default_data_dir)
    heap: str = DEFAULT_HEAP
    num_partitions: int = 1
    libs_dir: Path = field(default_factory=_default_libs_dir)
    kafka_version: str = KAFKA_VERSION

    def __post_init__(self) -> None:
        if self.controller_port == 0:
            # A frozen dataclass can only fill a derived default this way.
            object.__setattr__(self, "controller_port", self.port + 1)
        for name in ("port", "controller_port"):
            value = getattr(self, name)
            if not 0 < value < 65536:
                raise BrokerError(f"{name} must be in 1..65535, not {value}")
        if self.port == self.controller_port:
            raise BrokerError(f"port and controller_port must differ (both {self.port})")
        if not _HEAP_RE.match(self.heap):
            raise BrokerError(f"heap must look like 512m or 1g, not {self.heap!r}")
        if self.num_partitions < 1:
            raise BrokerError(f"num_partitions must be at least 1, not {self.num_partitions}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BrokerConfig:
        """Read ``INCIDENT_KAFKA_{PORT,CONTROLLER_PORT,DATA,HEAP,PARTITIONS}``; unset means default.

        Example: ``BrokerConfig.from_env({"INCIDENT_KAFKA_PORT": "19092"}).controller_port``
        is ``19093``.
        """
        env = os.environ if environ is None else environ
        data = env.get("INCIDENT_KAFKA_DATA", "").strip()
        try:
            return cls(
                port=_env_int(env, "INCIDENT_KAFKA_PORT", 9092),
                controller_port=_env_int(env, "INCIDENT_KAFKA_CONTROLLER_PORT", 0),
                data_dir=Path(data).expanduser() if data else _default_data_dir(),
                heap=env.get("INCIDENT_KAFKA_HEAP", "").strip() or DEFAULT_HEAP,
                num_partitions=_env_int(env, "INCIDENT_KAFKA_PARTITIONS", 1),
            )
        except BrokerError as exc:
            raise BrokerError(f"{exc} (check the INCIDENT_KAFKA_* environment variables)") from None

    @property
    def bootstrap(self) -> str:
        """``host:port`` for clients (``bootstrap_servers``)."""
        return f"{self.host}:{self.port}"

    @property
    def log_dirs(self) -> Path:
        """Kafka's own data (topic partitions, KRaft metadata): what survives a restart."""
        return self.data_dir / "data"

    @property
    def properties_path(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log_path(self) -> Path:
        """The broker's stdout and stderr (its SLF4J log)."""
        return self.data_dir / "broker.log"

    @property
    def pid_path(self) -> Path:
        return self.data_dir / "broker.pid"


@dataclass(frozen=True)
class BrokerStatus:
    """What is known about the local broker after ``start``, ``stop`` or ``status``."""

    running: bool
    pid: int | None
    bootstrap: str
    data_dir: Path
    log_path: Path
    detail: str = ""

    def describe(self) -> str:
        """One line for people, e.g. ``Kafka running (pid 42) on 127.0.0.1:9092; ...``."""
        head = (
            f"Kafka running (pid {self.pid}) on {self.bootstrap}"
            if self.running
            else f"Kafka not running ({self.bootstrap})"
        )
        tail = f"; {self.detail}" if self.detail else ""
        return f"{head}; data {self.data_dir}; log {self.log_path}{tail}"


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise BrokerError(f"{name} must be a whole number, not {raw!r}") from None


def render_properties(cfg: BrokerConfig) -> str:
    """The ``server.properties`` text of one combined broker+controller node.

    Example: ``"process.roles=broker,controller" in render_properties(BrokerConfig())``.
    """
    # A static voter set (controller.quorum.voters) rather than a `--standalone` dynamic quorum:
    # the single voter's endpoint is then read from this file on every start, so changing the
    # controller port of an existing data dir keeps working.
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{cfg.host}:{cfg.controller_port}",
        "listeners": f"PLAINTEXT://{cfg.host}:{cfg.port},CONTROLLER://{cfg.host}:{cfg.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{cfg.host}:{cfg.port}",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(cfg.log_dirs),
        "num.partitions": str(cfg.num_partitions),
        "auto.create.topics.enable": "true",
        # One node: every internal topic must accept a replication factor of 1.
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # No 3 s wait for more members before the first rebalance: tests and workers start faster.
        "group.initial.rebalance.delay.ms": "0",
    }
    lines = ["# Rendered by streams/broker.py at every start; change BrokerConfig, not this file."]
    lines += [f"{key}={_escape_property(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def _escape_property(value: str) -> str:
    # java.util.Properties treats a backslash as an escape (Windows-style paths).
    return value.replace("\\", "\\\\")


def new_cluster_id() -> str:
    """A Kafka cluster id, as ``StorageTool random-uuid`` prints it, without starting a JVM."""
    while True:
        # Kafka's Uuid.randomUuid: URL-safe base64 of 16 random bytes, no padding, never
        # starting with '-' (it would read as a command-line option).
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # Two commands (or test sessions) resolving or starting at once must not interleave.
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _require(tool: str, why: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise BrokerError(f"`{tool}` is not on PATH; it is needed to {why}. {_INSTALL_HINT}")
    return found


_INSTALL_HINT = (
    "Install Java 17+ and Maven (e.g. `apt-get install openjdk-17-jre-headless maven`), "
    "or point KAFKA_BOOTSTRAP at an existing cluster."
)


def ensure_jars(libs_dir: Path | None = None, version: str = KAFKA_VERSION) -> Path:
    """Resolve the broker jars with Maven once; later calls return at once.

    Example: ``ensure_jars()`` -> ``<project>/.cache/kafka/libs`` holding ``kafka_2.13-*.jar``.
    """
    libs = _default_libs_dir() if libs_dir is None else libs_dir
    marker = libs / ".resolved"
    if _resolved(marker, version):
        return libs
    with _file_lock(libs.parent / ".resolve.lock"):
        if _resolved(marker, version):  # another process finished while we waited
            return libs
        mvn = _require("mvn", "download the Kafka jars")
        _require("java", "run Maven and the broker")
        staging = libs.parent / f".libs-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        command = [
            mvn, "-q", "-B", "-f", str(POM_PATH), "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}", f"-Dkafka.version={version}",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            shutil.rmtree(staging, ignore_errors=True)
            output = (done.stdout + done.stderr).strip().splitlines()[-15:]
            raise BrokerError(
                f"Maven could not resolve Apache Kafka {version} (exit {done.returncode}); "
                "check network access to Maven Central or your ~/.m2/settings.xml mirror.\n"
                + "\n".join(output)
            )
        # Swap in whole so an interrupted download never looks resolved.
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        marker.write_text(version + "\n")
    return libs


def _resolved(marker: Path, version: str) -> bool:
    try:
        return marker.read_text().strip() == version
    except OSError:
        return False


def _read_pid(cfg: BrokerConfig) -> int | None:
    try:
        return int(cfg.pid_path.read_text().strip())
    except (OSError, ValueError):
        return None


def _is_our_broker(pid: int) -> bool:
    """True when ``pid`` is alive and is a ``kafka.Kafka`` JVM (not a reused pid)."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        args = cmdline.read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return _is_our_broker_ps(pid)
    # A zombie (state Z, after the ')' closing the command name) has exited already.
    if stat.rpartition(")")[2].split()[:1] == ["Z"]:
        return False
    return b"kafka.Kafka" in args


def _is_our_broker_ps(pid: int) -> bool:
    # Without /proc (macOS), ask ps.
    done = subprocess.run(
        ["ps", "-p", str(pid), "-o", "stat=,command="], capture_output=True, text=True, check=False
    )
    line = done.stdout.strip()
    return done.returncode == 0 and not line.startswith("Z") and "kafka.Kafka" in line


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Same option the JVM sets on its server sockets, so a closed broker's TIME_WAIT
        # connections do not count as "in use".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def status(cfg: BrokerConfig) -> BrokerStatus:
    """Is the broker of ``cfg.data_dir`` running? Example: ``status(BrokerConfig()).describe()``."""
    pid = _read_pid(cfg)
    running = pid is not None and _is_our_broker(pid)
    detail = "" if running or pid is None else f"stale pid file {cfg.pid_path} (pid {pid})"
    return BrokerStatus(
        running=running,
        pid=pid if running else None,
        bootstrap=cfg.bootstrap,
        data_dir=cfg.data_dir,
        log_path=cfg.log_path,
        detail=detail,
    )


def _java_command(cfg: BrokerConfig, java: str, libs: Path, main: str, *args: str) -> list[str]:
    return [
        java,
        f"-Xmx{cfg.heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        # slf4j-simple: timestamps, and INFO so the readiness line is written.
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
        "-Dorg.slf4j.simpleLogger.showDateTime=true",
        "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ",
        "-Dorg.slf4j.simpleLogger.showShortLogName=true",
        "-cp",
        str(libs / "*"),
        main,
        *args,
    ]


def _format_storage(cfg: BrokerConfig, java: str, libs: Path) -> None:
    # Formatting writes meta.properties; its presence means the node was formatted before,
    # and formatting again would refuse (or, forced, throw the data away).
    if (cfg.log_dirs / "meta.properties").exists():
        return
    cluster_id = new_cluster_id()
    command = _java_command(
        cfg, java, libs, "kafka.tools.StorageTool",
        "format", "-t", cluster_id, "-c", str(cfg.properties_path),
    )  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        hint = " (Kafka 4 needs Java 17+)" if "UnsupportedClassVersionError" in output else ""
        raise BrokerError(
            f"formatting KRaft storage in {cfg.log_dirs} failed (exit {done.returncode}){hint}:\n"
            + output
        )


def _launch(cfg: BrokerConfig, command: list[str]) -> int:
    """Start ``command`` detached (own session, output to the log) and return its pid."""
    if cfg.log_path.exists():
        cfg.log_path.replace(cfg.log_path.with_suffix(".log.1"))
    # A throw-away shell backgrounds the JVM and exits, so the broker is re-parented to init:
    # no zombie in our process after it stops, and no Popen left to warn "still running".
    script = 'log="$1"; shift; "$@" >"$log" 2>&1 </dev/null & echo $!'
    done = subprocess.run(
        ["/bin/sh", "-c", script, "sh", str(cfg.log_path), *command],
        capture_output=True,
        text=True,
        check=False,
        cwd=cfg.data_dir,
        start_new_session=True,
        timeout=30,
    )
    try:
        return int(done.stdout.strip())
    except ValueError:
        raise BrokerError(f"could not launch the broker: {done.stderr.strip()}") from None


def _log_tail(cfg: BrokerConfig, lines: int = 25) -> str:
    try:
        text = cfg.log_path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _metadata_answers(bootstrap: str, timeout: float = 5.0) -> bool:
    # Imported here so that config and rendering work without the client installed.
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    host, _, port = bootstrap.rpartition(":")
    try:
        # kafka-python leaks its sockets when bootstrap fails in the constructor; only ask once
        # the listener accepts connections.
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError:
        return False
    ms = int(timeout * 1000)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="incident-monitor-broker-probe",
            request_timeout_ms=ms,
            bootstrap_timeout_ms=ms,
        )
    except (KafkaError, OSError):
        return False
    try:
        admin.describe_cluster()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def start(cfg: BrokerConfig, timeout: float = 60.0) -> BrokerStatus:
    """Start the broker (resolving jars and formatting storage the first time) and wait until ready.

    Returns at once when it is already running. Example::

        print(start(BrokerConfig.from_env()).describe())
    """
    current = status(cfg)
    if current.running:
        return _with_detail(current, "already running")
    for port in (cfg.port, cfg.controller_port):
        if _port_in_use(cfg.host, port):
            raise BrokerError(
                f"{cfg.host}:{port} is already in use by another process (not the broker of "
                f"{cfg.data_dir}). Stop that process, pick other ports with INCIDENT_KAFKA_PORT / "
                "INCIDENT_KAFKA_CONTROLLER_PORT, or, if it is a Kafka broker you want to use, "
                f"set KAFKA_BOOTSTRAP={cfg.host}:{cfg.port}."
            )
    java = _require("java", "run the broker")
    libs = ensure_jars(cfg.libs_dir, cfg.kafka_version)
    began = time.monotonic()
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(cfg.data_dir / ".start.lock"):
        cfg.pid_path.unlink(missing_ok=True)
        cfg.properties_path.write_text(render_properties(cfg))
        _format_storage(cfg, java, libs)
        command = _java_command(cfg, java, libs, "kafka.Kafka", str(cfg.properties_path))
        pid = _launch(cfg, command)
        cfg.pid_path.write_text(f"{pid}\n")
    _wait_ready(cfg, pid, began + timeout)
    return _with_detail(status(cfg), f"started in {time.monotonic() - began:.1f}s")


def _wait_ready(cfg: BrokerConfig, pid: int, deadline: float) -> None:
    while True:
        if not _is_our_broker(pid):
            cfg.pid_path.unlink(missing_ok=True)
            raise BrokerError(
                f"the broker exited during start-up; its log {cfg.log_path} ends with:\n"
                + _log_tail(cfg)
            )
        if _log_says_ready(cfg) and _metadata_answers(cfg.bootstrap):
            return
        if time.monotonic() > deadline:
            # Leave no half-started broker behind for the next attempt to trip over.
            _terminate(cfg, pid, 10.0)
            raise BrokerError(
                f"the broker was not ready on {cfg.bootstrap} in time; its log {cfg.log_path} "
                "ends with:\n" + _log_tail(cfg)
            )
        time.sleep(0.2)


def _log_says_ready(cfg: BrokerConfig) -> bool:
    try:
        return READY_LINE in cfg.log_path.read_text(errors="replace")
    except OSError:
        return False


def stop(cfg: BrokerConfig, timeout: float = 30.0) -> BrokerStatus:
    """Stop the broker: SIGTERM for a clean shutdown, SIGKILL after ``timeout`` seconds.

    Example: ``stop(BrokerConfig.from_env()).describe()``.
    """
    current = status(cfg)
    if not current.running or current.pid is None:
        cfg.pid_path.unlink(missing_ok=True)
        return _with_detail(status(cfg), "was not running")
    began = time.monotonic()
    how = _terminate(cfg, current.pid, timeout)
    return _with_detail(status(cfg), f"{how} in {time.monotonic() - began:.1f}s")


def _terminate(cfg: BrokerConfig, pid: int, timeout: float) -> str:
    how = "stopped"
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if not _wait_gone(pid, timeout):
        how = "killed (no clean shutdown)"
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        if not _wait_gone(pid, 10.0):
            raise BrokerError(f"broker pid {pid} survived SIGKILL; check it with `ps -p {pid}`")
    cfg.pid_path.unlink(missing_ok=True)
    return how


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_our_broker(pid):
            return True
        time.sleep(0.1)
    return not _is_our_broker(pid)


def _with_detail(st: BrokerStatus, detail: str) -> BrokerStatus:
    return BrokerStatus(st.running, st.pid, st.bootstrap, st.data_dir, st.log_path, detail)


def client_security_kwargs(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """kafka-python kwargs from ``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SASL_*``, ``KAFKA_SSL_CAFILE``.

    Empty when none is set (plain text, as the local broker). aiokafka takes the same names,
    except that it wants an ``ssl_context`` built from the CA file. Example::

        KafkaProducer(bootstrap_servers=bootstrap, **client_security_kwargs())
    """
    env = os.environ if environ is None else environ

    def get(name: str) -> str:
        return env.get(name, "").strip()

    protocol = get("KAFKA_SECURITY_PROTOCOL").upper()
    mechanism = get("KAFKA_SASL_MECHANISM").upper()
    username, password = get("KAFKA_SASL_USERNAME"), get("KAFKA_SASL_PASSWORD")
    cafile = get("KAFKA_SSL_CAFILE")
    if not protocol:
        if mechanism or username or password or cafile:
            raise BrokerError(
                "KAFKA_SASL_* or KAFKA_SSL_CAFILE is set but KAFKA_SECURITY_PROTOCOL is not; "
                f"set it to one of {', '.join(_SECURITY_PROTOCOLS)}"
            )
        return {}
    if protocol not in _SECURITY_PROTOCOLS:
        raise BrokerError(
            f"KAFKA_SECURITY_PROTOCOL={protocol!r} is not one of {', '.join(_SECURITY_PROTOCOLS)}"
        )
    kwargs = {"security_protocol": protocol}
    if protocol.startswith("SASL_"):
        mechanism = mechanism or "PLAIN"
        if mechanism not in _SASL_MECHANISMS:
            raise BrokerError(
                f"KAFKA_SASL_MECHANISM={mechanism!r} is not one of {', '.join(_SASL_MECHANISMS)}"
            )
        kwargs["sasl_mechanism"] = mechanism
        if mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
            if not (username and password):
                raise BrokerError(
                    f"SASL {mechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
                )
            kwargs["sasl_plain_username"] = username
            kwargs["sasl_plain_password"] = password
    elif mechanism or username or password:
        raise BrokerError(
            f"KAFKA_SASL_* is set but KAFKA_SECURITY_PROTOCOL={protocol} does not use SASL; "
            "use SASL_SSL or SASL_PLAINTEXT"
        )
    if cafile:
        if protocol not in ("SSL", "SASL_SSL"):
            raise BrokerError(f"KAFKA_SSL_CAFILE is set but KAFKA_SECURITY_PROTOCOL={protocol}")
        if not Path(cafile).expanduser().is_file():
            raise BrokerError(f"KAFKA_SSL_CAFILE={cafile} is not a readable file")
        kwargs["ssl_cafile"] = str(Path(cafile).expanduser())
    return kwargs
