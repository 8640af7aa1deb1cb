"""Corroboration: reports of one incident from several articles merge into one cluster."""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from streams.records import Actor, Count, Counts, Incident, Location, Source, Weapon
from streams.settings import config_dir
from streams.windows import (
    ConfigDoc,
    KeyPath,
    as_utc,
    event_time_of,
    load_yaml,
    parse_duration,
)

PRECISIONS = ("day", "week", "month", "unknown")
COUNT_FIELDS = ("quantity", "killed", "wounded")
# Ranks for "which count is more credible": a figure beats a vague word ("dozens").
QUALIFIER_RANK = {"exact": 0, "approx": 1, "at_least": 2, "vague": 3}
LOCATION_PRECISION_RANK = {"landmark": 0, "district": 1, "city": 2, "admin1": 3, "country": 4}
# Confidence is handled in thousandths so the best report's score is recovered exactly.
_MILLI = 1000


@dataclass(frozen=True)
class CountRule:
    """Two figures ``a <= b`` of one count contradict when ``b > ratio * a + slack``."""

    ratio: float
    slack: int


@dataclass(frozen=True)
class CorroborationConfig:
    """Matching and merging parameters from ``config/corroboration.yaml``."""

    date_tolerance_days: Mapping[str, int]
    weapon_generic: Mapping[str, frozenset[str]]
    weapon_families: tuple[frozenset[str], ...]
    weapon_preference: tuple[str, ...]
    count_contradiction: Mapping[str, CountRule | None]
    soft_attributions: frozenset[str]
    attribution_preference: tuple[str, ...]
    max_distance_km: float
    distance_precisions: frozenset[str]
    same_place_precisions: frozenset[str]
    corroboration_weight: Fraction
    max_outlets: int
    target_preference: tuple[str, ...]
    cluster_retention: timedelta
    # weapons_compatible's answers by pair of categories (a closed taxonomy): asked for every
    # candidate cluster of every report.
    weapon_pairs: dict[tuple[str, str], bool] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )
    # _confidence's and _best_milli's answers (exact fractions, a few per merge), by their
    # arguments: at most a thousand scores times the outlets counted, each way.
    confidences: dict[tuple[int, int], float] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )
    best_millis: dict[tuple[float, int], int] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def max_tolerance(self) -> int:
        """The widest date tolerance: how many days around a report to look for clusters."""
        return max(self.date_tolerance_days.values())


def default_corroboration_path() -> Path:
    """``config/corroboration.yaml`` under the configured config folder."""
    return config_dir() / "corroboration.yaml"


def _string_list(doc: ConfigDoc, keypath: KeyPath) -> tuple[str, ...]:
    value = doc.get(keypath)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise doc.error(keypath, "expected a list of strings")
    return tuple(value)


def _number(doc: ConfigDoc, keypath: KeyPath, low: float, high: float) -> float:
    value = doc.get(keypath)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise doc.error(keypath, f"expected a number, got {value!r}")
    if not low <= value <= high:
        raise doc.error(keypath, f"{value} is outside [{low}, {high}]")
    return float(value)


