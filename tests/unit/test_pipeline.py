"""The flow after extraction: corroborate, windows, alerts, late incidents, replay."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import faust
import pytest

from streams.alerts import SpikeRule, ThresholdRule
from streams.ingest import RejectedInput, dead_letter
from streams.pipeline import FlowConfig, Pipeline, Stores
from streams.records import (
    Actor,
    Alert,
    Article,
    Count,
    Counts,
    Evidence,
    Incident,
    Location,
    Source,
    Weapon,
)
from streams.settings import Topics
from streams.sink import identity
from streams.windows import LateIncident, load_state
from tests.factories import at

REGIONS = {"IQ.07": ("Baghdad", 33.34, 44.40), "IQ.11": ("Erbil", 36.19, 44.01)}
SEED_A = "000_2c9a285eebb8b24b"
SEED_B = "003_22300b7c73ae127c"


@pytest.fixture(scope="module")
def config() -> FlowConfig:
    return FlowConfig.load()


def make_report(
    incident_id: str,
    *,
    published: str,
    source: str | None = "Wire",
    region: str = "IQ.07",
    day: str | None = None,
    time: str | None = None,
    date_precision: str = "day",
    weapon: str | None = None,
    actor: tuple[str, str] | None = None,
    killed: int | None = None,
    quantity: tuple[int, str] | None = None,
    target: str | None = None,
    historical: bool = False,
) -> Incident:
    """A report shaped as the extractor hands it over: a singleton cluster."""
    name, lat, lon = REGIONS[region]
    article_id = incident_id.split(":")[0]
    published_at = at(published)
    event_time = at(f"{day}T{time or '00:00:00'}") if day else published_at
    return Incident(
        incident_id=incident_id,
        article_id=article_id,
        language="ar",
        published_at=published_at,
        event_date=day,
        date_precision=date_precision if day else "unknown",
        historical=historical,
        location=Location(
            name=name,
            canonical=name,
            precision="city",
            country_code="IQ",
            admin1=name,
            region_id=region,
            lat=lat,
            lon=lon,
        ),
        weapon=None if weapon is None else Weapon(category=weapon, gtd_type="Explosives"),
        counts=Counts(
            killed=None if killed is None else Count(value=killed),
            quantity=None if quantity is None else Count(value=quantity[0], qualifier=quantity[1]),
        ),
        actor=None if actor is None else Actor(name=actor[0], attribution=actor[1]),
        evidence=Evidence(sentence=f"sentence of {incident_id}", start=0, end=10),
        confidence=0.6,
        field_confidence={},
        source=source,
        target=target,
        event_time=event_time,
        cluster_id=incident_id,
        sources=[
            Source(
                article_id=article_id,
                incident_id=incident_id,
                source=source,
                published_at=published_at,
            )
        ],
    )


def article(article_id: str, published: str, source: str | None = "Wire") -> Article:
    return Article(id=article_id, body="(text)", published_at=at(published), source=source)


def run(
    pipeline: Pipeline, articles: list[Article], incidents: dict[str, list[Incident]]
) -> list[tuple[str, str | None, faust.Record]]:
    return list(pipeline.replay(articles, lambda a: incidents.get(a.id, [])))


def summary(messages: list[tuple[str, str | None, faust.Record]]) -> list[tuple[Any, ...]]:
    """Alerts as (rule, region, kind, start, revision, incident ids); others by id."""
    rows: list[tuple[Any, ...]] = []
    for topic, key, value in messages:
        if isinstance(value, Alert):
            if topic == "alerts":
                rows.append(
                    (
                        value.rule,
                        key,
                        value.window.kind,
                        value.window.start.strftime("%m-%dT%H"),
                        value.revision,
                        [i.incident_id for i in value.incidents],
                    )
                )
        elif isinstance(value, LateIncident):
            rows.append((topic, key, value.incident.cluster_id, len(value.windows)))
        elif isinstance(value, Incident):
            rows.append((topic, key, value.cluster_id, value.revision))
    return rows


# -- the seeds ----------------------------------------------------------------------------------


def seed_stream() -> tuple[list[Article], dict[str, list[Incident]]]:
    """The two seed articles, with the incidents a reader finds in them (hand-made)."""
    pub = "2021-02-24T00:00:00"
    a = SEED_A
    b = SEED_B

    def seed(incident_id: str, **fields: Any) -> Incident:
        source = "Elaph" if incident_id.startswith(a) else None
        return make_report(incident_id, published=pub, source=source, **fields)

    incidents = {
        a: [
            # "... the latest attack on Erbil was made and backed by Iran" (the US accuses Iran).
            seed(f"{a}:12", region="IQ.11", weapon="rocket", actor=("Iran", "accused"),
                 target="coalition forces"),
        ],
        b: [
            # ISIS attacks on army posts in Tarmiyah on Tuesday.
            seed(f"{b}:5", day="2021-02-23", weapon="firearm", actor=("ISIS", "reported"),
                 target="military"),
            # A raid "days ago" in Tarmiyah killed five ISIS members.
            seed(f"{b}:6", day="2021-02-21", date_precision="week", weapon="firearm",
                 actor=("Iraqi Army", "reported"), killed=5),
            # "About a month ago" the double suicide bombing in Tayaran Square.
            seed(f"{b}:8", day="2021-01-24", date_precision="month", weapon="suicide_bomb",
                 actor=("ISIS", "claimed"), historical=True),
            # US positions in Erbil "shelled with about 14 rockets".
            seed(f"{b}:14", region="IQ.11", weapon="artillery", quantity=(14, "approx"),
                 target="US forces"),
            # Rockets "towards the US embassy in Baghdad" (Monday), then Katyusha rockets on
            # the embassy's surroundings in the Green Zone on Monday evening.
            seed(f"{b}:11", day="2021-02-22", weapon="rocket", target="diplomatic mission"),
            seed(f"{b}:15", day="2021-02-22", weapon="rocket", target="diplomatic mission"),
        ],
    }  # fmt: skip
    return [article(a, pub, "Elaph"), article(b, pub, None)], incidents


def test_the_seeds_replay_to_one_cluster_per_incident_and_their_alerts(
    config: FlowConfig,
) -> None:
    a, b = SEED_A, SEED_B
    messages = run(Pipeline(config), *seed_stream())
    assert summary(messages) == [
        ("incidents", "IQ.11", f"{a}:12", 1),
        ("new_actor", "IQ.11", "tumbling_1d", "02-24T00", 1, [f"{a}:12"]),
        ("new_weapon", "IQ.11", "tumbling_1d", "02-24T00", 1, [f"{a}:12"]),
        ("incidents", "IQ.07", f"{b}:5", 1),
        ("new_actor", "IQ.07", "tumbling_1d", "02-23T00", 1, [f"{b}:5"]),
        ("new_weapon", "IQ.07", "tumbling_1d", "02-23T00", 1, [f"{b}:5"]),
        ("incidents", "IQ.07", f"{b}:6", 1),
        ("casualties", "IQ.07", "tumbling_1d", "02-21T00", 1, [f"{b}:6"]),
        ("new_actor", "IQ.07", "tumbling_1d", "02-21T00", 1, [f"{b}:6"]),
        ("new_weapon", "IQ.07", "tumbling_1d", "02-21T00", 1, [f"{b}:6"]),
        # A month old: its windows expired (daily retention 21 days) -> reported late.
        ("incidents", "IQ.07", f"{b}:8", 1),
        (Topics().late, "IQ.07", f"{b}:8", 26),
        # The second article's Erbil report joins the first article's cluster: revision 2,
        # and no alert repeats (same incidents, same figures).
        ("incidents", "IQ.11", f"{a}:12", 2),
        ("incidents", "IQ.07", f"{b}:11", 1),
        ("diplomatic_mission_attacked", "IQ.07", "tumbling_1d", "02-22T00", 1, [f"{b}:11"]),
        ("new_weapon", "IQ.07", "tumbling_1d", "02-22T00", 1, [f"{b}:11"]),
        ("incidents", "IQ.07", f"{b}:11", 2),
    ]
    erbil = next(v for _, _, v in messages if isinstance(v, Incident) and v.revision == 2)
    assert [s.article_id for s in erbil.sources or []] == [a, b]
    assert erbil.counts.quantity == Count(value=14, qualifier="approx")
    # Elaph and an unknown outlet: two outlets, 1 - (1 - 0.6) * 0.5.
    assert erbil.confidence == pytest.approx(0.8)


def test_the_embassy_alert_is_high_and_on_its_severity_topic(config: FlowConfig) -> None:
    messages = run(Pipeline(config), *seed_stream())
    embassy = [
        (topic, value)
        for topic, _, value in messages
        if isinstance(value, Alert) and value.rule == "diplomatic_mission_attacked"
    ]
    assert [topic for topic, _ in embassy] == ["alerts", "alerts.high"]
    alert = embassy[0][1]
    assert alert.severity == "high"
    assert alert.region_name == "Baghdad"
    assert alert.figures == {"count": 1}
    assert alert.incidents[0].evidence == f"sentence of {SEED_B}:11"
    assert alert.created_at == at("2021-02-24T00:00:00")
    assert all(f"alerts.{v.severity}" in {t for t, _, w in messages if w is v} for _, v in embassy)


# -- a scripted stream with the alerts worked out by hand ---------------------------------------


def scripted_stream() -> tuple[list[Article], dict[str, list[Incident]]]:
    """Eight quiet days in Baghdad, a burst on the 9th, then late reports from Erbil."""
    articles = []
    incidents: dict[str, list[Incident]] = {}
    for day in range(1, 9):
        published = f"2021-02-0{day}T12:00:00"
        articles.append(article(f"d{day}", published))
        incidents[f"d{day}"] = [
            make_report(f"d{day}:1", published=published, day=f"2021-02-0{day}", weapon="firearm")
        ]
    burst = "2021-02-09T20:00:00"
    articles.append(article("b", burst))
    incidents["b"] = [
        make_report("b:1", published=burst, day="2021-02-09", time="08:00:00", weapon="ied"),
        make_report(
            "b:2",
            published=burst,
            day="2021-02-09",
            time="10:00:00",
            weapon="rocket",
            target="diplomatic mission",
        ),
        make_report(
            "b:3", published=burst, day="2021-02-09", time="14:00:00", weapon="firearm", killed=3
        ),
        make_report(
            "b:4", published=burst, day="2021-02-09", time="15:00:00", weapon="grenade", killed=4
        ),
    ]
    later = "2021-02-11T12:00:00"
    articles.append(article("e", later, "Rudaw"))
    incidents["e"] = [
        make_report(
            "e:1",
            published=later,
            source="Rudaw",
            region="IQ.11",
            day="2021-02-03",
            weapon="drone",
            actor=("Kataib Hezbollah", "claimed"),
        ),
        make_report(
            "e:2",
            published=later,
            source="Rudaw",
            region="IQ.11",
            day="2021-01-10",
            weapon="rocket",
            historical=True,
        ),
    ]
    return articles, incidents


def test_replay_of_a_scripted_stream_gives_the_alerts_worked_out_by_hand(
    config: FlowConfig,
) -> None:
    rows = [
        row for row in summary(run(Pipeline(config), *scripted_stream())) if row[0] != "incidents"
    ]
    burst = ["b:1", "b:2", "b:3", "b:4"]
    assert rows == [
        # Day 1: firearms are new in Baghdad; days 2-8 repeat them: nothing new, one a day,
        # each exactly 24 h after the last, so no 24 h window holds two.
        ("new_weapon", "IQ.07", "tumbling_1d", "02-01T00", 1, ["d1:1"]),
        # The burst of the 9th, incident by incident.
        ("new_weapon", "IQ.07", "tumbling_1d", "02-09T00", 1, ["b:1"]),
        # b:1 and b:2 fall in the 24 h windows starting 8th 11:00 .. 9th 08:00: alert once,
        # under the first of them.
        ("incidents_24h", "IQ.07", "hopping_24h", "02-08T11", 1, ["b:1", "b:2"]),
        ("diplomatic_mission_attacked", "IQ.07", "tumbling_1d", "02-09T00", 1, ["b:2"]),
        ("new_weapon", "IQ.07", "tumbling_1d", "02-09T00", 2, ["b:1", "b:2"]),
        # b:3 grows the burst to three: a window that holds all three (from 8th 15:00);
        # {b:2, b:3} in the windows of 9th 09:00-10:00 is covered by it and stays quiet.
        # Firearms are not new; 3 killed is below 5.
        ("incidents_24h", "IQ.07", "hopping_24h", "02-08T15", 1, ["b:1", "b:2", "b:3"]),
        # b:4: four in 24 h; 3 + 4 = 7 killed that day; grenades are new.
        ("incidents_24h", "IQ.07", "hopping_24h", "02-08T16", 1, burst),
        ("casualties", "IQ.07", "tumbling_1d", "02-09T00", 1, ["b:3", "b:4"]),
        ("new_weapon", "IQ.07", "tumbling_1d", "02-09T00", 3, ["b:1", "b:2", "b:4"]),
        # The clock moves to the 11th 12:00: 06:00 by the wall-clock rule is past the 9th's
        # end + grace, so the 9th closes and the spike rule judges it: 4 against the mean of
        # the 2nd..8th (one a day) = ratio 4 >= 3.
        ("incidents_spike", "IQ.07", "tumbling_1d", "02-09T00", 1, burst),
        # Erbil, 3rd of February, reported on the 11th: the event clock is at the 9th 15:00,
        # the hourly and rolling windows (3 days' retention) have expired -> late there
        # (1 + 24 windows), but the daily window (21 days) still counts it.
        ("incidents.late", "IQ.11", "e:1", 25),
        ("new_actor", "IQ.11", "tumbling_1d", "02-03T00", 1, ["e:1"]),
        ("new_weapon", "IQ.11", "tumbling_1d", "02-03T00", 1, ["e:1"]),
        # Erbil, 10th of January: every window has expired; late, counted nowhere.
        ("incidents.late", "IQ.11", "e:2", 26),
    ]


def test_the_spike_states_its_baseline_and_ratio(config: FlowConfig) -> None:
    messages = run(Pipeline(config), *scripted_stream())
    (spike,) = [v for t, _, v in messages if t == "alerts" and v.rule == "incidents_spike"]
    assert isinstance(spike, Alert)
    assert spike.figures == {
        "count": 4,
        "baseline": 1.0,
        "ratio": 4.0,
        "threshold_ratio": 3.0,
        "min_count": 3,
        "baseline_windows": 7,
    }
    assert spike.severity == "medium"
    # Closed by the clock of the article published on the 11th at 12:00.
    assert spike.created_at == at("2021-02-11T12:00:00")


def test_replay_is_deterministic_and_one_shared_store_gives_the_same(config: FlowConfig) -> None:
    def dumped(pipeline: Pipeline) -> list[tuple[str, str | None, bytes]]:
        return [(t, k, v.dumps()) for t, k, v in run(pipeline, *scripted_stream())]

    first = dumped(Pipeline(config))
    assert dumped(Pipeline(config)) == first
    table: dict[str, Any] = {}
    assert dumped(Pipeline(config, store=table)) == first
    assert any(key.startswith("windows:IQ.07|tumbling_1d|") for key in table)


def test_replay_skips_an_article_pushed_twice(config: FlowConfig) -> None:
    articles, incidents = seed_stream()
    once = run(Pipeline(config), articles, incidents)
    twice = run(Pipeline(config), [articles[0], articles[0], articles[1], articles[1]], incidents)
    assert summary(twice) == summary(once)


# -- pieces of the flow -------------------------------------------------------------------------


def fixed(moment: str) -> Callable[[], datetime]:
    return lambda: at(moment)


def test_a_report_delivered_twice_changes_nothing(config: FlowConfig) -> None:
    pipeline = Pipeline(config, clock=fixed("2021-02-24T00:00:00"))
    report = make_report("a:1", published="2021-02-24T00:00:00", day="2021-02-22", weapon="rocket")
    (cluster,) = pipeline.on_incident(report)
    assert pipeline.on_incident(report) == []
    alerts, late = pipeline.on_cluster(cluster)
    assert alerts and not late
    assert pipeline.on_cluster(cluster) == ([], [])


def daily(pipeline: Pipeline, key: str) -> Any:
    data = pipeline.stores.windows.get(key)
    return None if data is None else load_state(data)


def test_a_late_report_within_retention_is_counted(config: FlowConfig) -> None:
    pipeline = Pipeline(config, clock=fixed("2021-02-24T12:00:00"))
    now = make_report("a:1", published="2021-02-24T12:00:00", day="2021-02-24", weapon="ied")
    for cluster in pipeline.on_incident(now):
        pipeline.on_cluster(cluster)
    # Ten days old: the daily window (21 days' retention) still holds it; hourly and rolling
    # windows (3 days) are gone, so it is late there - and said so.
    old = make_report("b:1", published="2021-02-24T12:00:00", day="2021-02-14", weapon="rocket")
    (cluster,) = pipeline.on_incident(old)
    alerts, late = pipeline.on_cluster(cluster)
    state = daily(pipeline, "IQ.07|tumbling_1d|2021-02-14T00:00:00Z")
    assert state is not None and state.count == 1
    (report,) = late
    assert report.incident.cluster_id == "b:1"
    assert {w.kind for w in report.windows} == {"tumbling_1h", "hopping_24h"}
    assert report.watermark == at("2021-02-24T00:00:00")
    assert [a.rule for a in alerts] == ["new_weapon"]


def test_a_report_older_than_retention_is_reported_late_and_not_counted(
    config: FlowConfig,
) -> None:
    pipeline = Pipeline(config, clock=fixed("2021-02-24T12:00:00"))
    now = make_report("a:1", published="2021-02-24T12:00:00", day="2021-02-24", weapon="ied")
    for cluster in pipeline.on_incident(now):
        pipeline.on_cluster(cluster)
    old = make_report("b:1", published="2021-02-24T12:00:00", day="2021-01-20", weapon="rocket")
    (cluster,) = pipeline.on_incident(old)
    alerts, late = pipeline.on_cluster(cluster)
    assert alerts == []
    assert len(late) == 1 and len(late[0].windows) == 26
    assert "window expired" in late[0].reason
    assert not any("2021-01-20" in key for key in pipeline.stores.windows)


def test_a_future_date_does_not_drag_the_event_clock_ahead(config: FlowConfig) -> None:
    pipeline = Pipeline(config, clock=fixed("2021-02-24T12:00:00"))
    misread = make_report("a:1", published="2021-02-24T12:00:00", day="2021-06-01", weapon="ied")
    for cluster in pipeline.on_incident(misread):
        pipeline.on_cluster(cluster)
    assert pipeline.watermark().max_event_time == at("2021-02-24T12:00:00")


def test_an_earlier_report_renames_the_cluster_and_windows_follow(config: FlowConfig) -> None:
    pipeline = Pipeline(config, clock=fixed("2021-02-25T00:00:00"))
    later = make_report(
        "b:1",
        published="2021-02-24T08:00:00",
        day="2021-02-22",
        weapon="rocket",
        target="diplomatic mission",
    )
    earlier = make_report(
        "a:1",
        published="2021-02-23T08:00:00",
        source="Elaph",
        day="2021-02-22",
        weapon="rocket",
        target="diplomatic mission",
    )
    for report in (later, earlier):
        for cluster in pipeline.on_incident(report):
            pipeline.on_cluster(cluster)
    assert set(pipeline.stores.clusters) == {"a:1"}
    assert dict(pipeline.stores.reports) == {"a:1": "a:1", "b:1": "a:1"}
    state = daily(pipeline, "IQ.07|tumbling_1d|2021-02-22T00:00:00Z")
    # Counted once, under the new name: the old name left every window.
    assert list(state.contributions) == ["a:1"]
    assert not any("b:1" in load_state(v).contributions for v in pipeline.stores.windows.values())


def test_a_story_many_outlets_carry_is_published_and_stored_whole_at_every_report(
    config: FlowConfig,
) -> None:
    # Each revision's bytes and stored data are built from parts kept between reports: they
    # must stay what the record itself serialises to, also after the store is re-read (a
    # restarted worker's sources are new objects) and when an earlier report renames it.
    table: dict[str, Any] = {}
    pipeline = Pipeline(config, store=table, clock=fixed("2021-02-24T12:00:00"))
    outlets = ["Wire", "Elaph", "Rudaw", None]
    reports = [
        make_report(
            f"r{n:02d}:1",
            published=f"2021-02-23T{10 + n // 6:02d}:{(n * 7) % 60:02d}:00",
            source=outlets[n % 4],
            day="2021-02-22",
            weapon="rocket",
            killed=3,
        )
        for n in range(1, 24)
    ]
    earliest = make_report(
        "r00:1", published="2021-02-23T08:00:00", day="2021-02-22", weapon="rocket", killed=3
    )
    for n, report in enumerate([*reports[:12], earliest, *reports[12:]]):
        if n == 8:  # a restart: the same state, read into new objects
            pipeline = Pipeline(config, store=table, clock=fixed("2021-02-24T12:00:00"))
        (cluster,) = pipeline.on_incident(report)
        assert pipeline.payload(cluster) == cluster.dumps()
        cluster_id = cluster.cluster_id or cluster.incident_id
        assert pipeline.stores.clusters[cluster_id] == json.loads(cluster.dumps())
        pipeline.on_cluster(cluster)
    assert cluster.cluster_id == "r00:1" and cluster.revision == 24
    by_publication = sorted([earliest, *reports], key=lambda r: (r.published_at, r.incident_id))
    assert [s.incident_id for s in cluster.sources or []] == [r.incident_id for r in by_publication]
    assert set(pipeline.stores.clusters) == {"r00:1"}
    assert set(pipeline.stores.reports.values()) == {"r00:1"}
    # Four outlets, one of them unknown, and every report is in the cluster once.
    assert len(pipeline.stores.reports) == 24
    assert cluster.confidence > earliest.confidence


def test_a_more_precise_date_moves_the_cluster_between_windows(config: FlowConfig) -> None:
    pipeline = Pipeline(config, clock=fixed("2021-02-24T12:00:00"))
    undated = make_report(
        "a:1", published="2021-02-24T00:00:00", weapon="rocket", target="diplomatic mission"
    )
    dated = make_report(
        "b:1",
        published="2021-02-24T06:00:00",
        source="Elaph",
        day="2021-02-22",
        weapon="rocket",
        target="diplomatic mission",
    )
    for report in (undated, dated):
        for cluster in pipeline.on_incident(report):
            pipeline.on_cluster(cluster)
    assert daily(pipeline, "IQ.07|tumbling_1d|2021-02-24T00:00:00Z").count == 0
    assert daily(pipeline, "IQ.07|tumbling_1d|2021-02-22T00:00:00Z").count == 1


def test_on_tick_closes_by_event_clock_or_idle_wall_clock(config: FlowConfig) -> None:
    pipeline = Pipeline(config, clock=fixed("2021-02-22T12:00:00"))
    report = make_report("a:1", published="2021-02-22T12:00:00", day="2021-02-22", weapon="ied")
    for cluster in pipeline.on_incident(report):
        pipeline.on_cluster(cluster)
    key = "IQ.07|tumbling_1d|2021-02-22T00:00:00Z"
    # The 22nd ends at 00:00; + 2 h grace; + 6 h idle timeout on the wall clock = 08:00.
    pipeline.on_tick(at("2021-02-23T07:59:00"))
    assert not daily(pipeline, key).closed
    pipeline.on_tick(at("2021-02-23T08:00:00"))
    assert daily(pipeline, key).closed


def test_stores_must_be_given_one_way(config: FlowConfig) -> None:
    with pytest.raises(ValueError, match="not both"):
        Pipeline(config, Stores(), store={})


def test_a_keyspace_lists_only_its_own_pairs_and_can_be_emptied_while_listed() -> None:
    backing: dict[str, Any] = {"windows:a": 1, "clusters:a": 3, "windows:b": 2}
    stores = Stores.shared(backing)
    assert sorted(stores.windows.items()) == [("a", 1), ("b", 2)]
    for key, _ in stores.windows.items():  # as expiry does
        del stores.windows[key]
    assert backing == {"clusters:a": 3}
    assert dict(stores.clusters.items()) == {"a": 3} and not dict(stores.windows.items())


def test_a_tick_can_be_limited_to_the_regions_a_worker_owns(config: FlowConfig) -> None:
    pipeline = Pipeline(config, clock=fixed("2021-02-22T12:00:00"))
    for region in ("IQ.07", "IQ.11"):
        report = make_report(
            f"{region}:1",
            published="2021-02-22T12:00:00",
            region=region,
            day="2021-02-22",
            weapon="ied",
        )
        for cluster in pipeline.on_incident(report):
            pipeline.on_cluster(cluster)
    pipeline.on_tick(at("2021-02-23T08:00:00"), owns=lambda region: region == "IQ.11")
    assert not daily(pipeline, "IQ.07|tumbling_1d|2021-02-22T00:00:00Z").closed
    assert daily(pipeline, "IQ.11|tumbling_1d|2021-02-22T00:00:00Z").closed


# -- hopping windows, kept as panes -----------------------------------------------------------


class CountingStore(dict[str, Any]):
    """A plain store that counts writes per window kind or store (each is a changelog record)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: dict[str, int] = {}

    def __setitem__(self, key: str, value: Any) -> None:
        # "windows:IQ.07|tumbling_1d|..." counts under its window kind, the rest by store.
        kind = key.split("|")[1] if key.startswith("windows:") else key.split(":")[0]
        self.writes[kind] = self.writes.get(kind, 0) + 1
        super().__setitem__(key, value)


