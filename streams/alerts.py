"""Alert rules from config/alerts.yaml, their evaluation on window states, and the ledger."""

from __future__ import annotations

import bisect
import hashlib
import math
import re
from collections.abc import Callable, Container, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, lru_cache, partial
from pathlib import Path
from typing import Any, Protocol

from streams.records import Alert, AlertIncident
from streams.settings import config_dir
from streams.windows import (
    ConfigDoc,
    Contribution,
    KeyPath,
    WindowsConfig,
    WindowState,
    as_utc,
    key_time,
    load_yaml,
    parse_duration,
)

SEVERITIES = ("high", "medium", "low")
RULE_TYPES = ("threshold", "casualties", "spike", "new_actor", "new_weapon", "target")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_COMMON_KEYS = ("name", "type", "severity", "window", "regions", "description")
_TYPE_KEYS = {
    "threshold": ("min_count",),
    "casualties": ("min_killed", "min_wounded"),
    "spike": ("baseline_windows", "ratio", "min_count", "baseline_floor"),
    "new_actor": ("lookback",),
    "new_weapon": ("lookback",),
    "target": ("targets",),
}
# Figures whose rise is an escalation (a new revision); a fall is not re-published.
ESCALATING_FIGURES = {
    "threshold": ("count",),
    "casualties": ("killed", "wounded"),
    "spike": ("count", "ratio"),
    "new_actor": ("count",),
    "new_weapon": ("count",),
    "target": ("count",),
}


# ---------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """What every rule has: a name, a type, a severity, the window kind it watches."""

    name: str
    type: str
    severity: str
    window: str
    regions: frozenset[str] | None  # None: every region

    @property
    def on_close(self) -> bool:
        """True for rules judged once a window is complete (spike), not at every update."""
        return False

    def applies_to(self, state: WindowState) -> bool:
        """Whether the rule watches this window (its kind, and its region when filtered)."""
        return state.kind == self.window and (self.regions is None or state.region in self.regions)


@dataclass(frozen=True)
class ThresholdRule(Rule):
    """At least ``min_count`` incident clusters in a window."""

    min_count: int


@dataclass(frozen=True)
class CasualtiesRule(Rule):
    """At least ``min_killed`` killed (or ``min_wounded`` wounded) in a window."""

    min_killed: int | None
    min_wounded: int | None


@dataclass(frozen=True)
class SpikeRule(Rule):
    """A closed window with ``count >= ratio * baseline`` and ``count >= min_count``.

    The baseline is the mean count of the ``baseline_windows`` previous windows of the same kind
    and region (back to back, each one ``size`` earlier), no lower than ``baseline_floor``.
    """

    baseline_windows: int
    ratio: float
    min_count: int
    baseline_floor: float

    @property
    def on_close(self) -> bool:
        """Judged on closed windows: a half-filled window is no spike yet."""
        return True


@dataclass(frozen=True)
class NoveltyRule(Rule):
    """An actor (``new_actor``) or weapon category (``new_weapon``) unseen in the region."""

    lookback: timedelta

    @property
    def field(self) -> str:
        """``actor`` or ``weapon``."""
        return "actor" if self.type == "new_actor" else "weapon"


@dataclass(frozen=True)
class TargetRule(Rule):
    """Any incident whose target contains one of ``targets`` (case-insensitive)."""

    targets: tuple[str, ...]


def default_alerts_path() -> Path:
    """``config/alerts.yaml`` under the configured config folder."""
    return config_dir() / "alerts.yaml"


def _int(doc: ConfigDoc, keypath: KeyPath, low: int, *, required: bool = True) -> int | None:
    value = doc.get(keypath)
    if value is None and not required:
        return None
    if value is None:
        raise doc.error(keypath, "missing; expected a whole number")
    if isinstance(value, bool) or not isinstance(value, int):
        raise doc.error(keypath, f"expected a whole number, got {value!r}")
    if value < low:
        raise doc.error(keypath, f"must be at least {low}")
    return value


def _float(doc: ConfigDoc, keypath: KeyPath, low: float) -> float:
    value = doc.get(keypath)
    if value is None:
        raise doc.error(keypath, "missing; expected a number")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise doc.error(keypath, f"expected a number, got {value!r}")
    if value < low:
        raise doc.error(keypath, f"must be at least {low}")
    return float(value)


