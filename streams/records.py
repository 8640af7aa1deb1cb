"""Typed records that cross Kafka: Article in, Incident, Alert and DeadLetter out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import faust


class _Record(
    faust.Record,
    abstract=True,
    serializer="json",
    isodates=True,
    include_metadata=False,
):
    """Base: plain JSON (no Faust metadata keys) so non-Python subscribers read it as is."""


class Article(_Record):
    """A news article as pushed onto ``articles``; unknown input fields are kept in ``extra``."""

    id: str
    body: str
    published_at: datetime | None = None
    title: str | None = None
    url: str | None = None
    source: str | None = None
    language: str | None = None
    extra: dict[str, Any] | None = None
    # Kafka record timestamp of the article (producer time); drives end-to-end latency.
    produced_at: datetime | None = None


class Location(_Record):
    """Where: a place as written, resolved to GeoNames and its admin1 region."""

    name: str
    canonical: str
    precision: str  # landmark | city | district | admin1 | country
    country_code: str | None = None
    admin1: str | None = None
    # Stable region key "CC.ADMIN1CODE" (GeoNames admin1 code), e.g. "IQ.07" for Baghdad.
    region_id: str | None = None
    geonameid: int | None = None
    lat: float | None = None
    lon: float | None = None


class Weapon(_Record):
    """With what: project category plus GTD weaptype/weapsubtype."""

    category: str
    gtd_type: str
    gtd_subtype: str | None = None
    text: str | None = None


class Count(_Record):
    """One count with how sure the text is of it."""

    value: int
    qualifier: str = "exact"  # exact | approx | at_least | vague


class Counts(_Record):
    """How many: projectiles/devices/attackers, killed, wounded."""

    quantity: Count | None = None
    killed: Count | None = None
    wounded: Count | None = None


class Actor(_Record):
    """By whom, and how the text attributes it."""

    name: str
    text: str | None = None
    attribution: str = "reported"  # claimed | accused | suspected | reported
    by: str | None = None


class Evidence(_Record):
    """The sentence an incident was read from and its character offsets in the body."""

    sentence: str
    start: int
    end: int


class Source(_Record):
    """One report of a clustered incident."""

    article_id: str
    incident_id: str
    source: str | None = None
    published_at: datetime | None = None


class Incident(_Record):
    """One incident; on the ``incidents`` topic every record is a cluster of reports."""

    incident_id: str
    article_id: str
    language: str
    published_at: datetime
    event_date: str | None  # ISO date (YYYY-MM-DD) of the event itself
    date_precision: str  # day | week | month | unknown
    historical: bool
    location: Location | None
    weapon: Weapon | None
    counts: Counts
    actor: Actor | None
    evidence: Evidence
    confidence: float
    field_confidence: dict[str, float]
    source: str | None = None
    target: str | None = None
    # True when the article had no published_at and the ingest time stood in for it.
    published_at_assumed: bool = False
    # Event time used for windows: event_date at its best precision, else published_at.
    event_time: datetime | None = None
    produced_at: datetime | None = None
    cluster_id: str | None = None
    revision: int = 1
    sources: list[Source] | None = None


class RegionWork(_Record):
    """Internal: a report to corroborate, or a clock tick, on the region-keyed topic.

    Ticks travel with the reports so that each partition closes its own regions' windows,
    in order with its reports, inside a stream event (Faust writes tables only there).
    """

    report: Incident | None = None
    tick: datetime | None = None


class WindowRange(_Record):
    """An event-time window: its kind (e.g. tumbling_1h), start and end (end exclusive)."""

    kind: str
    start: datetime
    end: datetime


class AlertIncident(_Record):
    """An incident that contributed to an alert, with one evidence sentence."""

    incident_id: str
    evidence: str


class Alert(_Record):
    """An alert: deterministic id (rule, region, window), the figures that fired it, revision."""

    alert_id: str
    rule: str
    severity: str  # high | medium | low
    region: str
    window: WindowRange
    figures: dict[str, float]
    incidents: list[AlertIncident]
    revision: int = 1
    region_name: str | None = None
    reason: str | None = None
    created_at: datetime | None = None
    # Earliest producer time among the articles behind this alert (end-to-end latency).
    produced_at: datetime | None = None


class DeadLetter(_Record):
    """A rejected input message: the raw value (text where decodable), the reason, the time."""

    reason: str
    detail: str
    raw: str
    raw_encoding: str  # utf-8 | base64
    received_at: datetime
    key: str | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