def load_corroboration(path: Path | None = None) -> CorroborationConfig:
    """Load and validate ``config/corroboration.yaml``."""
    doc = load_yaml(path or default_corroboration_path())
    doc.mapping(())
    doc.check_keys(
        (),
        (
            "date_tolerance_days",
            "weapon_generic",
            "weapon_families",
            "weapon_preference",
            "count_contradiction",
            "soft_attributions",
            "attribution_preference",
            "max_distance_km",
            "distance_precisions",
            "same_place_precisions",
            "corroboration_weight",
            "max_outlets",
            "target_preference",
            "cluster_retention",
        ),
    )
    doc.check_keys(("date_tolerance_days",), PRECISIONS)
    tolerance = {}
    for precision in PRECISIONS:
        tolerance[precision] = int(_number(doc, ("date_tolerance_days", precision), 0, 366))
    preference = _string_list(doc, ("weapon_preference",))
    if "unknown" in preference:
        raise doc.error(("weapon_preference",), "unknown is always last; do not list it")
    known = set(preference)

    def categories(keypath: KeyPath) -> frozenset[str]:
        names = _string_list(doc, keypath)
        for index, name in enumerate(names):
            if name not in known:
                # Catches typos: every category used here must be ranked in weapon_preference.
                raise doc.error((*keypath, index), f"{name!r} is not in weapon_preference")
        return frozenset(names)

    generic = {
        str(name): categories(("weapon_generic", name)) for name in doc.mapping(("weapon_generic",))
    }
    families = tuple(
        categories(("weapon_families", name)) for name in doc.mapping(("weapon_families",))
    )
    doc.check_keys(("count_contradiction",), COUNT_FIELDS)
    rules: dict[str, CountRule | None] = {}
    for field in COUNT_FIELDS:
        where: KeyPath = ("count_contradiction", field)
        if doc.get(where) is None:
            rules[field] = None
            continue
        doc.check_keys(where, ("ratio", "slack"))
        rules[field] = CountRule(
            ratio=_number(doc, (*where, "ratio"), 1, 1000),
            slack=int(_number(doc, (*where, "slack"), 0, 1_000_000)),
        )
    weight = _number(doc, ("corroboration_weight",), 0, 0.9)
    max_outlets = int(_number(doc, ("max_outlets",), 1, 10))

    def place_precisions(key: str) -> frozenset[str]:
        names = _string_list(doc, (key,))
        for index, name in enumerate(names):
            if name not in LOCATION_PRECISION_RANK:
                raise doc.error((key, index), f"{name!r} is not a place precision")
        return frozenset(names)

    retention = parse_duration(doc, ("cluster_retention",))
    if retention < timedelta(days=max(tolerance.values())):
        raise doc.error(("cluster_retention",), "must be at least the widest date tolerance")
    return CorroborationConfig(
        date_tolerance_days=tolerance,
        weapon_generic=generic,
        weapon_families=families,
        weapon_preference=preference,
        count_contradiction=rules,
        soft_attributions=frozenset(_string_list(doc, ("soft_attributions",))),
        attribution_preference=_string_list(doc, ("attribution_preference",)),
        max_distance_km=_number(doc, ("max_distance_km",), 0, 20_000),
        distance_precisions=place_precisions("distance_precisions"),
        same_place_precisions=place_precisions("same_place_precisions"),
        # Decimal text -> exact fraction: the confidence arithmetic below stays exact.
        corroboration_weight=Fraction(str(weight)),
        max_outlets=max_outlets,
        target_preference=_string_list(doc, ("target_preference",)),
        cluster_retention=retention,
    )


@lru_cache(maxsize=4)
def _cached_config(path: Path) -> CorroborationConfig:
    return load_corroboration(path)


def default_config() -> CorroborationConfig:
    """The config from the config folder, loaded once."""
    return _cached_config(default_corroboration_path())


# ---------------------------------------------------------------------------------------------
# Keys: where a report's candidate clusters are indexed
# ---------------------------------------------------------------------------------------------


def event_day(incident: Incident) -> date:
    """The day an incident happened, as far as known (publication day when the date is unknown)."""
    return event_time_of(incident).date()


def match_key(incident: Incident) -> tuple[str, date] | None:
    """``(region_id, event day)``: clusters are indexed by it; None when there is no region."""
    region = incident.location.region_id if incident.location else None
    if not region:
        return None
    return region, event_day(incident)


def index_key(region: str, day: date) -> str:
    """Key of the cluster index: ``IQ.07|2021-02-22``."""
    return f"{region}|{day.isoformat()}"


def candidate_keys(incident: Incident, config: CorroborationConfig | None = None) -> list[str]:
    """Index keys to read for the clusters an incident could match (widest tolerance around it)."""
    key = match_key(incident)
    if key is None:
        return []
    region, day = key
    span = (config or default_config()).max_tolerance
    return [index_key(region, day + timedelta(days=delta)) for delta in range(-span, span + 1)]