def _rule(doc: ConfigDoc, index: int, windows: WindowsConfig) -> Rule:
    where: KeyPath = ("rules", index)
    doc.mapping(where)
    rtype = doc.get((*where, "type"))
    if rtype not in RULE_TYPES:
        raise doc.error((*where, "type"), f"{rtype!r} is not one of {', '.join(RULE_TYPES)}")
    doc.check_keys(where, (*_COMMON_KEYS, *_TYPE_KEYS[rtype]))
    name = doc.get((*where, "name"))
    if not isinstance(name, str) or not _NAME.match(name):
        raise doc.error((*where, "name"), "a rule name is lower case letters, digits and _")
    severity = doc.get((*where, "severity"))
    if severity not in SEVERITIES:
        raise doc.error((*where, "severity"), f"{severity!r} is not one of {', '.join(SEVERITIES)}")
    window = doc.get((*where, "window"))
    if window not in windows.kinds:
        raise doc.error(
            (*where, "window"),
            f"{window!r} is not a window of windows.yaml ({', '.join(windows.kinds)})",
        )
    regions_value = doc.get((*where, "regions"))
    regions = None
    if regions_value is not None:
        if not isinstance(regions_value, list) or not all(
            isinstance(item, str) for item in regions_value
        ):
            raise doc.error((*where, "regions"), "expected a list of region ids such as IQ.07")
        regions = frozenset(regions_value)
    common = {"name": name, "type": rtype, "severity": severity, "window": window}
    if rtype == "threshold":
        return ThresholdRule(
            **common, regions=regions, min_count=_int(doc, (*where, "min_count"), 1) or 1
        )
    if rtype == "casualties":
        killed = _int(doc, (*where, "min_killed"), 1, required=False)
        wounded = _int(doc, (*where, "min_wounded"), 1, required=False)
        if killed is None and wounded is None:
            raise doc.error((*where, "min_killed"), "missing; give min_killed or min_wounded")
        return CasualtiesRule(**common, regions=regions, min_killed=killed, min_wounded=wounded)
    if rtype == "spike":
        baseline_windows = _int(doc, (*where, "baseline_windows"), 1) or 1
        spec = windows.spec(window)
        if spec.retention <= baseline_windows * spec.size + windows.grace:
            # The baseline windows must still be retained when the current window closes.
            raise doc.error(
                (*where, "baseline_windows"),
                f"{baseline_windows} windows of {window} outlive its retention in windows.yaml",
            )
        return SpikeRule(
            **common,
            regions=regions,
            baseline_windows=baseline_windows,
            ratio=_float(doc, (*where, "ratio"), 1.0),
            min_count=_int(doc, (*where, "min_count"), 1) or 1,
            baseline_floor=_float(doc, (*where, "baseline_floor"), 0.01),
        )
    if rtype in ("new_actor", "new_weapon"):
        return NoveltyRule(
            **common, regions=regions, lookback=parse_duration(doc, (*where, "lookback"))
        )
    targets = doc.get((*where, "targets"))
    if (
        not isinstance(targets, list)
        or not targets
        or not all(isinstance(item, str) and item.strip() for item in targets)
    ):
        raise doc.error((*where, "targets"), "expected a non-empty list of target words")
    return TargetRule(
        **common, regions=regions, targets=tuple(item.strip().casefold() for item in targets)
    )


def load_rules(windows: WindowsConfig, path: Path | None = None) -> tuple[Rule, ...]:
    """Load and validate ``config/alerts.yaml`` against the window kinds of ``windows``."""
    doc = load_yaml(path or default_alerts_path())
    doc.mapping(())
    doc.check_keys((), ("rules",))
    rules_value = doc.get(("rules",))
    if not isinstance(rules_value, list) or not rules_value:
        raise doc.error(("rules",), "expected a non-empty list of rules")
    rules = []
    names: set[str] = set()
    for index in range(len(rules_value)):
        rule = _rule(doc, index, windows)
        if rule.name in names:
            # The name is part of the alert id: two rules of one name would overwrite each other.
            raise doc.error(("rules", index, "name"), f"{rule.name!r} is used twice")
        names.add(rule.name)
        rules.append(rule)
    return tuple(rules)


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


