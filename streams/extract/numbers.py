"""Numbers with their qualifiers, and killed/wounded counts, in one Arabic or English sentence."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from streams.extract.text import (
    Lexicon,
    PhraseIndex,
    PhraseMatch,
    PhraseMatcher,
    PhraseScan,
    phrase_key,
)
from streams.normalize import normalize_ar, normalize_with_map, original_span
from streams.records import Count

__all__ = [
    "Casualties",
    "NumberMention",
    "NumberSpan",
    "SentenceScan",
    "find_casualties",
    "find_numbers",
    "load_casualty_lexicon",
    "load_number_lexicon",
    "numbers_in_normalized",
    "numbers_in_sentence",
    "offset_map",
    "phrase_index",
    "reset_caches",
    "sentence_scan",
    "tags",
]

LANGUAGES = ("ar", "en")


class NumberMention(NamedTuple):
    """A count in a sentence: ``text[start:end]`` (qualifier included), its value and qualifier.

    ``qualifier`` is ``exact``, ``approx``, ``at_least`` or ``vague``; ``kind`` says where the
    value came from: ``number`` (digits or words), ``dual`` (a noun in the dual: "صاروخين" = 2),
    ``double`` ("مزدوج", "twin" = 2) or ``vague`` ("dozens", "عشرات": a floor).
    """

    start: int
    end: int
    value: int
    qualifier: str
    text: str
    kind: str = "number"


class NumberSpan(NamedTuple):
    """A number found in normalised text: offsets into that text, not the original."""

    start: int  # the whole mention, qualifier included
    end: int
    core_start: int  # the number alone
    core_end: int
    value: int
    qualifier: str
    kind: str
    word: str | None = None  # for a dual: the singular noun ("صاروخ")


class Casualties(NamedTuple):
    """Killed and wounded in one sentence, with who the victims are as written.

    ``killed_group`` classifies ``killed_group_text``: ``militants`` (the attackers' side, e.g.
    ISIS members killed in a raid), ``security``, ``civilians`` or None when not stated; the
    assembler decides whether those deaths are victims of the incident or its perpetrators.
    Spans are offsets into the sentence covering keyword and number.
    """

    killed: Count | None = None
    wounded: Count | None = None
    killed_group_text: str | None = None
    killed_group: str | None = None
    wounded_group_text: str | None = None
    wounded_group: str | None = None
    killed_span: tuple[int, int] | None = None
    wounded_span: tuple[int, int] | None = None

    @property
    def perpetrators_killed(self) -> Count | None:
        """The killed count when the dead are the militants' side, else None."""
        return self.killed if self.killed_group == "militants" else None


# --- number lexicon -------------------------------------------------------------------------


class _Word(NamedTuple):
    role: str  # unit | ten | hundred | scale | scales | dozen | number
    value: int
    arabic: bool


class _Tag(NamedTuple):
    kind: str  # joiner | dual | double | vague
    value: int
    word: str | None = None


class _Qual(NamedTuple):
    qualifier: str
    before: bool
    after: bool


class _Digits(NamedTuple):
    value: float


_Item = _Word | _Tag | _Qual
_ROLES = {"unit", "ten", "hundred", "scale", "scales", "dozen", "number"}
_QUALIFIERS = ("approx", "at_least")


class _NumberLexicon(NamedTuple):
    entries: dict[str, list[tuple[str, _Item]]]  # by language
    proclitics: list[str]


def _langs(lex: Lexicon, key: str) -> dict[str, Any]:
    """A per-language mapping at ``key``; only ``ar``/``en`` keys are allowed."""
    node = lex.mapping(key)
    for lang in node:
        if lang not in LANGUAGES:
            raise lex.error(f"{key}.{lang}", f"unknown language (expected one of {LANGUAGES})")
    return node


def _dual_forms(singular: str) -> list[str]:
    """Dual forms of a normalised singular: "قذيفه" -> "قذيفتين", "قذيفتان", with the article."""
    base = singular[:-1] + "ت" if singular.endswith("ه") else singular
    forms = [base + "ين", base + "ان"]
    return forms + ["ال" + f for f in forms] + ["لل" + f for f in forms]