def window_writes(store: CountingStore, config: FlowConfig) -> dict[str, int]:
    """Writes per stored window kind (a hopping kind's panes count under "kind/pane")."""
    return {k: n for k, n in store.writes.items() if k in config.windows.kinds or "/" in k}


def test_a_cluster_costs_one_window_write_per_watched_kind_not_one_per_hopping_window(
    config: FlowConfig,
) -> None:
    store = CountingStore()
    pipeline = Pipeline(config, store=store, clock=fixed("2021-02-22T12:00:00"))
    report = make_report("a:1", published="2021-02-22T12:00:00", day="2021-02-22", weapon="ied")
    for cluster in pipeline.on_incident(report):
        pipeline.on_cluster(cluster)
    # tumbling_1d and one hourly pane of hopping_24h: 2 writes, where the 24 hopping windows
    # holding the incident each took one before. No rule watches tumbling_1h: not stored.
    watched = {rule.window for rule in config.rules}
    assert "tumbling_1h" in config.windows.kinds and "tumbling_1h" not in watched
    assert sum(window_writes(store, config).values()) == len(watched)
    assert "tumbling_1h" not in store.writes
    # The hopping windows are still all there to read: the one-day window of 24 h holds it.
    # Another attack (a shooting, not the bombing told again) later that day.
    second = make_report("b:1", published="2021-02-22T23:00:00", day="2021-02-22", time="22:00:00",
                         weapon="firearm")  # fmt: skip
    alerts = []
    for cluster in pipeline.on_incident(second):
        alerts += pipeline.on_cluster(cluster)[0]
    fired = [a for a in alerts if a.rule == "incidents_24h"]
    assert fired and all(a.window.kind == "hopping_24h" for a in fired)
    for alert in fired:
        assert {i.incident_id for i in alert.incidents} == {"a:1", "b:1"}
        assert alert.window.start <= at("2021-02-22T00:00:00")
        assert alert.window.end > at("2021-02-22T22:00:00")