class Context(Protocol):
    """What rules need beyond the window itself (the pipeline provides it from its stores)."""

    def baseline(self, state: WindowState, windows: int) -> list[int] | None:
        """Counts of the ``windows`` previous windows, or None when they were not observed."""
        ...

    def seen(self, region: str, field: str, value: str) -> Sequence[tuple[datetime, str]]:
        """The region's clusters with this actor or weapon category: (event time, id), sorted."""
        ...


@lru_cache(maxsize=65536)  # asked for every window a report touches, a few rules each
def alert_id_of(rule: str, region: str, kind: str, start: datetime) -> str:
    """Deterministic alert id: a hash of (rule, region, window)."""
    text = f"{rule}|{region}|{kind}|{key_time(start)}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _label(state: WindowState) -> str:
    region = f"{state.region_name} ({state.region})" if state.region_name else state.region
    return f"{region}, {state.kind} from {key_time(state.start)}"


@dataclass(frozen=True)
class Finding:
    """A rule satisfied by a window: what an Alert says, before the ledger numbers it.

    Cheap to make; the Alert record is built only for findings the ledger admits, and the
    contributions are put in order only then: the ledger compares sets of ids.
    """

    rule: Rule
    state: WindowState
    figures: dict[str, float]
    chosen: tuple[Contribution, ...]  # in any order
    reason: str

    @cached_property
    def contributions(self) -> tuple[Contribution, ...]:
        """The contributions by event time, then id."""
        return tuple(sorted(self.chosen, key=lambda c: (as_utc(c.event_time), c.cluster_id)))

    @property
    def alert_id(self) -> str:
        """Deterministic: a hash of (rule, region, window)."""
        return alert_id_of(self.rule.name, self.state.region, self.state.kind, self.state.start)

    @property
    def incident_ids(self) -> list[str]:
        """The contributing incident (cluster) ids."""
        return [c.cluster_id for c in self.contributions]

    def fingerprint(self) -> str:
        """What the alert says (figures, incidents, evidence), not when it was made."""
        return _fingerprint(self.figures, [(c.cluster_id, c.evidence) for c in self.contributions])

    def to_alert(self, now: datetime | None = None, revision: int = 1) -> Alert:
        """The Alert record."""
        produced = [as_utc(c.produced_at) for c in self.contributions if c.produced_at]
        return Alert(
            alert_id=self.alert_id,
            rule=self.rule.name,
            severity=self.rule.severity,
            region=self.state.region,
            window=self.state.window,
            figures=self.figures,
            incidents=[
                AlertIncident(incident_id=c.cluster_id, evidence=c.evidence)
                for c in self.contributions
            ],
            revision=revision,
            region_name=self.state.region_name,
            reason=self.reason,
            created_at=as_utc(now) if now is not None else None,
            produced_at=min(produced) if produced else None,
        )


def _make(
    rule: Rule,
    state: WindowState,
    figures: dict[str, float],
    contributions: Iterable[Contribution],
    reason: str,
) -> Finding:
    return Finding(rule, state, figures, tuple(contributions), reason)


def _is_new(
    contribution: Contribution, seen: Sequence[tuple[datetime, str]], lookback: timedelta
) -> bool:
    """Whether no other cluster with this value came earlier within the lookback.

    ``seen``: the (UTC time, cluster id) of every cluster with the value, in order. Ties in
    time are settled by cluster id, so that exactly one of two simultaneous clusters is first.
    """
    moment = as_utc(contribution.event_time)
    mine = (moment, contribution.cluster_id)
    # The earliest entry within the lookback decides: this cluster itself or one after it,
    # and so is every other entry within the lookback.
    first = bisect.bisect_left(seen, (moment - lookback, ""))
    return first == len(seen) or seen[first][1] == contribution.cluster_id or seen[first] >= mine


