"""Event-time windows per region: specs from config, assignment, folds, watermark and closing."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar

import faust
import orjson
import yaml

from streams.records import Incident, WindowRange
from streams.settings import config_dir

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KEY_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_MICRO = timedelta(microseconds=1)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
WINDOW_TYPES = ("tumbling", "hopping")


# ---------------------------------------------------------------------------------------------
# Config files: loaded once, validated, every error names the file, the line and the key.
# ---------------------------------------------------------------------------------------------


class ConfigError(ValueError):
    """A config file is invalid; the message names the file, the line and the key."""


KeyPath = tuple[str | int, ...]


class ConfigDoc:
    """A parsed YAML file that can point at the line of any key, for error messages."""

    def __init__(self, path: Path, data: Any, lines: Mapping[KeyPath, int]) -> None:
        self.path = path
        self.data = data
        self._lines = lines

    def error(self, keypath: KeyPath, problem: str) -> ConfigError:
        """Build the error for ``keypath``: ``config/alerts.yaml:12: rules[2].severity: ...``."""
        # The nearest enclosing key that has a line: a missing key points at its parent.
        line = None
        for cut in range(len(keypath), -1, -1):
            line = self._lines.get(keypath[:cut])
            if line is not None:
                break
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        return ConfigError(f"{where}: {format_keypath(keypath) or '(top)'}: {problem}")

    def mapping(self, keypath: KeyPath) -> Mapping[str, Any]:
        """The mapping at ``keypath``; an error when it is something else."""
        value = self.get(keypath)
        if not isinstance(value, Mapping):
            raise self.error(keypath, f"expected a mapping, got {_kind(value)}")
        return value

    def get(self, keypath: KeyPath) -> Any:
        """The value at ``keypath`` (``None`` when any part is absent)."""
        value: Any = self.data
        for part in keypath:
            if isinstance(part, int) and isinstance(value, list) and part < len(value):
                value = value[part]
            elif isinstance(part, str) and isinstance(value, Mapping):
                value = value.get(part)
            else:
                return None
        return value

    def check_keys(self, keypath: KeyPath, allowed: Iterable[str]) -> None:
        """Reject unknown keys (a typo must not silently fall back to a default)."""
        allowed_set = set(allowed)
        for key in self.mapping(keypath):
            if key not in allowed_set:
                expected = ", ".join(sorted(allowed_set))
                raise self.error((*keypath, key), f"unknown key; expected one of {expected}")


def format_keypath(keypath: KeyPath) -> str:
    """``("rules", 2, "severity")`` -> ``rules[2].severity``."""
    text = ""
    for part in keypath:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _node_lines(node: yaml.Node, keypath: KeyPath, lines: dict[KeyPath, int]) -> None:
    lines[keypath] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*keypath, str(key_node.value))
            _node_lines(value_node, child, lines)
            # The key's own line reads better than the value's for block values.
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _node_lines(item, (*keypath, index), lines)


def load_yaml(path: Path) -> ConfigDoc:
    """Read and parse a YAML config file; syntax errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: invalid YAML: {exc.problem}") from exc
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _node_lines(node, (), lines)
    return ConfigDoc(path, data, lines)


