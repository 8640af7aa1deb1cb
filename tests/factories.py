"""Hand-made records shared by the unit tests: times and cluster records in Baghdad."""

from __future__ import annotations

from datetime import UTC, datetime

from streams.records import (
    Actor,
    Count,
    Counts,
    Evidence,
    Incident,
    Location,
    Weapon,
)


def at(text: str) -> datetime:
    """A UTC moment from ISO text without a zone ("2021-02-22T18:00:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def cluster_record(
    cluster_id: str,
    *,
    when: str,
    revision: int = 1,
    weapon: str | None = "rocket",
    killed: int | None = None,
    wounded: int | None = None,
    actor: str | None = None,
    target: str | None = None,
    region: str | None = "IQ.07",
) -> Incident:
    """A cluster record as it appears on ``incidents``: in Baghdad unless ``region`` is None
    (no location), dated by ``when``; its evidence names the cluster and revision."""
    return Incident(
        incident_id=cluster_id,
        article_id="a1",
        language="ar",
        published_at=at("2021-02-24T00:00:00"),
        event_date=when[:10],
        date_precision="day",
        historical=False,
        location=None
        if region is None
        else Location(
            name="بغداد", canonical="Baghdad", precision="city", admin1="Baghdad", region_id=region
        ),
        weapon=None if weapon is None else Weapon(category=weapon, gtd_type="Explosives"),
        counts=Counts(
            killed=None if killed is None else Count(value=killed),
            wounded=None if wounded is None else Count(value=wounded),
        ),
        actor=None if actor is None else Actor(name=actor),
        evidence=Evidence(sentence=f"evidence of {cluster_id} r{revision}", start=0, end=5),
        confidence=0.7,
        field_confidence={},
        target=target,
        event_time=at(when),
        cluster_id=cluster_id,
        revision=revision,
    )
