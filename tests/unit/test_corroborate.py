"""Corroboration: matching reports of one incident and merging them into one cluster."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from streams.corroborate import (
    CorroborationConfig,
    as_cluster,
    candidate_keys,
    find_cluster,
    load_corroboration,
    match_key,
    merge,
    mismatch,
)
from streams.records import Actor, Count, Counts, Evidence, Incident, Location, Weapon
from streams.windows import ConfigError

REGIONS = {"IQ.07": ("Baghdad", 33.34, 44.40), "IQ.11": ("Erbil", 36.19, 44.01)}


@pytest.fixture(scope="module")
def config() -> CorroborationConfig:
    return load_corroboration()


def make_report(
    incident_id: str,
    *,
    article_id: str = "a1",
    source: str | None = "Elaph",
    published: str = "2021-02-24T00:00:00",
    region: str | None = "IQ.07",
    place: str | None = None,
    precision: str = "city",
    lat: float | None = None,
    lon: float | None = None,
    day: str | None = "2021-02-22",
    date_precision: str = "day",
    weapon: str | None = "rocket",
    quantity: tuple[int, str] | None = None,
    killed: tuple[int, str] | None = None,
    actor: str | None = None,
    attribution: str = "reported",
    target: str | None = None,
    confidence: float = 0.6,
    historical: bool = False,
) -> Incident:
    """A hand-made extracted report (the extractor is written elsewhere)."""
    name, default_lat, default_lon = REGIONS.get(region or "", (None, None, None))
    location = None
    if region is not None:
        location = Location(
            name=place or name or region,
            canonical=place or name or region,
            precision=precision,
            country_code="IQ",
            admin1=name,
            region_id=region,
            lat=lat if lat is not None else default_lat,
            lon=lon if lon is not None else default_lon,
        )

    def count(value: tuple[int, str] | None) -> Count | None:
        return None if value is None else Count(value=value[0], qualifier=value[1])

    return Incident(
        incident_id=incident_id,
        article_id=article_id,
        language="ar",
        published_at=datetime.fromisoformat(published).replace(tzinfo=UTC),
        event_date=day,
        date_precision=date_precision if day else "unknown",
        historical=historical,
        location=location,
        weapon=None if weapon is None else Weapon(category=weapon, gtd_type="Explosives"),
        counts=Counts(quantity=count(quantity), killed=count(killed)),
        actor=None if actor is None else Actor(name=actor, attribution=attribution),
        evidence=Evidence(sentence=f"sentence of {incident_id}", start=0, end=10),
        confidence=confidence,
        field_confidence={"weapon": confidence},
        source=source,
        target=target,
    )


def erbil_reports() -> tuple[Incident, Incident]:
    """The Erbil rocket attack as each seed article reports it (no date in either text)."""
    elaph = make_report(
        "000_2c9a285eebb8b24b:12",
        article_id="000_2c9a285eebb8b24b",
        source="Elaph",
        region="IQ.11",
        day=None,
        actor="Iran",
        attribution="accused",
        confidence=0.55,
    )
    other = make_report(
        "003_22300b7c73ae127c:10",
        article_id="003_22300b7c73ae127c",
        source=None,
        region="IQ.11",
        day=None,
        weapon="artillery",  # "قصف ... بحوالي 14 صاروخاً": shelled with about 14 rockets
        quantity=(14, "approx"),
        target="coalition forces",
        confidence=0.7,
    )
    return elaph, other


def test_the_two_seed_reports_of_erbil_make_one_cluster_with_two_sources(
    config: CorroborationConfig,
) -> None:
    elaph, other = erbil_reports()
    cluster = as_cluster(elaph, config)
    assert find_cluster([cluster], other, config) == cluster
    merged = merge(cluster, other, config)
    assert [s.article_id for s in merged.sources or []] == [
        "000_2c9a285eebb8b24b",
        "003_22300b7c73ae127c",
    ]
    assert merged.revision == 2
    assert merged.weapon is not None and merged.weapon.category == "rocket"
    assert merged.counts.quantity == Count(value=14, qualifier="approx")
    assert merged.actor is not None and merged.actor.name == "Iran"
    assert merged.target == "coalition forces"
    # Elaph and an unknown outlet are two outlets: 1 - (1 - 0.7) * 0.5.
    assert merged.confidence == pytest.approx(0.85)


def test_cluster_id_is_the_earliest_report_and_stays_when_later_reports_arrive(
    config: CorroborationConfig,
) -> None:
    first = make_report("r1", published="2021-02-22T20:00:00")
    later = make_report("r2", article_id="a2", published="2021-02-23T08:00:00")
    merged = merge(as_cluster(first, config), later, config)
    assert merged.cluster_id == "r1" == merged.incident_id
    assert merge(as_cluster(later, config), first, config).cluster_id == "r1"


def test_a_first_report_is_a_cluster_of_one(config: CorroborationConfig) -> None:
    cluster = as_cluster(make_report("r1", confidence=0.8), config)
    assert cluster.cluster_id == "r1"
    assert cluster.revision == 1
    assert [s.incident_id for s in cluster.sources or []] == ["r1"]
    assert cluster.confidence == pytest.approx(0.8)


def test_merging_the_same_report_twice_changes_nothing(config: CorroborationConfig) -> None:
    cluster = merge(make_report("r1"), make_report("r2", article_id="a2", source="Reuters"), config)
    assert merge(cluster, make_report("r2", article_id="a2", source="Reuters"), config) == cluster
    assert merge(cluster, cluster, config) == cluster


def test_counts_take_the_lowest_credible_figure(config: CorroborationConfig) -> None:
    low = make_report("r1", killed=(3, "exact"))
    high = make_report("r2", article_id="a2", killed=(7, "exact"))
    vague = make_report("r3", article_id="a3", killed=(2, "vague"))
    merged = merge(merge(low, high, config), vague, config)
    # "dozens"-style words give way to any figure, however high; among figures the lowest.
    assert merged.counts.killed == Count(value=3, qualifier="exact")
    only_vague = merge(vague, make_report("r4"), config)
    assert only_vague.counts.killed == Count(value=2, qualifier="vague")


def test_the_same_outlet_twice_adds_no_confidence(config: CorroborationConfig) -> None:
    one = make_report("r1", source="Elaph", confidence=0.6)
    again = make_report("r2", article_id="a2", source="elaph ", confidence=0.6)
    other = make_report("r3", article_id="a3", source="Rudaw", confidence=0.6)
    assert merge(one, again, config).confidence == pytest.approx(0.6)
    assert merge(merge(one, again, config), other, config).confidence == pytest.approx(0.8)


def test_a_new_report_bumps_the_revision_even_when_figures_stay(
    config: CorroborationConfig,
) -> None:
    cluster = merge(make_report("r1"), make_report("r2", article_id="a2"), config)
    assert cluster.revision == 2
    assert merge(cluster, make_report("r3", article_id="a3"), config).revision == 3


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"region": "IQ.11"}, "region"),
        ({"day": "2021-02-25"}, "date"),
        ({"day": "2021-02-23"}, "date"),  # a day apart and nothing specific in common
        ({"weapon": "firearm"}, "weapon"),
        ({"actor": "ISIS", "attribution": "claimed"}, "actor"),
        ({"quantity": (40, "exact")}, "quantity"),
        ({"place": "Tarmiyah", "precision": "district", "lat": 33.67, "lon": 44.39}, "place"),
    ],
)
def test_incompatible_reports_stay_apart(
    config: CorroborationConfig, changes: dict[str, Any], reason: str
) -> None:
    cluster = as_cluster(
        make_report(
            "r1",
            actor="Kataib Hezbollah",
            attribution="claimed",
            quantity=(3, "exact"),
            place="Green Zone",
            precision="landmark",
        ),
        config,
    )
    report = make_report("r2", article_id="a2", **changes)
    found = mismatch(cluster, report, config)
    assert found is not None and found.startswith(reason)
    assert find_cluster([cluster], report, config) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"weapon": None},
        {"weapon": "unknown"},
        {"weapon": "mortar"},
        {"weapon": "explosive"},
        {"day": "2021-02-23", "actor": "Kataib Hezbollah", "attribution": "claimed"},
        {"day": "2021-02-21", "target": "diplomatic mission"},
        {"day": "2021-02-23", "quantity": (3, "approx")},
        {"day": "2021-02-23", "place": "Green Zone", "precision": "landmark"},
        {"actor": "Iran", "attribution": "accused"},
        {"quantity": (8, "exact")},
        {"quantity": (40, "vague")},
        {"killed": (30, "exact")},
        {"day": "2021-02-12", "date_precision": "month", "target": "diplomatic mission"},
    ],
)
def test_compatible_reports_match(config: CorroborationConfig, changes: dict[str, Any]) -> None:
    cluster = as_cluster(
        make_report(
            "r1",
            actor="Kataib Hezbollah",
            attribution="claimed",
            quantity=(3, "exact"),
            target="diplomatic mission",
            place="Green Zone",
            precision="landmark",
        ),
        config,
    )
    assert mismatch(cluster, make_report("r2", article_id="a2", **changes), config) is None


def test_a_historical_report_matches_the_old_cluster(config: CorroborationConfig) -> None:
    # "About a month ago a double suicide attack in Tayaran Square" vs the day's own report.
    square: dict[str, Any] = {"place": "Tayaran Square", "precision": "landmark"}
    old = as_cluster(make_report("t1", day="2021-01-21", weapon="suicide_bomb", **square), config)
    recent = make_report("r1", day="2021-02-22", weapon="rocket", **square)
    memory = make_report(
        "t2",
        day="2021-01-24",
        date_precision="month",
        weapon="explosive",
        historical=True,
        **square,
    )
    assert find_cluster([as_cluster(recent, config), old], memory, config) == old
    merged = merge(old, memory, config)
    # The precise date of the day's own report wins over "about a month ago".
    assert (merged.event_date, merged.date_precision) == ("2021-01-21", "day")
    assert merged.weapon is not None and merged.weapon.category == "suicide_bomb"
    assert not merged.historical


def test_best_candidate_is_closest_in_time_then_same_weapon(config: CorroborationConfig) -> None:
    monday = as_cluster(make_report("m", day="2021-02-22", weapon="mortar"), config)
    tuesday = as_cluster(make_report("t", day="2021-02-23", weapon="rocket"), config)
    report = make_report("r", article_id="a9", day="2021-02-22", weapon="rocket")
    assert find_cluster([tuesday, monday], report, config) == monday
    same_day = as_cluster(make_report("s", day="2021-02-22", weapon="rocket"), config)
    assert find_cluster([monday, same_day], report, config) == same_day


def test_keys_index_by_region_and_day(config: CorroborationConfig) -> None:
    report = make_report("r1", day="2021-02-22")
    assert match_key(report) == ("IQ.07", date(2021, 2, 22))
    keys = candidate_keys(report, config)
    assert "IQ.07|2021-02-22" in keys and "IQ.07|2021-02-07" in keys
    assert len(keys) == 2 * config.max_tolerance + 1
    assert match_key(make_report("r2", region=None)) is None
    assert candidate_keys(make_report("r2", region=None), config) == []


def test_config_errors_name_file_line_and_key(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "config" / "corroboration.yaml").read_text()
    bad = tmp_path / "corroboration.yaml"
    bad.write_text(text.replace("air: [airstrike, drone]", "air: [airstrike, dron]"))
    with pytest.raises(ConfigError, match=r"corroboration\.yaml:\d+: weapon_families\.air\[1\]"):
        load_corroboration(bad)
    bad.write_text(text.replace("max_outlets: 5", "max_outlets: 50"))
    with pytest.raises(ConfigError, match=r"max_outlets: 50 is outside"):
        load_corroboration(bad)
