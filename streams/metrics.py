"""Our Prometheus metrics, on an injectable registry so tests and several apps never share state."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

from streams.records import Alert, Incident

# Extraction runs in milliseconds; end-to-end latency spans the broker round trips too.
EXTRACT_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# A commit holds the agents for a few broker round trips; seconds would be a stall.
PAUSE_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 20.0)

PREFIX = "incident_monitor"

# Each counter and histogram would also export a ``_created`` series per label set (when it
# was first used): half of a scrape's lines, read by no rule or panel, and every scrape is
# built on the worker's event loop (22 -> 11 ms with 1,260 incident series). Process-wide.
disable_created_metrics()


@dataclass(frozen=True)
class Metrics:
    """Every metric the stages report; build with :meth:`create` on a registry."""

    registry: CollectorRegistry
    articles_consumed: Counter
    articles_rejected: Counter
    articles_duplicate: Counter
    incidents: Counter
    clusters_published: Counter
    late_incidents: Counter
    alerts: Counter
    extraction_seconds: Histogram
    article_to_incident_seconds: Histogram
    article_to_alert_seconds: Histogram
    table_keys: Gauge
    duplicates_suppressed: Counter
    extraction_errors: Counter
    extraction_restarts: Counter
    commit_pause_seconds: Histogram
    commit_phase_seconds: Histogram
    gc_full_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> Metrics:
        """Register all metrics on ``registry`` (a fresh one when omitted).

        >>> m = Metrics.create()
        >>> m.articles_consumed.inc()
        >>> m.registry.get_sample_value("incident_monitor_articles_consumed_total")
        1.0
        """
        reg = registry if registry is not None else CollectorRegistry()
        p = PREFIX
        return cls(
            registry=reg,
            articles_consumed=Counter(
                f"{p}_articles_consumed", "Articles read from the input topic", registry=reg
            ),
            articles_rejected=Counter(
                f"{p}_articles_rejected",
                "Input messages sent to the dead-letter topic, by reason",
                ["reason"],
                registry=reg,
            ),
            articles_duplicate=Counter(
                f"{p}_articles_duplicate",
                "Articles skipped because their id was seen",
                registry=reg,
            ),
            incidents=Counter(
                f"{p}_incidents",
                "Incidents extracted, by weapon category, region and language",
                ["weapon", "region", "language"],
                registry=reg,
            ),
            clusters_published=Counter(
                f"{p}_clusters_published",
                "Incident cluster records published (new clusters and revisions)",
                registry=reg,
            ),
            late_incidents=Counter(
                f"{p}_late_incidents",
                "Incidents whose event-time window had already expired",
                ["window"],
                registry=reg,
            ),
            alerts=Counter(
                f"{p}_alerts",
                "Alerts published, by rule and severity",
                ["rule", "severity"],
                registry=reg,
            ),
            extraction_seconds=Histogram(
                f"{p}_extraction_seconds",
                "Time to extract incidents from one article",
                buckets=EXTRACT_BUCKETS,
                registry=reg,
            ),
            article_to_incident_seconds=Histogram(
                f"{p}_article_to_incident_seconds",
                "Article produced to incident published",
                buckets=LATENCY_BUCKETS,
                registry=reg,
            ),
            article_to_alert_seconds=Histogram(
                f"{p}_article_to_alert_seconds",
                "Article produced to alert published (end-to-end latency)",
                buckets=LATENCY_BUCKETS,
                registry=reg,
            ),
            table_keys=Gauge(
                f"{p}_table_keys", "Keys held in each state table", ["table"], registry=reg
            ),
            extraction_errors=Counter(
                f"{p}_extraction_errors",
                "Articles the extractor failed on (sent to the dead-letter topic)",
                registry=reg,
            ),
            extraction_restarts=Counter(
                f"{p}_extraction_restarts",
                "Extraction processes that died and were replaced",
                registry=reg,
            ),
            commit_pause_seconds=Histogram(
                f"{p}_commit_pause_seconds",
                "Time the agents stood still for one commit: events in progress finished, "
                "every producer flushed, the transaction committed",
                buckets=PAUSE_BUCKETS,
                registry=reg,
            ),
            commit_phase_seconds=Histogram(
                f"{p}_commit_phase_seconds",
                "Time one commit spent in each phase while the agents stood still: "
                "changelogs (the tables' writes serialised and sent), flush (every "
                "producer's records acknowledged), transaction (offsets and commit)",
                ["phase"],
                buckets=PAUSE_BUCKETS,
                registry=reg,
            ),
            gc_full_seconds=Histogram(
                f"{p}_gc_full_seconds",
                "Time one full garbage collection of the worker's heap held the event loop "
                "(the others see only what was made since the last few seconds)",
                buckets=PAUSE_BUCKETS,
                registry=reg,
            ),
            duplicates_suppressed=Counter(
                f"{p}_duplicates_suppressed",
                "Output records not re-published after a restart (already on the topic)",
                ["topic"],
                registry=reg,
            ),
        )

    def count_incident(self, incident: Incident) -> None:
        """Count one extracted incident by its weapon, region and language."""
        weapon = incident.weapon.category if incident.weapon else "unknown"
        region = (incident.location.region_id if incident.location else None) or "unknown"
        self.incidents.labels(weapon=weapon, region=region, language=incident.language).inc()

    def count_alert(self, alert: Alert) -> None:
        """Count one published alert by its rule and severity."""
        self.alerts.labels(rule=alert.rule, severity=alert.severity).inc()