def _number_entries(lex: Lexicon, lang: str) -> list[tuple[str, _Item]]:
    entries: list[tuple[str, _Item]] = []
    for i, entry in enumerate(lex.get(f"words.{lang}")):
        key = f"words.{lang}[{i}]"
        if not isinstance(entry, dict):
            raise lex.error(key, "expected a mapping with role, value, forms")
        role = entry.get("role")
        if role not in _ROLES:
            raise lex.error(f"{key}.role", f"expected one of {sorted(_ROLES)}, got {role!r}")
        value = lex.integer(f"{key}.value", entry.get("value"))
        word = _Word(role, value, lang == "ar")
        entries += [(form, word) for form in lex.strings(f"{key}.forms", entry.get("forms"))]
    for form in lex.strings(f"joiners.{lang}", lex.get(f"joiners.{lang}", [])):
        entries.append((form, _Tag("joiner", 0)))
    for noun in lex.strings(f"dual_nouns.{lang}", lex.get(f"dual_nouns.{lang}", [])):
        singular = phrase_key(noun)
        entries += [(form, _Tag("dual", 2, singular)) for form in _dual_forms(singular)]
    for form in lex.strings(f"two_words.{lang}", lex.get(f"two_words.{lang}", [])):
        entries.append((form, _Tag("double", 2)))
    for i, entry in enumerate(lex.get(f"vague.{lang}")):
        key = f"vague.{lang}[{i}]"
        if not isinstance(entry, dict):
            raise lex.error(key, "expected a mapping with value, forms")
        value = lex.integer(f"{key}.value", entry.get("value"))
        entries += [
            (f, _Tag("vague", value)) for f in lex.strings(f"{key}.forms", entry.get("forms"))
        ]
    # A qualifier may be listed both before and after ("تقريبا"): one entry with both sides.
    sides: dict[str, tuple[str, bool, bool]] = {}
    for qualifier in _QUALIFIERS:
        for side in ("before", "after"):
            key = f"qualifiers.{qualifier}.{side}.{lang}"
            for form in lex.strings(key, lex.get(key, [])):
                norm = phrase_key(form)
                old = sides.get(norm, (qualifier, False, False))
                if old[0] != qualifier:
                    raise lex.error(key, f"{form!r} is also listed under {old[0]}")
                sides[norm] = (qualifier, old[1] or side == "before", old[2] or side == "after")
    entries += [(form, _Qual(*spec)) for form, spec in sides.items()]
    return entries


def _matcher(
    lex: Lexicon, key: str, entries: Iterable[tuple[str, Any]], proclitics: list[str]
) -> PhraseMatcher[Any]:
    entries = list(entries)
    _check_meanings(lex, key, entries)
    return PhraseMatcher(entries, proclitics)


@functools.cache
def load_number_lexicon() -> _NumberLexicon:
    """Read and check ``config/lexicons/numbers.yaml`` (once); raises LexiconError if bad."""
    lex = Lexicon("numbers.yaml")
    _langs(lex, "words")
    proclitics = lex.strings("proclitics.ar")
    by_lang = {lang: _number_entries(lex, lang) for lang in LANGUAGES}
    for lang, entries in by_lang.items():
        _check_meanings(lex, f"(entries for {lang})", entries)
    return _NumberLexicon(by_lang, proclitics)


def _check_meanings(lex: Lexicon, key: str, entries: Iterable[tuple[str, Any]]) -> None:
    """Fail when one normalised phrase is listed with two meanings in one lexicon."""
    seen: dict[str, Any] = {}
    for form, value in entries:
        norm = phrase_key(form)
        if not norm:
            raise lex.error(key, f"{form!r} is empty once normalised")
        if seen.setdefault(norm, value) != value:
            raise lex.error(key, f"{form!r} has two meanings: {seen[norm]!r} and {value!r}")


@functools.cache
def phrase_index() -> PhraseIndex:
    """Every phrase of numbers.yaml, casualties.yaml and dates.yaml in one automaton.

    Tags are ``<lexicon>:<lang>``. One Aho-Corasick pass per sentence serves numbers,
    casualties and dates alike: the pass costs per character, whatever the number of phrases.
    """
    from streams.extract.dates import load_date_lexicon  # dates builds on numbers: no cycle

    numbers, casualties, dates = load_number_lexicon(), load_casualty_lexicon(), load_date_lexicon()
    lexicons: dict[str, tuple[list[tuple[str, Any]], list[str]]] = {}
    for lang in LANGUAGES:
        lexicons[f"numbers:{lang}"] = (numbers.entries[lang], numbers.proclitics)
        lexicons[f"casualties:{lang}"] = (casualties.keywords[lang], casualties.proclitics)
        lexicons[f"dates:{lang}"] = (dates.entries[lang], dates.proclitics)
    return PhraseIndex(lexicons)


