"""Scores the extractor and gazetteer against labelled data: per-field precision, recall and F1."""

from __future__ import annotations

import csv
import json
import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from streams.records import Article, Count, Incident
from streams.settings import PROJECT_ROOT, config_dir

__all__ = [
    "COUNT_QUALIFIERS",
    "INCIDENT_KEYS",
    "LABEL_KEYS",
    "WEAPON_CATEGORIES",
    "Aliases",
    "EvalReport",
    "FieldScore",
    "Section",
    "TaggedSentence",
    "default_data_dir",
    "default_fixtures_dir",
    "evaluate_anercorp_places",
    "evaluate_gtd_acled",
    "evaluate_labelled",
    "evaluate_re3d",
    "evaluate_seeds",
    "format_report",
    "greedy_pairs",
    "load_aliases",
    "load_labels",
    "match_spans",
    "norm_name",
    "pick_best",
    "read_anercorp",
    "read_gtd_acled",
    "region_groups",
    "run_eval",
    "score_spans",
]

Extract = Callable[[Article], list[Incident]]
# The gazetteer's ``find(text, language)``: matches carrying character offsets.
FindPlaces = Callable[[str, str], Sequence[Any]]

WEAPON_CATEGORIES = frozenset(
    {
        "rocket",
        "mortar",
        "artillery",
        "ied",
        "vehicle_bomb",
        "suicide_bomb",
        "grenade",
        "explosive",
        "airstrike",
        "drone",
        "firearm",
        "incendiary",
        "melee",
        "unknown",
    }
)
COUNT_QUALIFIERS = frozenset({"exact", "approx", "at_least", "vague"})
NA = "N/A"
# Location precisions that name a place below the admin1 region.
_PLACE_PRECISIONS = frozenset({"landmark", "city", "district"})


def default_data_dir() -> Path:
    """The evaluation data folder: ``$INCIDENT_EVAL_DATA``, else ``../shared/eval/data``."""
    env = os.environ.get("INCIDENT_EVAL_DATA")
    return Path(env) if env else PROJECT_ROOT.parent / "shared" / "eval" / "data"


def default_fixtures_dir() -> Path:
    """Hand-labelled fixtures and alias tables shipped with the tests."""
    return PROJECT_ROOT / "tests" / "data" / "eval"


# ---------------------------------------------------------------------------------------------
# Scores


@dataclass
class FieldScore:
    """Counts for one field; precision = pred_correct/pred, recall = gold_correct/gold.

    For incident fields both "correct" counts are the same number (true positives); span
    scores count a prediction and a gold span as hit separately (overlap is many-to-many).

    >>> s = FieldScore(); s.add(gold=True, pred=True, correct=True); s.add(True, True, False)
    >>> (s.precision, s.recall)
    (0.5, 0.5)
    """

    n: int = 0
    gold: int = 0
    pred: int = 0
    gold_correct: int = 0
    pred_correct: int = 0
    both_absent: int = 0
    # Span and detection scores count many items per row: accuracy has no meaning there.
    per_item: bool = True

    def add(self, gold: bool, pred: bool, correct: bool) -> None:
        """Count one item: a wrong prediction is a precision and a recall miss."""
        self.n += 1
        self.gold += gold
        self.pred += pred
        if gold and pred and correct:
            self.gold_correct += 1
            self.pred_correct += 1
        if not gold and not pred:
            self.both_absent += 1

    def add_neutral(self) -> None:
        """Count an item that neither side needs to state (e.g. an accepted implicit actor)."""
        self.n += 1
        self.both_absent += 1

    @property
    def precision(self) -> float | None:
        """Share of predictions that are right; None without predictions."""
        return self.pred_correct / self.pred if self.pred else None

    @property
    def recall(self) -> float | None:
        """Share of gold values predicted right; None without gold values."""
        return self.gold_correct / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall (0 when nothing is right)."""
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    @property
    def accuracy(self) -> float | None:
        """Items where the prediction is right, counting "both absent" as right."""
        if not self.per_item or not self.n:
            return None
        return (self.gold_correct + self.both_absent) / self.n

    def to_dict(self) -> dict[str, Any]:
        """Counts and ratios, rounded for JSON output."""
        out: dict[str, Any] = {
            "n": self.n,
            "gold": self.gold,
            "pred": self.pred,
            "correct": self.gold_correct,
        }
        if self.pred_correct != self.gold_correct:
            out["pred_correct"] = self.pred_correct
        for name in ("precision", "recall", "f1", "accuracy"):
            value = getattr(self, name)
            out[name] = None if value is None else round(value, 4)
        return out


@dataclass
class Section:
    """One evaluation: per-field scores, headline figures, notes and example misses."""

    name: str
    title: str
    fields: dict[str, FieldScore] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    skipped: str | None = None

    def score(self, name: str, *, per_item: bool = True) -> FieldScore:
        """The named field's score, created on first use (keeps insertion order)."""
        return self.fields.setdefault(name, FieldScore(per_item=per_item))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "name": self.name,
            "title": self.title,
            "skipped": self.skipped,
            "fields": {k: v.to_dict() for k, v in self.fields.items()},
            "figures": self.figures,
            "notes": self.notes,
            "misses": self.misses,
        }


