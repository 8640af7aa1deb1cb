"""Lexicons as data: validated YAML, one Aho-Corasick pass over normalised text, original spans."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import ahocorasick
import yaml

from streams.extract.text import LexiconError as TextLexiconError
from streams.normalize import normalize_ar, normalize_with_map, original_span

__all__ = [
    "ActorInfo",
    "Entry",
    "LexiconError",
    "Lexicons",
    "Match",
    "Matcher",
    "NormText",
    "WeaponCategory",
    "check_keys",
    "forms_of",
    "line_of",
    "load_lexicons",
    "load_yaml",
    "resolve_overlaps",
]


class LexiconError(TextLexiconError):
    """A lexicon file is malformed; the message names the file and line.

    One family with ``streams.extract.text.LexiconError`` (the numbers, casualty and date
    lexicons): catching that class catches every lexicon problem. The YAML here is read with
    line numbers (``load_yaml``), which ``text.Lexicon`` does not keep, so the loaders differ.
    """

    def __init__(self, message: str) -> None:
        ValueError.__init__(self, message)


# ---------------------------------------------------------------------------------------------
# YAML with line numbers, so a bad entry is reported where it is written (fail fast at start-up).


class _LineDict(dict[str, Any]):
    """A mapping that remembers the line it started on in its YAML file (1-based)."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings are ``_LineDict`` carrying their line."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    out = _LineDict()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise LexiconError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        out[key] = loader.construct_object(value_node, deep=True)
    out.line = node.start_mark.line + 1
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; mappings remember their line (see ``line_of``).

    >>> load_yaml(Path("config/lexicons/weapons.yaml"))["version"]
    1
    """
    try:
        with path.open(encoding="utf-8") as handle:
            # _LineLoader is a SafeLoader subclass: no arbitrary object construction.
            return yaml.load(handle, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        raise LexiconError(f"{path}: not valid YAML: {exc}") from exc
    except LexiconError as exc:
        raise LexiconError(f"{path}: {exc}") from exc


def line_of(node: Any) -> int:
    """Line where a mapping loaded by ``load_yaml`` starts, 0 when unknown."""
    return getattr(node, "line", 0)


def check_keys(
    node: Any, path: Path, what: str, required: Iterable[str], optional: Iterable[str] = ()
) -> Mapping[str, Any]:
    """Fail with file and line unless ``node`` is a mapping with exactly the allowed keys."""
    if not isinstance(node, Mapping):
        raise LexiconError(f"{path}:{line_of(node)}: {what} must be a mapping, got {node!r}")
    required = tuple(required)
    allowed = set(required) | set(optional)
    missing = [key for key in required if key not in node]
    unknown = sorted(str(key) for key in node if key not in allowed)
    if missing:
        raise LexiconError(f"{path}:{line_of(node)}: {what} lacks {', '.join(missing)}")
    if unknown:
        raise LexiconError(
            f"{path}:{line_of(node)}: {what} has unknown keys {', '.join(unknown)}"
            f" (allowed: {', '.join(sorted(allowed))})"
        )
    return node


def forms_of(node: Mapping[str, Any], key: str, path: Path) -> list[str]:
    """The list of surface forms under ``key`` (absent means none); each a non-empty string."""
    value = node.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise LexiconError(f"{path}:{line_of(node)}: {key!r} must be a list of strings")
    for v in value:
        if not isinstance(v, str) or not v.strip():
            # YAML reads bare on/off/yes/no as booleans: such words must be quoted.
            raise LexiconError(
                f"{path}:{line_of(node)}: {key!r} has {v!r}, not a non-empty string (quote it)"
            )
    return [v.strip() for v in value]


# ---------------------------------------------------------------------------------------------
# Entries and matches.


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry: ``kind`` (weapon, trigger, cue, actor...), its id, label and data."""

    kind: str
    id: str
    label: str
    attrs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # Higher wins when two entries of one kind cover the same span.
    priority: int = 0

    def get(self, key: str, default: Any = None) -> Any:
        """An attribute of the entry (``attrs[key]``), or ``default``."""
        return self.attrs.get(key, default)