def parse_duration(doc: ConfigDoc, keypath: KeyPath, *, allow_zero: bool = False) -> timedelta:
    """A duration such as ``90s``, ``30m``, ``1h``, ``7d``, ``2w`` at ``keypath``."""
    value = doc.get(keypath)
    if value is None:
        raise doc.error(keypath, "missing; expected a duration such as 1h or 7d")
    match = _DURATION.match(str(value))
    if match is None or isinstance(value, bool):
        raise doc.error(keypath, f"{value!r} is not a duration such as 30m, 1h or 7d")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds == 0 and not allow_zero:
        raise doc.error(keypath, "must be longer than zero")
    return timedelta(seconds=seconds)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC datetime; a naive one is taken to be UTC already."""
    zone = moment.tzinfo
    if zone is UTC:  # most calls (millions a minute under load): no conversion to make
        return moment
    if zone is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# Window specs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowSpec:
    """One window kind: tumbling when ``step == size``, hopping when ``step < size``."""

    kind: str
    size: timedelta
    step: timedelta
    retention: timedelta

    @property
    def hopping(self) -> bool:
        """True for overlapping (hopping) windows."""
        return self.step != self.size


@dataclass(frozen=True)
class WindowsConfig:
    """All window kinds plus the lateness and idle rules shared by them."""

    specs: tuple[WindowSpec, ...]
    grace: timedelta
    idle_timeout: timedelta

    def spec(self, kind: str) -> WindowSpec:
        """The spec of ``kind``; KeyError when there is none."""
        for spec in self.specs:
            if spec.kind == kind:
                return spec
        raise KeyError(kind)

    @property
    def kinds(self) -> tuple[str, ...]:
        """Window kind names in config order."""
        return tuple(spec.kind for spec in self.specs)


def default_windows_path() -> Path:
    """``config/windows.yaml`` under the configured config folder."""
    return config_dir() / "windows.yaml"


def load_windows(path: Path | None = None) -> WindowsConfig:
    """Load and validate ``config/windows.yaml``.

    >>> load_windows().spec("tumbling_1d").size
    datetime.timedelta(days=1)
    """
    doc = load_yaml(path or default_windows_path())
    doc.mapping(())
    doc.check_keys((), ("grace", "idle_timeout", "windows"))
    grace = parse_duration(doc, ("grace",), allow_zero=True)
    idle_timeout = parse_duration(doc, ("idle_timeout",))
    windows = doc.mapping(("windows",))
    if not windows:
        raise doc.error(("windows",), "at least one window kind is needed")
    specs = []
    for kind in windows:
        where: KeyPath = ("windows", kind)
        if not _NAME.match(str(kind)):
            raise doc.error(where, "a window name is lower case letters, digits and _")
        doc.mapping(where)
        doc.check_keys(where, ("type", "size", "step", "retention"))
        wtype = doc.get((*where, "type"))
        if wtype not in WINDOW_TYPES:
            raise doc.error((*where, "type"), f"{wtype!r} is not one of {', '.join(WINDOW_TYPES)}")
        size = parse_duration(doc, (*where, "size"))
        if wtype == "hopping":
            step = parse_duration(doc, (*where, "step"))
            if step > size:
                # A step longer than the size leaves gaps: events there would fall in no window.
                raise doc.error((*where, "step"), "a hopping step cannot be longer than its size")
        else:
            if doc.get((*where, "step")) is not None:
                raise doc.error((*where, "step"), "only hopping windows take a step")
            step = size
        if size.total_seconds() % 1 or step.total_seconds() % 1:
            raise doc.error(where, "sizes are whole seconds")
        retention = parse_duration(doc, (*where, "retention"))
        if retention < size + grace:
            # A window must still exist when it closes, or closing rules never see it.
            raise doc.error((*where, "retention"), "retention must be at least size + grace")
        specs.append(WindowSpec(str(kind), size, step, retention))
    return WindowsConfig(tuple(specs), grace, idle_timeout)


# ---------------------------------------------------------------------------------------------
# Assignment
# ---------------------------------------------------------------------------------------------


class Span(NamedTuple):
    """A window as the flow handles it: ``WindowRange`` without the cost of a Faust record."""

    kind: str
    start: datetime
    end: datetime

    def record(self) -> WindowRange:
        """The window as the record that crosses Kafka (one shared record per window)."""
        return _window_range(self)


@lru_cache(maxsize=4096)
def _window_range(span: Span) -> WindowRange:
    # A late report lists every expired window holding it (a dozen on average, under load
    # several a second), and a Faust record costs tens of microseconds to build.
    return WindowRange(kind=span.kind, start=span.start, end=span.end)


# Anything with a kind, a start and an end.
Window = Span | WindowRange


def spans(event_time: datetime, specs: Iterable[WindowSpec]) -> list[Span]:
    """Every window (of every spec) that contains ``event_time``; UTC, aligned to the epoch.

    >>> spec = WindowSpec("tumbling_1h", timedelta(hours=1), timedelta(hours=1), timedelta(days=1))
    >>> [w.start.isoformat() for w in spans(datetime(2021, 2, 22, 18, 30, tzinfo=UTC), [spec])]
    ['2021-02-22T18:00:00+00:00']
    """
    offset = _micros(event_time)
    found = []
    for spec in specs:
        for index in _holding(offset, spec):
            start = EPOCH + index * spec.step
            found.append(Span(spec.kind, start, start + spec.size))
    return found


def window_ends(
    pane_starts: Iterable[datetime],
    spec: WindowSpec,
    *,
    after: datetime | None,
    until: datetime | None,
) -> set[datetime]:
    """Ends of the ``spec`` windows holding any of the panes, in ``(after, until]``."""
    # In window numbers (window n starts at n * step): every tick runs this over every pane
    # of the partition, so no window is built.
    step, size = spec.step // _MICRO, spec.size // _MICRO
    low = -(10**18) if after is None else (_micros(after) - size) // step + 1
    high = 10**18 if until is None else (_micros(until) - size) // step
    found: set[int] = set()
    for start in pane_starts:
        held = _holding(_micros(start), spec)
        found.update(range(max(held.start, low), min(held.stop, high + 1)))
    return {EPOCH + n * spec.step + spec.size for n in found}


def _micros(moment: datetime) -> int:
    # Whole microseconds since the epoch: exact integer arithmetic, no float drift.
    return (as_utc(moment) - EPOCH) // _MICRO


def _holding(offset: int, spec: WindowSpec) -> range:
    """Numbers of the ``spec`` windows that contain the instant ``offset`` (microseconds)."""
    step, size = spec.step // _MICRO, spec.size // _MICRO
    # From the earliest window that still contains it to the latest one starting by then.
    return range((offset - size) // step + 1, offset // step + 1)


def assign(event_time: datetime, specs: Iterable[WindowSpec]) -> list[WindowRange]:
    """:func:`spans` as records."""
    return [span.record() for span in spans(event_time, specs)]


# A hopping window is never stored: its panes are. One cluster sits in one pane, so a window of
# 24 h every 1 h costs one state write per cluster instead of 24, and is read back as the union
# of the panes it spans (:func:`compose`).
PANE_SUFFIX = "/pane"


def pane_spec(spec: WindowSpec) -> WindowSpec:
    """The stored slices of a hopping kind: ``gcd(size, step)`` long, kept while windows need them.

    >>> hop = WindowSpec("hopping_24h", timedelta(hours=24), timedelta(hours=1), timedelta(days=3))
    >>> pane = pane_spec(hop)
    >>> pane.kind, pane.size == timedelta(hours=1), pane.retention == timedelta(hours=95)
    ('hopping_24h/pane', True, True)
    """
    pane = timedelta(microseconds=math.gcd(spec.size // _MICRO, spec.step // _MICRO))
    # The last window holding a pane ends at most size - pane after it: the pane outlives it.
    return WindowSpec(spec.kind + PANE_SUFFIX, pane, pane, spec.retention + spec.size - pane)


def is_pane(kind: str) -> bool:
    """Whether a stored kind is the pane of a hopping kind (not a window of its own)."""
    return kind.endswith(PANE_SUFFIX)


def window_key(region: str, window: Window) -> str:
    """Table key of a region's window: ``IQ.07|tumbling_1h|2021-02-22T18:00:00Z``."""
    return key_at(region, window.kind, window.start)