@dataclass
class EvalReport:
    """All sections of one evaluation run."""

    sections: list[Section]
    data_dir: str
    limit: int | None = None

    def section(self, name: str) -> Section:
        """The section with this name (KeyError when absent)."""
        for section in self.sections:
            if section.name == name:
                return section
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (``incident-monitor eval --json``)."""
        return {
            "data_dir": self.data_dir,
            "limit": self.limit,
            "sections": [s.to_dict() for s in self.sections],
        }


# ---------------------------------------------------------------------------------------------
# Names: normalisation and alias groups

_APOSTROPHES = re.compile(r"[’'`ʿʾ‘]")
_NON_WORD = re.compile(r"[^0-9a-z\u0600-\u06ff]+")
_ARTICLES = frozenset({"al", "el", "as", "ad", "an", "ar", "at", "ash", "az", "ath", "the"})
_GENERIC_WORDS = frozenset(
    {
        "governorate",
        "province",
        "muhafazat",
        "muhafazah",
        "mayorality",
        "of",
        "district",
        "region",
        "state",
        "wilayat",
        "city",
    }
)
_DOUBLED = re.compile(r"([a-z])\1")


def norm_name(name: str) -> str:
    """Comparison key for a place, actor or target name.

    >>> norm_name("Al-Muqdādīyah Governorate") == norm_name("muqdadiya")
    True
    """
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = _APOSTROPHES.sub("", text)
    words = [w for w in _NON_WORD.split(text) if w]
    kept: list[str] = []
    for i, word in enumerate(words):
        if word in _ARTICLES and i + 1 < len(words):
            continue
        if word in _GENERIC_WORDS and len(words) > 1:
            continue
        word = _DOUBLED.sub(r"\1", word)
        if len(word) > 3 and word.endswith("h") and word[-2] in "aeiou":
            word = word[:-1]
        kept.append(word)
    return " ".join(kept)


@dataclass(frozen=True)
class Aliases:
    """Groups of equivalent names per kind (places, actors, targets), keyed by norm_name."""

    groups: Mapping[str, Mapping[str, str]]

    def key(self, kind: str, name: str) -> str:
        """The group key of ``name`` (its own normalised form when in no group)."""
        normal = norm_name(name)
        return self.groups.get(kind, {}).get(normal, normal)

    def same(self, kind: str, a: str | None, b: str | None) -> bool:
        """True when both names are present and fall in one group."""
        if not a or not b:
            return False
        return self.key(kind, a) == self.key(kind, b)

    def any_same(self, kind: str, golds: Iterable[str | None], preds: Iterable[str | None]) -> bool:
        """True when any gold name and any predicted name fall in one group."""
        gold_keys = {self.key(kind, g) for g in golds if g}
        return any(self.key(kind, p) in gold_keys for p in preds if p)

    def with_groups(self, kind: str, groups: Iterable[Sequence[str]]) -> Aliases:
        """These aliases plus more groups; a group touching two existing groups is skipped."""
        table = dict(self.groups.get(kind, {}))
        for group in groups:
            names = [norm_name(n) for n in group if n]
            if not names:
                continue
            keys = {table[n] for n in names if n in table}
            if len(keys) > 1:
                continue
            key = keys.pop() if keys else names[0]
            for name in names:
                table.setdefault(name, key)
        return Aliases({**self.groups, kind: table})


ALIAS_KINDS = ("places", "actors", "targets")


def region_groups(path: Path) -> list[list[str]]:
    """Name groups of the gazetteer's admin1 table (``canonical`` + ``en`` per region), so
    scoring reuses geo's canonical region names; empty when the file is absent."""
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    groups: list[list[str]] = []
    for entry in data.values() if isinstance(data, dict) else []:
        if isinstance(entry, dict) and isinstance(entry.get("canonical"), str):
            names = [entry["canonical"], *(entry.get("en") or [])]
            groups.append([n for n in names if isinstance(n, str)])
    return groups


def load_aliases(path: Path) -> Aliases:
    """Read an aliases YAML file (``kind: [[canonical, variant, ...], ...]``); fail fast."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of kinds to groups")
    groups: dict[str, dict[str, str]] = {}
    for kind, entries in data.items():
        if kind not in ALIAS_KINDS:
            raise ValueError(f"{path}: unknown kind {kind!r}; expected one of {ALIAS_KINDS}")
        table: dict[str, str] = {}
        for i, group in enumerate(entries or []):
            if (
                not isinstance(group, list)
                or not group
                or not all(isinstance(g, str) for g in group)
            ):
                raise ValueError(f"{path}: {kind}[{i}] must be a non-empty list of names")
            canonical = norm_name(group[0])
            for name in group:
                normal = norm_name(name)
                if table.get(normal, canonical) != canonical:
                    raise ValueError(f"{path}: {name!r} is in two {kind} groups")
                table[normal] = canonical
        groups[kind] = table
    return Aliases(groups)


# ---------------------------------------------------------------------------------------------
# Reading the data


def read_gtd_acled(path: Path) -> list[dict[str, str | None]]:
    """Rows of a GTD/ACLED ``;`` CSV (optional ``sep=;`` line, CRLF); ``N/A`` and "" become None."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first = handle.readline()
        if not first.strip().lower().startswith("sep="):
            handle.seek(0)
        reader = csv.DictReader(handle, delimiter=";")
        rows: list[dict[str, str | None]] = []
        for raw in reader:
            row: dict[str, str | None] = {}
            for key, value in raw.items():
                if key is None:
                    continue
                text = value.strip() if isinstance(value, str) else None
                row[key.strip()] = None if not text or text == NA else text
            rows.append(row)
    return rows


@dataclass(frozen=True)
class TaggedSentence:
    """One ANERCorp sentence: tokens joined by single spaces, IOB tags per token."""

    index: int
    tokens: tuple[str, ...]
    tags: tuple[str, ...]

    @property
    def text(self) -> str:
        """The rebuilt sentence text."""
        return " ".join(self.tokens)

    def token_spans(self) -> list[tuple[int, int]]:
        """Character offsets of each token in ``text``."""
        spans: list[tuple[int, int]] = []
        pos = 0
        for token in self.tokens:
            spans.append((pos, pos + len(token)))
            pos += len(token) + 1
        return spans

    def entity_spans(self, label: str = "LOC") -> list[tuple[int, int]]:
        """Character spans of ``label`` entities; an I- tag after another label opens a span."""
        spans: list[tuple[int, int]] = []
        previous = "O"
        for (start, end), tag in zip(self.token_spans(), self.tags, strict=True):
            if tag == f"B-{label}" or (
                tag == f"I-{label}" and previous not in (f"B-{label}", f"I-{label}")
            ):
                spans.append((start, end))
            elif tag == f"I-{label}":
                spans[-1] = (spans[-1][0], end)
            previous = tag
        return spans


