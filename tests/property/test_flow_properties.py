"""Properties of the stages after extraction: merges and window folds ignore order and repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.corroborate import (
    CorroborationConfig,
    as_cluster,
    cluster_from_data,
    find_cluster,
    load_corroboration,
    merge,
)
from streams.pipeline import FlowConfig, KeyIndex, Pipeline, Stores
from streams.records import Actor, Count, Counts, Evidence, Incident, Location, Source, Weapon
from streams.windows import assign, empty_state, fold, load_state, load_windows, to_json

CONFIG: CorroborationConfig = load_corroboration()
FLOW = FlowConfig.load()
DAY_SPEC = load_windows().spec("tumbling_1d")
BASE = datetime(2021, 2, 20, tzinfo=UTC)

regions = st.sampled_from(["IQ.07", "IQ.11", None])
places = st.sampled_from(
    [
        ("Baghdad", "city", 33.34, 44.40),
        ("Green Zone", "landmark", 33.30, 44.39),
        ("Tarmiyah", "district", 33.67, 44.39),
        ("Iraq", "country", None, None),
    ]
)
weapons = st.sampled_from(
    [None, "unknown", "rocket", "artillery", "mortar", "explosive", "ied", "firearm"]
)
counts = st.one_of(
    st.none(),
    st.builds(
        Count,
        value=st.integers(0, 40),
        qualifier=st.sampled_from(["exact", "approx", "at_least", "vague"]),
    ),
)
actors = st.one_of(
    st.none(),
    st.builds(
        Actor,
        name=st.sampled_from(["ISIS", "Iran", "Kataib Hezbollah"]),
        attribution=st.sampled_from(["claimed", "accused", "suspected", "reported"]),
    ),
)


@st.composite
def report_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Everything of a report but its id (ids are given by position: one content per id)."""
    region = draw(regions)
    name, precision, lat, lon = draw(places)
    day = draw(st.one_of(st.none(), st.integers(0, 4)))
    return {
        "published_at": BASE + timedelta(days=4, hours=draw(st.integers(0, 30))),
        "source": draw(st.sampled_from(["Elaph", "elaph", "Reuters", "Rudaw", None])),
        "language": draw(st.sampled_from(["ar", "en"])),
        "location": Location(
            name=name,
            canonical=name,
            precision=precision,
            country_code="IQ",
            admin1=None if region is None else region,
            region_id=region,
            lat=lat,
            lon=lon,
        ),
        "event_date": None if day is None else (BASE + timedelta(days=day)).date().isoformat(),
        "date_precision": draw(st.sampled_from(["day", "week", "month"])),
        "historical": draw(st.booleans()),
        "weapon": None
        if (category := draw(weapons)) is None
        else Weapon(category=category, gtd_type="Explosives"),
        "counts": Counts(quantity=draw(counts), killed=draw(counts), wounded=draw(counts)),
        "actor": draw(actors),
        "target": draw(st.sampled_from([None, "diplomatic mission", "military", "civilians"])),
        "confidence": draw(st.floats(0, 1)),
        "field_confidence": draw(
            st.dictionaries(st.sampled_from(["place", "weapon", "date"]), st.floats(0, 1))
        ),
        "produced_at": draw(st.one_of(st.none(), st.just(BASE + timedelta(days=5)))),
        # The extractor hands over singleton clusters; hand-made reports may come bare.
        "as_singleton": draw(st.booleans()),
    }


def build(index: int, fields: dict[str, Any]) -> Incident:
    fields = dict(fields)
    singleton = fields.pop("as_singleton")
    incident_id = f"a{index % 3}:{index}"
    report = Incident(
        incident_id=incident_id,
        article_id=f"a{index % 3}",
        evidence=Evidence(sentence=f"sentence {index}", start=0, end=9),
        **fields,
    )
    if singleton:
        source = Source(
            article_id=report.article_id,
            incident_id=incident_id,
            source=report.source,
            published_at=report.published_at,
        )
        report = report.derive(cluster_id=incident_id, revision=1, sources=[source])
    return report


reports_lists = st.lists(report_fields(), min_size=1, max_size=6).map(
    lambda items: [build(i, fields) for i, fields in enumerate(items)]
)


def merge_all(reports: list[Incident]) -> Incident:
    first = as_cluster(reports[0], CONFIG)
    return reduce(lambda cluster, report: merge(cluster, report, CONFIG), reports[1:], first)


@settings(max_examples=200, deadline=None)
@given(reports=reports_lists, data=st.data())
def test_merge_order_does_not_change_the_cluster(
    reports: list[Incident], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(reports))
    assert merge_all(shuffled) == merge_all(reports)


@settings(max_examples=200, deadline=None)
@given(reports=reports_lists, data=st.data())
def test_merge_is_associative(reports: list[Incident], data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(reports)))
    left, right = reports[:cut], reports[cut:]
    if not left or not right:
        return
    assert merge(merge_all(left), merge_all(right), CONFIG) == merge_all(reports)


@settings(max_examples=200, deadline=None)
@given(reports=reports_lists)
def test_merging_a_report_again_changes_nothing(reports: list[Incident]) -> None:
    cluster = merge_all(reports)
    for report in reports:
        assert merge(cluster, report, CONFIG) == cluster
    assert merge(cluster, cluster, CONFIG) == cluster
    assert cluster.revision == len(reports) == len(cluster.sources or [])


@settings(max_examples=100, deadline=None)
@given(reports=reports_lists)
def test_a_cluster_round_trips_through_a_store(reports: list[Incident]) -> None:
    cluster = merge_all(reports)
    assert Incident.from_data(to_json(cluster)) == cluster