# ---------------------------------------------------------------------------------------------
# Compatibility
# ---------------------------------------------------------------------------------------------


def _category(incident: Incident) -> str:
    return incident.weapon.category if incident.weapon else "unknown"


def weapons_compatible(left: str, right: str, config: CorroborationConfig) -> bool:
    """Equal, either unknown, one generic over the other, or one family of confusable ones."""
    known = config.weapon_pairs.get((left, right))
    if known is None:
        known = config.weapon_pairs[left, right] = _weapons_compatible(left, right, config)
    return known


def _weapons_compatible(left: str, right: str, config: CorroborationConfig) -> bool:
    if left == right or "unknown" in (left, right):
        return True
    if right in config.weapon_generic.get(left, ()) or left in config.weapon_generic.get(right, ()):
        return True
    return any(left in family and right in family for family in config.weapon_families)


def _days_apart(left: Incident, right: Incident) -> int:
    return abs((event_day(left) - event_day(right)).days)


def _tolerance(incident: Incident, config: CorroborationConfig) -> int:
    return config.date_tolerance_days[_precision(incident)]


def _precision(incident: Incident) -> str:
    if not incident.event_date and incident.event_time is None:
        return "unknown"
    return incident.date_precision if incident.date_precision in PRECISIONS else "unknown"


def _km(left: Location, right: Location) -> float | None:
    if None in (left.lat, left.lon, right.lat, right.lon):
        return None
    lat1, lon1 = math.radians(left.lat or 0.0), math.radians(left.lon or 0.0)
    lat2, lon2 = math.radians(right.lat or 0.0), math.radians(right.lon or 0.0)
    # Haversine on a 6371 km sphere: plenty for "tens of kilometres apart".
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def _same_text(left: str | None, right: str | None) -> bool:
    return bool(left and right and left.strip().casefold() == right.strip().casefold())


def _linked(left: Incident, right: Incident, config: CorroborationConfig) -> bool:
    """Whether two reports share one specific detail: actor, target, quantity or fine place."""
    if left.actor and right.actor and _same_text(left.actor.name, right.actor.name):
        return True
    if _same_text(left.target, right.target):
        return True
    a, b = left.counts.quantity, right.counts.quantity
    if a and b and a.value == b.value and "vague" not in (a.qualifier, b.qualifier):
        return True
    here, there = left.location, right.location
    if here is None or there is None:
        return False
    fine = config.same_place_precisions
    if here.precision not in fine or there.precision not in fine:
        return False
    if here.geonameid is not None and here.geonameid == there.geonameid:
        return True
    return _same_text(here.canonical, there.canonical)


Figure = tuple[int, str]  # a count's value and qualifier


class Facts(NamedTuple):
    """What the cheap tests of matching read of a cluster: read off the record once.

    A report is tested against every cluster of its region's week, dozens; each read of a
    Faust record's field is a Python call, and these tests settle most candidates.
    """

    category: str
    figures: tuple[Figure | None, ...]  # per COUNT_FIELDS
    day: date  # see event_day
    precision: str  # the key of its date tolerance, see _tolerance

    @property
    def kind(self) -> Kind:
        """What :func:`may_share` reads."""
        return self.day, self.precision, self.category


Kind = tuple[date, str, str]  # a cluster's event day, date precision and weapon category


def _figures(counts: Counts) -> tuple[Figure | None, ...]:
    found = (getattr(counts, field) for field in COUNT_FIELDS)
    return tuple(None if count is None else (count.value, count.qualifier) for count in found)


def facts_of(incident: Incident) -> Facts:
    """The :class:`Facts` of a report or cluster."""
    return Facts(
        _category(incident), _figures(incident.counts), event_day(incident), _precision(incident)
    )


def _figures_contradict(
    left: tuple[Figure | None, ...], right: tuple[Figure | None, ...], config: CorroborationConfig
) -> str | None:
    for field, a, b in zip(COUNT_FIELDS, left, right, strict=True):
        rule = config.count_contradiction.get(field)
        if rule is None or a is None or b is None or "vague" in (a[1], b[1]):
            continue
        low, high = sorted((a[0], b[0]))
        if high > rule.ratio * low + rule.slack:
            return f"{field} {a[0]} vs {b[0]}"
    return None