def read_anercorp(path: Path) -> list[TaggedSentence]:
    """Sentences of an ANERCorp ``token TAG`` file; a ``. O`` line ends a sentence."""
    sentences: list[TaggedSentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\r\n").rsplit(None, 1)
            if len(parts) < 2 or not parts[0].strip():
                continue  # blank lines and tag-only lines (the token was whitespace)
            token, tag = parts[0].strip(), parts[1]
            tokens.append(token)
            tags.append(tag)
            if token == "." and tag == "O":
                sentences.append(TaggedSentence(len(sentences), tuple(tokens), tuple(tags)))
                tokens, tags = [], []
    if tokens:
        sentences.append(TaggedSentence(len(sentences), tuple(tokens), tuple(tags)))
    return sentences


def _row_article(row: Mapping[str, str | None]) -> Article:
    """An English Article for one GTD/ACLED row: id = eventid, body = summary, date from y/m/d."""
    published: datetime | None = None
    try:
        year, month, day = (int(row.get(k) or 0) for k in ("year", "month", "day"))
        if year and month:
            published = datetime(year, month, day or 1, tzinfo=UTC)
    except ValueError:
        published = None
    return Article(
        id=str(row.get("eventid") or ""),
        body=row.get("summary") or "",
        published_at=published,
        language="en",
        source=row.get("adatforras"),
    )


# ---------------------------------------------------------------------------------------------
# Reading predictions


def pred_admin1(incident: Incident) -> str | None:
    """The predicted admin1 region name."""
    loc = incident.location
    if loc is None or loc.precision == "country":
        return None
    return loc.admin1 or None


def pred_place_names(incident: Incident, *, any_precision: bool) -> list[str]:
    """Predicted place names (canonical, as written); by default only below admin1 level."""
    loc = incident.location
    if loc is None or (not any_precision and loc.precision not in _PLACE_PRECISIONS):
        return []
    return [n for n in (loc.canonical, loc.name) if n]


def pred_weapon_category(incident: Incident) -> str | None:
    """Predicted weapon category; ``unknown`` counts as no prediction."""
    weapon = incident.weapon
    if weapon is None or not weapon.category or weapon.category == "unknown":
        return None
    return weapon.category


def pred_gtd_type(incident: Incident) -> str | None:
    """Predicted GTD weapon type; ``Unknown`` counts as no prediction."""
    weapon = incident.weapon
    if weapon is None or not weapon.gtd_type or weapon.gtd_type.lower() == "unknown":
        return None
    return weapon.gtd_type


def pred_count(incident: Incident, name: str) -> Count | None:
    """Predicted count (``quantity``, ``killed``, ``wounded``); a value of 0 is no count."""
    counts = incident.counts
    count: Count | None = getattr(counts, name, None) if counts is not None else None
    if count is None or (count.value == 0 and count.qualifier != "vague"):
        return None
    return count


def pred_actor(incident: Incident) -> str | None:
    """Predicted actor name."""
    return incident.actor.name if incident.actor is not None and incident.actor.name else None


def pick_best(
    predictions: Sequence[Incident], score: Callable[[Incident], float]
) -> Incident | None:
    """The prediction with the highest score; the first one wins ties; None when empty.

    >>> pick_best([], lambda i: 0.0) is None
    True
    """
    best: Incident | None = None
    best_score = float("-inf")
    for incident in predictions:
        value = score(incident)
        if value > best_score:
            best, best_score = incident, value
    return best


def greedy_pairs(scores: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """One-to-one gold/prediction pairs by descending score, earlier items first on ties.

    >>> greedy_pairs([[1, 3], [2, 0]])
    [(0, 1), (1, 0)]
    """
    cells = [(-value, g, p) for g, row in enumerate(scores) for p, value in enumerate(row)]
    cells.sort()
    used_g: set[int] = set()
    used_p: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, g, p in cells:
        if g in used_g or p in used_p:
            continue
        used_g.add(g)
        used_p.add(p)
        pairs.append((g, p))
    return sorted(pairs)


def score_spans(
    gold: Sequence[tuple[int, int]],
    pred: Sequence[tuple[int, int]],
    score: FieldScore,
    *,
    exact: bool,
) -> None:
    """Add one sentence's spans: a prediction is right when it overlaps (or equals) a gold span,
    a gold span is found when a prediction overlaps (or equals) it."""

    def hit(a: tuple[int, int], b: tuple[int, int]) -> bool:
        return a == b if exact else a[0] < b[1] and b[0] < a[1]

    score.n += 1
    score.gold += len(gold)
    score.pred += len(pred)
    score.gold_correct += sum(1 for g in gold if any(hit(g, p) for p in pred))
    score.pred_correct += sum(1 for p in pred if any(hit(p, g) for g in gold))
    if not gold and not pred:
        score.both_absent += 1


def match_spans(matches: Sequence[Any]) -> list[tuple[int, int]]:
    """Character spans of gazetteer matches: objects with start/end, a span, or tuples."""
    spans: list[tuple[int, int]] = []
    for m in matches:
        start = getattr(m, "start", None)
        end = getattr(m, "end", None)
        if callable(start) and callable(end):  # re.Match-like
            start, end = start(), end()
        if start is None and isinstance(m, Mapping):
            start, end = m.get("start"), m.get("end")
        if start is None and getattr(m, "span", None) is not None:
            start, end = m.span
        if start is None and isinstance(m, tuple) and len(m) >= 2:
            start, end = m[0], m[1]
        if isinstance(start, int) and isinstance(end, int):
            spans.append((start, end))
    return spans


# ---------------------------------------------------------------------------------------------
# Section 1: GTD/ACLED drone rows (English)


def _actor_candidates(gname: str) -> list[str]:
    """Ways a GTD/ACLED group name may be written: whole, without/inside brackets, colon parts."""
    out = [gname]
    inner = re.findall(r"\(([^)]*)\)", gname)
    outer = re.sub(r"\([^)]*\)", " ", gname).strip()
    out += [*inner, outer]
    for part in re.split(r"[:/]", outer):
        if part.strip():
            out.append(part.strip())
    return out


def gold_actor(gname: str | None) -> str | None:
    """The gold actor: None for missing, ``Unknown`` and ACLED's ``Unidentified ...`` groups."""
    if not gname or gname.lower().startswith(("unknown", "unidentified")):
        return None
    return gname


def _row_match_score(
    admin1: str | None, city: str | None, weapon: str | None, aliases: Aliases, inc: Incident
) -> float:
    """How many of admin1, place and GTD weapon type a prediction shares with a row."""
    return (
        aliases.same("places", admin1, pred_admin1(inc))
        + aliases.any_same("places", [city], pred_place_names(inc, any_precision=False))
        + (weapon is not None and (pred_gtd_type(inc) or "").lower() == weapon.lower())
    )


def _to_int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return round(float(text))
    except ValueError:
        return None


def evaluate_gtd_acled(
    rows: Sequence[Mapping[str, str | None]], extract: Extract, aliases: Aliases
) -> Section:
    """Score the extractor on GTD/ACLED rows (see LABELS.md for the rules)."""
    sec = Section("gtd_acled", "English GTD/ACLED drone rows: one article per row summary")
    sources: dict[str, int] = {}
    by_country: dict[str, FieldScore] = {}
    with_incident = 0
    deaths_rows = deaths_exact = all_rows = all_exact = 0
    for row in rows:
        source = row.get("adatforras") or "?"
        sources[source] = sources.get(source, 0) + 1
        preds = extract(_row_article(row))
        with_incident += bool(preds)
        g_admin1 = row.get("provstate")
        g_admin1 = None if g_admin1 in (None, "Unknown") else g_admin1
        g_city = row.get("city")
        g_city = None if g_city in (None, "Unknown") else g_city
        g_weapon = row.get("weaptype1_txt")
        g_weapon = None if g_weapon in (None, "Unknown") else g_weapon
        g_killed = _to_int(row.get("nkill"))
        g_actor = gold_actor(row.get("gname"))

        best = pick_best(preds, partial(_row_match_score, g_admin1, g_city, g_weapon, aliases))
        p_admin1 = pred_admin1(best) if best else None
        admin1_args = (
            g_admin1 is not None,
            p_admin1 is not None,
            aliases.same("places", g_admin1, p_admin1),
        )
        sec.score("admin1").add(*admin1_args)
        by_country.setdefault(row.get("country_txt") or "?", FieldScore()).add(*admin1_args)
        p_places = pred_place_names(best, any_precision=False) if best else []
        sec.score("place").add(
            g_city is not None, bool(p_places), aliases.any_same("places", [g_city], p_places)
        )
        if source == "GTD":
            p_weapon = pred_gtd_type(best) if best else None
            sec.score("weapon_type (GTD rows)").add(
                g_weapon is not None,
                p_weapon is not None,
                (p_weapon or "").lower() == (g_weapon or "").lower(),
            )
        p_killed_count = pred_count(best, "killed") if best else None
        p_killed = p_killed_count.value if p_killed_count else None
        sec.score("killed").add(bool(g_killed), bool(p_killed), g_killed == p_killed)
        if g_killed is not None:
            all_rows += 1
            all_exact += (p_killed or 0) == g_killed
            if g_killed > 0:
                deaths_rows += 1
                deaths_exact += p_killed == g_killed
        p_actor = pred_actor(best) if best else None
        actor_ok = bool(g_actor and p_actor) and aliases.any_same(
            "actors", _actor_candidates(g_actor or ""), [p_actor]
        )
        sec.score("actor").add(g_actor is not None, p_actor is not None, actor_ok)
        if len(sec.misses) < 12 and g_admin1 and not aliases.same("places", g_admin1, p_admin1):
            sec.misses.append(
                f"{row.get('eventid')}: admin1 gold {g_admin1!r}, predicted {p_admin1!r}"
            )
    n = len(rows)
    sec.figures = {
        "rows": n,
        "rows_by_source": sources,
        "rows_with_an_incident": with_incident,
        "admin1_recall_by_country (>= 20 rows)": ", ".join(
            f"{country} {_pct(score.recall).strip()}% of {score.gold}"
            for country, score in sorted(by_country.items(), key=lambda kv: -kv[1].n)
            if score.n >= 20
        ),
        "killed_exact_on_rows_with_deaths": _ratio(deaths_exact, deaths_rows),
        "rows_with_deaths": deaths_rows,
        "killed_exact_on_all_rows_with_nkill": _ratio(all_exact, all_rows),
        "rows_with_nkill": all_rows,
    }
    for name in ("admin1", "place", "weapon_type (GTD rows)", "actor"):
        if name in sec.fields:
            sec.figures[f"{name.split(' ')[0]}_accuracy"] = _round(sec.fields[name].accuracy)
    sec.notes = [
        "One incident per row: of several predictions, the one agreeing with the row on most of "
        "admin1, place, weapon type is scored (ties: the first); no prediction = recall misses.",
        "admin1/place compared after normalisation and tests/data/eval/aliases.yaml; place uses "
        "locations below admin1 only. 'Unknown' provstate/city/weapon/gname = no gold.",
        "killed: a value of 0 counts as absent for P/R/F1; the exact figures treat no "
        "prediction as 0.",
        "actor: 'Unknown' and ACLED 'Unidentified ...' groups mean no actor.",
    ]
    return sec


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# ---------------------------------------------------------------------------------------------
# Section 2: ANERCorp places (Arabic gazetteer)


def evaluate_anercorp_places(sentences: Sequence[TaggedSentence], find: FindPlaces) -> Section:
    """Gazetteer place spans against ANERCorp LOC spans, by overlap and by exact span."""
    sec = Section("anercorp_places", "Arabic gazetteer vs ANERCorp LOC spans")
    overlap = sec.score("place_span_overlap", per_item=False)
    exact = sec.score("place_span_exact", per_item=False)
    missed_shown = spurious_shown = 0
    spurious_words: Counter[str] = Counter()
    for sentence in sentences:
        gold = sentence.entity_spans("LOC")
        pred = match_spans(find(sentence.text, "ar"))
        score_spans(gold, pred, overlap, exact=False)
        score_spans(gold, pred, exact, exact=True)
        text = sentence.text
        missed = [g for g in gold if not any(p[0] < g[1] and g[0] < p[1] for p in pred)]
        spurious = [p for p in pred if not any(p[0] < g[1] and g[0] < p[1] for g in gold)]
        spurious_words.update(text[a:b] for a, b in spurious)
        if missed and missed_shown < 8:
            missed_shown += 1
            sec.misses.append(
                f"#{sentence.index} missed: " + ", ".join(text[a:b] for a, b in missed[:4])
            )
        if spurious and spurious_shown < 8:
            spurious_shown += 1
            sec.misses.append(
                f"#{sentence.index} not LOC: " + ", ".join(text[a:b] for a, b in spurious[:4])
            )
    sec.figures = {
        "most_frequent_non_loc_finds": ", ".join(
            f"{w} {n}" for w, n in spurious_words.most_common(15)
        ),
        "sentences": len(sentences),
        "gold_loc_spans": overlap.gold,
        "found_spans": overlap.pred,
    }
    sec.notes = [
        "Sentences rebuilt by joining tokens with single spaces; a '. O' line ends a sentence.",
        "overlap: a found span is right when it shares a character with a gold LOC span, a gold "
        "span is recalled when a found span overlaps it (clitics such as و/ب/ل stay inside gold "
        "tokens, so exact spans are stricter than the task needs).",
        "ANERCorp tags countries, regions and some institutions as LOC; not every LOC is a place "
        "an incident could be located at.",
    ]
    return sec


# ---------------------------------------------------------------------------------------------
# Section 3: the hand-labelled Arabic incident set

LABEL_KEYS = ("id", "sentence_index", "text", "incidents")
INCIDENT_KEYS = (
    "place",
    "weapon",
    "quantity",
    "killed",
    "wounded",
    "actor",
    "target",
    "date_text",
    "historical",
)
LABEL_FIELDS = (
    "place",
    "admin1",
    "country",
    "weapon",
    "quantity",
    "killed",
    "wounded",
    "actor",
    "attribution",
    "target",
    "historical",
)


def load_labels(path: Path) -> list[dict[str, Any]]:
    """Lines of anercorp_incidents.jsonl."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _count_ok(gold: Mapping[str, Any], pred: Count) -> bool:
    accept = set(gold.get("accept") or [])
    if gold.get("qualifier") == "vague":
        return pred.qualifier == "vague" or pred.value in accept
    return pred.value == gold.get("value") or pred.value in accept


def _score_count(
    sec: Section, name: str, gold: Mapping[str, Any] | None, pred: Count | None
) -> None:
    ok = gold is not None and pred is not None and _count_ok(gold, pred)
    sec.score(name).add(gold is not None, pred is not None, ok)
    if ok and gold is not None and pred is not None:
        sec.score("count_qualifier").add(True, True, gold.get("qualifier") == pred.qualifier)


def _gold_names(gold: Mapping[str, Any], key: str) -> list[str]:
    return [n for n in [gold.get(key), *(gold.get("accept") or [])] if n]


def _label_match_score(gold: Mapping[str, Any], inc: Incident, aliases: Aliases) -> float:
    score = 0.0
    place = gold.get("place")
    if place:
        score += aliases.any_same(
            "places", _gold_names(place, "canonical"), pred_place_names(inc, any_precision=True)
        )
        score += aliases.any_same(
            "places", [place.get("admin1"), *(place.get("admin1_accept") or [])], [pred_admin1(inc)]
        )
    weapon = gold.get("weapon")
    if weapon:
        score += pred_weapon_category(inc) in {weapon["category"], *weapon.get("accept", [])}
    killed = gold.get("killed")
    p_killed = pred_count(inc, "killed")
    if killed and p_killed:
        score += _count_ok(killed, p_killed)
    return score


def _score_label(
    sec: Section, gold: Mapping[str, Any] | None, inc: Incident | None, aliases: Aliases
) -> None:
    """Add one gold incident (None: an unmatched prediction is not field-scored) and its match."""
    g = gold or {}
    place = g.get("place")
    p_names = pred_place_names(inc, any_precision=True) if inc else []
    sec.score("place").add(
        place is not None,
        bool(p_names),
        place is not None and aliases.any_same("places", _gold_names(place, "canonical"), p_names),
    )
    g_admin1 = [place.get("admin1"), *(place.get("admin1_accept") or [])] if place else []
    p_admin1 = pred_admin1(inc) if inc else None
    sec.score("admin1").add(
        bool(place and place.get("admin1")),
        p_admin1 is not None,
        aliases.any_same("places", g_admin1, [p_admin1]),
    )
    g_cc = place.get("country_code") if place else None
    p_cc = inc.location.country_code if inc and inc.location else None
    sec.score("country").add(g_cc is not None, p_cc is not None, g_cc == p_cc)
    weapon = g.get("weapon")
    p_weapon = pred_weapon_category(inc) if inc else None
    sec.score("weapon").add(
        weapon is not None,
        p_weapon is not None,
        weapon is not None and p_weapon in {weapon["category"], *weapon.get("accept", [])},
    )
    for name in ("quantity", "killed", "wounded"):
        _score_count(sec, name, g.get(name), pred_count(inc, name) if inc else None)
    actor = g.get("actor")
    p_actor = pred_actor(inc) if inc else None
    if (
        actor
        and not actor.get("name")
        and p_actor
        and aliases.any_same("actors", actor.get("accept") or [], [p_actor])
    ):
        sec.score("actor").add_neutral()  # an implicit actor the labels accept but do not require
    else:
        g_names = _gold_names(actor, "name") if actor else []
        sec.score("actor").add(
            bool(actor and actor.get("name")),
            p_actor is not None,
            aliases.any_same("actors", g_names, [p_actor]),
        )
        if (
            actor
            and actor.get("name")
            and p_actor
            and aliases.any_same("actors", g_names, [p_actor])
        ):
            p_attr = inc.actor.attribution if inc and inc.actor else None
            sec.score("attribution").add(True, True, p_attr == actor.get("attribution"))
    target = g.get("target")
    p_target = inc.target if inc else None
    sec.score("target").add(
        target is not None,
        bool(p_target),
        target is not None
        and aliases.any_same("targets", _gold_names(target, "canonical"), [p_target]),
    )
    p_hist = bool(inc.historical) if inc else False
    sec.score("historical").add(
        bool(g.get("historical")), p_hist, bool(g.get("historical")) and p_hist
    )


def evaluate_labelled(
    labels: Sequence[Mapping[str, Any]], extract: Extract, aliases: Aliases
) -> Section:
    """Score the extractor on the hand-labelled ANERCorp incident sentences."""
    sec = Section("anercorp_incidents", "Arabic incident sentences labelled by hand (ANERCorp)")
    detect = sec.score("incident", per_item=False)
    negatives = false_alarms = 0
    for line in labels:
        article = Article(id=str(line["id"]), body=str(line["text"]), language="ar")
        preds = extract(article)
        golds: list[Mapping[str, Any]] = list(line["incidents"])
        if not golds:
            negatives += 1
            false_alarms += bool(preds)
        scores = [[_label_match_score(g, p, aliases) for p in preds] for g in golds]
        pairs = dict(greedy_pairs(scores))
        detect.gold += len(golds)
        detect.pred += len(preds)
        detect.gold_correct += len(pairs)
        detect.pred_correct += len(pairs)
        detect.n += 1
        for gi, gold in enumerate(golds):
            inc = preds[pairs[gi]] if gi in pairs else None
            _score_label(sec, gold, inc, aliases)
            if inc is None and len(sec.misses) < 15:
                sec.misses.append(f"{line['id']}: incident {gi + 1} not found")
    sec.figures = {
        "sentences": len(labels),
        "gold_incidents": detect.gold,
        "negative_sentences": negatives,
        "negative_sentences_with_a_prediction": false_alarms,
    }
    sec.notes = [
        "Predictions are paired one-to-one with gold incidents by how many of place, admin1, "
        "weapon, killed agree (greedy; ties: first); unpaired gold incidents are recall misses, "
        "unpaired predictions count only in 'incident'.",
        "Each gold value has an accept list (a city for a neighbourhood, a second weapon, a "
        "clash's other party); a vague count matches a vague prediction; see LABELS.md.",
    ]
    return sec


# ---------------------------------------------------------------------------------------------
# Section 4: the seed articles


def _seed_checks(
    fields: Mapping[str, Any], inc: Incident, aliases: Aliases
) -> list[tuple[str, bool, str, str]]:
    """(field, right, expected, got) for every field the text states."""
    checks: list[tuple[str, bool, str, str]] = []

    def add(name: str, ok: bool, expected: Any, got: Any) -> None:
        checks.append((name, ok, str(expected), str(got)))

    place = fields.get("place")
    if place:
        names = pred_place_names(inc, any_precision=True)
        add(
            "place",
            aliases.any_same("places", _gold_names(place, "canonical"), names),
            place["canonical"],
            names,
        )
    if fields.get("admin1"):
        got = pred_admin1(inc)
        add("admin1", aliases.same("places", fields["admin1"], got), fields["admin1"], got)
    if fields.get("country_code"):
        got_cc = inc.location.country_code if inc.location else None
        add("country_code", got_cc == fields["country_code"], fields["country_code"], got_cc)
    if fields.get("weapon"):
        got_w = pred_weapon_category(inc)
        add("weapon", got_w == fields["weapon"], fields["weapon"], got_w)
    for name in ("quantity", "killed", "wounded"):
        gold = fields.get(name)
        if gold:
            got_c = pred_count(inc, name)
            ok = (
                got_c is not None
                and got_c.value == gold["value"]
                and got_c.qualifier == gold["qualifier"]
            )
            shown = f"{got_c.value} {got_c.qualifier}" if got_c else None
            add(name, ok, f"{gold['value']} {gold['qualifier']}", shown)
    actor = fields.get("actor")
    if actor:
        got_a = pred_actor(inc)
        add(
            "actor",
            aliases.any_same("actors", _gold_names(actor, "name"), [got_a]),
            actor["name"],
            got_a,
        )
        got_attr = inc.actor.attribution if inc.actor else None
        add("attribution", got_attr == actor["attribution"], actor["attribution"], got_attr)
    target = fields.get("target")
    if target:
        add(
            "target",
            aliases.any_same("targets", _gold_names(target, "canonical"), [inc.target]),
            target["canonical"],
            inc.target,
        )
    if fields.get("event_date"):
        got_d = inc.event_date or ""
        add(
            "event_date",
            got_d.startswith(fields["event_date"]),
            fields["event_date"],
            inc.event_date,
        )
    if fields.get("historical") is not None:
        add(
            "historical",
            bool(inc.historical) == fields["historical"],
            fields["historical"],
            inc.historical,
        )
    return checks


def _seed_matches(match: Mapping[str, Any], inc: Incident, aliases: Aliases) -> bool:
    def holds(key: str, value: Any) -> bool:
        if key == "admin1":
            return aliases.same("places", value, pred_admin1(inc))
        if key == "weapon":
            return pred_weapon_category(inc) == value
        if key == "place":
            return aliases.any_same("places", [value], pred_place_names(inc, any_precision=True))
        if key == "historical":
            return bool(inc.historical) == value
        if key == "killed":
            count = pred_count(inc, "killed")
            return count is not None and count.value == value
        raise ValueError(f"unknown seed match key {key!r}")

    required = all(holds(k, v) for k, v in match.items() if k != "any")
    alternatives = match.get("any")
    return required and (not alternatives or any(holds(k, v) for k, v in alternatives.items()))


def evaluate_seeds(
    expected: Mapping[str, Any], articles: Mapping[str, Article], extract: Extract, aliases: Aliases
) -> Section:
    """Expected seed incidents found (matched by region + weapon/event) and their fields right."""
    sec = Section("seeds", "Seed articles: expected incidents found, every stated field checked")
    preds = {aid: extract(article) for aid, article in articles.items()}
    used: set[tuple[str, int]] = set()
    found = stated = right = 0
    incidents = expected["incidents"]
    for item in incidents:
        aid = item["article_id"]
        candidates = [
            (i, inc)
            for i, inc in enumerate(preds.get(aid, []))
            if (aid, i) not in used and _seed_matches(item["match"], inc, aliases)
        ]
        if not candidates:
            sec.misses.append(f"{item['key']}: NOT FOUND in {aid}")
            sec.score("found").add(True, False, False)
            continue
        i, inc = max(
            candidates,
            key=lambda c: (
                sum(ok for _, ok, _, _ in _seed_checks(item["fields"], c[1], aliases)),
                -c[0],
            ),
        )
        used.add((aid, i))
        found += 1
        sec.score("found").add(True, True, True)
        checks = _seed_checks(item["fields"], inc, aliases)
        for name, ok, want, got in checks:
            stated += 1
            right += ok
            sec.score(name).add(True, got not in ("None", "[]", ""), ok)
            if not ok:
                sec.misses.append(f"{item['key']}: {name} expected {want}, got {got}")
    extra = sum(len(v) for v in preds.values()) - len(used)
    sec.figures = {
        "found": found,
        "expected": len(incidents),
        "stated_fields_right": right,
        "stated_fields": stated,
        "predicted_incidents": sum(len(v) for v in preds.values()),
        "predictions_matching_no_expected_incident": extra,
    }
    for opt in expected.get("optional", []):
        sec.notes.append(f"optional (not scored): {opt['key']}: {opt.get('note', '')}")
    sec.notes.insert(
        0,
        "An expected incident is found by a prediction from its article that agrees on every "
        "'match' key (region, and weapon category or place/event); fields the text does not state "
        "are not checked.",
    )
    return sec


def load_seed_articles(seeds_dir: Path, ids: Iterable[str]) -> dict[str, Article]:
    """Seed articles by id, parsed as the ``articles`` topic would parse them."""
    from streams.ingest import parse_article

    articles: dict[str, Article] = {}
    for aid in ids:
        path = seeds_dir / f"{aid}.json"
        articles[aid] = parse_article(path.read_bytes(), max_bytes=10_000_000)
    return articles


# ---------------------------------------------------------------------------------------------
# Section 5: re3d English Location entities


def evaluate_re3d(
    data_dir: Path, find: FindPlaces, *, limit: int | None, min_confidence: float = 0.5
) -> Section:
    """Gazetteer place spans (English) against re3d Location entities with confidence >= 0.5."""
    sec = Section("re3d_places", "English gazetteer vs re3d Location entities (confidence >= 0.5)")
    overlap = sec.score("place_span_overlap", per_item=False)
    exact = sec.score("place_span_exact", per_item=False)
    documents = 0
    for subset in sorted(p for p in (data_dir / "re3d").iterdir() if p.is_dir()):
        docs = [
            json.loads(x)
            for x in (subset / "documents.json").read_text(encoding="utf-8").splitlines()
            if x.strip()
        ]
        gold: dict[str, list[tuple[int, int]]] = {}
        for line in (subset / "entities.json").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            ent = json.loads(line)
            if (
                ent.get("type") == "Location"
                and float(ent.get("confidence") or 0) >= min_confidence
            ):
                gold.setdefault(str(ent["documentId"]), []).append(
                    (int(ent["begin"]), int(ent["end"]))
                )
        for doc in docs:
            if limit is not None and documents >= limit:
                break
            documents += 1
            spans = sorted(set(gold.get(str(doc["_id"]), [])))
            pred = match_spans(find(doc["text"], "en"))
            score_spans(spans, pred, overlap, exact=False)
            score_spans(spans, pred, exact, exact=True)
    sec.figures = {
        "documents": documents,
        "gold_location_spans": overlap.gold,
        "found_spans": overlap.pred,
    }
    sec.notes = [
        're3d marks many non-gazetteer locations ("the region", "north-west"); recall is bounded.'
    ]
    return sec


# ---------------------------------------------------------------------------------------------
# Running and printing


def _default_extract() -> Extract:
    from streams.extract.engine import get_extractor

    extractor = get_extractor()
    extract: Extract = extractor.extract
    return extract


def _default_find() -> FindPlaces:
    from streams.geo import get_gazetteer

    find: FindPlaces = get_gazetteer().find
    return find


def run_eval(
    data_dir: Path,
    fixtures_dir: Path,
    *,
    extract: Extract | None = None,
    limit: int | None = None,
    find_places: FindPlaces | None = None,
    seeds_dir: Path | None = None,
    sections: Sequence[str] | None = None,
) -> EvalReport:
    """Run every evaluation whose data is present; ``limit`` caps the items of each section.

    ``extract`` defaults to ``streams.extract.engine.get_extractor().extract`` and
    ``find_places`` to ``streams.geo.get_gazetteer().find``; a section whose data or
    component is missing is reported as skipped, not raised.
    """
    aliases = load_aliases(fixtures_dir / "aliases.yaml").with_groups(
        "places", region_groups(config_dir() / "gazetteer" / "admin1.yaml")
    )
    wanted = (
        set(sections)
        if sections
        else {"gtd_acled", "anercorp_places", "anercorp_incidents", "seeds", "re3d_places"}
    )
    report = EvalReport([], str(data_dir), limit)

    def component(loader: Callable[[], Any], what: str) -> tuple[Any, str | None]:
        try:
            return loader(), None
        except Exception as exc:  # a missing or broken component skips its sections, reported
            return None, f"{what} unavailable: {type(exc).__name__}: {exc}"

    extract_fn, extract_err = (
        (extract, None) if extract else component(_default_extract, "extractor")
    )
    find_fn, find_err = (
        (find_places, None) if find_places else component(_default_find, "gazetteer")
    )

    def run(name: str, title: str, needs: str | None, body: Callable[[], Section]) -> None:
        if name not in wanted:
            return
        if needs is not None:
            report.sections.append(Section(name, title, skipped=needs))
            return
        started = time.perf_counter()
        section = body()
        section.figures["seconds"] = round(time.perf_counter() - started, 2)
        report.sections.append(section)

    def cap(items: Sequence[Any]) -> Sequence[Any]:
        return items[:limit] if limit is not None else items

    csv_files = sorted((data_dir / "gtd_acled_drone").glob("*.csv"))
    run(
        "gtd_acled",
        "English GTD/ACLED drone rows",
        extract_err or (None if csv_files else f"no CSV under {data_dir / 'gtd_acled_drone'}"),
        lambda: evaluate_gtd_acled(
            cap([r for f in csv_files for r in read_gtd_acled(f)]), extract_fn, aliases
        ),
    )
    aner = data_dir / "anercorp" / "ANERCorp"
    run(
        "anercorp_places",
        "Arabic gazetteer vs ANERCorp LOC spans",
        find_err or (None if aner.exists() else f"missing {aner}"),
        lambda: evaluate_anercorp_places(cap(read_anercorp(aner)), find_fn),
    )
    labels_path = fixtures_dir / "anercorp_incidents.jsonl"
    run(
        "anercorp_incidents",
        "Arabic incident sentences labelled by hand",
        extract_err or (None if labels_path.exists() else f"missing {labels_path}"),
        lambda: evaluate_labelled(cap(load_labels(labels_path)), extract_fn, aliases),
    )
    expected_path = fixtures_dir / "seeds_expected.json"
    seeds = seeds_dir or PROJECT_ROOT / "seeds"

    def seeds_section() -> Section:
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        articles = load_seed_articles(seeds, expected["articles"])
        return evaluate_seeds(expected, articles, extract_fn, aliases)

    run(
        "seeds",
        "Seed articles",
        extract_err or (None if expected_path.exists() else f"missing {expected_path}"),
        seeds_section,
    )
    re3d = data_dir / "re3d"
    run(
        "re3d_places",
        "English gazetteer vs re3d Location entities",
        find_err or (None if re3d.is_dir() else f"missing {re3d}"),
        lambda: evaluate_re3d(data_dir, find_fn, limit=limit),
    )
    return report


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:5.1f}"


def format_report(report: EvalReport) -> str:
    """The report as plain-text tables, one per section."""
    lines: list[str] = [
        f"eval data: {report.data_dir}" + (f"  (limit {report.limit})" if report.limit else "")
    ]
    header = (
        f"  {'field':<24}{'n':>6}{'gold':>6}{'pred':>7}{'right':>11}"
        f"{'P%':>7}{'R%':>7}{'F1%':>7}{'acc%':>7}"
    )
    for sec in report.sections:
        lines.append("")
        lines.append(f"== {sec.title} [{sec.name}]")
        if sec.skipped:
            lines.append(f"  skipped: {sec.skipped}")
            continue
        lines.append(header)
        for name, s in sec.fields.items():
            right = (
                str(s.gold_correct)
                if s.gold_correct == s.pred_correct
                else f"{s.gold_correct}/{s.pred_correct}"
            )
            lines.append(
                f"  {name:<24}{s.n:>6}{s.gold:>6}{s.pred:>7}{right:>11}"
                f"{_pct(s.precision):>7}{_pct(s.recall):>7}{_pct(s.f1):>7}{_pct(s.accuracy):>7}"
            )
        for key, value in sec.figures.items():
            shown = (
                _pct(value).strip() + "%"
                if isinstance(value, float) and key != "seconds"
                else value
            )
            lines.append(f"  {key}: {shown}")
        for miss in sec.misses:
            lines.append(f"  miss: {miss}")
        for note in sec.notes:
            lines.append(f"  note: {note}")
    return "\n".join(lines)
