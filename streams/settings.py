"""Typed, frozen settings from the environment, with defaults that run the local demo."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

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

    def alerts_for(self, severity: str) -> str:
        """Severity topic, e.g. ``alerts.high``."""
        return f"{self.alerts}.{severity}"


@dataclass(frozen=True)
class Settings:
    """Everything a worker or command needs to know about its surroundings."""

    bootstrap: str = "127.0.0.1:9092"
    topics: Topics = field(default_factory=Topics)
    max_article_bytes: int = 1_000_000

    @classmethod
    def from_env(cls) -> Settings:
        """Read ``KAFKA_BOOTSTRAP`` and friends; unset means the local broker."""
        port = os.environ.get("INCIDENT_KAFKA_PORT", "9092")
        return cls(
            bootstrap=os.environ.get("KAFKA_BOOTSTRAP", f"127.0.0.1:{port}"),
            max_article_bytes=int(os.environ.get("INCIDENT_MAX_ARTICLE_BYTES", "1000000")),
        )