def tags(lexicon: str, lang: str) -> tuple[str, ...]:
    """Index tags of a lexicon for a language; any other language uses all of them."""
    if lang in LANGUAGES:
        return (f"{lexicon}:{lang}",)
    return tuple(f"{lexicon}:{other}" for other in LANGUAGES)


def reset_caches() -> None:
    """Forget loaded lexicons and cached sentences, so the next call reads ``config/`` anew."""
    from streams.extract.dates import load_date_lexicon

    for cached in (
        load_number_lexicon,
        load_casualty_lexicon,
        load_date_lexicon,
        phrase_index,
        sentence_scan,
        offset_map,
        _analyse,
    ):
        cached.cache_clear()


class SentenceScan(NamedTuple):
    """A sentence normalised, and every lexicon phrase found in it."""

    norm: str
    phrases: PhraseScan


@functools.lru_cache(maxsize=1024)
def sentence_scan(text: str) -> SentenceScan:
    """Normalise and scan a sentence once; numbers, casualties and dates all read this."""
    norm = normalize_ar(text)
    return SentenceScan(norm, phrase_index().scan(norm))


@functools.lru_cache(maxsize=256)
def offset_map(text: str) -> list[int]:
    """``normalize_with_map(text)[1]``, cached; callers must not modify it."""
    return normalize_with_map(text)[1]


# --- finding numbers --------------------------------------------------------------------------

# Digits (ASCII after normalisation) with thousands separators and decimals, not inside codes
# ("F-16", "MQ-9"), times ("10:30"), dates ("03/14"), or percentages, which count nothing.
# A run of digits opens the pattern so the regex engine can skip ahead fast; the context is
# checked after (lookbehinds first would make every position slow).
_DIGIT_RUN = re.compile(r"\d+(?:[.,]\d+)*")
_DIGIT_VALUE = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")
_LATIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_NOT_BEFORE = _LATIN | frozenset("/:.,")
_NOT_AFTER = _LATIN | frozenset("/:%")
_UNIT, _TEN, _HUNDRED = 1, 10, 100
# Gap after a number that still lets a trailing qualifier apply: at most one word ("14 صاروخا
# تقريبا"), no punctuation.
_ONE_WORD_GAP = re.compile(r"\s*(?:[^\s\d.,،؛;:!?؟()]+\s+)?")


def _places(value: int) -> set[int]:
    """Decimal places a compound part fills: 5 -> units; 15 -> units and tens; 300 -> hundreds."""
    if value < 10:
        return {_UNIT}
    if value < 20:
        return {_UNIT, _TEN}
    if value < 100:
        return {_TEN}
    return {_HUNDRED}


class _Compound:
    """State while reading a compound number left to right ("مئة وخمسة وعشرين", "two dozen")."""

    def __init__(self, item: _Word | _Digits) -> None:
        self.total = 0  # finished parts above the current scale
        self.group: float = 0  # the part under construction
        self.places: set[int] = set()
        self.last = ""
        self.scale = 0  # the last scale applied, bounds what may follow
        self.vague = False
        if isinstance(item, _Digits):
            self.group, self.last = item.value, "digits"
        elif item.role in ("scale", "dozen"):
            self.total, self.scale, self.last = item.value, item.value, "scale"
        elif item.role == "scales":
            # "آلاف" alone: thousands, at least two of them.
            self.total, self.scale, self.last, self.vague = (
                2 * item.value,
                item.value,
                "scale",
                True,
            )
        else:
            self.group, self.last = item.value, item.role
            self.places = _places(item.value) if item.role != "number" else {_UNIT, _TEN, _HUNDRED}

    @property
    def value(self) -> float:
        return self.total + self.group

    def join(self, item: _Word | _Digits, waw: bool, joined_by_and: bool) -> bool:
        """Add the next part if it continues this number; False ends the number."""
        if isinstance(item, _Digits) or self.vague or self.last == "number":
            return False
        role, value = item.role, item.value
        if role in ("scale", "scales", "dozen"):
            if waw or joined_by_and or not 0 < self.group < value:
                return False
            self.total += round(self.group * value)
            self.group, self.places, self.scale, self.last = 0, set(), value, "scale"
            return True
        if self.last == "digits" or role == "number":
            return False
        if self.scale and self.group == 0 and value >= self.scale:
            return False
        if not waw and not joined_by_and and self.last == "unit" and self.group < 10:
            if item.arabic and role == "unit" and value == 10 and self.group >= 1:
                self.group += 10  # "ثلاثة عشر": a teen
                self.places, self.last = {_UNIT, _TEN}, "teen"
                return True
            if role == "hundred" and value == 100:
                self.group *= 100  # "ثلاث مئة", "three hundred"
                self.places, self.last = {_HUNDRED}, "hundred"
                return True
        new = _places(value)
        if new & self.places:
            return False
        if waw:
            # Arabic orders units before tens ("خمسة وعشرين") and hundreds first.
            if _HUNDRED in new and self.places & {_UNIT, _TEN}:
                return False
            if _UNIT in new and _TEN in self.places:
                return False
        elif item.arabic:
            return False  # Arabic parts join only with "و" (or as a teen/hundred above)
        elif self.places and max(new) >= min(self.places):
            return False  # English goes from larger to smaller: "twenty five", not "five twenty"
        self.group += value
        self.places |= new
        self.last = role
        return True