def key_at(region: str, kind: str, start: datetime) -> str:
    """:func:`window_key` from the parts (no record built: panes are looked up by the dozen)."""
    return f"{region}|{kind}|{key_time(start)}"


@lru_cache(maxsize=8192)
def key_time(moment: datetime) -> str:
    """``moment`` in UTC as keys and alert ids write it: ``2021-02-22T18:00:00Z``."""
    # Cached: a report reads some fifty pane keys and names two dozen windows, on a few
    # hundred distinct hours, and strftime was the costliest part of making a key.
    return as_utc(moment).strftime(KEY_TIME_FORMAT)


def parse_window_key(key: str) -> tuple[str, str, datetime]:
    """Inverse of :func:`window_key`: region, kind, start."""
    region, kind, start = key.rsplit("|", 2)
    return region, kind, datetime.strptime(start, KEY_TIME_FORMAT).replace(tzinfo=UTC)


def region_of(incident: Incident) -> str:
    """The region key of an incident: admin1 region, else its country, else ``unknown``.

    Incidents located only to a country are still counted (under the country code) rather than
    dropped; their windows are a coarser aggregate of the incidents that could not be placed
    in a region.
    """
    location = incident.location
    if location is None:
        return "unknown"
    return location.region_id or location.country_code or "unknown"


