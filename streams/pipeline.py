"""The stages after extraction (corroborate, windows, alerts) over injected state stores."""

from __future__ import annotations

import operator
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import faust
import orjson
from faust.utils.json import dumps as json_dumps
from mode.utils.compat import want_bytes

from streams.alerts import Finding, Ledger, NoveltyRule, Rule, findings, load_rules
from streams.corroborate import (
    CorroborationConfig,
    Facts,
    Kind,
    as_cluster,
    candidate_keys,
    cluster_from_data,
    event_day,
    facts_of,
    find_among,
    index_key,
    load_corroboration,
    match_key,
    may_share,
)
from streams.corroborate import merge as merge_reports
from streams.records import Alert, Article, Incident, Source, WindowRange
from streams.settings import Topics, config_dir
from streams.windows import (
    PANE_SUFFIX,
    Contribution,
    LateIncident,
    Span,
    Watermark,
    Window,
    WindowsConfig,
    WindowState,
    as_utc,
    close_due,
    closing_clock,
    compose,
    contribution_of,
    empty_state,
    event_time_of,
    expired,
    fold_contribution,
    is_pane,
    key_at,
    late_reason,
    load_state,
    load_windows,
    pane_spec,
    rebound,
    region_of,
    retract,
    spans,
    to_json,
    window_ends,
    window_key,
)

# Late incidents have their own topic, keyed by region like the others.
_WATERMARK = "watermark"
_STREAM_START = "stream_start"

Message = tuple[str, str | None, faust.Record]


def _store() -> MutableMapping[str, Any]:
    return {}


class KeyIndex:
    """The keys of one shared mapping by keyspace: a keyspace is listed without reading all.

    Ticks list windows, alerts, placements, novelty entries and the cluster index every few
    seconds; a scan of the whole mapping for each read every report id too (most of the keys,
    kept for weeks). The index learns of writes made through its keyspaces. A mapping changed
    any other way (a Faust table recovering its changelog) must be followed by :meth:`forget`;
    a key count that no longer matches the mapping's makes the index read it again as well.
    """

    def __init__(self, backing: MutableMapping[str, Any]) -> None:
        self._backing = backing
        # Dicts, not sets: keys are listed in the order they came, whatever the hash seed.
        self._by_prefix: dict[str, dict[str, None]] | None = None
        self._size = 0

    def forget(self) -> None:
        """The mapping changed behind the keyspaces: read it again when next asked."""
        self._by_prefix = None

    def _current(self) -> dict[str, dict[str, None]]:
        if self._by_prefix is None or self._size != len(self._backing):
            keys = list(self._backing)
            by_prefix: dict[str, dict[str, None]] = {}
            for key in keys:
                head, sep, _ = key.partition(":")
                by_prefix.setdefault(head + sep, {})[key] = None
            self._by_prefix, self._size = by_prefix, len(keys)
        return self._by_prefix

    def keys(self, prefix: str) -> list[str]:
        """The full keys under ``prefix`` (a snapshot: callers delete while iterating)."""
        return list(self._current().get(prefix, ()))

    def count(self, prefix: str) -> int:
        """How many keys are under ``prefix``."""
        return len(self._current().get(prefix, ()))

    def added(self, prefix: str, key: str) -> None:
        """``key`` was written through a keyspace."""
        if self._by_prefix is not None:
            keys = self._by_prefix.setdefault(prefix, {})
            if key not in keys:
                keys[key] = None
                self._size += 1

    def removed(self, prefix: str, key: str) -> None:
        """``key`` was deleted through a keyspace."""
        keys = self._by_prefix.get(prefix) if self._by_prefix is not None else None
        if keys is not None and key in keys:
            del keys[key]
            self._size -= 1


class Keyspace(MutableMapping[str, Any]):
    """One concern's keys inside a shared mapping (``"windows:" + key``): one table for all."""

    def __init__(self, backing: MutableMapping[str, Any], prefix: str, index: KeyIndex) -> None:
        self._backing = backing
        # Reads go straight to the plain dict under a table view when it offers one: a report
        # makes hundreds, and each layer of Python calls on the way was a good part of them.
        self._reads: Mapping[str, Any] = getattr(backing, "reads", backing)
        self._prefix = prefix
        self._index = index

    def __getitem__(self, key: str) -> Any:
        return self._reads[self._prefix + key]

    def __setitem__(self, key: str, value: Any) -> None:
        full = self._prefix + key
        self._backing[full] = value
        self._index.added(self._prefix, full)

    def __delitem__(self, key: str) -> None:
        full = self._prefix + key
        del self._backing[full]
        self._index.removed(self._prefix, full)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (self._prefix + key) in self._reads

    def get(self, key: str, default: Any = None) -> Any:
        """The value, or ``default``."""
        # Not the mapping's ``get``: a Faust table's raises and catches a KeyError on a miss,
        # and corroboration asks for dozens of absent keys per report.
        full = self._prefix + key
        reads = self._reads
        return reads[full] if full in reads else default  # noqa: SIM401

    def __iter__(self) -> Iterator[str]:
        size = len(self._prefix)
        return iter([key[size:] for key in self._index.keys(self._prefix)])

    def __len__(self) -> int:
        return self._index.count(self._prefix)

    def items(self) -> ItemsView[str, Any]:
        """The pairs, read straight from the backing dict (ticks list whole keyspaces)."""
        return _KeyspaceItems(self)

    def pairs(self) -> list[tuple[str, Any]]:
        """Every ``(key, value)``: a snapshot, so callers may delete while going through it."""
        size = len(self._prefix)
        reads = self._reads
        return [(key[size:], reads[key]) for key in self._index.keys(self._prefix)]