def _atoms(norm: str, lang: str, scan: PhraseScan | None) -> list[PhraseMatch[Any]]:
    """Lexicon matches and digit runs of normalised text, in text order."""
    if scan is None:
        scan = phrase_index().scan(norm)
    atoms: list[PhraseMatch[Any]] = scan.select(*tags("numbers", lang))
    digits = [
        PhraseMatch(m.start(), m.end(), _Digits(value), 0)
        for m in _DIGIT_RUN.finditer(norm)
        if (value := _digit_value(norm, m)) is not None
    ]
    if digits:
        atoms = sorted(atoms + digits, key=lambda a: a.start)
    return atoms


def _digit_value(norm: str, run: re.Match[str]) -> float | None:
    """Value of a digit run, or None inside codes ("F-16", "MQ-9"), times ("10:30"), dates
    ("03/14"), percentages and malformed groupings ("1,5"), which count nothing."""
    start, end = run.span()
    if start > 0:
        before = norm[start - 1]
        if before in _NOT_BEFORE or (before == "-" and start > 1 and norm[start - 2] in _LATIN):
            return None
    if end < len(norm) and (
        norm[end] in _NOT_AFTER or norm.startswith(" %", end) or norm[end].isdigit()
    ):
        return None
    match = _DIGIT_VALUE.fullmatch(run.group())
    if match is None:
        return None
    whole = int(match.group(1).replace(",", ""))
    fraction = match.group(2)
    return whole + int(fraction) / 10 ** len(fraction) if fraction else whole


def _read_compound(norm: str, atoms: list[PhraseMatch[Any]], i: int) -> tuple[int, _Compound, int]:
    """Read the compound starting at ``atoms[i]``: (index after it, state, its end offset)."""
    state = _Compound(atoms[i].value)
    end = reach = atoms[i].end  # end of the number; end of what was read (a joiner too)
    j = i + 1
    joined_by_and = False
    while j < len(atoms):
        atom = atoms[j]
        gap = norm[reach : atom.start].strip()
        if gap not in ("", "-"):
            break
        item = atom.value
        if isinstance(item, _Tag) and item.kind == "joiner" and not joined_by_and:
            joined_by_and = True
            reach = atom.end
            j += 1
            continue
        if not isinstance(item, _Word | _Digits):
            break
        waw = atom.prefix == 1 and norm[atom.start] == "و"
        if atom.prefix > 0 and not waw:
            break
        if not state.join(item, waw, joined_by_and):
            break
        end = reach = atom.end
        joined_by_and = False
        j += 1
    if joined_by_and:
        j -= 1  # a trailing "and" belongs to the text after the number
    return j, state, end


