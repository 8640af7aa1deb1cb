"""Our metrics as Prometheus scrapes them."""

from __future__ import annotations

from prometheus_client import generate_latest

from streams.metrics import Metrics
from tests.factories import cluster_record


def test_a_scrape_has_one_series_per_label_set_and_no_created_twins() -> None:
    metrics = Metrics.create()
    metrics.count_incident(cluster_record("c1", when="2026-11-22T10:00:00"))
    metrics.article_to_alert_seconds.observe(0.2)
    lines = generate_latest(metrics.registry).decode().splitlines()
    series = [line for line in lines if line.startswith("incident_monitor_incidents")]
    assert len(series) == 1 and series[0].startswith("incident_monitor_incidents_total{")
    assert not [line for line in lines if "_created" in line]