def _novelty(
    rule: NoveltyRule, state: WindowState, context: Context
) -> tuple[list[str], list[Contribution]]:
    values: set[str] = set()
    chosen = []
    ordered: dict[str, Sequence[tuple[datetime, str]]] = {}  # per value: its clusters by time
    for item in state.contributions.values():
        value = item.actor if rule.field == "actor" else item.weapon
        if not value or value == "unknown":
            continue
        seen = ordered.get(value)
        if seen is None:
            seen = ordered[value] = context.seen(state.region, rule.field, value)
        if _is_new(item, seen, rule.lookback):
            values.add(value)
            chosen.append(item)
    return sorted(values), chosen


def evaluate_rule(
    rule: Rule, state: WindowState, context: Context, now: datetime | None = None
) -> Alert | None:
    """One rule on one window: the alert (revision 1; the ledger numbers it), or None."""
    found = find(rule, state, context)
    return None if found is None else found.to_alert(now)


def find(rule: Rule, state: WindowState, context: Context) -> Finding | None:
    """One rule on one window: the finding, or None when the rule is not satisfied."""
    contributions = list(state.contributions.values())
    if isinstance(rule, ThresholdRule):
        if state.count < rule.min_count:
            return None
        figures: dict[str, float] = {"count": state.count, "min_count": rule.min_count}
        label = _label(state)
        reason = f"{state.count} incidents in {label} (threshold {rule.min_count})"
        return _make(rule, state, figures, contributions, reason)
    if isinstance(rule, CasualtiesRule):
        killed_hit = rule.min_killed is not None and state.killed >= rule.min_killed
        wounded_hit = rule.min_wounded is not None and state.wounded >= rule.min_wounded
        if not (killed_hit or wounded_hit):
            return None
        figures = {"killed": state.killed, "wounded": state.wounded}
        limits = []
        if rule.min_killed is not None:
            figures["min_killed"] = rule.min_killed
            limits.append(f"killed >= {rule.min_killed}")
        if rule.min_wounded is not None:
            figures["min_wounded"] = rule.min_wounded
            limits.append(f"wounded >= {rule.min_wounded}")
        hurt = [c for c in contributions if (c.killed or 0) + (c.wounded or 0) > 0]
        label = _label(state)
        reason = (
            f"{state.killed} killed, {state.wounded} wounded in {label} ({' or '.join(limits)})"
        )
        return _make(rule, state, figures, hurt, reason)
    if isinstance(rule, SpikeRule):
        if not state.closed or state.count < rule.min_count:
            return None
        counts = context.baseline(state, rule.baseline_windows)
        if counts is None:
            return None
        baseline = sum(counts) / len(counts)
        ratio = state.count / max(baseline, rule.baseline_floor)
        if ratio < rule.ratio:
            return None
        label = _label(state)
        figures = {
            "count": state.count,
            "baseline": round(baseline, 3),
            "ratio": round(ratio, 3),
            "threshold_ratio": rule.ratio,
            "min_count": rule.min_count,
            "baseline_windows": rule.baseline_windows,
        }
        reason = (
            f"{state.count} incidents in {label} against a baseline of {baseline:.2f} "
            f"(mean of the {rule.baseline_windows} previous windows): ratio {ratio:.2f} "
            f">= {rule.ratio:g}"
        )
        return _make(rule, state, figures, contributions, reason)
    if isinstance(rule, NoveltyRule):
        values, chosen = _novelty(rule, state, context)
        if not values:
            return None
        days = rule.lookback / timedelta(days=1)
        label = _label(state)
        figures = {"count": len(values), "lookback_days": round(days, 3)}
        reason = (
            f"new {'actor' if rule.field == 'actor' else 'weapon category'} in {label} "
            f"(not seen in the previous {days:g} days): {', '.join(values)}"
        )
        return _make(rule, state, figures, chosen, reason)
    if isinstance(rule, TargetRule):
        hits = [
            c
            for c in contributions
            if c.target and any(word in c.target.casefold() for word in rule.targets)
        ]
        if not hits:
            return None
        targets = sorted({c.target or "" for c in hits})
        label = _label(state)
        figures = {"count": len(hits)}
        reason = f"{len(hits)} attack(s) on {', '.join(targets)} in {label}"
        return _make(rule, state, figures, hits, reason)
    raise TypeError(f"unknown rule {rule!r}")