def region_name_of(incident: Incident) -> str | None:
    """A human name of the incident's region, when known."""
    location = incident.location
    if location is None:
        return None
    if location.region_id:
        return location.admin1
    return location.country_code


def event_time_of(incident: Incident) -> datetime:
    """The time windows use: ``event_time``, else the ``event_date`` midnight, else publication."""
    if incident.event_time is not None:
        return as_utc(incident.event_time)
    if incident.event_date:
        try:
            return datetime.fromisoformat(incident.event_date[:10]).replace(tzinfo=UTC)
        except ValueError:
            pass  # A malformed date is no reason to lose the incident: use publication time.
    return as_utc(incident.published_at)


# ---------------------------------------------------------------------------------------------
# Window state and its fold
# ---------------------------------------------------------------------------------------------


class _StateRecord(
    faust.Record,
    abstract=True,
    serializer="json",
    isodates=True,
    include_metadata=False,
):
    """Base: plain JSON records (no Faust metadata keys)."""


def to_json(record: faust.Record | WindowState) -> dict[str, Any]:
    """A record as plain JSON data (what the stores hold: str keys, JSON values)."""
    if isinstance(record, WindowState):
        return record.to_json()
    data: dict[str, Any] = orjson.loads(record.dumps())
    return data


def _time(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else as_utc(datetime.fromisoformat(value))


# Window state is kept as frozen dataclasses, not Faust records: it is read and written for
# every window of every cluster (26 with the default kinds), and a Faust record costs about
# ten times as much to build. Stores hold its plain JSON form (to_json / load_state).


@dataclass(frozen=True)
class Contribution:
    """What one cluster (at one revision) adds to a window."""

    cluster_id: str
    revision: int
    event_time: datetime
    weapon: str  # category, "unknown" when not stated
    evidence: str
    actor: str | None = None
    killed: int | None = None
    wounded: int | None = None
    target: str | None = None
    produced_at: datetime | None = None
    region_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data (built once per contribution: a window re-serialises them often)."""
        return self._json

    @cached_property
    def _json(self) -> dict[str, Any]:
        return {
            "cluster_id": self.cluster_id,
            "revision": self.revision,
            "event_time": _time(self.event_time),
            "weapon": self.weapon,
            "evidence": self.evidence,
            "actor": self.actor,
            "killed": self.killed,
            "wounded": self.wounded,
            "target": self.target,
            "produced_at": _time(self.produced_at),
            "region_name": self.region_name,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Contribution:
        """Inverse of :meth:`to_json`."""
        return cls(
            cluster_id=data["cluster_id"],
            revision=int(data["revision"]),
            event_time=as_utc(datetime.fromisoformat(data["event_time"])),
            weapon=data["weapon"],
            evidence=data["evidence"],
            actor=data.get("actor"),
            killed=data.get("killed"),
            wounded=data.get("wounded"),
            target=data.get("target"),
            produced_at=_parse_time(data.get("produced_at")),
            region_name=data.get("region_name"),
        )

    def order_key(self) -> tuple[int, str]:
        """A total order: revision first, then the content (settles equal revisions)."""
        return self.revision, json.dumps(self._json, sort_keys=True)


@dataclass(frozen=True)
class WindowState:
    """One region's window: the clusters in it and the aggregates derived from them."""

    region: str
    kind: str
    start: datetime
    end: datetime
    contributions: Mapping[str, Contribution]
    count: int = 0
    by_weapon: Mapping[str, int] = field(default_factory=dict)
    by_actor: Mapping[str, int] = field(default_factory=dict)
    killed: int = 0
    wounded: int = 0
    closed: bool = False
    region_name: str | None = None

    @property
    def window(self) -> WindowRange:
        """The window as a WindowRange."""
        return WindowRange(kind=self.kind, start=self.start, end=self.end)

    def derive(self, **changes: Any) -> WindowState:
        """A copy with ``changes`` (as ``faust.Record.derive``)."""
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data, keys in a stable order."""
        return {
            "region": self.region,
            "kind": self.kind,
            "start": _time(self.start),
            "end": _time(self.end),
            "closed": self.closed,
            "region_name": self.region_name,
            "count": self.count,
            "by_weapon": dict(self.by_weapon),
            "by_actor": dict(self.by_actor),
            "killed": self.killed,
            "wounded": self.wounded,
            "contributions": {key: c.to_json() for key, c in self.contributions.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WindowState:
        """Inverse of :meth:`to_json`."""
        return cls(
            region=data["region"],
            kind=data["kind"],
            start=as_utc(datetime.fromisoformat(data["start"])),
            end=as_utc(datetime.fromisoformat(data["end"])),
            contributions={
                key: Contribution.from_json(value) for key, value in data["contributions"].items()
            },
            count=int(data["count"]),
            by_weapon=dict(data["by_weapon"]),
            by_actor=dict(data["by_actor"]),
            killed=int(data["killed"]),
            wounded=int(data["wounded"]),
            closed=bool(data["closed"]),
            region_name=data.get("region_name"),
        )


def empty_state(region: str, window: Window) -> WindowState:
    """A window with nothing in it yet."""
    return WindowState(
        region=region,
        kind=window.kind,
        start=as_utc(window.start),
        end=as_utc(window.end),
        contributions={},
    )


def contribution_of(cluster: Incident) -> Contribution:
    """The part of a cluster a window keeps."""
    counts = cluster.counts
    return Contribution(
        cluster_id=cluster.cluster_id or cluster.incident_id,
        revision=cluster.revision,
        event_time=event_time_of(cluster),
        weapon=cluster.weapon.category if cluster.weapon else "unknown",
        evidence=cluster.evidence.sentence,
        actor=cluster.actor.name if cluster.actor else None,
        killed=counts.killed.value if counts.killed else None,
        wounded=counts.wounded.value if counts.wounded else None,
        target=cluster.target,
        produced_at=as_utc(cluster.produced_at) if cluster.produced_at else None,
        region_name=region_name_of(cluster),
    )


def _with_contributions(
    state: WindowState, contributions: Mapping[str, Contribution]
) -> WindowState:
    # Aggregates are recomputed from the contributions, never incremented: that is what makes
    # the fold idempotent and order-independent, and a revision replace its earlier self.
    ordered = dict(sorted(contributions.items()))
    by_weapon: dict[str, int] = {}
    by_actor: dict[str, int] = {}
    killed = wounded = 0
    for item in ordered.values():
        by_weapon[item.weapon] = by_weapon.get(item.weapon, 0) + 1
        if item.actor:
            by_actor[item.actor] = by_actor.get(item.actor, 0) + 1
        killed += item.killed or 0
        wounded += item.wounded or 0
    names = [item.region_name for item in ordered.values() if item.region_name]
    return replace(
        state,
        contributions=ordered,
        count=len(ordered),
        by_weapon=dict(sorted(by_weapon.items())),
        by_actor=dict(sorted(by_actor.items())),
        killed=killed,
        wounded=wounded,
        region_name=min(names) if names else None,
    )


def rebound(state: WindowState, start: datetime, end: datetime, closed: bool) -> WindowState:
    """``state`` under other bounds: ``derive`` without re-running the constructor.

    Hopping windows over the same panes hold the same clusters, two dozen of them a report.
    """
    moved = object.__new__(WindowState)
    moved.__dict__.update(state.__dict__, start=start, end=end, closed=closed)
    return moved


def compose(
    region: str, window: Window, panes: Iterable[WindowState | None], *, closed: bool
) -> WindowState:
    """A hopping window's state from the states of the panes it spans (None: an empty pane)."""
    contributions: dict[str, Contribution] = {}
    for pane in panes:
        if pane is not None:
            contributions.update(pane.contributions)
    state = empty_state(region, window)
    return _with_contributions(replace(state, closed=closed), contributions)


def fold_contribution(state: WindowState, new: Contribution) -> WindowState:
    """:func:`fold` for a contribution already made (one per cluster, reused for its windows)."""
    old = state.contributions.get(new.cluster_id)
    # The higher revision replaces the lower; equal revisions should be equal, but a total
    # order on the content keeps the fold order-independent even if they are not.
    if old is not None and (
        old.revision > new.revision
        or (old.revision == new.revision and (old == new or old.order_key() > new.order_key()))
    ):
        return state
    return _with_contributions(state, {**state.contributions, new.cluster_id: new})


def fold(state: WindowState, cluster: Incident) -> WindowState:
    """Add a cluster to a window; a later revision of the same cluster replaces the earlier.

    Order-independent and idempotent: the state is a function of the set of clusters folded.
    """
    return fold_contribution(state, contribution_of(cluster))


def retract(state: WindowState, cluster_id: str) -> WindowState:
    """Remove a cluster (it moved to another window, or was superseded by a merged cluster)."""
    if cluster_id not in state.contributions:
        return state
    rest = {key: value for key, value in state.contributions.items() if key != cluster_id}
    return _with_contributions(state, rest)


def load_state(data: Mapping[str, Any] | WindowState) -> WindowState:
    """A window state from what a store holds (JSON data, or the state itself)."""
    if isinstance(data, WindowState):
        return data
    return WindowState.from_json(data)


# ---------------------------------------------------------------------------------------------
# Watermark, closing and expiry
# ---------------------------------------------------------------------------------------------


class Watermark(_StateRecord):
    """The stream's event clock: the latest event time seen (clamped to publication time)."""

    max_event_time: datetime | None = None

    def observe(self, event_time: datetime) -> Watermark:
        """The watermark after seeing ``event_time`` (it never goes back)."""
        moment = as_utc(event_time)
        if self.max_event_time is not None and as_utc(self.max_event_time) >= moment:
            return self
        return Watermark(max_event_time=moment)

    def value(self, grace: timedelta) -> datetime | None:
        """Max event time minus allowed lateness: windows ending before it are complete."""
        return None if self.max_event_time is None else as_utc(self.max_event_time) - grace


class _HasEnd(Protocol):
    @property
    def end(self) -> datetime: ...


_W = TypeVar("_W", bound=_HasEnd)


def closing_clock(watermark: Watermark, now: datetime, config: WindowsConfig) -> datetime:
    """The time closing is judged by: the event clock, or the wall clock minus the idle timeout.

    The event clock alone stalls when the stream goes quiet, and a quiet region's windows must
    still close; the wall clock alone would close live windows before their reports arrive
    (news reports an event hours after it happens), hence ``now - idle_timeout``.
    """
    wall = as_utc(now) - config.idle_timeout
    if watermark.max_event_time is None:
        return wall
    return max(as_utc(watermark.max_event_time), wall)


def close_due(
    windows: Iterable[_W], watermark: Watermark, now: datetime, config: WindowsConfig
) -> list[_W]:
    """The windows to close now: ``end + grace <= max(watermark event time, now - idle_timeout)``.

    Closing evaluates the closing rules (spike); a closed window is kept until it expires and
    late incidents still count in it.
    """
    clock = closing_clock(watermark, now, config)
    return [window for window in windows if as_utc(window.end) + config.grace <= clock]


def expired(window: _HasEnd, retention: timedelta, watermark: Watermark) -> bool:
    """True once the event clock is past ``end + retention``: the window is gone.

    Judged by event time only, never by the wall clock: a worker fed last year's articles would
    otherwise expire every window at once and report every incident as late.
    """
    if watermark.max_event_time is None:
        return False
    return as_utc(window.end) + retention <= as_utc(watermark.max_event_time)


class LateIncident(_StateRecord):
    """A cluster (revision) that arrived after some of its windows expired: not counted there."""

    region: str
    incident: Incident
    windows: list[WindowRange]
    watermark: datetime
    reason: str
    detected_at: datetime | None = None


def late_reason(windows: Sequence[Window], watermark: datetime) -> str:
    """A one-line explanation for a late incident (hopping windows summarised per kind)."""
    by_kind: dict[str, list[datetime]] = {}
    for window in windows:
        by_kind.setdefault(window.kind, []).append(as_utc(window.start))
    parts = []
    for kind, starts in by_kind.items():
        first = min(starts).strftime(KEY_TIME_FORMAT)
        if len(starts) == 1:
            parts.append(f"{kind} {first}")
        else:
            last = max(starts).strftime(KEY_TIME_FORMAT)
            parts.append(f"{kind} x{len(starts)} {first}..{last}")
    clock = as_utc(watermark).strftime(KEY_TIME_FORMAT)
    return f"window expired before the incident arrived ({'; '.join(parts)}; event clock {clock})"