def test_a_rule_on_an_hourly_window_makes_the_hour_kept_and_judged(config: FlowConfig) -> None:
    hourly = ThresholdRule(
        name="two_in_an_hour", type="threshold", severity="low", window="tumbling_1h",
        regions=None, min_count=2,
    )  # fmt: skip
    watched = FlowConfig(config.windows, (*config.rules, hourly), config.corroboration)
    store = CountingStore()
    pipeline = Pipeline(watched, store=store, clock=fixed("2021-02-22T12:00:00"))
    alerts = []
    for incident_id, weapon in (("a:1", "ied"), ("b:1", "firearm")):
        report = make_report(incident_id, published="2021-02-22T12:00:00", day="2021-02-22",
                             time="10:20:00", weapon=weapon)  # fmt: skip
        for cluster in pipeline.on_incident(report):
            alerts += pipeline.on_cluster(cluster)[0]
    assert store.writes["tumbling_1h"] == 2
    (fired,) = [a for a in alerts if a.rule == "two_in_an_hour"]
    assert fired.window.start == at("2021-02-22T10:00:00")
    assert {i.incident_id for i in fired.incidents} == {"a:1", "b:1"}


def spike_on_hopping(config: FlowConfig) -> FlowConfig:
    rule = SpikeRule(
        name="spike_24h",
        type="spike",
        severity="medium",
        window="hopping_24h",
        regions=None,
        baseline_windows=1,
        ratio=2.0,
        min_count=3,
        baseline_floor=0.5,
    )
    return FlowConfig(windows=config.windows, rules=(rule,), corroboration=config.corroboration)