def numbers_in_normalized(norm: str, lang: str, scan: PhraseScan | None = None) -> list[NumberSpan]:
    """Every count in normalised text, with offsets into that text.

    >>> [(n.value, n.qualifier) for n in numbers_in_normalized("بحوالي 14 صاروخا", "ar")]
    [(14, 'approx')]
    """
    atoms = _atoms(norm, lang, scan)
    found: list[NumberSpan] = []
    i = 0
    while i < len(atoms):
        atom = atoms[i]
        item = atom.value
        if isinstance(item, _Tag):
            if item.kind != "joiner":
                qualifier = "vague" if item.kind == "vague" else "exact"
                start = atom.start + atom.prefix
                found.append(
                    NumberSpan(
                        start,
                        atom.end,
                        start,
                        atom.end,
                        item.value,
                        qualifier,
                        item.kind,
                        item.word,
                    )
                )
            i += 1
            continue
        if not isinstance(item, _Word | _Digits):
            i += 1
            continue
        j, state, core_end = _read_compound(norm, atoms, i)
        value = state.value
        core_start = atom.start + atom.prefix
        if value != int(value) or value <= 0:
            i = j  # a decimal without a scale ("1.5") or zero counts nothing
            continue
        start, end = core_start, core_end
        qualifier = "vague" if state.vague else "exact"
        before = atoms[i - 1] if i > 0 else None
        if (
            not state.vague
            and before is not None
            and isinstance(before.value, _Qual)
            and before.value.before
            and not norm[before.end : atom.start].strip()
        ):
            qualifier, start = before.value.qualifier, before.start + before.prefix
        after = atoms[j] if j < len(atoms) else None
        if (
            qualifier == "exact"
            and after is not None
            and isinstance(after.value, _Qual)
            and after.value.after
            and _ONE_WORD_GAP.fullmatch(norm, core_end, after.start)
        ):
            qualifier, end = after.value.qualifier, after.end
        kind = "vague" if state.vague else "number"
        found.append(NumberSpan(start, end, core_start, core_end, int(value), qualifier, kind))
        i = j
    return found


@functools.lru_cache(maxsize=512)
def _analyse(text: str, lang: str) -> tuple[SentenceScan, tuple[NumberSpan, ...]]:
    """The sentence's scan and its numbers; cached because callers ask numbers and casualties."""
    scan = sentence_scan(text)
    return scan, tuple(numbers_in_normalized(scan.norm, lang, scan.phrases))


def numbers_in_sentence(text: str, lang: str) -> tuple[NumberSpan, ...]:
    """The numbers of a sentence with offsets into its normalised text (cached)."""
    return _analyse(text, lang)[1]


def find_numbers(text: str, lang: str) -> list[NumberMention]:
    """Counts in a sentence, with offsets into ``text`` and how sure the text is of each.

    ``lang`` picks the lexicon ("ar", "en"; anything else uses both).

    >>> [(m.text, m.value, m.qualifier) for m in find_numbers("قصف بحوالي 14 صاروخاً", "ar")]
    [('حوالي 14', 14, 'approx')]
    """
    _, spans = _analyse(text, lang)
    if not spans:
        return []
    mapping = offset_map(text)
    mentions = []
    for span in spans:
        start, end = original_span(mapping, span.start, span.end, len(text))
        mentions.append(
            NumberMention(start, end, span.value, span.qualifier, text[start:end], span.kind)
        )
    return mentions


# --- casualties -----------------------------------------------------------------------------


class _Keyword(NamedTuple):
    counts: str  # killed | wounded
    before: bool  # may come before the number: "مقتل خمسة"
    after: bool  # may come after it: "خمسة قتلى"


class _NoneSaid(NamedTuple):
    counts: str  # both | killed | wounded


class _WordSet(NamedTuple):
    """Normalised words and phrases, checked against a list of normalised words."""

    words: frozenset[str]
    phrases: tuple[str, ...]

    def hits(self, words: list[str]) -> bool:
        if any(w in self.words for w in words):
            return True
        if self.phrases:
            joined = " " + " ".join(words) + " "
            return any(p in joined for p in self.phrases)
        return False


class _CasualtyLexicon(NamedTuple):
    keywords: dict[str, list[tuple[str, _Keyword | _NoneSaid]]]  # by language, for the index
    proclitics: list[str]
    singular: dict[str, PhraseMatcher[str]]
    groups: dict[str, PhraseMatcher[str]]
    blockers: dict[str, _WordSet]
    not_victims: dict[str, _WordSet]
    group_stops: dict[str, _WordSet]
    auxiliaries: dict[str, _WordSet]
    trailing: dict[str, _WordSet]
    dual_keywords: dict[str, str]  # normalised singular -> killed | wounded


def _word_set(lex: Lexicon, key: str, langs: Iterable[str]) -> _WordSet:
    words: set[str] = set()
    phrases: list[str] = []
    for lang in langs:
        for form in lex.strings(f"{key}.{lang}", lex.get(f"{key}.{lang}", [])):
            norm = phrase_key(form)
            if " " in norm:
                phrases.append(f" {norm} ")
            else:
                words.add(norm)
    return _WordSet(frozenset(words), tuple(phrases))


def _by_lang(build: Any) -> dict[str, Any]:
    """``build(langs)`` for each language and for "und" (both)."""
    result = {lang: build((lang,)) for lang in LANGUAGES}
    result["und"] = build(LANGUAGES)
    return result