def _counts_contradict(left: Counts, right: Counts, config: CorroborationConfig) -> str | None:
    return _figures_contradict(_figures(left), _figures(right), config)


def mismatch(
    cluster: Incident, report: Incident, config: CorroborationConfig | None = None
) -> str | None:
    """Why a report cannot belong to a cluster, or None when they are compatible.

    Compatible means: same region; event days within the tolerance of the coarser precision,
    and on different days one detail in common (actor, target, quantity, fine place); places
    finer than a region not too far apart; compatible weapon categories; equal actors
    (or one missing, or either only accused/suspected); counts that do not contradict.
    """
    config = config or default_config()
    left_key, right_key = match_key(cluster), match_key(report)
    if left_key is None or right_key is None or left_key[0] != right_key[0]:
        return "region"
    allowed = max(_tolerance(cluster, config), _tolerance(report, config))
    days = _days_apart(cluster, report)
    if days > allowed:
        return f"date: {days} days apart, tolerance {allowed}"
    if days and not _linked(cluster, report, config):
        return f"date: {days} days apart and no actor, target, quantity or place in common"
    if cluster.location is not None and report.location is not None:
        precise = config.distance_precisions
        if cluster.location.precision in precise and report.location.precision in precise:
            km = _km(cluster.location, report.location)
            if km is not None and km > config.max_distance_km:
                return f"place: {km:.0f} km apart"
    if not weapons_compatible(_category(cluster), _category(report), config):
        return f"weapon: {_category(cluster)} vs {_category(report)}"
    if cluster.actor is not None and report.actor is not None:
        same = cluster.actor.name.casefold() == report.actor.name.casefold()
        soft = {cluster.actor.attribution, report.actor.attribution} & config.soft_attributions
        if not same and not soft:
            return f"actor: {cluster.actor.name} vs {report.actor.name}"
    return _counts_contradict(cluster.counts, report.counts, config)


def _match_score(cluster: Incident, report: Incident) -> tuple[int, int, int, str]:
    # Among compatible clusters prefer the closest day, then the same weapon, then the same
    # actor; the cluster id settles ties so the choice never depends on candidate order.
    same_actor = (
        cluster.actor is not None
        and report.actor is not None
        and cluster.actor.name.casefold() == report.actor.name.casefold()
    )
    return (
        _days_apart(cluster, report),
        0 if _category(cluster) == _category(report) else 1,
        0 if same_actor else 1,
        cluster.cluster_id or cluster.incident_id,
    )


def may_share(kind: Kind, report: Facts, config: CorroborationConfig) -> bool:
    """The date and weapon tests of :func:`mismatch` for clusters of ``kind``; False: a mismatch.

    Cheap, and they settle most candidates (a region's clusters of a month around the report),
    a kind at a time.
    """
    day, precision, category = kind
    tolerance = config.date_tolerance_days
    if abs((day - report.day).days) > max(tolerance[precision], tolerance[report.precision]):
        return False
    return weapons_compatible(category, report.category, config)


def may_match(cluster: Facts, report: Facts, config: CorroborationConfig) -> bool:
    """:func:`may_share` and the count test of :func:`mismatch`; False: a mismatch."""
    return (
        may_share(cluster.kind, report, config)
        and _figures_contradict(cluster.figures, report.figures, config) is None
    )


def find_cluster(
    candidates: Iterable[Incident], incident: Incident, config: CorroborationConfig | None = None
) -> Incident | None:
    """The best compatible cluster for ``incident`` among ``candidates``, or None.

    A report joins at most one cluster: two clusters it would bridge are not merged with each
    other (a merge of clusters could not be undone when the bridge turns out wrong).
    """
    return find_among([(c, facts_of(c)) for c in candidates], incident, config)