class _KeyspaceItems(ItemsView[str, Any]):
    # The generic view reads each pair through ``__getitem__``: three calls a key, and a tick
    # goes through every window, placement, alert and novelty entry of the state.
    _mapping: Keyspace

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return iter(self._mapping.pairs())


@dataclass
class Stores:
    """The state, one mapping per concern: plain dicts offline, Faust tables in the worker.

    Keys are strings and values JSON data; values are always reassigned, never mutated in place
    (a Faust table only writes its changelog on assignment). Every key below is scoped to one
    region (directly, or through a cluster or alert of one region), so the stores partition
    with the region-keyed ``incidents`` topic; ``meta`` holds stream-wide soft state (event
    clock, stream start) and may be a plain per-worker dict.
    """

    clusters: MutableMapping[str, Any] = field(default_factory=_store)  # cluster id -> Incident
    index: MutableMapping[str, Any] = field(default_factory=_store)  # "IQ.07|2021-02-22" -> [ids]
    reports: MutableMapping[str, Any] = field(default_factory=_store)  # report id -> cluster id
    windows: MutableMapping[str, Any] = field(default_factory=_store)  # window key -> WindowState
    closing: MutableMapping[str, Any] = field(default_factory=_store)  # "IQ.07|hopping_24h" -> end
    placements: MutableMapping[str, Any] = field(default_factory=_store)  # cluster id -> windows
    seen: MutableMapping[str, Any] = field(default_factory=_store)  # "IQ.07|actor|ISIS" -> {id: t}
    ledger: MutableMapping[str, Any] = field(default_factory=_store)  # alert id -> published
    meta: MutableMapping[str, Any] = field(default_factory=_store)  # watermark, stream start

    @classmethod
    def shared(cls, backing: MutableMapping[str, Any], index: KeyIndex | None = None) -> Stores:
        """Every store as a key prefix of one mapping (one Faust table for the whole state).

        ``index``: the mapping's :class:`KeyIndex`, to be told when the mapping is reloaded.
        """
        keys = index or KeyIndex(backing)
        return cls(
            **{
                name: Keyspace(backing, f"{name}:", keys)
                for name in (
                    "clusters",
                    "index",
                    "reports",
                    "windows",
                    "closing",
                    "placements",
                    "seen",
                    "ledger",
                    "meta",
                )
            }
        )