@functools.cache
def load_casualty_lexicon() -> _CasualtyLexicon:
    """Read and check ``config/lexicons/casualties.yaml`` (once); raises LexiconError if bad."""
    lex = Lexicon("casualties.yaml")
    proclitics = lex.strings("proclitics.ar")

    def keyword_entries(langs: Iterable[str]) -> list[tuple[str, _Keyword | _NoneSaid]]:
        merged: dict[str, _Keyword] = {}
        for counts in ("killed", "wounded"):
            for side in ("before", "after"):
                for lang in langs:
                    key = f"{counts}.{side}.{lang}"
                    for form in lex.strings(key, lex.get(key, [])):
                        norm = phrase_key(form)
                        old = merged.get(norm, _Keyword(counts, False, False))
                        if old.counts != counts:
                            raise lex.error(key, f"{form!r} is also listed under {old.counts}")
                        merged[norm] = _Keyword(
                            counts, old.before or side == "before", old.after or side == "after"
                        )
        entries: list[tuple[str, _Keyword | _NoneSaid]] = list(merged.items())
        for counts in ("both", "killed", "wounded"):
            for lang in langs:
                key = f"none.{counts}.{lang}"
                entries += [(f, _NoneSaid(counts)) for f in lex.strings(key, lex.get(key, []))]
        return entries

    def group_entries(langs: Iterable[str]) -> list[tuple[str, str]]:
        entries: list[tuple[str, str]] = []
        for group in lex.mapping("groups"):
            for lang in langs:
                key = f"groups.{group}.{lang}"
                entries += [(form, group) for form in lex.strings(key, lex.get(key, []))]
        return entries

    def singular_entries(langs: Iterable[str]) -> list[tuple[str, str]]:
        entries: list[tuple[str, str]] = []
        for lang in langs:
            key = f"singular_victims.{lang}"
            entries += [(form, "victim") for form in lex.strings(key, lex.get(key, []))]
        return entries

    for key in ("killed", "wounded", "none", "groups"):
        lex.mapping(key)
    dual_keywords: dict[str, str] = {}
    for counts in ("killed", "wounded"):
        for lang in LANGUAGES:
            key = f"dual_keywords.{counts}.{lang}"
            for form in lex.strings(key, lex.get(key, [])):
                dual_keywords[phrase_key(form)] = counts
    return _CasualtyLexicon(
        keywords=_checked_keywords(lex, {lang: keyword_entries((lang,)) for lang in LANGUAGES}),
        proclitics=proclitics,
        singular=_by_lang(
            lambda langs: _matcher(lex, "singular_victims", singular_entries(langs), [])
        ),
        groups=_by_lang(lambda langs: _matcher(lex, "groups", group_entries(langs), proclitics)),
        blockers=_by_lang(lambda langs: _word_set(lex, "blockers", langs)),
        not_victims=_by_lang(lambda langs: _word_set(lex, "not_victims", langs)),
        group_stops=_by_lang(lambda langs: _word_set(lex, "group_stops", langs)),
        auxiliaries=_by_lang(lambda langs: _word_set(lex, "auxiliaries", langs)),
        trailing=_by_lang(lambda langs: _word_set(lex, "group_trailing", langs)),
        dual_keywords=dual_keywords,
    )


_WORD = re.compile(r"[^\W\d_]+|\d+")
_BREAK = re.compile(r"[.,،؛;:!?؟()\[\]\n]")
# Furthest a number may sit from its keyword, in words: "killed at least" is handled by the
# qualifier, so two words suffice before; "5 ISIS members were killed" needs four after.
_MAX_GAP_BEFORE = 2
_MAX_GAP_AFTER = 4
_MAX_GROUP_WORDS = 5


def _next_words(norm: str, pos: int, limit: int = 2) -> list[str]:
    """Up to ``limit`` words right after ``pos``, stopping at punctuation."""
    words: list[str] = []
    for m in _WORD.finditer(norm, pos):
        if len(words) == limit or _BREAK.search(norm, pos, m.start()):
            break
        words.append(m.group())
        pos = m.end()
    return words


def _counts_something_else(norm: str, num: NumberSpan, cas: _CasualtyLexicon, lang: str) -> bool:
    """True when the number counts rockets, days or kilometres, or is a day of a month."""
    if num.kind == "double":
        return True
    if num.kind == "dual":
        return num.word is not None and num.word in cas.not_victims[lang].words
    following = _next_words(norm, num.core_end)
    if not following:
        return False
    if cas.not_victims[lang].hits(following[:1]) or cas.not_victims[lang].hits(following):
        return True
    return following[0] in _month_words()