@dataclass(frozen=True, slots=True)
class Match:
    """A lexicon hit: ``text[start:end]`` of the original text, plus normalised offsets."""

    start: int
    end: int
    text: str
    entry: Entry
    lang: str
    nstart: int
    nend: int
    # Arabic proclitics written onto the word before the form (normalised), e.g. "وب", "س".
    prefix: str = ""
    # The entry's kind (weapon, trigger, ...), copied: the stages filter matches by it
    # hundreds of times an article.
    kind: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", self.entry.kind)


class NormText:
    """A text with its normalised form and the offset map back, computed once and shared."""

    __slots__ = ("_token_ends", "_token_starts", "mapping", "norm", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.norm, self.mapping = normalize_with_map(text)
        self._token_starts: list[int] | None = None
        self._token_ends: list[int] | None = None

    def span(self, nstart: int, nend: int) -> tuple[int, int]:
        """Original ``[start, end)`` of the normalised span ``[nstart, nend)``."""
        return original_span(self.mapping, nstart, nend, len(self.text))

    def _tokens(self) -> tuple[list[int], list[int]]:
        if self._token_starts is None or self._token_ends is None:
            starts: list[int] = []
            ends: list[int] = []
            for m in _TOKEN.finditer(self.norm):
                starts.append(m.start())
                ends.append(m.end())
            self._token_starts, self._token_ends = starts, ends
        return self._token_starts, self._token_ends

    def tokens_between(self, nleft: int, nright: int) -> int:
        """How many word tokens lie wholly inside the normalised span ``[nleft, nright)``."""
        if nright <= nleft:
            return 0
        starts, ends = self._tokens()
        first = bisect.bisect_left(starts, nleft)
        last = bisect.bisect_right(ends, nright)
        return max(0, last - first)

    def words_between(self, nleft: int, nright: int) -> list[str]:
        """The normalised word tokens wholly inside ``[nleft, nright)``."""
        starts, ends = self._tokens()
        first = bisect.bisect_left(starts, nleft)
        last = bisect.bisect_right(ends, nright)
        return [self.norm[starts[i] : ends[i]] for i in range(first, max(first, last))]


_TOKEN = re.compile(r"\w+")


def resolve_overlaps(matches: Sequence[Match]) -> list[Match]:
    """Overlap policy, per kind: the longest span wins, then the higher priority, then the first.

    Matches of different kinds may overlap ("قصف" is both a weapon and a trigger). Entries
    marked ``block`` win like any other and are then dropped: they exist to stop a shorter
    entry from matching inside them ("hunger strike", "shot down").

    >>> e = Entry("weapon", "x", "x")
    >>> [m.text for m in resolve_overlaps([Match(0, 3, "car", e, "en", 0, 3),
    ...                                    Match(0, 8, "car bomb", e, "en", 0, 8)])]
    ['car bomb']
    """
    by_kind: dict[str, list[Match]] = {}
    for m in matches:
        by_kind.setdefault(m.entry.kind, []).append(m)
    kept: list[Match] = []
    for group in by_kind.values():
        group.sort(key=lambda m: (-(m.nend - m.nstart), -m.entry.priority, m.nstart))
        # Kept spans do not overlap, so sorted by (start, end) their ends rise too: a new
        # span overlaps one iff it overlaps the last kept span that starts before it ends.
        taken: list[tuple[int, int]] = []
        for m in group:
            i = bisect.bisect_left(taken, (m.nend,))
            if i and m.nstart < taken[i - 1][1] and taken[i - 1][0] < m.nend:
                continue
            bisect.insort(taken, (m.nstart, m.nend))
            if not m.entry.get("block"):
                kept.append(m)
    kept.sort(key=lambda m: (m.nstart, m.nend))
    return kept


# ---------------------------------------------------------------------------------------------
# The matcher.

# Arabic proclitics, normalised: conjunction (و ف), then preposition (ب ل ك) or the future
# marker (س, verbs only), then the article (ال); "ل" + "ال" is written "لل".
_CONJ = ("", "و", "ف")
_NOUN_PREFIXES = frozenset(
    c + p for c in _CONJ for p in ("", "ب", "ل", "ك", "ال", "بال", "لل", "كال") if c + p
)
_VERB_PREFIXES = frozenset(c + p for c in _CONJ for p in ("", "س", "ل") if c + p)
# Written before the "لل" form of an article pattern: "للدولة" is "ل" + "الدولة".
_LAM_PREFIXES = frozenset({"ل", "ول", "فل"})
# Attached pronouns ("سفارتها", "هجومهم"); a noun in "ة" shows it as "ت" before them.
_SUFFIXES = frozenset({"ه", "ها", "هم", "هما", "هن", "ك", "كم", "كما", "كن", "نا", "ي"})


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _joined(left: str, right: str) -> bool:
    """True when two neighbouring characters belong to one word. Careless Arabic copy glues
    figures to words ("واصيب10 مواطنين", "قوات الاحتلال19"): a digit beside an Arabic letter
    is a word boundary."""
    if not ((left.isalnum() or left == "_") and (right.isalnum() or right == "_")):
        return False
    if left.isdigit() == right.isdigit():
        return True
    return not ("\u0600" <= left <= "\u06ff" or "\u0600" <= right <= "\u06ff")


def _has_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


@dataclass(frozen=True, slots=True)
class _Pattern:
    entry: Entry
    lang: str
    # Original surface to compare case-sensitively (acronyms such as "IS"), else None.
    exact: str | None
    # "noun" or "verb" (which proclitics may precede), "none" for whole words only.
    clitics: str
    # This form is an article pattern rewritten for the "لل" spelling (needs a "ل" before it).
    lam: bool
    # This form is a "ة" noun rewritten with "ت" (needs an attached pronoun after it).
    taa: bool
    suffixes: bool


class Matcher:
    """Every lexicon compiled into one automaton; ``scan`` finds all entries in one pass.

    >>> m = Matcher()
    >>> m.add(Entry("weapon", "rocket", "rocket"), "ar", ["صاروخ", "صواريخ"])
    >>> m.add(Entry("weapon", "rocket", "rocket"), "en", ["rockets"])
    >>> [(x.text, x.prefix) for x in m.scan(NormText("وبالصواريخ and rockets"))]
    [('الصواريخ', 'وبال'), ('rockets', '')]
    """

    def __init__(self) -> None:
        self._automaton = ahocorasick.Automaton()
        self._patterns: dict[str, list[_Pattern]] = {}
        self._built = False

    def add(
        self,
        entry: Entry,
        lang: str,
        forms: Iterable[str],
        *,
        clitics: str = "noun",
        suffixes: bool = True,
    ) -> None:
        """Add surface ``forms`` of ``entry``; Arabic forms also match with proclitics."""
        for form in forms:
            norm = " ".join(normalize_ar(form).split())
            if not norm:
                continue
            arabic = _has_arabic(norm)
            # Short Latin acronyms ("IS", "PKK", "LeT") are only themselves as written: "is" is
            # a verb, "Let" a place name's first word.
            short = len(form) <= 6 and (form.isupper() or sum(c.isupper() for c in form) >= 2)
            exact = form if (not arabic and short) else None
            # Latin forms match whole words only; Arabic ones take the clitics of their class.
            kind = clitics if arabic else "none"
            self._put(norm, _Pattern(entry, lang, exact, kind, False, False, suffixes))
            if arabic and clitics == "noun":
                if norm.startswith("ال") and len(norm) > 3:
                    self._put(
                        "ل" + norm[2:], _Pattern(entry, lang, None, clitics, True, False, True)
                    )
                if norm.endswith("ه") and suffixes and " " not in norm:
                    self._put(
                        norm[:-1] + "ت", _Pattern(entry, lang, None, clitics, False, True, True)
                    )

    def _put(self, key: str, pattern: _Pattern) -> None:
        bucket = self._patterns.setdefault(key, [])
        if pattern not in bucket:
            bucket.append(pattern)
        self._built = False

    def _build(self) -> None:
        self._automaton = ahocorasick.Automaton()
        for key, patterns in self._patterns.items():
            # Whether any form may carry a proclitic or a suffix: a hit inside a word that
            # none of them allows is dropped before the word around it is read.
            prefixed = any(p.lam or p.clitics != "none" for p in patterns)
            suffixed = any(p.taa or (p.suffixes and p.clitics != "none") for p in patterns)
            self._automaton.add_word(key, (len(key), tuple(patterns), prefixed, suffixed))
        if self._patterns:
            self._automaton.make_automaton()
        self._built = True

    def scan(self, nt: NormText, *, accept: Callable[[Match], bool] | None = None) -> list[Match]:
        """All non-overlapping (per kind) matches in ``nt``, in text order."""
        if not self._built:
            self._build()
        if not self._patterns or not nt.norm:
            return []
        norm = nt.norm
        size = len(norm)
        found: list[Match] = []
        for last, (length, patterns, prefixed, suffixed) in self._automaton.iter(norm):
            nstart = last - length + 1
            nend = last + 1
            left_word = nstart > 0 and _joined(norm[nstart - 1], norm[nstart])
            if left_word and not prefixed:
                continue
            right_word = nend < size and _joined(norm[nend - 1], norm[nend])
            if right_word and not suffixed:
                continue
            prefix = ""
            if left_word:
                ts = nstart - 1
                while ts > 0 and _joined(norm[ts - 1], norm[ts]):
                    ts -= 1
                prefix = norm[ts:nstart]
            suffix = ""
            if right_word:
                te = nend + 1
                while te < size and _joined(norm[te - 1], norm[te]):
                    te += 1
                suffix = norm[nend:te]
            # The span as written starts at the article, which belongs to the word ("الصواريخ"
            # of "وبالصواريخ"); with "ل" it fuses into "لل" and both letters stay.
            article = 2 if prefix.endswith(("ال", "لل")) else 0
            for pat in patterns:
                if not self._fits(pat, prefix, suffix):
                    continue
                lead = 1 if pat.lam else article
                start, end = nt.span(nstart - lead, nend)
                if pat.exact is not None and nt.text[start:end] != pat.exact:
                    continue
                match = Match(
                    start, end, nt.text[start:end], pat.entry, pat.lang, nstart, nend, prefix
                )
                if accept is None or accept(match):
                    found.append(match)
        return resolve_overlaps(found)

    @staticmethod
    def _fits(pat: _Pattern, prefix: str, suffix: str) -> bool:
        """Word boundaries: whole words, except Arabic clitics the pattern allows."""
        if pat.lam:
            if prefix not in _LAM_PREFIXES:
                return False
        elif prefix:
            if pat.clitics == "noun":
                if prefix not in _NOUN_PREFIXES:
                    return False
            elif pat.clitics == "verb":
                if prefix not in _VERB_PREFIXES:
                    return False
            else:
                return False
        if pat.taa:
            return suffix in _SUFFIXES
        if suffix:
            return pat.suffixes and pat.clitics != "none" and suffix in _SUFFIXES
        return True


# ---------------------------------------------------------------------------------------------
# The project's lexicons (config/lexicons/*.yaml), validated and compiled into one matcher.

LANGS = ("ar", "en")
_STRENGTHS = frozenset({"strong", "weak"})
_VETOES = frozenset({"hard", "soft"})
_ACTOR_KINDS = frozenset({"group", "state", "state_forces", "unidentified"})
ATTRIBUTION_CUES = ("claimed", "accuse", "hold", "responsibility", "suspected", "announce")
ROLE_CUES = ("agent_before", "victim_before", "victim_after", "agent_after", "title_before")
PLACE_CUES = ("directions",)


@dataclass(frozen=True, slots=True)
class WeaponCategory:
    """A taxonomy category and its GTD weaptype / weapsubtype strings."""

    name: str
    gtd_type: str
    gtd_subtype: str | None
    rank: int


@dataclass(frozen=True, slots=True)
class ActorInfo:
    """An actor: canonical name, kind, and the names GTD/ACLED give it."""

    name: str
    kind: str
    gtd_names: tuple[str, ...] = ()
    affiliate_of: str | None = None
    by_country: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # For a state: its armed forces, the doer when the state is said to strike ("شنت إسرائيل").
    forces: str | None = None


@dataclass(frozen=True, slots=True)
class Lexicons:
    """Everything in ``config/lexicons``: lookup tables plus one compiled matcher."""

    matcher: Matcher
    categories: Mapping[str, WeaponCategory]
    actors: Mapping[str, ActorInfo]

    def scan(self, nt: NormText) -> list[Match]:
        """Every lexicon hit in ``nt`` (weapons, triggers, cues, actors, targets...)."""
        return self.matcher.scan(nt)


def _frozen(data: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(data))


def _add_forms(
    matcher: Matcher,
    entry: Entry,
    node: Mapping[str, Any],
    path: Path,
    *,
    clitics: str = "noun",
) -> int:
    """Add the ar/en forms of ``node``; returns how many forms there were."""
    count = 0
    for lang in LANGS:
        forms = forms_of(node, lang, path)
        matcher.add(entry, lang, forms, clitics=clitics)
        count += len(forms)
    return count


def _require_forms(count: int, node: Any, path: Path, what: str) -> None:
    if count == 0:
        raise LexiconError(f"{path}:{line_of(node)}: {what} has no ar or en forms")


def _version(data: Any, path: Path) -> None:
    if not isinstance(data, Mapping) or data.get("version") != 1:
        raise LexiconError(f"{path}:{line_of(data)}: expected a mapping with 'version: 1'")


def _load_weapons(path: Path, matcher: Matcher) -> dict[str, WeaponCategory]:
    data = load_yaml(path)
    _version(data, path)
    check_keys(
        data, path, "weapons file", ["version", "categories", "entries"], ["modifiers", "blockers"]
    )
    categories: dict[str, WeaponCategory] = {}
    for name, node in data["categories"].items():
        check_keys(node, path, f"category {name!r}", ["gtd_type", "rank"], ["gtd_subtype"])
        if not isinstance(node["rank"], int):
            raise LexiconError(f"{path}:{line_of(node)}: rank of {name!r} must be an integer")
        categories[name] = WeaponCategory(
            name, str(node["gtd_type"]), node.get("gtd_subtype"), int(node["rank"])
        )
    seen: set[str] = set()
    for node in data["entries"]:
        check_keys(
            node,
            path,
            "weapon entry",
            ["id", "category"],
            ["event", "quantity", "gtd_subtype", "rank", "ar", "en"],
        )
        ident = str(node["id"])
        if ident in seen:
            raise LexiconError(f"{path}:{line_of(node)}: duplicate weapon id {ident!r}")
        seen.add(ident)
        category = node["category"]
        if category not in categories:
            raise LexiconError(f"{path}:{line_of(node)}: unknown category {category!r}")
        quantity = node.get("quantity")
        if quantity is not None and (not isinstance(quantity, int) or quantity < 1):
            raise LexiconError(f"{path}:{line_of(node)}: quantity must be a positive integer")
        rank = node.get("rank", categories[category].rank)
        if isinstance(rank, bool) or not isinstance(rank, int):
            raise LexiconError(f"{path}:{line_of(node)}: rank must be an integer")
        attrs = {
            "event": bool(node.get("event", False)),
            "quantity": quantity,
            "gtd_subtype": node.get("gtd_subtype", categories[category].gtd_subtype),
            "gtd_type": categories[category].gtd_type,
            "rank": rank,
        }
        entry = Entry("weapon", ident, category, _frozen(attrs))
        _require_forms(_add_forms(matcher, entry, node, path), node, path, f"weapon {ident!r}")
    for node in data.get("modifiers") or []:
        check_keys(node, path, "modifier", ["id", "multiply"], ["ar", "en"])
        if not isinstance(node["multiply"], int) or node["multiply"] < 2:
            raise LexiconError(f"{path}:{line_of(node)}: multiply must be an integer >= 2")
        entry = Entry(
            "modifier", str(node["id"]), "multiply", _frozen({"multiply": node["multiply"]})
        )
        _require_forms(_add_forms(matcher, entry, node, path), node, path, "modifier")
    for node in data.get("blockers") or []:
        check_keys(node, path, "blocker", ["id"], ["ar", "en"])
        entry = Entry("weapon", str(node["id"]), "blocked", _frozen({"block": True}))
        _add_forms(matcher, entry, node, path)
    return categories


def _load_triggers(path: Path, matcher: Matcher) -> None:
    data = load_yaml(path)
    _version(data, path)
    optional = ["anaphors", "blockers", "other_event", "places", "clauses"]
    check_keys(data, path, "triggers file", ["version", "events", "cues"], optional)
    for node in data["events"]:
        check_keys(
            node, path, "event trigger", ["id", "strength"], ["verb", "role", "killed", "ar", "en"]
        )
        if node["strength"] not in _STRENGTHS:
            raise LexiconError(f"{path}:{line_of(node)}: strength must be strong or weak")
        killed = node.get("killed")
        if killed is not None and (isinstance(killed, bool) or not isinstance(killed, int)):
            raise LexiconError(f"{path}:{line_of(node)}: killed must be an integer")
        if node.get("role") not in (None, "defensive"):
            raise LexiconError(f"{path}:{line_of(node)}: role may only be 'defensive'")
        verb = bool(node.get("verb", False))
        attrs = {
            "strength": node["strength"],
            "verb": verb,
            "role": node.get("role"),
            "killed": killed,
        }
        entry = Entry("trigger", str(node["id"]), str(node["id"]), _frozen(attrs))
        count = _add_forms(matcher, entry, node, path, clitics="verb" if verb else "noun")
        _require_forms(count, node, path, f"trigger {node['id']!r}")
    for node in data["cues"]:
        check_keys(node, path, "cue", ["id", "class", "veto"], ["ar", "en"])
        if node["veto"] not in _VETOES:
            raise LexiconError(f"{path}:{line_of(node)}: veto must be hard or soft")
        entry = Entry("cue", str(node["id"]), str(node["class"]), _frozen({"veto": node["veto"]}))
        _require_forms(_add_forms(matcher, entry, node, path, clitics="verb"), node, path, "cue")
    anaphors = data.get("anaphors") or {}
    check_keys(anaphors, path, "anaphors", [], LANGS)
    _add_forms(matcher, Entry("anaphor", "event", "event"), anaphors, path)
    other = data.get("other_event") or {}
    check_keys(other, path, "other_event", [], LANGS)
    _add_forms(matcher, Entry("other_event", "other_event", "other_event"), other, path)
    blockers = data.get("blockers") or {}
    check_keys(blockers, path, "blockers", [], LANGS)
    _add_forms(
        matcher, Entry("trigger", "blocked", "blocked", _frozen({"block": True})), blockers, path
    )
    optional = ["openers", "coordinators", "blockers"]
    clauses = check_keys(data.get("clauses") or {}, path, "clauses", [], optional)
    for label in ("opener", "coordinator"):
        node = check_keys(clauses.get(f"{label}s") or {}, path, f"clauses.{label}s", [], LANGS)
        _add_forms(matcher, Entry("clause", label, label), node, path, clitics="verb")
    node = check_keys(clauses.get("blockers") or {}, path, "clauses.blockers", [], LANGS)
    entry = Entry("clause", "blocked", "blocked", _frozen({"block": True}))
    _add_forms(matcher, entry, node, path, clitics="verb")
    places = check_keys(data.get("places") or {}, path, "places", [], PLACE_CUES)
    for label in PLACE_CUES:
        node = check_keys(places.get(label) or {}, path, f"places.{label}", [], LANGS)
        _add_forms(matcher, Entry(f"place:{label}", label, label), node, path)


def _load_actors(path: Path, matcher: Matcher) -> dict[str, ActorInfo]:
    data = load_yaml(path)
    _version(data, path)
    check_keys(data, path, "actors file", ["version", "actors", "cues"], ["anaphors"])
    actors: dict[str, ActorInfo] = {}
    for node in data["actors"]:
        check_keys(
            node,
            path,
            "actor",
            ["name", "kind"],
            ["gtd_names", "affiliate_of", "by_country", "forces", "ar", "en"],
        )
        name = str(node["name"])
        if name in actors:
            raise LexiconError(f"{path}:{line_of(node)}: duplicate actor {name!r}")
        if node["kind"] not in _ACTOR_KINDS:
            raise LexiconError(
                f"{path}:{line_of(node)}: kind must be one of {sorted(_ACTOR_KINDS)}"
            )
        by_country = node.get("by_country") or {}
        if not isinstance(by_country, Mapping):
            raise LexiconError(f"{path}:{line_of(node)}: by_country must be a mapping")
        actors[name] = ActorInfo(
            name,
            str(node["kind"]),
            tuple(forms_of(node, "gtd_names", path)),
            node.get("affiliate_of"),
            _frozen({str(k): str(v) for k, v in by_country.items()}),
            node.get("forces"),
        )
        entry = Entry("actor", name, name, _frozen({"kind": node["kind"]}))
        _require_forms(_add_forms(matcher, entry, node, path), node, path, f"actor {name!r}")
    for name, info in actors.items():
        for other in (info.affiliate_of, info.forces, *info.by_country.values()):
            if other is not None and other not in actors:
                raise LexiconError(f"{path}: actor {name!r} refers to unknown actor {other!r}")
    anaphors = data.get("anaphors") or {}
    check_keys(anaphors, path, "anaphors", [], LANGS)
    _add_forms(matcher, Entry("actor_anaphor", "group", "group"), anaphors, path)
    cues = check_keys(
        data["cues"],
        path,
        "cues",
        [*ATTRIBUTION_CUES, "negation", *ROLE_CUES],
        ["own_loss", "announce_links"],
    )
    for label in ATTRIBUTION_CUES:
        node = check_keys(cues[label], path, f"cues.{label}", [], LANGS)
        _add_forms(matcher, Entry("attr", label, label), node, path, clitics="verb")
    for label in ("own_loss", "announce_links"):
        node = check_keys(cues.get(label) or {}, path, f"cues.{label}", [], LANGS)
        _add_forms(matcher, Entry(label, label, label), node, path)
    node = check_keys(cues["negation"], path, "cues.negation", [], LANGS)
    _add_forms(matcher, Entry("attr_neg", "negation", "negation"), node, path, clitics="verb")
    for label in ROLE_CUES:
        node = check_keys(cues[label], path, f"cues.{label}", [], LANGS)
        _add_forms(matcher, Entry(f"role:{label}", label, label), node, path)
    return actors


def _load_targets(path: Path, matcher: Matcher) -> None:
    data = load_yaml(path)
    _version(data, path)
    check_keys(data, path, "targets file", ["version", "targets"])
    for i, node in enumerate(data["targets"]):
        check_keys(node, path, "target", ["label", "priority"], LANGS)
        if not isinstance(node["priority"], int):
            raise LexiconError(f"{path}:{line_of(node)}: priority must be an integer")
        entry = Entry("target", f"target{i}", str(node["label"]), priority=node["priority"])
        _require_forms(_add_forms(matcher, entry, node, path), node, path, "target")


def load_lexicons(lexicon_dir: Path) -> Lexicons:
    """Load and validate ``weapons``, ``triggers``, ``actors`` and ``targets`` YAML files.

    Raises ``LexiconError`` naming the file and line of the first problem.

    >>> lex = load_lexicons(Path("config/lexicons"))
    >>> lex.categories["rocket"].gtd_type
    'Explosives'
    """
    matcher = Matcher()
    categories = _load_weapons(lexicon_dir / "weapons.yaml", matcher)
    _load_triggers(lexicon_dir / "triggers.yaml", matcher)
    actors = _load_actors(lexicon_dir / "actors.yaml", matcher)
    _load_targets(lexicon_dir / "targets.yaml", matcher)
    return Lexicons(matcher, MappingProxyType(categories), MappingProxyType(actors))
