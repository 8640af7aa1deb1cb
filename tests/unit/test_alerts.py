"""Alert rules: config validation, each rule type, and the ledger of published alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from streams.alerts import (
    CasualtiesRule,
    Ledger,
    NoveltyRule,
    SpikeRule,
    TargetRule,
    ThresholdRule,
    alert_id_of,
    evaluate,
    evaluate_rule,
    load_rules,
)
from streams.records import Incident
from streams.windows import (
    ConfigError,
    WindowState,
    assign,
    empty_state,
    event_time_of,
    fold,
    load_windows,
)
from tests.factories import at, cluster_record

NOW = datetime(2021, 2, 24, tzinfo=UTC)
COMMON: dict[str, Any] = {"severity": "medium", "window": "tumbling_1d", "regions": None}

# The clusters of these tests happen at 18:00 on 22 February 2021 unless told.
make_cluster = partial(cluster_record, when="2021-02-22T18:00:00")


def window_of(*clusters: Incident, when: str = "2021-02-22T18:00:00") -> WindowState:
    window = next(w for w in assign(at(when), load_windows().specs) if w.kind == "tumbling_1d")
    state = empty_state("IQ.07", window)
    for cluster in clusters:
        state = fold(state, cluster)
    return state


@dataclass
class StubContext:
    """Baselines and novelty entries set by the test."""

    counts: list[int] | None = None
    entries: dict[tuple[str, str, str], dict[str, datetime]] = field(default_factory=dict)

    def baseline(self, state: WindowState, windows: int) -> list[int] | None:
        return None if self.counts is None else self.counts[-windows:]

    def seen(self, region: str, field: str, value: str) -> list[tuple[datetime, str]]:
        entries = self.entries.get((region, field, value), {})
        return sorted((when, cluster_id) for cluster_id, when in entries.items())


def test_default_rules_load_and_cover_every_type() -> None:
    rules = load_rules(load_windows())
    assert {rule.type for rule in rules} == {
        "threshold",
        "casualties",
        "spike",
        "new_actor",
        "new_weapon",
        "target",
    }
    target = next(rule for rule in rules if isinstance(rule, TargetRule))
    assert target.severity == "high"
    assert "embassy" in target.targets


def test_threshold_fires_from_min_count_with_figures() -> None:
    rule = ThresholdRule(name="daily", type="threshold", **COMMON, min_count=2)
    assert evaluate_rule(rule, window_of(make_cluster("c1")), StubContext(), NOW) is None
    alert = evaluate_rule(
        rule, window_of(make_cluster("c1"), make_cluster("c2")), StubContext(), NOW
    )
    assert alert is not None
    assert alert.figures == {"count": 2, "min_count": 2}
    assert alert.severity == "medium"
    assert [i.incident_id for i in alert.incidents] == ["c1", "c2"]
    assert alert.incidents[0].evidence == "evidence of c1 r1"
    assert alert.alert_id == alert_id_of("daily", "IQ.07", "tumbling_1d", at("2021-02-22T00:00:00"))
    assert alert.window.start == at("2021-02-22T00:00:00")
    assert alert.created_at == NOW
    assert (
        alert.reason
        == "2 incidents in Baghdad (IQ.07), tumbling_1d from 2021-02-22T00:00:00Z (threshold 2)"
    )


def test_casualties_fires_on_killed_or_wounded() -> None:
    rule = CasualtiesRule(
        name="casualties", type="casualties", **COMMON, min_killed=5, min_wounded=10
    )
    calm = window_of(make_cluster("c1", killed=2), make_cluster("c2", killed=2))
    assert evaluate_rule(rule, calm, StubContext(), NOW) is None
    deadly = window_of(
        make_cluster("c1", killed=2), make_cluster("c2", killed=3), make_cluster("c3")
    )
    alert = evaluate_rule(rule, deadly, StubContext(), NOW)
    assert alert is not None
    assert alert.figures == {"killed": 5, "wounded": 0, "min_killed": 5, "min_wounded": 10}
    # Only the incidents with casualties are listed.
    assert [i.incident_id for i in alert.incidents] == ["c1", "c2"]
    hurt = window_of(make_cluster("c1", wounded=12))
    assert evaluate_rule(rule, hurt, StubContext(), NOW) is not None


def spike_rule() -> SpikeRule:
    return SpikeRule(
        name="spike",
        type="spike",
        **COMMON,
        baseline_windows=7,
        ratio=3.0,
        min_count=3,
        baseline_floor=0.5,
    )


def test_spike_fires_on_a_closed_window_against_the_baseline() -> None:
    state = window_of(*(make_cluster(f"c{i}") for i in range(4))).derive(closed=True)
    context = StubContext(counts=[1, 0, 2, 1, 0, 1, 2])  # mean 1.0
    alert = evaluate_rule(spike_rule(), state, context, NOW)
    assert alert is not None
    assert alert.figures == {
        "count": 4,
        "baseline": 1.0,
        "ratio": 4.0,
        "threshold_ratio": 3.0,
        "min_count": 3,
        "baseline_windows": 7,
    }
    assert "baseline of 1.00" in (alert.reason or "")


@pytest.mark.parametrize(
    ("clusters", "counts", "closed"),
    [
        (4, [1, 0, 2, 1, 0, 1, 2], False),  # still open: not judged yet
        (4, [2, 2, 2, 1, 1, 1, 1], True),  # 4 < 3 x 1.43
        (2, [0, 0, 0, 0, 0, 0, 0], True),  # below min_count
        (4, None, True),  # baseline not observed: unknown, not zero
    ],
)
def test_spike_does_not_fire(clusters: int, counts: list[int] | None, closed: bool) -> None:
    state = window_of(*(make_cluster(f"c{i}") for i in range(clusters))).derive(closed=closed)
    assert evaluate_rule(spike_rule(), state, StubContext(counts=counts), NOW) is None


def test_spike_on_a_quiet_region_uses_the_floor() -> None:
    state = window_of(*(make_cluster(f"c{i}") for i in range(3))).derive(closed=True)
    alert = evaluate_rule(spike_rule(), state, StubContext(counts=[0] * 7), NOW)
    assert alert is not None
    assert alert.figures["baseline"] == 0.0
    assert alert.figures["ratio"] == 6.0  # 3 / floor 0.5


def test_target_rule_fires_high_on_the_embassy_attack() -> None:
    rule = TargetRule(
        name="diplomatic",
        type="target",
        severity="high",
        window="tumbling_1d",
        regions=None,
        targets=("embassy", "سفارة"),
    )
    state = window_of(
        make_cluster("c1", target="US Embassy"), make_cluster("c2", target="security forces")
    )
    alert = evaluate_rule(rule, state, StubContext(), NOW)
    assert alert is not None
    assert alert.severity == "high"
    assert alert.figures == {"count": 1}
    assert [i.incident_id for i in alert.incidents] == ["c1"]
    assert (
        evaluate_rule(rule, window_of(make_cluster("c3", target="civilians")), StubContext(), NOW)
        is None
    )


def novelty_rule(kind: str) -> NoveltyRule:
    """The new_actor or new_weapon rule as config/alerts.yaml has it (30 days back)."""
    return NoveltyRule(
        name=kind,
        type=kind,
        severity="low",
        window="tumbling_1d",
        regions=None,
        lookback=timedelta(days=30),
    )


def test_new_actor_fires_when_not_seen_within_the_lookback() -> None:
    rule = novelty_rule("new_actor")
    state = window_of(make_cluster("c1", actor="ISIS"))
    first = StubContext(entries={("IQ.07", "actor", "ISIS"): {"c1": at("2021-02-22T18:00:00")}})
    alert = evaluate_rule(rule, state, first, NOW)
    assert alert is not None
    assert alert.figures == {"count": 1, "lookback_days": 30}
    assert (alert.reason or "").endswith(": ISIS")
    seen_before = StubContext(
        entries={
            ("IQ.07", "actor", "ISIS"): {
                "c0": at("2021-02-10T00:00:00"),
                "c1": at("2021-02-22T18:00:00"),
            }
        }
    )
    assert evaluate_rule(rule, state, seen_before, NOW) is None
    long_ago = StubContext(
        entries={
            ("IQ.07", "actor", "ISIS"): {
                "c0": at("2021-01-10T00:00:00"),
                "c1": at("2021-02-22T18:00:00"),
            }
        }
    )
    assert evaluate_rule(rule, state, long_ago, NOW) is not None


def test_of_two_simultaneous_new_actors_only_the_first_by_id_is_new() -> None:
    rule = novelty_rule("new_actor")
    state = window_of(
        make_cluster("c2", actor="ISIS"), make_cluster("c1", actor="ISIS"), make_cluster("c3")
    )
    same_time = at("2021-02-22T18:00:00")
    context = StubContext(
        entries={
            # c4 came later (and c0 long before the lookback): neither makes c1 old.
            ("IQ.07", "actor", "ISIS"): {
                "c4": at("2021-02-23T09:00:00"),
                "c2": same_time,
                "c1": same_time,
                "c0": at("2020-12-01T00:00:00"),
            }
        }
    )
    alert = evaluate_rule(rule, state, context, NOW)
    assert alert is not None
    assert [i.incident_id for i in alert.incidents] == ["c1"]


def test_new_weapon_ignores_unknown_categories() -> None:
    rule = novelty_rule("new_weapon")
    assert (
        evaluate_rule(rule, window_of(make_cluster("c1", weapon="unknown")), StubContext(), NOW)
        is None
    )
    alert = evaluate_rule(rule, window_of(make_cluster("c1", weapon="drone")), StubContext(), NOW)
    assert alert is not None and "drone" in (alert.reason or "")


def test_rules_watch_only_their_window_kind_and_regions() -> None:
    state = window_of(make_cluster("c1"), make_cluster("c2"))
    hourly = ThresholdRule(
        name="h", type="threshold", severity="low", window="tumbling_1h", regions=None, min_count=1
    )
    erbil = ThresholdRule(
        name="e",
        type="threshold",
        severity="low",
        window="tumbling_1d",
        regions=frozenset({"IQ.11"}),
        min_count=1,
    )
    baghdad = ThresholdRule(
        name="b",
        type="threshold",
        severity="low",
        window="tumbling_1d",
        regions=frozenset({"IQ.07"}),
        min_count=1,
    )
    assert [a.rule for a in evaluate([hourly, erbil, baghdad], state, StubContext(), NOW)] == ["b"]


def test_spike_is_left_out_of_update_evaluation_and_alone_on_close() -> None:
    state = window_of(*(make_cluster(f"c{i}") for i in range(4))).derive(closed=True)
    threshold = ThresholdRule(name="t", type="threshold", **COMMON, min_count=1)
    context = StubContext(counts=[0] * 7)
    assert [a.rule for a in evaluate([threshold, spike_rule()], state, context, NOW)] == [
        "t",
        "spike",
    ]
    closing = evaluate([threshold, spike_rule()], state, context, NOW, on_close_only=True)
    assert [a.rule for a in closing] == ["spike"]


# -- ledger -------------------------------------------------------------------------------------


def test_ledger_publishes_the_same_state_once() -> None:
    rule = ThresholdRule(name="daily", type="threshold", **COMMON, min_count=1)
    ledger = Ledger({}, [rule])
    alert = evaluate_rule(rule, window_of(make_cluster("c1")), StubContext(), NOW)
    assert alert is not None
    published = ledger.admit(alert, NOW)
    assert published is not None and published.revision == 1
    assert ledger.admit(alert, NOW) is None
    # Made again later: same figures and incidents, only created_at differs -> not republished.
    later = evaluate_rule(
        rule, window_of(make_cluster("c1")), StubContext(), NOW + timedelta(hours=1)
    )
    assert later is not None and ledger.admit(later, NOW) is None


def test_ledger_escalation_is_a_new_revision_and_a_fall_is_quiet() -> None:
    rule = ThresholdRule(name="daily", type="threshold", **COMMON, min_count=1)
    store: dict[str, object] = {}
    ledger = Ledger(store, [rule])
    one = evaluate_rule(rule, window_of(make_cluster("c1")), StubContext(), NOW)
    two = evaluate_rule(rule, window_of(make_cluster("c1"), make_cluster("c2")), StubContext(), NOW)
    other_one = evaluate_rule(rule, window_of(make_cluster("c2")), StubContext(), NOW)
    assert one is not None and two is not None and other_one is not None
    assert one.alert_id == two.alert_id
    assert ledger.admit(one, NOW) is not None
    escalated = ledger.admit(two, NOW)
    assert escalated is not None and escalated.revision == 2
    assert ledger.admit(other_one, NOW) is None  # fewer incidents, none new
    assert ledger.admit(two, NOW) is None
    assert set(store) == {one.alert_id}


def test_ledger_a_rising_toll_is_an_escalation() -> None:
    rule = CasualtiesRule(
        name="casualties", type="casualties", **COMMON, min_killed=5, min_wounded=None
    )
    ledger = Ledger({}, [rule])
    first = evaluate_rule(rule, window_of(make_cluster("c1", killed=5)), StubContext(), NOW)
    revised = evaluate_rule(
        rule, window_of(make_cluster("c1", killed=8, revision=2)), StubContext(), NOW
    )
    assert first is not None and revised is not None
    assert ledger.admit(first, NOW) is not None
    published = ledger.admit(revised, NOW)
    assert published is not None and published.revision == 2
    assert published.figures["killed"] == 8


def test_ledger_publishes_a_burst_once_across_overlapping_windows() -> None:
    rule = ThresholdRule(
        name="rolling",
        type="threshold",
        severity="medium",
        window="hopping_24h",
        regions=None,
        min_count=2,
    )
    ledger = Ledger({}, [rule])
    clusters = [
        make_cluster("c1", when="2021-02-22T18:00:00"),
        make_cluster("c2", when="2021-02-23T00:00:00"),
    ]
    hopping = load_windows().spec("hopping_24h")
    states = []
    for window in assign(at("2021-02-23T00:00:00"), [hopping]):
        state = empty_state("IQ.07", window)
        for cluster in clusters:
            if window.start <= event_time_of(cluster) < window.end:
                state = fold(state, cluster)
        states.append(state)
    alerts = [evaluate_rule(rule, state, StubContext(), NOW) for state in states]
    fired = [alert for alert in alerts if alert is not None]
    assert len(fired) == 18  # windows starting 22nd 01:00 .. 18:00 hold both
    published = [ledger.admit(alert, NOW, overlapping=True) for alert in fired]
    assert [alert.window.start for alert in published if alert is not None] == [
        at("2021-02-22T01:00:00")
    ]


def test_ledger_judges_by_the_stored_value_when_the_store_is_rewritten_behind_it() -> None:
    # A table recovered from its changelog holds equal values in new objects, and a worker
    # taking a partition over may hold older ones: the ledger must read what is stored now.
    rule = ThresholdRule(name="daily", type="threshold", **COMMON, min_count=1)
    store: dict[str, Any] = {}
    ledger = Ledger(store, [rule])
    clusters = [make_cluster(f"c{n:02d}") for n in range(40)]
    alert = evaluate_rule(rule, window_of(*clusters), StubContext(), NOW)
    assert alert is not None
    assert ledger.admit(alert, NOW) is not None
    assert ledger.admit(alert, NOW) is None
    held = store[alert.alert_id]
    store[alert.alert_id] = {**held, "incidents": held["incidents"][:20], "revision": 1}
    again = ledger.admit(alert, NOW)
    assert again is not None and again.revision == 2  # 20 incidents are new to the store
    store[alert.alert_id] = {**held, "incidents": list(held["incidents"])}  # equal, new object
    assert ledger.admit(alert, NOW) is None


def test_ledger_prunes_expired_alerts() -> None:
    rule = ThresholdRule(name="daily", type="threshold", **COMMON, min_count=1)
    store: dict[str, object] = {}
    ledger = Ledger(store, [rule])
    alert = evaluate_rule(rule, window_of(make_cluster("c1")), StubContext(), NOW)
    assert alert is not None
    ledger.admit(alert, at("2021-03-15T00:00:00"))
    assert ledger.prune(at("2021-03-14T23:00:00")) == 0
    assert ledger.prune(at("2021-03-15T00:00:00")) == 1
    assert store == {}


# -- config validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("type: spike", "type: surge", r"rules\[4\]\.type: 'surge' is not one of"),
        (
            "severity: high\n    window: tumbling_1d\n    description: An attack",
            "severity: urgent\n    window: tumbling_1d\n    description: An attack",
            r"rules\[0\]\.severity: 'urgent' is not one of high, medium, low",
        ),
        ("    min_count: 2\n", "", r"rules\[3\]\.min_count: missing"),
        ("window: hopping_24h", "window: hopping_2h", r"rules\[3\]\.window: 'hopping_2h' is not"),
        (
            "baseline_windows: 7",
            "baseline_windows: 30",
            r"rules\[4\]\.baseline_windows: 30 windows of tumbling_1d outlive",
        ),
        (
            "lookback: 30d\n\n",
            "lookback: soon\n\n",
            r"rules\[5\]\.lookback: 'soon' is not a duration",
        ),
        ("name: new_weapon", "name: new_actor", r"rules\[6\]\.name: 'new_actor' is used twice"),
        (
            "    min_killed: 10\n",
            "    min_killed: 10\n    min_dead: 3\n",
            r"rules\[1\]\.min_dead: unknown key",
        ),
        (
            "window: tumbling_1d\n    description: A group",
            "window: weekly\n    description: A group",
            r"rules\[5\]\.window: 'weekly' is not a window",
        ),
    ],
)
def test_rule_errors_name_file_line_and_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = (Path(__file__).parents[2] / "config" / "alerts.yaml").read_text()
    assert old in text
    bad = tmp_path / "alerts.yaml"
    bad.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError, match=r"alerts\.yaml:\d+: " + message):
        load_rules(load_windows(), bad)