def _checked_keywords(
    lex: Lexicon, by_lang: dict[str, list[tuple[str, _Keyword | _NoneSaid]]]
) -> dict[str, list[tuple[str, _Keyword | _NoneSaid]]]:
    for lang, entries in by_lang.items():
        _check_meanings(lex, f"killed/wounded/none ({lang})", entries)
    return by_lang


def _month_words() -> frozenset[str]:
    """Month names from the dates lexicon, so "28 يناير" is never a death toll."""
    from streams.extract.dates import month_words  # a cycle at import time otherwise

    return month_words()


class _Pair(NamedTuple):
    score: float
    keyword: int
    number: int
    counts: str
    direction: str  # before | after | self (the number's own word names the victims)


def _gap_words(norm: str, start: int, end: int) -> list[str] | None:
    """Words between two offsets, or None when punctuation separates them."""
    if _BREAK.search(norm, start, end):
        return None
    return _WORD.findall(norm, start, end)


def _pairs(
    norm: str,
    keywords: list[PhraseMatch[Any]],
    numbers: list[NumberSpan],
    cas: _CasualtyLexicon,
    lang: str,
) -> list[_Pair]:
    """Every plausible keyword-number link, scored by distance (lower is better)."""
    pairs: list[_Pair] = []
    blockers = cas.blockers[lang]
    for k, kw in enumerate(keywords):
        spec: _Keyword = kw.value
        for n, num in enumerate(numbers):
            if spec.before and kw.end <= num.start:
                words = _gap_words(norm, kw.end, num.start)
                if words is None or len(words) > _MAX_GAP_BEFORE or blockers.hits(words):
                    continue
                if any(kw.end <= o.start and o.end <= num.start for o in numbers):
                    continue
                if any(kw.end <= o.start < num.start for o in keywords):
                    continue
                pairs.append(_Pair(len(words), k, n, spec.counts, "before"))
            elif spec.after and num.end <= kw.start:
                words = _gap_words(norm, num.end, kw.start)
                if words is None or len(words) > _MAX_GAP_AFTER or blockers.hits(words):
                    continue
                if any(num.end <= o.start and o.end <= kw.start for o in numbers):
                    continue
                if any(num.end <= o.start < kw.start for o in keywords):
                    continue
                pairs.append(_Pair(len(words) + 0.1, k, n, spec.counts, "after"))
    return pairs


def _group_text(
    norm: str,
    num: NumberSpan,
    pair: _Pair,
    keyword: PhraseMatch[Any],
    keyword_starts: set[int],
    cas: _CasualtyLexicon,
    lang: str,
) -> tuple[int, int] | None:
    """Normalised span of the victims' description for a linked number, if any."""
    if pair.direction == "self":
        return num.core_start, num.core_end
    if pair.direction == "after":
        spans = [m.span() for m in _WORD.finditer(norm, num.core_end, keyword.start)]
        words = [norm[s:e] for s, e in spans]
        aux = cas.auxiliaries[lang]
        while words and aux.hits(words[-1:]):
            words.pop()
            spans.pop()
        return (spans[0][0], spans[-1][1]) if spans else None
    if num.kind == "dual":
        return num.core_start, num.core_end
    stops, trailing = cas.group_stops[lang], cas.trailing[lang]
    spans = []
    pos = num.end
    for m in _WORD.finditer(norm, num.end):
        word = m.group()
        if (
            len(spans) == _MAX_GROUP_WORDS
            or _BREAK.search(norm, pos, m.start())
            or word.isdigit()
            or stops.hits([word])
            or m.start() in keyword_starts
            # An attached "و" opens the next clause ("... عناصر وإصابة"), but "وزراء" is a word.
            or (lang != "en" and word.startswith("و") and len(spans) > 0)
        ):
            break
        spans.append(m.span())
        pos = m.end()
    while spans and trailing.hits([norm[spans[-1][0] : spans[-1][1]]]):
        spans.pop()
    if not spans:
        # Arabic may put the noun first: "قتل مسلحين اثنين" (the gunmen, two of them).
        spans = [m.span() for m in _WORD.finditer(norm, keyword.end, num.start)]
    return (spans[0][0], spans[-1][1]) if spans else None


_QUOTES = "\"'”“«»"