def findings(
    rules: Sequence[Rule],
    state: WindowState,
    context: Context,
    *,
    on_close_only: bool = False,
    skip: Container[str] = (),
) -> list[Finding]:
    """:func:`evaluate` without building the Alert records; rules named in ``skip`` are not."""
    found = []
    for rule in rules:
        if not rule.applies_to(state) or (on_close_only and not rule.on_close):
            continue
        if rule.name in skip:
            continue
        finding = find(rule, state, context)
        if finding is not None:
            found.append(finding)
    return found


def evaluate(
    rules: Sequence[Rule],
    state: WindowState,
    context: Context,
    now: datetime | None = None,
    *,
    on_close_only: bool = False,
) -> list[Alert]:
    """Every rule watching ``state``'s window kind and region, in config order.

    Update rules (threshold, casualties, target, new_*) are judged at every change of the
    window; closing rules (spike) only once it is closed. ``on_close_only`` judges closing rules
    alone (the window just closed; the others have seen every update already).
    """
    found = findings(rules, state, context, on_close_only=on_close_only)
    return [finding.to_alert(now) for finding in found]


# ---------------------------------------------------------------------------------------------
# Ledger: what was published per alert id
# ---------------------------------------------------------------------------------------------


def _fingerprint(figures: Mapping[str, float], incidents: Iterable[tuple[str, str]]) -> str:
    parts = [f"{name}={float(value)!r}" for name, value in sorted(figures.items())]
    parts += [f"{incident_id}\x1f{evidence}" for incident_id, evidence in incidents]
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()[:20]


def fingerprint(alert: Alert) -> str:
    """A hash of what an alert says (figures and incidents), not of when it was made."""
    return _fingerprint(alert.figures, [(i.incident_id, i.evidence) for i in alert.incidents])


@dataclass(frozen=True)
class _Said:
    """What the ledger compares: an alert's id, rule, region, kind, figures, incidents."""

    alert_id: str
    rule: str
    region: str
    kind: str
    figures: Mapping[str, float]
    ids: list[str]  # in any order
    mark: Callable[[], str]  # the fingerprint, hashed only for what is admitted


_SET_MIN = 16  # shorter lists are as quickly made into sets as looked up
_SETS_KEPT = 1024