def find_among(
    candidates: Iterable[tuple[Incident, Facts]],
    incident: Incident,
    config: CorroborationConfig | None = None,
) -> Incident | None:
    """:func:`find_cluster` on candidates whose :class:`Facts` are known already."""
    config = config or default_config()
    mine = facts_of(incident)
    compatible = [
        cluster
        for cluster, facts in candidates
        if may_match(facts, mine, config) and mismatch(cluster, incident, config) is None
    ]
    if not compatible:
        return None
    return min(compatible, key=lambda cluster: _match_score(cluster, incident))


# ---------------------------------------------------------------------------------------------
# Merge: every field is a join (commutative, associative, idempotent) over the reports
# ---------------------------------------------------------------------------------------------


class _Listed(NamedTuple):
    """What merging reads of a list of sources as a whole."""

    outlets: frozenset[str]
    ids: frozenset[str]


# Recent large source lists, by the list itself (a record's list is never changed once
# made): a report merged into a cluster of thousands re-read every source for these.
_KEPT_LISTS = 64
_MEMO_MAX = 100_000
_LARGE = 32
_kept_lists: dict[int, tuple[Sequence[Source], _Listed]] = {}


def _listed(sources: Sequence[Source]) -> _Listed:
    held = _kept_lists.get(id(sources))
    if held is not None and held[0] is sources:
        return held[1]
    # An unknown outlet is one outlet: two anonymous articles are not known to be independent.
    found = _Listed(
        frozenset((source.source or "").strip().casefold() for source in sources),
        frozenset(source.incident_id for source in sources),
    )
    _keep(sources, found)
    return found


def _outlets(sources: Sequence[Source]) -> frozenset[str]:
    return _listed(sources).outlets


def _keep(sources: Sequence[Source], listed: _Listed) -> None:
    if len(sources) < _LARGE:
        return
    if len(_kept_lists) >= _KEPT_LISTS:
        del _kept_lists[next(iter(_kept_lists))]  # the oldest
    _kept_lists[id(sources)] = (sources, listed)


def _counted(outlets: int, config: CorroborationConfig) -> int:
    """The outlets the confidence counts: one at least, ``max_outlets`` at most."""
    return max(1, min(outlets, config.max_outlets))


def _doubt_factor(counted: int, config: CorroborationConfig) -> Fraction:
    return (1 - config.corroboration_weight) ** (counted - 1)


def _confidence(best_milli: int, outlets: int, config: CorroborationConfig) -> float:
    key = (best_milli, _counted(outlets, config))
    held = config.confidences.get(key)
    if held is None:
        doubt = (1 - Fraction(best_milli, _MILLI)) * _doubt_factor(key[1], config)
        held = config.confidences[key] = float(1 - doubt)
    return held


def _best_milli(incident: Incident, outlets: int, config: CorroborationConfig) -> int:
    """The best single report's confidence (thousandths) behind a cluster's confidence.

    ``outlets``: how many outlets the incident's ``sources`` name. Source records carry no
    per-report score, so it is recovered from the cluster's confidence by inverting
    :func:`_confidence`. The float error is below 1e-12 of a thousandth (at most 10 outlets,
    weight at most 0.9), so rounding gives the exact integer back.
    """
    if not math.isfinite(incident.confidence):
        return 0
    if not incident.sources:
        return min(_MILLI, max(0, round(incident.confidence * _MILLI)))
    key = (incident.confidence, _counted(outlets, config))
    held = config.best_millis.get(key)
    if held is None:
        if len(config.best_millis) >= _MEMO_MAX:  # a confidence not made by _confidence
            config.best_millis.clear()
        doubt = (1 - Fraction(incident.confidence)) / _doubt_factor(key[1], config)
        held = config.best_millis[key] = min(_MILLI, max(0, round(_MILLI * (1 - doubt))))
    return held


def _source_of(incident: Incident) -> Source:
    return Source(
        article_id=incident.article_id,
        incident_id=incident.incident_id,
        source=incident.source,
        published_at=as_utc(incident.published_at),
    )