def _as_written(
    text: str, mapping: list[int], span: tuple[int, int]
) -> tuple[str, tuple[int, int]]:
    """Original text of a normalised span, closing a quote it opened ('من "داعش' -> '"داعش"')."""
    start, end = original_span(mapping, span[0], span[1], len(text))
    if start > 0 and text[start - 1] in _QUOTES:
        start -= 1
    piece = text[start:end]
    if sum(piece.count(q) for q in _QUOTES) % 2 and end < len(text) and text[end] in _QUOTES:
        end += 1
    return text[start:end], (start, end)


def find_casualties(text: str, lang: str) -> Casualties:
    """Killed and wounded stated in a sentence, each with its qualifier and victims' description.

    Several counts of one kind give the largest (the most conservative when a total and a
    subset are both stated). "No casualties" and the like give exact zeros.

    >>> c = find_casualties('أدت المداهمة إلى مقتل خمسة عناصر من "داعش"', "ar")
    >>> c.killed.value, c.killed_group_text, c.killed_group
    (5, 'عناصر من "داعش"', 'militants')
    """
    scan, spans = _analyse(text, lang)
    norm = scan.norm
    cas = load_casualty_lexicon()
    found = scan.phrases.select(*tags("casualties", lang))
    lang = lang if lang in LANGUAGES else "und"
    duals = [n for n in spans if n.kind == "dual" and n.word in cas.dual_keywords]
    if not found and not duals:
        return Casualties()
    keywords = [
        PhraseMatch(m.start, m.end, m.value, m.prefix)
        for m in found
        if isinstance(m.value, _Keyword)
    ]
    nones = [m.value.counts for m in found if isinstance(m.value, _NoneSaid)]
    numbers = [n for n in spans if not _counts_something_else(norm, n, cas, lang)]
    pairs = _pairs(norm, keywords, numbers, cas, lang)
    for n, num in enumerate(numbers):
        if num.kind == "dual" and num.word in cas.dual_keywords:
            pairs.append(_Pair(-1, -1, n, cas.dual_keywords[num.word], "self"))
    singular = {m.start: m for m in cas.singular[lang].find(norm)} if keywords else {}
    best: dict[str, tuple[int, NumberSpan, _Pair, PhraseMatch[Any] | None]] = {}
    used_keywords: set[int] = set()
    used_numbers: set[int] = set()
    for pair in sorted(pairs):
        if pair.number in used_numbers or (pair.keyword >= 0 and pair.keyword in used_keywords):
            continue
        used_numbers.add(pair.number)
        used_keywords.add(pair.keyword)
        num = numbers[pair.number]
        kw = keywords[pair.keyword] if pair.keyword >= 0 else None
        if pair.counts not in best or num.value > best[pair.counts][0]:
            best[pair.counts] = (num.value, num, pair, kw)
    # "مقتل جندي", "killed a soldier": one victim, when no number took the keyword.
    for k, kw in enumerate(keywords):
        if k in used_keywords or not kw.value.before or kw.value.counts in best:
            continue
        victim = singular.get(_skip_spaces(norm, kw.end))
        if victim is not None:
            num = NumberSpan(
                victim.start, victim.end, victim.start, victim.end, 1, "exact", "singular"
            )
            best[kw.value.counts] = (1, num, _Pair(0, k, -1, kw.value.counts, "self"), kw)
    if not best and not nones:
        return Casualties()
    mapping = offset_map(text) if best else []
    keyword_starts = {m.start for m in found}
    fields: dict[str, Any] = {}
    for counts in ("killed", "wounded"):
        if counts in best:
            _, num, pair, kw = best[counts]
            fields[counts] = Count(value=num.value, qualifier=num.qualifier)
            lo = min(num.start, kw.start + kw.prefix) if kw else num.start
            hi = max(num.end, kw.end) if kw else num.end
            fields[f"{counts}_span"] = original_span(mapping, lo, hi, len(text))
            group = (
                _group_text(norm, num, pair, kw, keyword_starts, cas, lang)
                if kw
                else (num.core_start, num.core_end)
            )
            if group is not None:
                fields[f"{counts}_group_text"] = _as_written(text, mapping, group)[0]
                kinds = cas.groups[lang].find(norm[group[0] : group[1]])
                fields[f"{counts}_group"] = kinds[0].value if kinds else None
        elif counts in nones or "both" in nones:
            fields[counts] = Count(value=0, qualifier="exact")
    return Casualties(**fields)


def _skip_spaces(norm: str, pos: int) -> int:
    while pos < len(norm) and norm[pos].isspace():
        pos += 1
    return pos