class Ledger:
    """Published alerts per alert id: the same state is never published twice.

    A new revision is published only on an escalation: an incident never published under this
    alert id before, or a rise of an escalating figure (count; killed, wounded; spike ratio)
    above the highest published. A fall (a cluster moved out, a toll revised down) is kept
    quiet: subscribers hold the higher figure already.

    Hopping windows overlap, so one burst satisfies a rule in many windows at once. For them
    (``overlapping``) an alert is also held back when another window's published alert of the
    same rule and region already covers it: all its incidents, figures as high. A burst then
    fires once, and again (under the window that holds the larger set) only when it grows.
    """

    def __init__(self, store: MutableMapping[str, Any], rules: Iterable[Rule]) -> None:
        self.store = store
        self._types = {rule.name: rule.type for rule in rules}
        # Stored incident lists as sets, by the list's id (the list is held with its set, so
        # the id cannot be another's): every finding of a report is compared with what its
        # alert id and its cover entries hold, lists of up to hundreds of ids, read as sets
        # over and over while the stored value stays the same object.
        self._sets: dict[int, tuple[list[str], frozenset[str]]] = {}

    def _set_of(self, ids: list[str]) -> frozenset[str]:
        held = self._sets.get(id(ids))
        if held is not None and held[0] is ids:
            return held[1]
        found = frozenset(ids)
        if len(ids) >= _SET_MIN:
            if len(self._sets) >= _SETS_KEPT:
                del self._sets[next(iter(self._sets))]  # the oldest
            self._sets[id(ids)] = (ids, found)
        return found

    def _escalating(self, rule: str) -> tuple[str, ...]:
        return ESCALATING_FIGURES.get(self._types.get(rule, ""), ("count",))

    def _covered(self, said: _Said, key: str) -> bool:
        entries = self.store.get(key)
        if not entries:
            return False
        wanted = set(said.ids)
        figures = [(n, said.figures[n]) for n in self._escalating(said.rule) if n in said.figures]
        for entry in entries:
            # The figures first: comparing them is cheaper than the sets of incidents.
            if entry["alert_id"] == said.alert_id or len(wanted) > len(entry["incidents"]):
                continue
            held = entry["figures"]
            if any(value > held.get(name, -math.inf) for name, value in figures):
                continue
            if wanted <= self._set_of(entry["incidents"]):
                return True
        return False

    def _cover(self, said: _Said, key: str, expires_at: datetime) -> None:
        ids = said.ids
        figures = {n: said.figures[n] for n in self._escalating(said.rule) if n in said.figures}
        entry = {
            "alert_id": said.alert_id,
            "incidents": sorted(ids),
            "figures": figures,
            "expires_at": as_utc(expires_at).isoformat(),
        }
        # Entries the new one covers are dropped: whatever they covered, it covers too.
        new = set(ids)
        kept = [
            old
            for old in self.store.get(key) or ()
            if not (
                self._set_of(old["incidents"]) <= new
                and all(v <= figures.get(n, float("-inf")) for n, v in old["figures"].items())
            )
        ]
        self.store[key] = [*kept, entry]

    def admit(
        self, alert: Alert, expires_at: datetime, *, overlapping: bool = False
    ) -> Alert | None:
        """The alert with its revision when it is to be published, else None."""
        revision = self._admit(
            _Said(
                alert.alert_id,
                alert.rule,
                alert.region,
                alert.window.kind,
                dict(alert.figures),
                [item.incident_id for item in alert.incidents],
                partial(fingerprint, alert),
            ),
            expires_at,
            overlapping,
        )
        return None if revision is None else alert.derive(revision=revision)

    def admit_finding(
        self, finding: Finding, expires_at: datetime, *, overlapping: bool = False
    ) -> int | None:
        """:meth:`admit` for a finding: the revision to publish it with, or None."""
        said = _Said(
            finding.alert_id,
            finding.rule.name,
            finding.state.region,
            finding.state.kind,
            finding.figures,
            [c.cluster_id for c in finding.chosen],
            finding.fingerprint,
        )
        return self._admit(said, expires_at, overlapping)

    def _admit(self, said: _Said, expires_at: datetime, overlapping: bool) -> int | None:
        held = self.store.get(said.alert_id)
        if held is None:
            revision = 1
            known: frozenset[str] = frozenset()
            highest: dict[str, float] = {}
        else:
            # An alert saying what the last revision said has no new incident and no figure
            # above the highest published, so the test below holds it back too: its
            # fingerprint need not be compared (or even hashed).
            known = self._set_of(held["incidents"])
            highest = dict(held["figures"])
            rising = any(
                name in said.figures and said.figures[name] > highest.get(name, float("-inf"))
                for name in self._escalating(said.rule)
            )
            if not rising and known.issuperset(said.ids):
                return None
            revision = int(held["revision"]) + 1
        cover_key = f"covers|{said.rule}|{said.region}|{said.kind}"
        if overlapping and self._covered(said, cover_key):
            return None
        for name, value in said.figures.items():
            highest[name] = max(value, highest.get(name, value))
        # Reassigned, never mutated in place: a Faust table only logs what is assigned.
        self.store[said.alert_id] = {
            "region": said.region,
            "revision": revision,
            "fingerprint": said.mark(),
            "incidents": sorted(known.union(said.ids)),
            "figures": dict(sorted(highest.items())),
            "expires_at": as_utc(expires_at).isoformat(),
        }
        if overlapping:
            self._cover(said, cover_key, expires_at)
        return revision

    def prune(self, clock: datetime, owns: Callable[[str], bool] | None = None) -> int:
        """Forget alerts whose window has expired by ``clock``; returns how many.

        ``owns(region)``: only alerts of these regions (see ``Pipeline.on_tick``).
        """
        moment = as_utc(clock)
        pruned = 0
        for key, value in list(self.store.items()):
            region = key.split("|")[2] if isinstance(value, list) else value.get("region", "")
            if owns is not None and not owns(region):
                continue
            if isinstance(value, list):
                kept = [e for e in value if datetime.fromisoformat(e["expires_at"]) > moment]
                if not kept:
                    del self.store[key]
                elif len(kept) != len(value):
                    self.store[key] = kept
            elif datetime.fromisoformat(value["expires_at"]) <= moment:
                del self.store[key]
                pruned += 1
        return pruned