def _source_order(source: Source) -> tuple[str, str]:
    # Sources are unique by incident id once united, so these two settle every order.
    published = as_utc(source.published_at).isoformat() if source.published_at else ""
    return published, source.incident_id


def _union_sources(left: Sequence[Source], right: Sequence[Source]) -> list[Source]:
    """One entry per report, by ``(published_at, incident_id)``.

    A side of more than one entry is a cluster's: already in that order, one entry per id
    (this function made it). A lone report joining it is put in its place, without the
    sort: that is most merges, into clusters of up to thousands of sources.
    """
    if len(right) > len(left):
        left, right = right, left
    if len(right) == 1:
        (new,) = right
        if new.incident_id not in _listed(left).ids:
            united = list(left)
            bisect.insort(united, new, key=_source_order)
            return united
    by_id: dict[str, Source] = {}
    for source in (*left, *right):
        held = by_id.get(source.incident_id)
        # One entry per report; should two differ, the smaller serialised form wins (a join).
        if held is None or source.dumps() < held.dumps():
            by_id[source.incident_id] = source
    return sorted(by_id.values(), key=_source_order)


def _with_sources(cluster: Incident, sources: list[Source]) -> Incident:
    """``cluster`` holding ``sources`` (Source records), set without Faust's field coercion.

    A record converts a list field element by element (a few calls per source) when it is
    built, and again, into a new list, the first time the field is read: a cluster of a
    thousand reports paid that twice at every merge. These are Source records already.
    """
    cluster.__dict__["sources"] = sources
    cluster.__evaluated_fields__.add("sources")  # read as it is: the same list, unconverted
    return cluster


def as_cluster(incident: Incident, config: CorroborationConfig | None = None) -> Incident:
    """An incident as a cluster: a first report is a cluster of one (revision 1).

    The cluster id is the ``incident_id`` of the earliest report by ``(published_at,
    incident_id)``; the cluster record's own report fields (article, source, evidence...) are
    that report's, and ``revision`` is the number of reports merged.
    """
    config = config or default_config()
    sources = _union_sources(incident.sources or [_source_of(incident)], ())
    best = _best_milli(incident, len(_outlets(incident.sources or ())), config)
    cluster = incident.derive(
        published_at=as_utc(incident.published_at),
        cluster_id=incident.incident_id,
        sources=[],
        revision=len(sources),
        confidence=_confidence(best, len(_outlets(sources)), config),
    )
    return _with_sources(cluster, sources)


def _pick(left: Any, right: Any, key: Any) -> Any:
    # A join on optional values: None is "not reported", never a value that wins.
    if left is None:
        return right
    if right is None:
        return left
    return min(left, right, key=key)


def _count_key(count: Count) -> tuple[bool, int, int]:
    # Most conservative credible figure (as ACLED): any figure before a vague word, then the
    # lowest value, then the surer qualifier.
    return count.qualifier == "vague", count.value, QUALIFIER_RANK.get(count.qualifier, 9)


def _rank(value: str, order: tuple[str, ...]) -> tuple[int, str]:
    folded = value.casefold()
    for index, item in enumerate(order):
        if item.casefold() == folded:
            return index, folded
    return len(order), folded


def _weapon_key(config: CorroborationConfig) -> Any:
    def key(weapon: Weapon) -> tuple[bool, tuple[int, str], bytes]:
        # Unknown last, then the preference order; the serialised form settles the rest.
        known_last = weapon.category == "unknown"
        return known_last, _rank(weapon.category, config.weapon_preference), weapon.dumps()

    return key


def _actor_key(config: CorroborationConfig) -> Any:
    def key(actor: Actor) -> tuple[tuple[int, str], str, bytes]:
        return _rank(actor.attribution, config.attribution_preference), actor.name, actor.dumps()

    return key


def _location_key(location: Location) -> tuple[int, bytes]:
    return LOCATION_PRECISION_RANK.get(location.precision, 9), location.dumps()


