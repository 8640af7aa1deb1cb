"""Event-time windows: config, assignment (UTC, epoch-aligned), folds, watermark, closing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import pytest

from streams.records import Incident, Location, WindowRange
from streams.windows import (
    ConfigError,
    Watermark,
    WindowsConfig,
    WindowSpec,
    WindowState,
    assign,
    close_due,
    empty_state,
    event_time_of,
    expired,
    fold,
    load_state,
    load_windows,
    parse_window_key,
    region_of,
    retract,
    to_json,
    window_key,
)
from tests.factories import at, cluster_record

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
TUMBLING_1H = WindowSpec("tumbling_1h", HOUR, HOUR, 3 * DAY)
TUMBLING_1D = WindowSpec("tumbling_1d", DAY, DAY, 21 * DAY)
HOPPING_24H = WindowSpec("hopping_24h", DAY, HOUR, 3 * DAY)
CONFIG = WindowsConfig((TUMBLING_1H, TUMBLING_1D, HOPPING_24H), 2 * HOUR, 6 * HOUR)

# The clusters of these tests happen at 18:30 on 22 February 2021 unless told.
make_cluster = partial(cluster_record, when="2021-02-22T18:30:00")


def test_default_config_loads_with_the_documented_kinds() -> None:
    config = load_windows()
    assert config.kinds == ("tumbling_1h", "tumbling_1d", "hopping_24h")
    assert config.spec("hopping_24h").step == HOUR
    assert config.spec("tumbling_1d").size == DAY


@pytest.mark.parametrize(
    ("when", "start"),
    [
        ("2021-02-22T18:00:00", "2021-02-22T18:00:00"),  # the start belongs to the window
        ("2021-02-22T18:59:59.999999", "2021-02-22T18:00:00"),  # the end does not
        ("2021-02-22T19:00:00", "2021-02-22T19:00:00"),
    ],
)
def test_tumbling_hour_boundaries(when: str, start: str) -> None:
    (window,) = assign(at(when), [TUMBLING_1H])
    assert window.start == at(start)
    assert window.end == at(start) + HOUR


def test_daily_windows_are_utc_days_whatever_the_offset() -> None:
    # 01:30 in Baghdad (UTC+3) on the 23rd is 22:30 UTC on the 22nd.
    baghdad = timezone(timedelta(hours=3))
    (window,) = assign(datetime(2021, 2, 23, 1, 30, tzinfo=baghdad), [TUMBLING_1D])
    assert window.start == at("2021-02-22T00:00:00")
    assert window.start.tzinfo == UTC


def test_naive_times_are_taken_as_utc() -> None:
    (window,) = assign(datetime(2021, 2, 22, 18, 30), [TUMBLING_1H])
    assert window.start == at("2021-02-22T18:00:00")


def test_hopping_returns_every_window_containing_the_time() -> None:
    windows = assign(at("2021-02-22T18:30:00"), [HOPPING_24H])
    starts = [w.start for w in windows]
    assert len(windows) == 24
    assert starts[0] == at("2021-02-21T19:00:00")
    assert starts[-1] == at("2021-02-22T18:00:00")
    assert all(w.start <= at("2021-02-22T18:30:00") < w.end for w in windows)
    # Exactly on an hour: the window starting then holds it, the one ending then does not.
    on_hour = assign(at("2021-02-22T18:00:00"), [HOPPING_24H])
    assert on_hour[0].start == at("2021-02-21T19:00:00")
    assert on_hour[-1].start == at("2021-02-22T18:00:00")


def test_all_default_kinds_at_once() -> None:
    kinds = [w.kind for w in assign(at("2021-02-22T18:30:00"), CONFIG.specs)]
    assert kinds.count("tumbling_1h") == 1
    assert kinds.count("tumbling_1d") == 1
    assert kinds.count("hopping_24h") == 24


def test_window_keys_round_trip() -> None:
    window = WindowRange(
        kind="tumbling_1h", start=at("2021-02-22T18:00:00"), end=at("2021-02-22T19:00:00")
    )
    key = window_key("IQ.07", window)
    assert key == "IQ.07|tumbling_1h|2021-02-22T18:00:00Z"
    assert parse_window_key(key) == ("IQ.07", "tumbling_1h", at("2021-02-22T18:00:00"))


def test_event_time_falls_back_to_the_date_then_publication() -> None:
    cluster = make_cluster("c1")
    assert event_time_of(cluster) == at("2021-02-22T18:30:00")
    assert event_time_of(cluster.derive(event_time=None)) == at("2021-02-22T00:00:00")
    undated = cluster.derive(event_time=None, event_date=None)
    assert event_time_of(undated) == at("2021-02-24T00:00:00")


def test_region_of_falls_back_to_country_then_unknown() -> None:
    cluster = make_cluster("c1")
    assert region_of(cluster) == "IQ.07"
    assert region_of(make_cluster("c2", region=None)) == "unknown"
    country = cluster.derive(
        location=Location(name="Iraq", canonical="Iraq", precision="country", country_code="IQ")
    )
    assert region_of(country) == "IQ"


def state_for(*clusters: Incident) -> WindowState:
    window = assign(at("2021-02-22T18:30:00"), [TUMBLING_1D])[0]
    state = empty_state("IQ.07", window)
    for cluster in clusters:
        state = fold(state, cluster)
    return state


def test_fold_counts_clusters_by_weapon_and_sums_tolls() -> None:
    state = state_for(
        make_cluster("c1", killed=2),
        make_cluster("c2", weapon="ied", killed=3),
        make_cluster("c3", weapon=None),
    )
    assert state.count == 3
    assert state.by_weapon == {"ied": 1, "rocket": 1, "unknown": 1}
    assert state.killed == 5
    assert state.region_name == "Baghdad"


def test_a_revision_replaces_its_earlier_contribution() -> None:
    state = state_for(make_cluster("c1", killed=2), make_cluster("c1", revision=2, killed=1))
    assert state.count == 1
    assert state.killed == 1
    # An older revision arriving after a newer one changes nothing.
    again = state_for(make_cluster("c1", revision=2, killed=1), make_cluster("c1", killed=2))
    assert again == state


def test_retract_removes_a_cluster() -> None:
    state = state_for(make_cluster("c1", killed=2), make_cluster("c2", killed=3))
    left = retract(state, "c1")
    assert left.count == 1 and left.killed == 3
    assert retract(left, "c1") == left


def test_window_state_round_trips_as_json() -> None:
    state = state_for(make_cluster("c1", killed=2))
    assert load_state(to_json(state)) == state


def test_watermark_only_moves_forward() -> None:
    mark = Watermark().observe(at("2021-02-23T00:00:00"))
    assert mark.observe(at("2021-02-22T00:00:00")) is mark
    assert mark.value(2 * HOUR) == at("2021-02-22T22:00:00")


def test_close_due_by_event_clock_and_grace() -> None:
    windows = assign(at("2021-02-22T18:30:00"), [TUMBLING_1H, TUMBLING_1D])
    early = at("2021-02-22T00:00:00")  # the wall clock plays no part here
    assert close_due(windows, Watermark().observe(at("2021-02-22T20:59:00")), early, CONFIG) == []
    hour_due = close_due(windows, Watermark().observe(at("2021-02-22T21:00:00")), early, CONFIG)
    assert [w.kind for w in hour_due] == ["tumbling_1h"]
    day_due = close_due(windows, Watermark().observe(at("2021-02-23T02:00:00")), early, CONFIG)
    assert [w.kind for w in day_due] == ["tumbling_1h", "tumbling_1d"]


def test_a_quiet_stream_still_closes_by_the_wall_clock() -> None:
    windows = assign(at("2021-02-22T18:30:00"), [TUMBLING_1D])
    quiet = Watermark().observe(at("2021-02-22T18:30:00"))
    # end (23rd 00:00) + grace 2h + idle timeout 6h = 23rd 08:00 on the wall clock.
    assert close_due(windows, quiet, at("2021-02-23T07:59:00"), CONFIG) == []
    assert close_due(windows, quiet, at("2021-02-23T08:00:00"), CONFIG) == windows
    assert close_due(windows, Watermark(), at("2021-02-23T08:00:00"), CONFIG) == windows


def test_expiry_is_judged_by_the_event_clock_only() -> None:
    (window,) = assign(at("2021-02-22T18:30:00"), [TUMBLING_1D])
    assert not expired(window, TUMBLING_1D.retention, Watermark())
    assert not expired(
        window, TUMBLING_1D.retention, Watermark().observe(at("2021-03-15T23:59:00"))
    )
    assert expired(window, TUMBLING_1D.retention, Watermark().observe(at("2021-03-16T00:00:00")))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("size: 1h\n", "size: 1x\n", r"windows\.tumbling_1h\.size: '1x' is not a duration"),
        ("type: hopping", "type: sliding", r"windows\.hopping_24h\.type: 'sliding' is not one of"),
        ("step: 1h", "step: 2d", r"windows\.hopping_24h\.step: a hopping step cannot be longer"),
        ("retention: 21d", "retention: 1d", r"windows\.tumbling_1d\.retention: retention must be"),
        ("grace: 2h", "grace: 2h\nlateness: 1h", r"lateness: unknown key"),
    ],
)
def test_config_errors_name_file_line_and_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = (Path(__file__).parents[2] / "config" / "windows.yaml").read_text()
    assert old in text
    bad = tmp_path / "windows.yaml"
    bad.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError, match=r"windows\.yaml:\d+: " + message):
        load_windows(bad)


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "windows.yaml"
    bad.write_text("grace: 2h\nwindows: [\n")
    with pytest.raises(ConfigError, match=r"windows\.yaml:3: invalid YAML"):
        load_windows(bad)