@dataclass(frozen=True)
class FlowConfig:
    """The validated config of every stage."""

    windows: WindowsConfig
    rules: tuple[Rule, ...]
    corroboration: CorroborationConfig

    @classmethod
    def load(cls, directory: Path | None = None) -> FlowConfig:
        """Load windows.yaml, alerts.yaml and corroboration.yaml from the config folder."""
        folder = directory or config_dir()
        windows = load_windows(folder / "windows.yaml")
        return cls(
            windows=windows,
            rules=load_rules(windows, folder / "alerts.yaml"),
            corroboration=load_corroboration(folder / "corroboration.yaml"),
        )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Pipeline:
    """Corroborate, window and alert: the worker's agents and ``replay`` call these methods.

    >>> pipeline = Pipeline()                      # plain dicts, config from config/
    >>> for cluster in pipeline.on_incident(incident):  # doctest: +SKIP
    ...     alerts, late = pipeline.on_cluster(cluster)
    """

    def __init__(
        self,
        config: FlowConfig | None = None,
        stores: Stores | None = None,
        *,
        store: MutableMapping[str, Any] | None = None,
        clock: Callable[[], datetime] = _utc_now,
        topics: Topics | None = None,
    ) -> None:
        """``stores``: one mapping per concern; or ``store``: one mapping (table) for all."""
        if stores is not None and store is not None:
            raise ValueError("give stores or store, not both")
        self.config = config or FlowConfig.load()
        self.stores = stores or (Stores.shared(store) if store is not None else Stores())
        self.topics = topics or Topics()
        self.ledger = Ledger(self.stores.ledger, self.config.rules)
        self._clock = clock
        # Set by replay: the clock then follows the stream instead of the wall.
        self._stream_now: datetime | None = None
        self._parsed: dict[str, tuple[Any, Incident, Facts]] = {}
        # Per cluster-index key, its clusters by kind: see _bucket.
        self._buckets: dict[str, _Bucket] = {}
        # A cluster's sources, and each encoded (bytes to publish, data to store): see _encode.
        self._encoded: dict[str, tuple[list[Source], list[orjson.Fragment], list[Any]]] = {}
        self._saved: tuple[Incident, bytes] | None = None
        self._watermark: tuple[Any, Watermark] | None = None
        self._seen: dict[str, tuple[Any, list[tuple[datetime, str]]]] = {}
        self._states: dict[str, tuple[Any, WindowState]] = {}
        specs = self.config.windows.specs
        # What is stored: tumbling windows themselves, hopping windows as their panes.
        self._panes = {spec.kind: pane_spec(spec) for spec in specs if spec.hopping}
        self._stored_specs = {spec.kind: spec for spec in specs if not spec.hopping} | {
            pane.kind: pane for pane in self._panes.values()
        }
        # Only the kinds a rule reads are stored: the others are still named in late reports.
        self._ruled = {rule.window for rule in self.config.rules}
        self._closing_ruled = {rule.window for rule in self.config.rules if rule.on_close}
        self._by_content = {rule.name for rule in self.config.rules if not rule.on_close}

    @staticmethod
    def region_key(incident: Incident) -> str:
        """The Kafka key of an incident (and of its state): its region, see ``region_of``."""
        return region_of(incident)

    # -- clocks --------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The pipeline's clock: the stream time in replay, else the injected clock."""
        return self._stream_now if self._stream_now is not None else as_utc(self._clock())

    def watermark(self) -> Watermark:
        """The event clock: the latest event time seen."""
        data = self.stores.meta.get(_WATERMARK)
        if not data:
            return Watermark()
        # Read a few times a report; parsed once per value written (as clusters are).
        held = self._watermark
        if held is not None and held[0] is data:
            return held[1]
        watermark = Watermark.from_data(dict(data))
        self._watermark = (data, watermark)
        return watermark

    def _observe(self, cluster: Incident, now: datetime) -> Watermark:
        # Sources are by publication, the undated first: the last dated one is the latest.
        published = next(
            (s.published_at for s in reversed(cluster.sources or []) if s.published_at), None
        )
        latest = as_utc(cluster.published_at)
        if published is not None:
            latest = max(latest, as_utc(published))
        # An event "after" its own report, or after now, is a misread date: it must not
        # drag the event clock into the future and expire every open window.
        seen_at = min(event_time_of(cluster), latest, now)
        old = self.watermark()
        new = old.observe(seen_at)
        if new is not old:
            self.stores.meta[_WATERMARK] = to_json(new)
        start = self.stores.meta.get(_STREAM_START)
        first = min(latest, now)
        if start is None or first < datetime.fromisoformat(start):
            self.stores.meta[_STREAM_START] = first.isoformat()
        return new

    # -- corroboration -------------------------------------------------------------------------

    def _cluster(self, cluster_id: str) -> Incident | None:
        data = self.stores.clusters.get(cluster_id)
        if data is None:
            return None
        # Parsing a cluster record is the costly part of finding candidates; a store (dict or
        # Faust table) hands back the same object until it is reassigned, so a cache keyed
        # on that object stays right without knowing who wrote the store.
        return self._parsed_cluster(cluster_id, data)[0]

    def _parsed_cluster(self, cluster_id: str, data: Any) -> tuple[Incident, Facts]:
        held = self._parsed.get(cluster_id)
        if held is not None and held[0] is data:
            return held[1], held[2]
        cluster = cluster_from_data(data)
        facts = facts_of(cluster)
        self._parsed[cluster_id] = (data, cluster, facts)
        return cluster, facts

    def _candidates(self, report: Incident) -> list[tuple[Incident, Facts]]:
        # Read off facts first, a group at a time: a region holds thousands of clusters over
        # the month a report is compared with, and most fail the date or weapon test together.
        # The groups that pass are handed on whole: find_among tests each of their clusters.
        config = self.config.corroboration
        mine = facts_of(report)
        clusters = self.stores.clusters
        found = []
        for key in candidate_keys(report, config):
            bucket = self._bucket(key)
            if bucket is None:
                continue
            for kind, members in bucket.groups.items():
                if not may_share(kind, mine, config):
                    continue
                for cluster_id in members:
                    data = clusters.get(cluster_id)
                    if data is not None:
                        found.append(self._parsed_cluster(cluster_id, data))
        return found

    def _bucket(self, key: str) -> _Bucket | None:
        """The clusters under index ``key`` by kind, kept up to date by ``_save_cluster``.

        Rebuilt when the stored id list is another object than the one it was made from, and
        dropped whole by :meth:`forget`; the index and clusters change nowhere else.
        """
        ids = self.stores.index.get(key)
        if ids is None:
            return None
        held = self._buckets.get(key)
        if held is not None and held.ids is ids:
            return held
        clusters = self.stores.clusters
        bucket = self._buckets[key] = _Bucket(ids, {}, {})
        for cluster_id in ids:
            data = clusters.get(cluster_id)
            if data is not None:
                bucket.put(cluster_id, self._parsed_cluster(cluster_id, data)[1])
        return bucket

    def _rebucket(self, key: str, before: Any, cluster_id: str, facts: Facts | None) -> None:
        """Index ``key`` held ``before`` and now has ``cluster_id`` with ``facts`` (None: gone)."""
        held = self._buckets.pop(key, None)
        after = self.stores.index.get(key)
        if held is None or held.ids is not before or after is None:
            return  # rebuilt when next read
        bucket = self._buckets[key] = held._replace(ids=after)
        bucket.drop(cluster_id)
        if facts is not None:
            bucket.put(cluster_id, facts)

    def forget(self) -> None:
        """The stores changed behind the pipeline (a table recovered): drop what it derived."""
        self._buckets.clear()

    def _index_remove(self, key: str, cluster_id: str) -> None:
        before = self.stores.index.get(key, ())
        ids = [item for item in before if item != cluster_id]
        if ids:
            self.stores.index[key] = ids
        elif key in self.stores.index:
            del self.stores.index[key]
        self._rebucket(key, before, cluster_id, None)

    @staticmethod
    def _index_key(cluster: Incident) -> str:
        # Unlocated clusters are indexed too (under their country or "unknown"): never matched,
        # since matching reads region ids only, but found by expiry like every other cluster.
        return index_key(region_of(cluster), event_day(cluster))

    def _save_cluster(self, cluster: Incident, previous: Incident | None) -> None:
        cluster_id = cluster.cluster_id or cluster.incident_id
        new_key = self._index_key(cluster)
        old_id = None
        if previous is not None:
            old_id = previous.cluster_id or previous.incident_id
            old_key = self._index_key(previous)
            if old_id != cluster_id and old_id in self.stores.clusters:
                # An earlier report arrived: the cluster is now named after it.
                del self.stores.clusters[old_id]
                self._parsed.pop(old_id, None)
            if old_key != new_key or old_id != cluster_id:
                self._index_remove(old_key, old_id)
        before = self.stores.index.get(new_key, ())
        if cluster_id not in before:
            self.stores.index[new_key] = sorted({*before, cluster_id})
        payload, data, added = self._encode(cluster, previous)
        self.stores.clusters[cluster_id] = data
        # The next report of this incident finds the record itself, not a parse of its data;
        # and the bytes are the ones published (see ``payload``).
        facts = facts_of(cluster)
        self._parsed[cluster_id] = (data, cluster, facts)
        self._rebucket(new_key, before, cluster_id, facts)
        self._saved = (cluster, payload)
        # Under the same name, only the reports the cluster did not hold yet are new to map.
        mapping = added if added is not None and old_id == cluster_id else cluster.sources
        for source in mapping or []:
            if self.stores.reports.get(source.incident_id) != cluster_id:
                self.stores.reports[source.incident_id] = cluster_id

    def _encode(
        self, cluster: Incident, previous: Incident | None
    ) -> tuple[bytes, dict[str, Any], list[Source] | None]:
        """``cluster.dumps()``, its JSON data, and its sources ``previous`` did not have.

        A cluster is written again at each report it gets, and its sources are most of it
        (thousands, for a story many outlets carry). The encoded sources of each cluster are
        kept: when the new revision is the previous one with one source added (a report
        merged), that one is encoded alone and put in place; the new sources are then known
        (None when they are not: all were encoded).
        """
        if cluster.sources is None:
            payload = cluster.dumps()
            return payload, orjson.loads(payload), None
        sources = cluster.sources
        before = None
        if previous is not None:
            before = self._encoded.pop(previous.cluster_id or previous.incident_id, None)
        place = _inserted_at(before[0], sources) if before is not None else None
        if before is not None and place is not None:
            part, parsed = _encoded_source(sources[place])
            fragments = [*before[1][:place], part, *before[1][place:]]
            datas = [*before[2][:place], parsed, *before[2][place:]]
            added: list[Source] | None = [sources[place]]
        else:
            encoded = [_encoded_source(source) for source in sources]
            fragments = [part for part, _ in encoded]
            datas = [parsed for _, parsed in encoded]
            added = None
        self._encoded[cluster.cluster_id or cluster.incident_id] = (sources, fragments, datas)
        fields = dict(cluster.to_representation())
        fields["sources"] = None
        data = orjson.loads(json_dumps(fields))
        fields["sources"] = fragments
        data["sources"] = datas
        return want_bytes(json_dumps(fields)), data, added

    def payload(self, record: Incident | LateIncident) -> bytes:
        """``record.dumps()``; the cluster ``on_incident`` saved last is not serialised again.

        A late report carries that cluster whole: its bytes go in as they are.
        """
        saved = self._saved
        if saved is None:
            return record.dumps()
        if record is saved[0]:
            return saved[1]
        if isinstance(record, LateIncident) and record.incident is saved[0]:
            data = dict(record.to_representation())
            data["incident"] = orjson.Fragment(saved[1])
            return want_bytes(json_dumps(data))
        return record.dumps()

    def on_incident(self, incident: Incident) -> list[Incident]:
        """Corroborate one extracted report: the cluster record(s) to publish on ``incidents``.

        Empty when nothing changed (the report was merged before). A changed cluster comes
        back with its new revision. When the report is earlier than the cluster's first one the
        cluster is renamed after it (see :func:`streams.corroborate.as_cluster`); the previous
        id is one of the new record's ``sources``, which is how subscribers replace it.
        """
        if incident.incident_id in self.stores.reports:
            return []
        config = self.config.corroboration
        report = as_cluster(incident, config)
        found = None
        if match_key(report) is not None:
            found = find_among(self._candidates(report), report, config)
        cluster = merge_reports(found, report, config) if found is not None else report
        if found is not None and cluster == found:
            self.stores.reports[incident.incident_id] = found.cluster_id or found.incident_id
            return []
        self._save_cluster(cluster, found)
        return [cluster]

    # -- windows and alerts --------------------------------------------------------------------

    def _state(self, key: str) -> WindowState | None:
        data = self.stores.windows.get(key)
        if data is None:
            return None
        held = self._states.get(key)  # the same object-identity cache as clusters
        if held is not None and held[0] is data:
            return held[1]
        state = load_state(data)
        self._states[key] = (data, state)
        return state

    def _put_state(self, key: str, state: WindowState) -> None:
        data = to_json(state)
        self.stores.windows[key] = data
        self._states[key] = (data, state)

    def _drop_state(self, key: str) -> None:
        self.stores.windows.pop(key, None)
        self._states.pop(key, None)

    def baseline(self, state: WindowState, windows: int) -> list[int] | None:
        """Counts of the previous ``windows`` windows; None when any was not observed in full."""
        spec = self.config.windows.spec(state.kind)
        start_text = self.stores.meta.get(_STREAM_START)
        if start_text is None:
            return None
        stream_start = datetime.fromisoformat(start_text)
        watermark = self.watermark()
        counts = []
        for back in range(1, windows + 1):
            start = as_utc(state.start) - back * spec.size
            previous = WindowRange(kind=state.kind, start=start, end=start + spec.size)
            # Before the stream started, or already expired: the count is unknown, not zero.
            if start < stream_start or expired(previous, spec.retention, watermark):
                return None
            held = self._window_state(state.region, previous)
            counts.append(held.count if held is not None else 0)
        return counts

    def seen(self, region: str, field: str, value: str) -> list[tuple[datetime, str]]:
        """``region``'s clusters with this actor / weapon category: (event time, id), sorted."""
        key = _seen_key(region, field, value)
        entries = self.stores.seen.get(key)
        if not entries:
            return []
        # Asked by both novelty rules for every window a report touches: parsed and put in
        # order once per stored value.
        held = self._seen.get(key)
        if held is not None and held[0] is entries:
            return held[1]
        ordered = sorted(
            (as_utc(datetime.fromisoformat(when)), cid) for cid, when in entries.items()
        )
        self._seen[key] = (entries, ordered)
        return ordered

    def _publishable(
        self, found: Iterable[Finding], state: WindowState, now: datetime
    ) -> list[Alert]:
        spec = self.config.windows.spec(state.kind)
        expires_at = as_utc(state.end) + spec.retention
        alerts = []
        for finding in found:
            revision = self.ledger.admit_finding(finding, expires_at, overlapping=spec.hopping)
            if revision is not None:
                alerts.append(finding.to_alert(now, revision))
        return alerts

    def _withdraw(self, cluster_id: str) -> None:
        placed = self.stores.placements.get(cluster_id)
        if placed is None:
            return
        for key in placed["windows"]:
            state = self._state(key)
            if state is not None:
                self._put_state(key, retract(state, cluster_id))
        for key in placed["seen"]:
            self._unsee(key, cluster_id)
        del self.stores.placements[cluster_id]

    def _unsee(self, key: str, cluster_id: str) -> None:
        entries = dict(self.stores.seen.get(key) or {})
        if entries.pop(cluster_id, None) is None:
            return
        if entries:
            self.stores.seen[key] = entries
        else:
            del self.stores.seen[key]
            self._seen.pop(key, None)

    def on_cluster(self, cluster: Incident) -> tuple[list[Alert], list[LateIncident]]:
        """Fold a cluster (revision) into its region's windows and evaluate the rules.

        Returns the alerts to publish (already through the ledger) and the late report when
        some of its windows had expired. A revision already folded is ignored (redelivery).
        """
        cluster_id = cluster.cluster_id or cluster.incident_id
        placed = self.stores.placements.get(cluster_id)
        if placed is not None and placed["revision"] >= cluster.revision:
            return [], []
        now = self.now()
        watermark = self._observe(cluster, now)
        region = region_of(cluster)
        placements = self.stores.placements
        # Placed under this name already: an earlier name left its windows when it was first
        # placed under this one. Only a new name need be looked for among the sources.
        if placed is None:
            for source in cluster.sources or []:
                if source.incident_id != cluster_id and source.incident_id in placements:
                    # A cluster renamed after an earlier report: its old id leaves every window.
                    self._withdraw(source.incident_id)
        windows = self.config.windows
        keys: list[str] = []
        late: list[Span] = []
        touched: list[WindowState] = []
        hopping: dict[str, list[Span]] = {}
        expires_at = as_utc(cluster.published_at)
        contribution = contribution_of(cluster)
        event_time = event_time_of(cluster)
        for window in spans(event_time, windows.specs):
            spec = windows.spec(window.kind)
            expires_at = max(expires_at, as_utc(window.end) + spec.retention)
            if expired(window, spec.retention, watermark):
                late.append(window)
            elif spec.kind not in self._ruled:
                continue  # no rule reads this kind: its state would be written, never read
            elif spec.hopping:
                hopping.setdefault(spec.kind, []).append(window)
            else:
                key = window_key(region, window)
                state = self._fold(key, region, window, contribution)
                keys.append(key)
                touched.append(state)
        for kind, live in hopping.items():
            # A pane outlives every window holding it, so a live window means a live pane.
            (pane,) = spans(event_time, [self._panes[kind]])
            key = window_key(region, pane)
            self._fold(key, region, pane, contribution)
            keys.append(key)
            touched.extend(self._hopping_states(region, kind, live))
        for key in placed["windows"] if placed else ():
            old = self._state(key) if key not in keys else None
            if old is not None:
                # A revised date moved the cluster: it leaves the windows it no longer falls in.
                self._put_state(key, retract(old, cluster_id))
        seen_keys = self._see(cluster, cluster_id, region, placed)
        self.stores.placements[cluster_id] = {
            "region": region,
            "revision": cluster.revision,
            "windows": keys,
            "seen": seen_keys,
            "expires_at": expires_at.isoformat(),
        }
        alerts: list[Alert] = []
        # Hopping windows over the same panes share one contributions mapping. Once one of
        # them publishes an update rule's finding (judged on the clusters alone), the ledger
        # holds the same finding back in the others, as it covers them: they are not judged.
        published: dict[int, set[str]] = {}
        for state in sorted(touched, key=lambda s: (s.kind, as_utc(s.start))):
            done = published.setdefault(id(state.contributions), set())
            found = findings(self.config.rules, state, self, skip=done)
            admitted = self._publishable(found, state, now)
            if windows.spec(state.kind).hopping:
                done.update(alert.rule for alert in admitted if alert.rule in self._by_content)
            alerts.extend(admitted)
        lates = []
        if late:
            clock = watermark.max_event_time or now
            lates.append(
                LateIncident(
                    region=region,
                    incident=cluster,
                    windows=[window.record() for window in late],
                    watermark=clock,
                    reason=late_reason(late, clock),
                    detected_at=now,
                )
            )
        return alerts, lates

    def _fold(
        self, key: str, region: str, window: Window, contribution: Contribution
    ) -> WindowState:
        state = fold_contribution(self._state(key) or empty_state(region, window), contribution)
        self._put_state(key, state)
        return state

    def _closed_through(self, region: str, kind: str) -> datetime | None:
        held = self.stores.closing.get(_closing_key(region, kind))
        return None if held is None else datetime.fromisoformat(held)

    def _hopping_states(
        self, region: str, kind: str, windows: Iterable[Window]
    ) -> list[WindowState]:
        """Hopping windows of one region composed from their panes (each pane read once)."""
        spans_ = list(windows)
        if not spans_:
            return []
        pane = self._panes[kind]
        closed_through = self._closed_through(region, kind)
        first = min(as_utc(window.start) for window in spans_)
        last = max(as_utc(window.end) for window in spans_)
        # The panes under all the windows, read once; each window is a slice of them.
        parts = [
            self._state(key_at(region, pane.kind, first + i * pane.size))
            for i in range((last - first) // pane.size)
        ]
        states = []
        # Windows over the same non-empty panes hold the same clusters (reports dated by the
        # day all sit in its midnight pane, so the 24 windows holding it are alike): each
        # distinct set is composed once, the others are that state under their own bounds.
        composed: dict[tuple[int, ...], WindowState] = {}
        for window in spans_:
            start = (as_utc(window.start) - first) // pane.size
            stop = (as_utc(window.end) - first) // pane.size
            closed = closed_through is not None and as_utc(window.end) <= closed_through
            held = [part for part in parts[start:stop] if part is not None]
            same = tuple(id(part) for part in held)
            state = composed.get(same)
            if state is None:
                state = composed[same] = compose(region, window, held, closed=closed)
            else:
                state = rebound(state, as_utc(window.start), as_utc(window.end), closed)
            states.append(state)
        return states

    def _window_state(self, region: str, window: Window) -> WindowState | None:
        """A window of any kind: stored (tumbling), or composed from its panes (hopping)."""
        if window.kind in self._panes:
            return self._hopping_states(region, window.kind, [window])[0]
        return self._state(window_key(region, window))

    def _see(
        self, cluster: Incident, cluster_id: str, region: str, placed: Mapping[str, Any] | None
    ) -> list[str]:
        values = []
        if cluster.actor is not None:
            values.append(_seen_key(region, "actor", cluster.actor.name))
        if cluster.weapon is not None and cluster.weapon.category != "unknown":
            values.append(_seen_key(region, "weapon", cluster.weapon.category))
        for key in placed["seen"] if placed else ():
            if key not in values:
                self._unsee(key, cluster_id)
        when = event_time_of(cluster).isoformat()
        for key in values:
            entries = dict(self.stores.seen.get(key) or {})
            if entries.get(cluster_id) != when:
                entries[cluster_id] = when
                self.stores.seen[key] = dict(sorted(entries.items()))
        return values

    def _close(self, keys: Iterable[str], now: datetime) -> list[Alert]:
        alerts = []
        for key in keys:
            state = self._state(key)
            if state is None:
                continue
            closed = state.derive(closed=True)
            self._put_state(key, closed)
            found = findings(self.config.rules, closed, self, on_close_only=True)
            alerts.extend(self._publishable(found, closed, now))
        return alerts

    def _scan(
        self, owns: Callable[[str], bool] | None = None
    ) -> tuple[list[_Held], dict[tuple[str, str], list[datetime]]]:
        """Open stored windows, and the pane starts of each (region, hopping kind)."""
        # Read from the stored JSON without building states: ticks visit every window.
        held = []
        panes: dict[tuple[str, str], list[datetime]] = {}
        for key in list(self.stores.windows.keys()):
            region = _region_of_key(key)
            if owns is not None and not owns(region):
                continue
            data = self.stores.windows[key]
            if isinstance(data, WindowState):
                data = data.to_json()
            if is_pane(data["kind"]):
                kind = data["kind"][: -len(PANE_SUFFIX)]
                panes.setdefault((region, kind), []).append(datetime.fromisoformat(data["start"]))
            elif not data["closed"]:
                held.append(_Held(key, data["kind"], datetime.fromisoformat(data["end"])))
        # Deterministic: by window end, then key, whatever the store's iteration order.
        return sorted(held, key=lambda item: (item.end, item.key)), panes

    def _close_hopping(
        self, panes: Mapping[tuple[str, str], list[datetime]], until: datetime | None, now: datetime
    ) -> list[Alert]:
        """Close the hopping windows ending by ``until`` (None: all); closing rules judge them.

        A region's hopping windows close in the order of their end (the closing clock never
        goes back), so one end per (region, kind) says which are closed.
        """
        alerts = []
        for region, kind in sorted(panes):
            spec = self.config.windows.spec(kind)
            done = self._closed_through(region, kind)
            candidates = window_ends(panes[region, kind], spec, after=done, until=until)
            if not candidates:
                continue
            ordered = [Span(kind, end - spec.size, end) for end in sorted(candidates)]
            if kind in self._closing_ruled:
                for state in self._hopping_states(region, kind, ordered):
                    closed = state.derive(closed=True)
                    found = findings(self.config.rules, closed, self, on_close_only=True)
                    alerts.extend(self._publishable(found, closed, now))
            self.stores.closing[_closing_key(region, kind)] = as_utc(ordered[-1].end).isoformat()
        return alerts

    def on_tick(self, now: datetime, owns: Callable[[str], bool] | None = None) -> list[Alert]:
        """Close the windows due (by event clock, or wall clock when idle); expire old state.

        Closing rules (spike) are judged on the windows that close. Expired windows, alerts,
        placements, novelty entries and clusters are forgotten. ``owns(region)`` limits the
        tick to some regions: a worker ticking one partition touches that partition's keys.
        """
        now = as_utc(now)
        watermark = self.watermark()
        config = self.config.windows
        held, panes = self._scan(owns)
        due = close_due(held, watermark, now, config)
        alerts = self._close([item.key for item in due], now)
        until = closing_clock(watermark, now, config) - config.grace
        alerts.extend(self._close_hopping(panes, until, now))
        self._expire(watermark, owns)
        return alerts

    def flush(self) -> list[Alert]:
        """Close every open window now (end of a replay): the closing rules run on all of them."""
        held, panes = self._scan()
        now = self.now()
        return self._close([item.key for item in held], now) + self._close_hopping(panes, None, now)

    def _expire(self, watermark: Watermark, owns: Callable[[str], bool] | None = None) -> None:
        clock = watermark.max_event_time
        if clock is None:
            return
        clock = as_utc(clock)

        def mine(key: str) -> bool:
            return owns is None or owns(_region_of_key(key))

        windows = self.config.windows
        for key in list(self.stores.windows.keys()):
            if not mine(key):
                continue
            data = self.stores.windows[key]
            if isinstance(data, WindowState):
                data = data.to_json()
            try:
                retention = self._stored_specs[data["kind"]].retention
            except KeyError:
                retention = timedelta(0)  # a kind no longer configured: nothing will read it
            end = _Held(key, data["kind"], datetime.fromisoformat(data["end"]))
            if expired(end, retention, watermark):
                self._drop_state(key)
        for key, end in list(self.stores.closing.items()):
            region, kind = key.split("|", 1)
            if not mine(region):
                continue
            try:
                retention = windows.spec(kind).retention
            except KeyError:
                retention = timedelta(0)
            if datetime.fromisoformat(end) + retention <= clock:
                del self.stores.closing[key]  # every window it speaks of has expired
        self.ledger.prune(clock, owns)
        for key, placed in list(self.stores.placements.items()):
            if mine(placed["region"]) and datetime.fromisoformat(placed["expires_at"]) <= clock:
                del self.stores.placements[key]
        lookbacks = [rule.lookback for rule in self.config.rules if isinstance(rule, NoveltyRule)]
        horizon = clock - max(lookbacks, default=timedelta(0))
        for key, entries in list(self.stores.seen.items()):
            if not mine(key):
                continue
            kept = {
                cid: when
                for cid, when in entries.items()
                if datetime.fromisoformat(when) >= horizon
            }
            if not kept:
                del self.stores.seen[key]
                self._seen.pop(key, None)
            elif len(kept) != len(entries):
                self.stores.seen[key] = kept
        cutoff = (clock - self.config.corroboration.cluster_retention).date().isoformat()
        for key, ids in list(self.stores.index.items()):
            if key.rsplit("|", 1)[1] >= cutoff or not mine(key):
                continue
            for cluster_id in ids:
                cluster = self._cluster(cluster_id)
                for source in (cluster.sources or []) if cluster else []:
                    self.stores.reports.pop(source.incident_id, None)
                self.stores.clusters.pop(cluster_id, None)
                self._parsed.pop(cluster_id, None)
                self._encoded.pop(cluster_id, None)
            del self.stores.index[key]
            self._buckets.pop(key, None)

    # -- replay --------------------------------------------------------------------------------

    def _alert_messages(self, alerts: Iterable[Alert]) -> Iterator[Message]:
        for alert in alerts:
            yield self.topics.alerts, alert.region, alert
            yield self.topics.alerts_for(alert.severity), alert.region, alert

    def replay(
        self, articles: Iterable[Article], extract: Callable[[Article], list[Incident]]
    ) -> Iterator[Message]:
        """Run the flow offline: ``(topic, key, value)`` in the order the worker publishes them.

        Articles are taken in the order given (as pushed); an article id seen before is skipped.
        The clock follows the stream: before each article it moves to the article's
        ``published_at`` (never back) and the windows due by then close; a final flush closes
        the rest. Deterministic for a given input.
        """
        done: set[str] = set()
        for article in articles:
            if article.id in done:
                continue
            done.add(article.id)
            moment = as_utc(article.published_at) if article.published_at else None
            if moment is not None and (self._stream_now is None or moment > self._stream_now):
                self._stream_now = moment
                yield from self._alert_messages(self.on_tick(moment))
            for incident in extract(article):
                for cluster in self.on_incident(incident):
                    yield from self._cluster_messages(cluster)
        yield from self._alert_messages(self.flush())

    def _cluster_messages(self, cluster: Incident) -> Iterator[Message]:
        yield self.topics.incidents, region_of(cluster), cluster
        alerts, lates = self.on_cluster(cluster)
        for late in lates:
            yield self.topics.late, late.region, late
        yield from self._alert_messages(alerts)


class _Bucket(NamedTuple):
    """The clusters under one index key by kind, and the stored id list they mirror."""

    ids: Any
    groups: dict[Kind, set[str]]  # cluster ids by what may_share reads of them
    group_of: dict[str, Kind]

    def put(self, cluster_id: str, facts: Facts) -> None:
        """File ``cluster_id`` under the kind its ``facts`` give (not filed before)."""
        group = facts.kind
        self.groups.setdefault(group, set()).add(cluster_id)
        self.group_of[cluster_id] = group

    def drop(self, cluster_id: str) -> None:
        """Forget ``cluster_id``, if held."""
        group = self.group_of.pop(cluster_id, None)
        if group is not None:
            members = self.groups[group]
            members.discard(cluster_id)
            if not members:
                del self.groups[group]


class _Held(NamedTuple):
    """A stored window as ticks see it: key, kind and end, read without loading the state."""

    key: str
    kind: str
    end: datetime


def _encoded_source(source: Source) -> tuple[orjson.Fragment, Any]:
    encoded = want_bytes(json_dumps(source.to_representation()))
    return orjson.Fragment(encoded), orjson.loads(encoded)


def _inserted_at(before: list[Source], after: list[Source]) -> int | None:
    """Where ``after`` is ``before`` with one more entry (the same objects): None if it is not."""
    if len(after) != len(before) + 1:
        return None
    # Entries are the same objects up to the one inserted, none from there on: a bisection.
    low, high = 0, len(before)
    while low < high:
        middle = (low + high) // 2
        if after[middle] is before[middle]:
            low = middle + 1
        else:
            high = middle
    same = all(map(operator.is_, after[:low], before[:low]))
    if same and all(map(operator.is_, after[low + 1 :], before[low:])):
        return low
    return None


def _closing_key(region: str, kind: str) -> str:
    return f"{region}|{kind}"


def _seen_key(region: str, field: str, value: str) -> str:
    return f"{region}|{field}|{value}"


def _region_of_key(key: str) -> str:
    # Window, novelty and index keys all start with the region: "IQ.07|...".
    return key.split("|", 1)[0]