def _date_key(incident: Incident) -> tuple[int, str, str, str]:
    # The most precise date wins, then the earliest.
    precision = incident.date_precision
    rank = PRECISIONS.index(precision) if precision in PRECISIONS else len(PRECISIONS)
    when = as_utc(incident.event_time).isoformat() if incident.event_time else "~"
    return rank, incident.event_date or "~", when, precision


def merge(
    cluster: Incident, report: Incident, config: CorroborationConfig | None = None
) -> Incident:
    """Merge a report (or another cluster) into a cluster.

    Every field is a join over the reports, so merging is idempotent, commutative and
    associative: the result depends only on the set of reports.

    - sources: the union, one entry per ``incident_id``, by ``(published_at, incident_id)``;
    - cluster id and the report fields (article, source, language, evidence): the earliest
      report by ``(published_at, incident_id)``; ``revision``: the number of reports, so every
      change (a new report, and with it a revised toll) is a new revision;
    - counts: the lowest credible figure of each (ACLED's most conservative estimate);
    - date: the most precise, then the earliest; place: the most precise;
      weapon: the most specific category (``weapon_preference``); actor: the strongest
      attribution; target: the first of ``target_preference``; historical: all reports say so;
    - confidence: ``1 - (1 - best report) * (1 - weight) ** (independent outlets - 1)``.

    >>> merge(erbil_elaph, erbil_other).sources  # doctest: +SKIP
    [<Source: ...>, <Source: ...>]
    """
    config = config or default_config()
    # Each side is taken as ``as_cluster`` would make it without building that record (a
    # cluster of dozens of sources cost two rebuilds per report): it changes only the fields
    # recomputed below, the UTC form of ``published_at``, and the confidence, whose best
    # report ``_best_milli`` recovers the same either way.
    left, right = cluster, report
    first = min(left, right, key=lambda c: (as_utc(c.published_at), c.incident_id))
    dated = min(left, right, key=_date_key)
    left_sources = left.sources or [_source_of(left)]
    right_sources = right.sources or [_source_of(right)]
    left_listed, right_listed = _listed(left_sources), _listed(right_sources)
    best = max(
        _best_milli(left, len(left_listed.outlets), config),
        _best_milli(right, len(right_listed.outlets), config),
    )
    sources = _union_sources(left_sources, right_sources)
    # United without a shared report, the outlets and ids are those of both sides.
    if len(sources) == len(left_sources) + len(right_sources):
        listed = _Listed(
            left_listed.outlets | right_listed.outlets, left_listed.ids | right_listed.ids
        )
        _keep(sources, listed)  # the next report of this incident merges into these
    else:
        listed = _listed(sources)
    outlets = listed.outlets
    counts = Counts(
        **{
            field: _pick(getattr(left.counts, field), getattr(right.counts, field), _count_key)
            for field in COUNT_FIELDS
        }
    )
    field_confidence = dict(left.field_confidence)
    for name, score in right.field_confidence.items():
        field_confidence[name] = max(score, field_confidence.get(name, score))
    produced = [as_utc(c.produced_at) for c in (left, right) if c.produced_at is not None]
    merged = first.derive(
        published_at=as_utc(first.published_at),
        cluster_id=first.incident_id,
        sources=[],
        revision=len(sources),
        event_date=dated.event_date,
        date_precision=dated.date_precision,
        event_time=dated.event_time,
        historical=left.historical and right.historical,
        location=_pick(left.location, right.location, _location_key),
        weapon=_pick(left.weapon, right.weapon, _weapon_key(config)),
        counts=counts,
        actor=_pick(left.actor, right.actor, _actor_key(config)),
        target=_pick(left.target, right.target, lambda t: (_rank(t, config.target_preference), t)),
        confidence=_confidence(best, len(outlets), config),
        field_confidence=dict(sorted(field_confidence.items())),
        produced_at=min(produced) if produced else None,
    )
    return _with_sources(merged, sources)


def cluster_from_data(data: Mapping[str, Any] | Incident) -> Incident:
    """A cluster from what a store holds (JSON data, or the record itself)."""
    if isinstance(data, Incident):
        return data
    return Incident.from_data(dict(data))
