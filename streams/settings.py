"""Typed, frozen settings from the environment, with defaults that run the local demo."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import faust

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def config_dir() -> Path:
    """Folder of data files (lexicons, gazetteer supplement, alert rules, windows)."""
    return Path(os.environ.get("INCIDENT_CONFIG_DIR", PROJECT_ROOT / "config"))


def cache_dir() -> Path:
    """Folder for derived, rebuildable files (Kafka jars, compiled gazetteer index); not in git."""
    return Path(os.environ.get("INCIDENT_CACHE_DIR", PROJECT_ROOT / ".cache"))


def var_dir() -> Path:
    """Folder for runtime state (local broker data, worker tables, logs); not in git."""
    return Path(os.environ.get("INCIDENT_VAR_DIR", PROJECT_ROOT / ".var"))


@dataclass(frozen=True)
class Topics:
    """Topic names; the defaults are the documented contract."""

    articles: str = "articles"
    dlq: str = "articles.dlq"
    incidents: str = "incidents"
    alerts: str = "alerts"
    # Internal: extracted reports (and the wall-clock ticks) keyed by region; late incidents.
    reports: str = "incidents.reports"
    late: str = "incidents.late"

    def alerts_for(self, severity: str) -> str:
        """Severity topic, e.g. ``alerts.high``."""
        return f"{self.alerts}.{severity}"

    @classmethod
    def with_prefix(cls, prefix: str) -> Topics:
        """Every name with ``prefix`` in front (one cluster, several independent deployments)."""
        base = cls()
        return cls(**{name: prefix + getattr(base, name) for name in base.__dataclass_fields__})


@dataclass(frozen=True)
class Settings:
    """Everything a worker or command needs to know about its surroundings."""

    bootstrap: str = "127.0.0.1:9092"
    topics: Topics = field(default_factory=Topics)
    max_article_bytes: int = 1_000_000
    app_id: str = "incident-monitor"
    partitions: int = 1
    replication_factor: int = 1
    web_port: int = 6066
    tick_seconds: float = 5.0
    processing_guarantee: str = "exactly_once"
    # How long the group waits for a silent worker before handing its partitions on.
    session_timeout_s: float = 30.0
    # A report reaches corroboration only when the transaction that sent it commits, so the
    # commit interval is a floor under article -> alert latency (Faust's default is 2.8 s).
    # Each commit holds the agents for it (about 20 ms): at 0.15 s they stand still 12-13 % of
    # the time against 9-11 % at 0.25 s, and at 200 articles/s the subscriber's article ->
    # alert p50/p99 went from 0.40/1.12 s to 0.21/0.51 s over 300 s.
    commit_interval_s: float = 0.15
    # How long an article id is remembered, so that a repeat of it is not processed twice.
    dedup_hours: float = 168.0
    # Articles handed to the extraction process ahead of their turn: it works on the next
    # ones while the worker publishes this one's reports. Each waits there for the articles
    # before it and comes back through threads that wait for the event loop's interpreter
    # lock: at 16 a worker fed 200 articles/s could not read faster than that, and a backlog
    # made by any pause never drained (subscriber article -> alert p99 3.5 s; at 64, 0.58 s).
    extract_ahead: int = 64
    # The heap is collected whole this often; in between only what is new (streams.heap).
    gc_full_seconds: float = 600.0
    # The longest a fetch of the worker's consumer waits at the broker for records (Faust's
    # 1.5 s held the articles behind a fetch of reports waiting for a commit: see faustfix).
    fetch_wait_s: float = 0.05

    @classmethod
    def from_env(cls) -> Settings:
        """Read ``KAFKA_BOOTSTRAP`` and friends; unset means the local broker."""
        env = os.environ
        default = cls()  # each default is written once, on its field above
        port = env.get("INCIDENT_KAFKA_PORT", "9092")
        return cls(
            bootstrap=env.get("KAFKA_BOOTSTRAP", f"127.0.0.1:{port}"),
            topics=Topics.with_prefix(env.get("INCIDENT_TOPIC_PREFIX", "")),
            max_article_bytes=int(env.get("INCIDENT_MAX_ARTICLE_BYTES", default.max_article_bytes)),
            app_id=env.get("INCIDENT_APP_ID", default.app_id),
            partitions=int(env.get("INCIDENT_PARTITIONS", default.partitions)),
            replication_factor=int(
                env.get("INCIDENT_REPLICATION_FACTOR", default.replication_factor)
            ),
            web_port=int(env.get("INCIDENT_WEB_PORT", default.web_port)),
            tick_seconds=float(env.get("INCIDENT_TICK_SECONDS", default.tick_seconds)),
            processing_guarantee=env.get(
                "INCIDENT_PROCESSING_GUARANTEE", default.processing_guarantee
            ),
            session_timeout_s=float(env.get("INCIDENT_SESSION_TIMEOUT", default.session_timeout_s)),
            commit_interval_s=float(env.get("INCIDENT_COMMIT_INTERVAL", default.commit_interval_s)),
            dedup_hours=float(env.get("INCIDENT_DEDUP_HOURS", default.dedup_hours)),
            extract_ahead=max(1, int(env.get("INCIDENT_EXTRACT_AHEAD", default.extract_ahead))),
            gc_full_seconds=float(env.get("INCIDENT_GC_FULL_SECONDS", default.gc_full_seconds)),
            fetch_wait_s=float(env.get("INCIDENT_FETCH_WAIT", default.fetch_wait_s)),
        )


def faust_broker_credentials() -> faust.types.auth.CredentialsT | None:
    """SASL/SSL for Faust from the same variables the Kafka clients read (see deploy/kafka)."""
    env = os.environ
    protocol = env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
    if protocol == "PLAINTEXT":
        return None
    context = None
    if protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=env.get("KAFKA_SSL_CAFILE"))
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=env.get("KAFKA_SASL_USERNAME"),
            password=env.get("KAFKA_SASL_PASSWORD"),
            mechanism=env.get("KAFKA_SASL_MECHANISM", "PLAIN"),
            ssl_context=context,
        )
    return faust.SSLCredentials(context)