def test_a_closing_rule_on_hopping_windows_judges_each_window_once_when_it_closes(
    config: FlowConfig,
) -> None:
    pipeline = Pipeline(spike_on_hopping(config), clock=fixed("2021-03-01T00:00:00"))

    # Weapons that never corroborate each other: separate attacks, not one told five times.
    weapons = iter(["melee", "ied", "rocket", "firearm", "airstrike"])

    def feed(incident_id: str, moment: str) -> list[Alert]:
        day, time = moment.split("T")
        report = make_report(
            incident_id, published=moment, day=day, time=time, weapon=next(weapons)
        )
        found: list[Alert] = []
        for cluster in pipeline.on_incident(report):
            found += pipeline.on_cluster(cluster)[0]
        return found

    # A quiet first day, then three attacks within three hours on the second.
    assert feed("a:1", "2021-03-01T00:30:00") == []
    burst = ["b:1", "c:1", "d:1"]
    for incident_id, hour in zip(burst, ("10", "11", "12"), strict=True):
        assert feed(incident_id, f"2021-03-02T{hour}:00:00") == []
    # Nothing is closed yet: a window still open is no spike, whatever it holds.
    assert pipeline.on_tick(at("2021-03-02T13:00:00")) == []
    # The event clock moves on: windows ending by 18:00 on the 3rd (+ 2 h grace) close.
    assert feed("e:1", "2021-03-03T20:00:00") == []
    closed = pipeline.on_tick(at("2021-03-03T20:00:00"))
    assert closed and {a.rule for a in closed} == {"spike_24h"}
    assert all(a.window.kind == "hopping_24h" for a in closed)
    for alert in closed:
        # Each spike is a window that holds the whole burst, judged against the day before.
        assert {i.incident_id for i in alert.incidents} >= set(burst)
        assert alert.window.end <= at("2021-03-03T18:00:00")
    # Closed once: later ticks judge no window again.
    assert pipeline.on_tick(at("2021-03-03T21:00:00")) == []
    assert pipeline.on_tick(at("2021-03-04T06:00:00")) == []


def test_an_output_record_is_identified_by_its_fields_as_by_its_bytes(config: FlowConfig) -> None:
    # The worker de-duplicates what it publishes by the identity of the record in hand; after
    # a restart it reads the identities back from the topics' bytes: the two must agree.
    pipeline = Pipeline(config, clock=fixed("2021-02-28T00:00:00"))
    outputs = [value for _, _, value in run(pipeline, *scripted_stream())]
    old = make_report("z:1", published="2021-02-27T00:00:00", day="2021-02-20", weapon="rocket")
    for cluster in pipeline.on_incident(old):
        outputs.append(cluster)
        outputs.extend(pipeline.on_cluster(cluster)[1])
    rejected = RejectedInput("not_json", "expected JSON")
    outputs.append(dead_letter(b"{", rejected, topic="articles", partition=0, offset=7))
    kinds = {type(value).__name__ for value in outputs}
    assert {"Incident", "Alert", "LateIncident", "DeadLetter"} <= kinds
    for value in outputs:
        by_fields = identity(value.to_representation())
        assert by_fields is not None
        assert by_fields == identity(json.loads(value.dumps()))