@st.composite
def cluster_versions(draw: st.DrawFn) -> list[Incident]:
    """Revisions of a few clusters, all on one day; some repeated, some out of date."""
    items = draw(st.lists(report_fields(), min_size=1, max_size=8))
    versions = []
    for index, fields in enumerate(items):
        fields = {**fields, "as_singleton": False}
        fields["event_date"] = "2021-02-22"
        cluster = build(index, fields)
        cluster_id = f"c{draw(st.integers(0, 2))}"
        versions.append(cluster.derive(cluster_id=cluster_id, revision=draw(st.integers(1, 3))))
    return versions


def fold_all(clusters: list[Incident]) -> Any:
    (window,) = assign(datetime(2021, 2, 22, tzinfo=UTC), [DAY_SPEC])
    return reduce(fold, clusters, empty_state("IQ.07", window))


@settings(max_examples=200, deadline=None)
@given(clusters=cluster_versions(), data=st.data())
def test_window_fold_is_order_independent(clusters: list[Incident], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(clusters))
    assert fold_all(shuffled) == fold_all(clusters)
    assert to_json(fold_all(shuffled)) == to_json(fold_all(clusters))


@settings(max_examples=200, deadline=None)
@given(clusters=cluster_versions())
def test_window_fold_is_idempotent(clusters: list[Incident]) -> None:
    state = fold_all(clusters)
    assert fold_all(clusters + clusters) == state
    assert load_state(to_json(state)) == state
    # Clusters are counted, not reports or revisions.
    assert state.count == len({c.cluster_id for c in clusters})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports=reports_lists, data=st.data())
def test_every_report_lands_in_exactly_one_counted_cluster(
    reports: list[Incident], data: st.DataObject
) -> None:
    pipeline = Pipeline(FLOW, clock=lambda: BASE + timedelta(days=6))
    for report in data.draw(st.permutations(reports)):
        for cluster in pipeline.on_incident(report):
            pipeline.on_cluster(cluster)
        # Delivered twice (at-least-once): nothing changes.
        assert pipeline.on_incident(report) == []
    stores = pipeline.stores
    holders = {stores.reports[r.incident_id] for r in reports}
    assert holders == set(stores.clusters)
    members = [
        s.incident_id for data in stores.clusters.values() for s in Incident.from_data(data).sources
    ]
    assert sorted(members) == sorted(r.incident_id for r in reports)
    daily = [load_state(v) for k, v in stores.windows.items() if "|tumbling_1d|" in k]
    assert sum(state.count for state in daily) == len(stores.clusters)


# What a keyspace lists must be what the shared mapping holds under its prefix, whether a key
# came through a keyspace or behind it (a Faust table recovering its changelog, then forget()).
spaces = st.sampled_from(["windows", "seen", "reports"])
some_keys = st.sampled_from(["IQ.07|a", "IQ.07|b", "SY.01|a", "LB.04|c"])
through = st.tuples(st.sampled_from(["set", "delete"]), spaces, some_keys)
recovery = st.lists(st.tuples(st.sampled_from(["set", "delete"]), spaces, some_keys), max_size=6)
key_ops = st.lists(st.one_of(through, recovery), max_size=30)


@given(key_ops)
def test_keyspaces_list_exactly_the_keys_under_their_prefix(ops: list[Any]) -> None:
    backing: dict[str, int] = {}
    index = KeyIndex(backing)
    stores = Stores.shared(backing, index)
    for n, op in enumerate(ops):
        if isinstance(op, tuple):
            what, name, key = op
            if what == "set":
                getattr(stores, name)[key] = n
            else:
                getattr(stores, name).pop(key, None)
        else:  # changes behind the keyspaces, then forget(): as the worker after a rebalance
            for what, name, key in op:
                if what == "set":
                    backing[f"{name}:{key}"] = n
                else:
                    backing.pop(f"{name}:{key}", None)
            index.forget()
        for other in ("windows", "seen", "reports"):
            held = sorted(k.split(":", 1)[1] for k in backing if k.startswith(f"{other}:"))
            assert sorted(getattr(stores, other)) == held
            assert len(getattr(stores, other)) == len(held)


def test_a_key_added_behind_the_keyspaces_is_listed_even_unannounced() -> None:
    backing: dict[str, int] = {}
    stores = Stores.shared(backing)
    stores.windows["IQ.07|a"] = 1
    assert list(stores.windows) == ["IQ.07|a"]
    backing["windows:SY.01|b"] = 2  # a recovered key nobody announced: the count gives it away
    assert list(stores.windows) == ["IQ.07|a", "SY.01|b"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports=reports_lists, recover=st.lists(st.booleans(), min_size=6, max_size=6))
def test_a_report_joins_the_cluster_a_scan_of_every_cluster_finds(
    reports: list[Incident], recover: list[bool]
) -> None:
    # The pipeline looks only at clusters its index and their facts allow; whatever it skips,
    # and after the store is reloaded behind it (a table's recovery, then forget()), a report
    # must join the very cluster that testing it against every stored cluster picks.
    backing: dict[str, Any] = {}
    index = KeyIndex(backing)
    pipeline = Pipeline(FLOW, Stores.shared(backing, index), clock=lambda: BASE + timedelta(days=6))
    for report, reload in zip(reports, recover, strict=False):
        if reload:
            copy = {key: orjson.loads(orjson.dumps(value)) for key, value in backing.items()}
            backing.clear()
            backing.update(copy)
            index.forget()
            pipeline.forget()
        everyone = [cluster_from_data(data) for data in pipeline.stores.clusters.values()]
        expected = find_cluster(everyone, as_cluster(report, CONFIG), CONFIG)
        (cluster,) = pipeline.on_incident(report)
        joined = {source.incident_id for source in expected.sources or []} if expected else set()
        assert {source.incident_id for source in cluster.sources or []} == joined | {
            report.incident_id
        }
