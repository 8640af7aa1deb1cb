"""Numbers with their qualifiers, and killed/wounded counts, in one Arabic or English sentence."""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Iterable, Iterator
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
    Spans are offsets into the sentence covering keyword and number. ``killed_stated`` says the
    killed count is a coder's figure for this very event ("Fatalities coded as 3"), which
    should win over tolls elsewhere in the article.
    """

    killed: Count | None = None
    wounded: Count | None = None
    killed_group_text: str | None = None
    killed_group: str | None = None
    wounded_group_text: str | None = None
    wounded_group: str | None = None
    killed_span: tuple[int, int] | None = None
    wounded_span: tuple[int, int] | None = None
    killed_stated: bool = False

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


class _Ranges(NamedTuple):
    """Words that make two numbers one range: "4-7", "two or three", "between 3 and 5"."""

    joiners: frozenset[str]  # always a range ("to", "-", "أو")
    after_opener: frozenset[str]  # a range after an opener ("and" after "between")
    openers: tuple[str, ...]


class _NumberLexicon(NamedTuple):
    entries: dict[str, list[tuple[str, _Item]]]  # by language
    proclitics: list[str]
    ranges: dict[str, _Ranges]  # by language, and "und"


def _by_lang(build: Any) -> dict[str, Any]:
    """``build(langs)`` for each language and for "und" (both)."""
    result = {lang: build((lang,)) for lang in LANGUAGES}
    result["und"] = build(LANGUAGES)
    return result


def _langs(lex: Lexicon, key: str) -> dict[str, Any]:
    """A per-language mapping at ``key``; only ``ar``/``en`` keys are allowed."""
    node = lex.mapping(key)
    for lang in node:
        if lang not in LANGUAGES:
            raise lex.error(f"{key}.{lang}", f"unknown language (expected one of {LANGUAGES})")
    return node


def _dual_forms(singular: str, nominative_only: bool = False) -> list[str]:
    """Dual forms of a normalised singular: "قذيفه" -> "قذيفتين", "قذيفتان", with the article.

    ``nominative_only`` keeps the "-ان" forms: for nouns whose plural is spelt like "-ين".
    """
    base = singular[:-1] + "ت" if singular.endswith("ه") else singular
    forms = [base + "ان"] if nominative_only else [base + "ين", base + "ان"]
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
    key = f"dual_nominative_nouns.{lang}"
    for noun in lex.strings(key, lex.get(key, [])):
        singular = phrase_key(noun)
        entries += [(form, _Tag("dual", 2, singular)) for form in _dual_forms(singular, True)]
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
    return _NumberLexicon(by_lang, proclitics, _by_lang(lambda langs: _ranges(lex, langs)))


def _ranges(lex: Lexicon, langs: Iterable[str]) -> _Ranges:
    def forms(key: str) -> list[str]:
        return [phrase_key(f) for lang in langs for f in lex.strings(key, lex.get(key, []))]

    return _Ranges(
        frozenset(form for lang in langs for form in forms(f"ranges.joiners.{lang}")),
        frozenset(form for lang in langs for form in forms(f"ranges.after_opener.{lang}")),
        tuple(form for lang in langs for form in forms(f"ranges.openers.{lang}")),
    )


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
    return _merge_ranges(norm, found, lang) if len(found) > 1 else found


def _merge_ranges(norm: str, found: list[NumberSpan], lang: str) -> list[NumberSpan]:
    """Two numbers making a range ("4-7", "two or three", "بين 3 و5") become one count of at
    least the lower bound, as ACLED codes the lowest figure of a range."""
    ranges = load_number_lexicon().ranges[lang if lang in LANGUAGES else "und"]
    merged: list[NumberSpan] = []
    for num in found:
        low = merged[-1] if merged else None
        if (
            low is not None
            and low.kind == num.kind == "number"
            and num.qualifier == "exact"
            and low.value < num.value
        ):
            gap = norm[low.end : num.start].strip()
            opened = gap in ranges.after_opener and any(
                _ends_with_word(norm, low.start, o) for o in ranges.openers
            )
            if gap in ranges.joiners or opened:
                qualifier = "at_least" if low.qualifier == "exact" else low.qualifier
                merged[-1] = low._replace(end=num.end, core_end=num.core_end, qualifier=qualifier)
                continue
        merged.append(num)
    return merged


def _ends_with_word(norm: str, pos: int, word: str) -> bool:
    """True when ``word`` is the whole word (or phrase) just before ``pos``."""
    text = norm[:pos].rstrip()
    return text.endswith(word) and (
        len(text) == len(word) or not text[len(text) - len(word) - 1].isalpha()
    )


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
    one: bool = False  # names one victim by itself: "killing him", "لقي حتفه"
    stated: bool = False  # a coder's figure for this event, over any other: "coded as 3"
    toll: bool = False  # a death toll: "the death toll from the bombing rose to 35"
    noted: bool = False  # with its number alone in a clause, a coder's figure: "9 fatalities."


class _NoneSaid(NamedTuple):
    counts: str  # both | killed | wounded


class _Aside(NamedTuple):
    """A phrase that changes how the counts near it read."""

    kind: str  # add_before | add_after | other_event


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

    def is_phrase(self, words: list[str]) -> bool:
        """True when ``words`` are exactly one listed word or phrase."""
        joined = " ".join(words)
        return joined in self.words or f" {joined} " in self.phrases

    def strip_leading(self, words: list[str]) -> list[str]:
        """``words`` without a listed phrase (or word) at their start."""
        if words and words[0] in self.words:
            return words[1:]
        joined = " " + " ".join(words) + " "
        for phrase in self.phrases:
            if joined.startswith(phrase):
                return words[phrase.count(" ") - 1 :]
        return words


class _CasualtyLexicon(NamedTuple):
    keywords: dict[str, list[tuple[str, Any]]]  # by language, for the index
    proclitics: list[str]
    people: dict[str, PhraseMatcher[str]]  # one | many | any (determiner) | singular (determiner)
    people_words: dict[str, _WordSet]
    groups: dict[str, PhraseMatcher[str]]
    blockers: dict[str, _WordSet]
    not_victims: dict[str, _WordSet]
    animals: dict[str, _WordSet]
    alone: dict[str, _WordSet]
    not_victims_before: dict[str, _WordSet]
    group_stops: dict[str, _WordSet]
    auxiliaries: dict[str, _WordSet]
    singular_auxiliaries: dict[str, _WordSet]
    trailing: dict[str, _WordSet]
    agents: dict[str, _WordSet]
    collectives: dict[str, _WordSet]
    negations: dict[str, _WordSet]
    joiners: dict[str, _WordSet]
    breakdowns: dict[str, _WordSet]
    toll_links: dict[str, _WordSet]
    complements: dict[str, _WordSet]
    fillers: dict[str, _WordSet]
    verb_first_gap: dict[str, int]
    bare_plurals: dict[str, str]  # normalised keyword -> killed | wounded
    bare_openers: dict[str, _WordSet]
    bare_value: int
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


_KEYWORD_SIDES = ("before", "after", "one", "stated", "toll", "noted")


@functools.cache
def load_casualty_lexicon() -> _CasualtyLexicon:
    """Read and check ``config/lexicons/casualties.yaml`` (once); raises LexiconError if bad."""
    lex = Lexicon("casualties.yaml")
    proclitics = lex.strings("proclitics.ar")

    def keyword_entries(langs: Iterable[str]) -> list[tuple[str, Any]]:
        merged: dict[str, _Keyword] = {}
        for counts in ("killed", "wounded"):
            for side in _KEYWORD_SIDES:
                for lang in langs:
                    key = f"{counts}.{side}.{lang}"
                    for form in lex.strings(key, lex.get(key, [])):
                        norm = phrase_key(form)
                        old = merged.get(norm, _Keyword(counts, False, False))
                        if old.counts != counts:
                            raise lex.error(key, f"{form!r} is also listed under {old.counts}")
                        merged[norm] = _Keyword(
                            counts,
                            old.before or side in ("before", "stated", "toll"),
                            old.after or side in ("after", "noted"),
                            old.one or side == "one",
                            old.stated or side == "stated",
                            old.toll or side == "toll",
                            old.noted or side == "noted",
                        )
        entries: list[tuple[str, Any]] = list(merged.items())
        for counts in ("both", "killed", "wounded"):
            for lang in langs:
                key = f"none.{counts}.{lang}"
                entries += [(f, _NoneSaid(counts)) for f in lex.strings(key, lex.get(key, []))]
        for kind, key in (
            ("add_before", "additions.before"),
            ("add_after", "additions.after"),
            ("other_event", "other_event"),
        ):
            for lang in langs:
                entries += [
                    (f, _Aside(kind))
                    for f in lex.strings(f"{key}.{lang}", lex.get(f"{key}.{lang}", []))
                ]
        return entries

    def group_entries(langs: Iterable[str]) -> list[tuple[str, str]]:
        entries: list[tuple[str, str]] = []
        for group in lex.mapping("groups"):
            for lang in langs:
                key = f"groups.{group}.{lang}"
                entries += [(form, group) for form in lex.strings(key, lex.get(key, []))]
        return entries

    def people_entries(langs: Iterable[str]) -> list[tuple[str, str]]:
        entries: list[tuple[str, str]] = []
        for lang in langs:
            for value, key in (
                ("one", "people.one"),
                ("many", "people.many"),
                ("any", "determiners.any"),
                ("singular", "determiners.singular"),
            ):
                forms = lex.strings(f"{key}.{lang}", lex.get(f"{key}.{lang}", []))
                entries += [(form, value) for form in forms]
        return entries

    def people_words(langs: Iterable[str]) -> _WordSet:
        one, many = _word_set(lex, "people.one", langs), _word_set(lex, "people.many", langs)
        return _WordSet(one.words | many.words, one.phrases + many.phrases)

    for key in ("killed", "wounded", "none", "groups", "people"):
        lex.mapping(key)
    dual_keywords: dict[str, str] = {}
    bare_plurals: dict[str, str] = {}
    for counts in ("killed", "wounded"):
        for lang in LANGUAGES:
            key = f"dual_keywords.{counts}.{lang}"
            for form in lex.strings(key, lex.get(key, [])):
                dual_keywords[phrase_key(form)] = counts
            key = f"bare_plurals.{counts}.{lang}"
            for form in lex.strings(key, lex.get(key, [])):
                bare_plurals[phrase_key(form)] = counts
    gaps = _langs(lex, "verb_first_gap")
    verb_first_gap = {lang: lex.integer(f"verb_first_gap.{lang}", gaps[lang]) for lang in gaps}
    verb_first_gap["und"] = max(verb_first_gap.values(), default=0)

    def sets(key: str) -> dict[str, _WordSet]:
        return _by_lang(lambda langs: _word_set(lex, key, langs))

    return _CasualtyLexicon(
        keywords=_checked_keywords(lex, {lang: keyword_entries((lang,)) for lang in LANGUAGES}),
        proclitics=proclitics,
        people=_by_lang(lambda langs: _matcher(lex, "people", people_entries(langs), proclitics)),
        people_words=_by_lang(people_words),
        groups=_by_lang(lambda langs: _matcher(lex, "groups", group_entries(langs), proclitics)),
        blockers=sets("blockers"),
        not_victims=sets("not_victims"),
        animals=sets("animals"),
        alone=sets("determiners.alone"),
        not_victims_before=sets("not_victims_before"),
        group_stops=sets("group_stops"),
        auxiliaries=sets("auxiliaries"),
        singular_auxiliaries=sets("singular_auxiliaries"),
        trailing=sets("group_trailing"),
        agents=sets("agents"),
        collectives=sets("collectives"),
        negations=sets("negations"),
        joiners=sets("joiners"),
        breakdowns=sets("breakdowns"),
        toll_links=sets("toll_links"),
        complements=sets("complements"),
        fillers=sets("fillers"),
        verb_first_gap=verb_first_gap,
        bare_plurals=bare_plurals,
        bare_openers=sets("bare_plurals.openers"),
        bare_value=lex.integer("bare_plurals.value", lex.get("bare_plurals.value", 3)),
        dual_keywords=dual_keywords,
    )


def _checked_keywords(
    lex: Lexicon, by_lang: dict[str, list[tuple[str, Any]]]
) -> dict[str, list[tuple[str, Any]]]:
    for lang, entries in by_lang.items():
        _check_meanings(lex, f"killed/wounded/none/additions/other_event ({lang})", entries)
    return by_lang


def _month_words() -> frozenset[str]:
    """Month names from the dates lexicon, so "28 يناير" is never a death toll."""
    from streams.extract.dates import month_words  # a cycle at import time otherwise

    return month_words()


_WORD = re.compile(r"[^\W\d_]+|\d+")
_BREAK = re.compile(r"[.,،؛;:!?؟()\[\]\n]")
_COMMA = re.compile(r"[,،]")
_CLAUSE_END = re.compile(r"[,،;؛]")
_PARENTHESES = re.compile(r"\([^()]*\)")
# Furthest a number may sit from its keyword, in words: "killed at least" is handled by the
# qualifier, so two words suffice before; after, four words of description besides
# auxiliaries ("5 ISIS members were killed"), six when they name people ("Four members of Pyu
# Saw Htee died").
_MAX_GAP_BEFORE = 2
_MAX_GAP_TOLL = 10  # "the death toll from Monday's bombing in the capital rose to 35"
_MAX_GAP_AFTER = 4
_MAX_GAP_AFTER_PEOPLE = 6
_MAX_GROUP_WORDS = 5
_MAX_NP_WORDS = 6  # words after "a"/"the" naming one victim ("a 60-year-old female civilian")
_MAX_APPOSITION_WORDS = 12  # ", including soldiers and civilians," between victims and verb
_MAX_ADDITION_WORDS = 6  # "In addition to the two bombers," / "in the blast, along with"
_NEGATION_WINDOW = 4  # words before a singular phrase searched for "no", "whether", "لم"


class _Pair(NamedTuple):
    score: float
    keyword: int
    number: int
    counts: str
    direction: str  # before | after | self (the number's own word names the victims)
    partial: bool = False  # more victims listed without a number: "9 soldiers and PNA members"


class _Result(NamedTuple):
    """One count read from the sentence, offsets in normalised text."""

    value: int
    qualifier: str
    start: int  # keyword and victims together
    end: int
    group: tuple[int, int] | None  # the victims' description
    kinds: tuple[str | None, ...] = ()  # the description's group, one per listed group
    stated: bool = False


_WEAKEST = ("vague", "approx", "at_least")


def _combined(qualifiers: Iterable[str]) -> str:
    """The qualifier of a sum: as weak as its weakest part."""
    found = set(qualifiers)
    return next((q for q in _WEAKEST if q in found), "exact")


class _Reader:
    """The casualty keywords and victim counts of one sentence, and the rules that link them.

    Offsets are into the normalised sentence. ``work`` is the same text with parenthesised
    asides that name no casualty blanked out ("13 Syrian Armed Forces (SAF) soldiers"), so
    that gaps are measured as a reader skips them.
    """

    def __init__(
        self,
        norm: str,
        lang: str,
        cas: _CasualtyLexicon,
        found: list[PhraseMatch[Any]],
        spans: tuple[NumberSpan, ...],
    ) -> None:
        self.norm, self.lang, self.cas = norm, lang, cas
        self.arabic = lang != "en"
        keywords = [m for m in found if isinstance(m.value, _Keyword)]
        self.nones = [m.value.counts for m in found if isinstance(m.value, _NoneSaid)]
        asides = [m for m in found if isinstance(m.value, _Aside)]
        self.work, hidden = _blank_parentheses(norm, keywords)
        hidden += [_region(norm, a) for a in asides if a.value.kind == "other_event"]

        def shown(start: int) -> bool:
            return not any(lo <= start < hi for lo, hi in hidden)

        self.keywords = [k for k in keywords if shown(k.start)]
        self.additions = [a for a in asides if a.value.kind != "other_event" and shown(a.start)]
        self.keyword_starts = {k.start for k in self.keywords} | {k.start for k in asides}
        numbers = [n for n in spans if shown(n.core_start) and not self._counts_something_else(n)]
        ones = self._one_spans(numbers) if self.keywords else []
        ones = [o for o in ones if shown(o.start)]
        self.heads = sorted(numbers + ones)
        self.head_starts = {h.core_start for h in self.heads} | {h.start for h in self.heads}
        self._groups: dict[int, tuple[int, list[str]]] = {}
        # Position indexes, so that linking looks only at the few numbers next to a keyword
        # and each test of what lies between is a bisection: a long sentence listing many
        # numbers and keywords stays linear (pairing every keyword with every number did not).
        self._sorted_keyword_starts = sorted([k.start for k in self.keywords])
        self._head_start_list = [h.start for h in self.heads]
        # From heads[i] on (in order of start), the earliest end: is a head wholly after a point?
        ends = list(itertools.accumulate(reversed([h.end for h in self.heads]), min))
        self._min_end_from = ends[::-1]
        # Heads in order of end, and up to each the latest start: is a head wholly before one?
        by_end = sorted([(h.end, n) for n, h in enumerate(self.heads)])
        self._by_end = [n for _, n in by_end]
        self._head_end_list = [end for end, _ in by_end]
        starts = [self.heads[n].start for n in self._by_end]
        self._max_start_to = list(itertools.accumulate(starts, max))

    @functools.cached_property
    def _breaks(self) -> list[int]:
        """Where punctuation breaks the sentence (``_BREAK``), in order."""
        return [m.start() for m in _BREAK.finditer(self.work)]

    # -- what a number counts --------------------------------------------------------------

    def _counts_something_else(self, num: NumberSpan) -> bool:
        """True when the number counts rockets, days or kilometres, is an age ("aged 25"), a
        unit ("Battalion 103") or a day of a month."""
        cas, lang = self.cas, self.lang
        if num.kind == "double":
            return True
        if num.kind == "dual":
            return num.word is not None and num.word in cas.not_victims[lang].words
        previous = _previous_word(self.norm, num.start)
        if previous and cas.not_victims_before[lang].hits([previous]):
            return True
        following = _next_words(self.norm, num.core_end)
        if not following:
            return False
        if cas.not_victims[lang].hits(following[:1]) or cas.not_victims[lang].hits(following):
            return True
        if cas.animals[lang].hits(following):
            return True
        return following[0] in _month_words()

    def _one_spans(self, numbers: list[NumberSpan]) -> list[NumberSpan]:
        """Descriptions of one victim without a number: "a police force", "the driver of the
        tanker", "his grandson", Arabic "جندي"; as heads of value 1 and kind "one"."""
        work, cas, lang = self.work, self.cas, self.lang
        matches = cas.people[lang].find(work)
        if not matches:
            return []
        taken = [(n.start, n.end) for n in numbers] + [(k.start, k.end) for k in self.keywords]
        number_ends = {n.core_end for n in numbers}
        number_starts = {n.start for n in numbers}
        by_start = {m.start + m.prefix: m for m in matches}
        before_ends = {k.end for k in self.keywords if k.value.before}
        stops, collectives = cas.group_stops[lang], cas.collectives[lang]
        spans: list[NumberSpan] = []
        reach = 0
        for m in matches:
            start = m.start + m.prefix
            if start < reach:
                continue
            end = None
            if m.value in ("any", "singular"):
                # The description runs to a stop word; its last people word decides.
                last: str | None = None
                pos = m.end
                for count, w in enumerate(_WORD.finditer(work, m.end)):
                    if (
                        count == _MAX_NP_WORDS
                        or _BREAK.search(work, pos, w.start())
                        or (count > 0 and stops.hits([w.group()]))  # "an IS militant"
                        or w.start() in self.keyword_starts
                        or w.start() in number_starts
                    ):
                        break
                    if collectives.hits([w.group()]):
                        last = None
                        break
                    pos = w.end()
                    person = by_start.get(w.start())
                    if person is not None and person.value in ("one", "many"):
                        last = person.value
                if last is not None and (m.value == "any" or last == "one"):
                    end = pos
                elif cas.alone[lang].hits([work[start : m.end]]):
                    following = _next_words(work, m.end, 1)
                    if not following or (
                        stops.hits(following) and _skip_spaces(work, m.end) not in number_starts
                    ):
                        end = m.end  # "injuring another", not "another 3 people"
            elif m.value == "one" and (self.arabic or _skip_back(work, start) in before_ends):
                # A bare singular: Arabic "مقتل جندي"; English only as the object of a
                # verb ("killed commander X").
                end = m.end
                previous = _skip_back(work, start)
                after = _skip_spaces(work, end)
                if previous in number_ends or after in number_starts:
                    end = None  # the counted noun ("عشرين جنديا") or an agent ("مسلح 5")
            if end is None or any(a < end and start < b for a, b in taken):
                continue
            spans.append(NumberSpan(start, end, start, end, 1, "exact", "one"))
            reach = end
        return spans

    def _is_people(self, head: NumberSpan, words: list[str]) -> bool:
        """True when a listed group names people ("four attackers", "ومدنيان", "a police")."""
        if head.kind == "one":
            return True
        people = self.cas.people_words[self.lang]
        if head.kind == "dual":
            return head.word is not None and head.word in people.words
        if people.hits(words):
            return True
        return self.arabic and any(_bare(w) in people.words for w in words)

    # -- linking keywords and numbers ------------------------------------------------------

    def _gap(self, start: int, end: int) -> list[str] | None:
        """Words between two offsets, or None when punctuation separates them."""
        if _BREAK.search(self.work, start, end):
            return None
        return _WORD.findall(self.work, start, end)

    def _head_between(self, start: int, end: int) -> bool:
        """True when a head lies wholly inside ``[start, end)``."""
        i = bisect.bisect_left(self._head_start_list, start)
        return i < len(self.heads) and self._min_end_from[i] <= end

    def _keyword_between(self, start: int, end: int) -> bool:
        """True when a keyword starts inside ``[start, end)``."""
        i = bisect.bisect_left(self._sorted_keyword_starts, start)
        return i < len(self._sorted_keyword_starts) and self._sorted_keyword_starts[i] < end

    def _last_head_start(self, end: int) -> int:
        """The latest start of a head that ends by ``end`` (-1 when none does)."""
        i = bisect.bisect_right(self._head_end_list, end)
        return self._max_start_to[i - 1] if i else -1

    def _heads_after(self, pos: int) -> Iterator[int]:
        """Heads that may count for a keyword ending at ``pos``: those starting at or after it
        with no other head wholly between (any further one is another number's)."""
        first_end = None
        for n in range(bisect.bisect_left(self._head_start_list, pos), len(self.heads)):
            head = self.heads[n]
            if first_end is not None and first_end <= head.start:
                return
            first_end = head.end if first_end is None else min(first_end, head.end)
            yield n

    def _heads_before(self, pos: int) -> Iterator[int]:
        """Heads that may count for a keyword starting at ``pos``: ending by it, with no other
        keyword between, and either the last head with nothing but words between or the last
        before an apposition of two commas ("8 civilians, mostly volunteers, were killed")."""
        floor = bisect.bisect_left(self._sorted_keyword_starts, pos)
        lowest = self._sorted_keyword_starts[floor - 1] if floor else -1  # the keyword before
        breaks = self._breaks[: bisect.bisect_left(self._breaks, pos)][-3:]
        # (lowest end excluded, highest end included) of the heads each reading admits
        ranges = [(max(lowest, breaks[-1] if breaks else -1, self._last_head_start(pos)), pos)]
        if len(breaks) >= 2 and all(self.work[b] in ",،" for b in breaks[-2:]):
            comma = breaks[-2]
            low = max(lowest, breaks[-3] if len(breaks) == 3 else -1)
            ranges.append((max(low, self._last_head_start(comma)), comma))
        for low, high in ranges:
            lo = bisect.bisect_right(self._head_end_list, low)
            hi = bisect.bisect_right(self._head_end_list, high)
            yield from self._by_end[lo:hi]

    def pairs(self) -> list[_Pair]:
        """Every plausible keyword-number link, scored by distance (lower is better)."""
        pairs: list[_Pair] = []
        for k, kw in enumerate(self.keywords):
            spec: _Keyword = kw.value
            if spec.before:
                for n in self._heads_after(kw.end):
                    score = self._before_score(kw, self.heads[n])
                    if score is not None:
                        pairs.append(_Pair(score, k, n, spec.counts, "before"))
            if spec.after:
                for n in self._heads_before(kw.start):
                    link = self._after_score(kw, self.heads[n])
                    if link is not None:
                        pairs.append(_Pair(link[0], k, n, spec.counts, "after", link[1]))
        for n, head in enumerate(self.heads):
            if head.kind == "dual" and head.word in self.cas.dual_keywords:
                pairs.append(_Pair(-1, -1, n, self.cas.dual_keywords[head.word], "self"))
        return pairs

    def _before_score(self, kw: PhraseMatch[Any], head: NumberSpan) -> float | None:
        """Score of a number after its keyword ("killing 5", "مقتل جندي"), or None."""
        cas, lang = self.cas, self.lang
        # Nothing else between keyword and number: tested first, as these tests cost a
        # bisection and the ones reading the gap grow with it.
        if self._head_between(kw.end, head.start) or self._keyword_between(kw.end, head.start):
            return None
        if kw.value.stated and (head.kind == "one" or _WORD.search(self.work, kw.end, head.start)):
            return None  # "coded as 3", not "Coded Actor 1"
        words = self._gap(kw.end, head.start)
        if words is None:
            if self.work[kw.end : head.start].strip() != ":":  # "fatalities: 3"
                return None
            words = []
        words = cas.fillers[lang].strip_leading(words)
        if head.kind == "one":
            if all(w in cas.agents[lang].words for w in words) and len(words) <= 2:
                return len(words)
            return None
        if len(words) <= _MAX_GAP_BEFORE and not cas.blockers[lang].hits(words):
            return len(words)
        if kw.value.toll and len(words) <= _MAX_GAP_TOLL:
            links = cas.toll_links[lang]
            if links.hits(words[-1:]) or links.hits(words[-2:]):
                return len(words) + 1
        # "وقتل في المقدادية ... ثلاثة مدنيين": a place between verb and subject.
        limit = cas.verb_first_gap.get(lang, 0)
        if len(words) <= limit and self._is_people(head, _next_words(self.work, head.core_end, 1)):
            return len(words) + 2
        return None

    def _after_score(self, kw: PhraseMatch[Any], head: NumberSpan) -> tuple[float, bool] | None:
        """Score of a number before its keyword, and whether its count is only a floor."""
        cas, lang = self.cas, self.lang
        if self._keyword_between(head.end, kw.start):
            return None
        text = self.work[head.end : kw.start]
        words = self._gap(head.end, kw.start)
        if words is not None:
            if self._head_between(head.end, kw.start):
                return None
            words = _strip_trailing(words, cas.auxiliaries[lang])
            if head.kind == "one":
                # "the driver of the tanker was killed", "a lance corporal were killed"
                if not words or (
                    cas.complements[lang].hits(words[:1]) and len(words) <= _MAX_NP_WORDS + 1
                ):
                    return len(words) + 0.1, False
                return None
            if cas.blockers[lang].hits(words):
                partial = self._partial_score(head, words)
                return None if partial is None else (partial, True)
            if len(words) <= _MAX_GAP_AFTER or (
                len(words) <= _MAX_GAP_AFTER_PEOPLE and self._is_people(head, words)
            ):
                return len(words) + 0.1, False
            return None
        # "8 civilians, mostly local volunteers, were killed": an apposition before the verb.
        parts = _COMMA.split(text)
        if len(parts) != 3 or head.kind == "one" or _BREAK.search(_COMMA.sub(" ", text)):
            return None
        group, aside, tail = (_WORD.findall(p) for p in parts)
        if (
            len(group) > _MAX_GAP_AFTER
            or cas.blockers[lang].hits(group)
            or not 0 < len(aside) <= _MAX_APPOSITION_WORDS
            or _strip_trailing(tail, cas.auxiliaries[lang])
        ):
            return None
        comma = head.end + len(parts[0])
        if self._head_between(head.end, comma):
            return None
        return len(group) + 1.1, False

    def _partial_score(self, head: NumberSpan, words: list[str]) -> float | None:
        """Score of "Nine military soldiers and PNA members died": a count, then more victims
        without one (the count is then a floor)."""
        joiners, blockers = self.cas.joiners[self.lang], self.cas.blockers[self.lang]
        cut = next((i for i, w in enumerate(words) if joiners.is_phrase([w])), None)
        if cut is None:
            return None
        group, more = words[:cut], words[cut + 1 :]
        if (
            not group
            or len(group) > _MAX_GAP_AFTER
            or not 0 < len(more) <= _MAX_GAP_AFTER
            or blockers.hits(group)
            or blockers.hits(more)
            or not self._is_people(head, group)
            or not self.cas.people_words[self.lang].hits(more)
        ):
            return None
        return len(words) + 0.5

    # -- lists of victims ------------------------------------------------------------------

    def _group_end(self, head: NumberSpan) -> tuple[int, list[str]]:
        """End of the victims' description after a head, and its words ("5 ISIS members")."""
        cached = self._groups.get(head.core_start)
        if cached is not None:
            return cached
        stops = self.cas.group_stops[self.lang]
        end = head.core_end
        words: list[str] = []
        for m in _WORD.finditer(self.work, head.core_end):
            word = m.group()
            if (
                len(words) == _MAX_GROUP_WORDS
                or _BREAK.search(self.work, end, m.start())
                or word.isdigit()
                or stops.hits([word])
                or m.start() in self.keyword_starts
                or m.start() in self.head_starts
                # An attached "و" opens the next clause ("... عناصر وإصابة"), but "وزراء" is a word.
                or (self.arabic and word.startswith("و") and len(words) > 0)
            ):
                break
            words.append(word)
            end = m.end()
        self._groups[head.core_start] = (end, words)
        return end, words

    def _joiner(self, text: str) -> str | None:
        """``and`` or ``comma`` when ``text`` joins two groups of a list, else None."""
        text = text.strip()
        if not text:
            return None
        if text in (",", "،"):
            return "comma"
        words = _WORD.findall(text)
        if _COMMA.sub("", text).strip() != " ".join(words):
            return None
        return "and" if self.cas.joiners[self.lang].is_phrase(words) else None

    def _keyword_follows(self, pos: int) -> bool:
        """True when a keyword follows ``pos`` (after auxiliaries): the group is its own."""
        aux = self.cas.auxiliaries[self.lang]
        for m in _WORD.finditer(self.work, pos):
            if m.start() in self.keyword_starts:
                return True
            if _BREAK.search(self.work, pos, m.start()) or not aux.hits([m.group()]):
                return False
            pos = m.end()
        return False

    def forward(self, i: int) -> list[int]:
        """Heads listed after ``heads[i]`` with it: "killing two policemen and a civilian"."""
        members, pending = [i], []
        end = self._group_end(self.heads[i])[0]
        for j in range(i + 1, len(self.heads)):
            head = self.heads[j]
            joiner = self._joiner(self.work[end : head.start])
            if joiner is None:
                break
            next_end, words = self._group_end(head)
            if not self._is_people(head, words) or self._keyword_follows(next_end):
                break
            pending.append(j)
            if joiner == "and":  # commas join only once "and" closes the list
                members += pending
                pending = []
            end = next_end
        return members

    def backward(self, i: int) -> list[int]:
        """Heads listed before ``heads[i]`` with it: "six soldiers and four attackers were
        killed"; a breakdown ("Four soldiers including two officers") gives way to its total."""
        members = [i]
        start = self.heads[i].start
        joined = False
        breakdowns = self.cas.breakdowns[self.lang]
        for j in range(i - 1, -1, -1):
            head = self.heads[j]
            end, words = self._group_end(head)
            between = self.work[end:start]
            gap = _WORD.findall(between)
            if gap and not _BREAK.search(_COMMA.sub(" ", between)) and breakdowns.is_phrase(gap):
                members, start, joined = [j], head.start, False
                continue
            joiner = self._joiner(between)
            if joiner is None or (joiner == "comma" and not joined):
                break
            if not self._is_people(head, words):
                break
            joined = True
            members.append(j)
            start = head.start
        return sorted(members)

    def result(self, pair: _Pair) -> _Result:
        """The count of a link, summing listed groups of victims."""
        heads = self.heads
        kw = self.keywords[pair.keyword] if pair.keyword >= 0 else None
        if pair.direction == "after":
            members = self.backward(pair.number)
        else:
            members = self.forward(pair.number)
        value = sum(heads[m].value for m in members)
        qualifier = _combined(heads[m].qualifier for m in members)
        if pair.partial:
            qualifier = _combined([qualifier, "at_least"])
        first, last = heads[members[0]], heads[members[-1]]
        start, end = first.start, last.end
        if kw is not None:
            start, end = min(start, kw.start + kw.prefix), max(end, kw.end)
        if members == [pair.number]:
            group = self._group_text(heads[pair.number], pair, kw)
            kinds: tuple[str | None, ...] = (self._kind(group),)
        elif len(members) == 1:  # a total before its breakdown
            group = self._group_text(first, pair._replace(direction="before"), None)
            kinds = (self._kind(group),)
        else:
            group = (first.core_start, self._group_end(last)[0])
            kinds = tuple(
                self._kind((heads[m].core_start, self._group_end(heads[m])[0])) for m in members
            )
        stated = kw is not None and (
            kw.value.stated or (kw.value.noted and self._alone(first.start, kw.end))
        )
        if stated:  # "coded as 2 for this event": no description of the victims
            group, kinds = None, (None,)
        return _Result(value, qualifier, start, end, group, kinds, stated)

    def _alone(self, start: int, end: int) -> bool:
        """True when ``work[start:end]`` is a clause of its own ("... injuries. 9 fatalities.")."""
        before = self.work[:start].rstrip()
        after = self.work[end:].lstrip()
        return (not before or before[-1] in ".;:؛") and (not after or after[0] in ".;؛")

    def _kind(self, span: tuple[int, int] | None) -> str | None:
        if span is None:
            return None
        found = self.cas.groups[self.lang].find(self.norm[span[0] : span[1]])
        return found[0].value if found else None

    def _group_text(
        self, num: NumberSpan, pair: _Pair, keyword: PhraseMatch[Any] | None
    ) -> tuple[int, int] | None:
        """Normalised span of the victims' description for a linked number, if any."""
        norm, cas, lang = self.norm, self.cas, self.lang
        if pair.direction == "self" or num.kind in ("dual", "one"):
            return num.core_start, max(num.core_end, self._group_end(num)[0])
        if pair.direction == "after" and keyword is not None:
            stop = _BREAK.search(self.work, num.core_end, keyword.start)
            limit = stop.start() if stop else keyword.start
            spans = [m.span() for m in _WORD.finditer(self.work, num.core_end, limit)]
            words = [norm[s:e] for s, e in spans]
            aux = cas.auxiliaries[lang]
            while words and aux.hits(words[-1:]):
                words.pop()
                spans.pop()
            if len(spans) > _MAX_GROUP_WORDS:
                spans = spans[:_MAX_GROUP_WORDS]
            return (spans[0][0], spans[-1][1]) if spans else None
        trailing = cas.trailing[lang]
        end, words = self._group_end(num)
        described = list(_WORD.finditer(self.work, num.core_end, end))
        while described and trailing.hits([described[-1].group()]):
            described.pop()
        if described:
            return described[0].start(), described[-1].end()
        if keyword is None:
            return None
        # Arabic may put the noun first: "قتل مسلحين اثنين" (the gunmen, two of them).
        found = [m.span() for m in _WORD.finditer(self.work, keyword.end, num.start)]
        return (found[0][0], found[-1][1]) if found else None

    # -- counts without a number -------------------------------------------------------------

    def negated(self, pos: int) -> bool:
        """True when a negation or doubt shortly precedes ``pos`` in its clause."""
        words: list[str] = []
        for m in _WORD.finditer(self.work, max(0, pos - 60), pos):
            if _BREAK.search(self.work, m.end(), pos):
                words = []
                continue
            words.append(m.group())
        words = words[-_NEGATION_WINDOW:]
        if self.arabic:
            words += [_bare(w) for w in words]  # "لمحاولة اغتيال"
        return self.cas.negations[self.lang].hits(words)

    def singular(self, k: int) -> _Result | None:
        """One victim said without a number: "killing him", "لقي حتفه", "Badi ... was killed"."""
        kw = self.keywords[k]
        spec: _Keyword = kw.value
        one = spec.one
        if not one and spec.after:
            before = self._words_before(kw.start, 3)
            aux = self.cas.singular_auxiliaries[self.lang]
            one = bool(before) and (
                aux.hits(before[-1:])
                or aux.hits(before[-2:])
                or (
                    len(before) >= 2
                    and aux.hits(before[-2:-1])
                    and self.cas.auxiliaries[self.lang].hits(before[-1:])
                )
            )
        if not one or self.negated(kw.start):
            return None
        # "their dog was killed": the subject is not a person.
        subject = self._words_before(kw.start, 4)
        aux = self.cas.auxiliaries[self.lang]
        subject = _strip_trailing(subject, aux)
        if subject and self.cas.animals[self.lang].hits(subject[-1:]):
            return None
        return _Result(1, "exact", kw.start + kw.prefix, kw.end, None, (None,))

    def _words_before(self, pos: int, limit: int) -> list[str]:
        words: list[str] = []
        for m in _WORD.finditer(self.work, max(0, pos - 40), pos):
            if _BREAK.search(self.work, m.end(), pos):
                words = []
                continue
            words.append(m.group())
        return words[-limit:]

    def bare_plural(self, k: int) -> _Result | None:
        """Some killed or wounded, no number ("سقوط قتلى وجرحى"): a vague count."""
        kw = self.keywords[k]
        word = self.norm[kw.start + kw.prefix : kw.end]
        if self.cas.bare_plurals.get(word) != kw.value.counts or self.negated(kw.start):
            return None
        before = self._words_before(kw.start, 3)
        if before and self.arabic:
            before[-1] = _bare(before[-1])  # "وسقوط"
        openers = self.cas.bare_openers[self.lang]
        if not (
            any(openers.is_phrase(before[-n:]) for n in (1, 2, 3))
            or (before and before[-1] in self.cas.bare_plurals and kw.prefix > 0)
        ):
            return None  # "مستشفى شهداء الأقصى", "جثث الشهداء"
        return _Result(self.cas.bare_value, "vague", kw.start + kw.prefix, kw.end, None, (None,))

    # -- victims added to a count --------------------------------------------------------------

    def add_others(self, results: dict[str, _Result]) -> dict[str, _Result]:
        """Victims a count leaves out: "In addition to the assailant, four people were killed"
        (5), "was killed, along with two police officers" (3), "قتلته مع سبعة" (8)."""
        out = dict(results)
        for counts, res in results.items():
            extra: list[NumberSpan] = []
            for a in self.additions:
                if a.value.kind == "add_before" and a.end <= res.start:
                    extra += self._added_before(a, res)
                elif a.value.kind == "add_after" and a.start >= res.end:
                    extra += self._added_after(a, res)
            if extra:
                value = res.value + sum(h.value for h in extra)
                qualifier = _combined([res.qualifier, *(h.qualifier for h in extra)])
                out[counts] = res._replace(value=value, qualifier=qualifier)
        return out

    def _added_before(self, a: PhraseMatch[Any], res: _Result) -> list[NumberSpan]:
        text = self.work[a.end : res.start]
        parts = _COMMA.split(text)
        if len(parts) != 2 or parts[1].strip() or _BREAK.search(parts[0]):
            return []
        comma = a.end + len(parts[0])
        if len(_WORD.findall(parts[0])) > _MAX_ADDITION_WORDS or any(
            a.end <= s < comma for s in self.keyword_starts
        ):
            return []
        return [h for h in self.heads if a.end <= h.start and h.end <= comma]

    def _added_after(self, a: PhraseMatch[Any], res: _Result) -> list[NumberSpan]:
        text = self.work[res.end : a.start]
        if text.strip():
            parts = _COMMA.split(text)
            words = _WORD.findall(parts[0])
            if (
                len(parts) != 2
                or parts[1].strip()
                or _BREAK.search(parts[0])
                or len(words) > _MAX_ADDITION_WORDS
                or any(res.end <= s < a.start for s in self.keyword_starts)
            ):
                return []
        start = _skip_spaces(self.work, a.end)
        first = next((i for i, h in enumerate(self.heads) if h.start == start), None)
        if first is None:
            return []
        return [self.heads[i] for i in self.forward(first)]


def _blank_parentheses(
    norm: str, keywords: list[PhraseMatch[Any]]
) -> tuple[str, list[tuple[int, int]]]:
    """``norm`` with parenthesised asides that hold no keyword replaced by spaces."""
    if "(" not in norm:
        return norm, []
    hidden = [
        m.span()
        for m in _PARENTHESES.finditer(norm)
        if not any(m.start() <= k.start < m.end() for k in keywords)
    ]
    if not hidden:
        return norm, []
    chars = list(norm)
    for lo, hi in hidden:
        chars[lo:hi] = " " * (hi - lo)
    return "".join(chars), hidden


def _region(norm: str, aside: PhraseMatch[Any]) -> tuple[int, int]:
    """What an "in retaliation for" phrase governs: up to the next comma ("In revenge for X,
    gunmen killed 3") or the end of the sentence."""
    comma = _CLAUSE_END.search(norm, aside.end)
    return aside.start, comma.start() if comma else len(norm)


def _strip_trailing(words: list[str], aux: _WordSet) -> list[str]:
    while words and aux.hits(words[-1:]):
        words = words[:-1]
    return words


_ARABIC_PREFIXES = ("وال", "بال", "فال", "لل", "ال", "و", "ب", "ل", "ف")


def _bare(word: str) -> str:
    """An Arabic word without one attached conjunction/preposition and article."""
    for prefix in _ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            return word[len(prefix) :]
    return word


def _previous_word(norm: str, pos: int) -> str | None:
    """The word just before ``pos``, across spaces, a full stop or a hyphen ("No. 318")."""
    end = pos
    while end > 0 and norm[end - 1] in " .-#":
        end -= 1
    start = end
    while start > 0 and norm[start - 1].isalpha():
        start -= 1
    return norm[start:end] if start < end else None


def _next_words(norm: str, pos: int, limit: int = 2) -> list[str]:
    """Up to ``limit`` words right after ``pos``, stopping at punctuation."""
    words: list[str] = []
    for m in _WORD.finditer(norm, pos):
        if len(words) == limit or _BREAK.search(norm, pos, m.start()):
            break
        words.append(m.group())
        pos = m.end()
    return words


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

    Listed groups are summed ("six soldiers and four attackers were killed" = 10), a total wins
    over its breakdown ("killing 7, including 3 children" = 7), and of several counts of one
    kind the largest is kept; a coder's figure for the event ("coded as 2") wins over all.
    One victim named without a number counts one ("killing the driver", "لقي حتفه"). "No
    casualties" and the like give exact zeros.

    >>> c = find_casualties('أدت المداهمة إلى مقتل خمسة عناصر من "داعش"', "ar")
    >>> c.killed.value, c.killed_group_text, c.killed_group
    (5, 'عناصر من "داعش"', 'militants')
    >>> find_casualties("Two civilians, six soldiers, and three assailants were killed", "en")[0]
    <Count: value=11, qualifier='exact'>
    """
    scan, spans = _analyse(text, lang)
    cas = load_casualty_lexicon()
    found = scan.phrases.select(*tags("casualties", lang))
    lang = lang if lang in LANGUAGES else "und"
    if not found and not any(n.kind == "dual" and n.word in cas.dual_keywords for n in spans):
        return Casualties()
    reader = _Reader(scan.norm, lang, cas, found, spans)
    results = _results(reader)
    if not results and not reader.nones:
        return Casualties()
    mapping = offset_map(text) if results else []
    fields: dict[str, Any] = {}
    for counts in ("killed", "wounded"):
        res = results.get(counts)
        if res is not None:
            fields[counts] = Count(value=res.value, qualifier=res.qualifier)
            if counts == "killed" and res.stated:
                fields["killed_stated"] = True
            fields[f"{counts}_span"] = original_span(mapping, res.start, res.end, len(text))
            if res.group is not None:
                fields[f"{counts}_group_text"] = _as_written(text, mapping, res.group)[0]
                kinds = set(res.kinds)
                fields[f"{counts}_group"] = kinds.pop() if len(kinds) == 1 else None
        elif counts in reader.nones or "both" in reader.nones:
            fields[counts] = Count(value=0, qualifier="exact")
    return Casualties(**fields)


def _results(reader: _Reader) -> dict[str, _Result]:
    """The count of each kind: a stated figure, else the largest of the sentence's counts."""
    found: dict[str, list[_Result]] = {}
    used_keywords: set[int] = set()
    used_numbers: set[int] = set()
    for pair in sorted(reader.pairs()):
        if pair.number in used_numbers or (pair.keyword >= 0 and pair.keyword in used_keywords):
            continue
        linked = reader.result(pair)
        if reader.heads[pair.number].kind == "one" and reader.negated(linked.start):
            continue
        used_numbers.add(pair.number)
        used_keywords.add(pair.keyword)
        found.setdefault(pair.counts, []).append(linked)
    for k, kw in enumerate(reader.keywords):
        if k in used_keywords:
            continue
        res = reader.singular(k)
        if res is not None:
            found.setdefault(kw.value.counts, []).append(res)
    for k, kw in enumerate(reader.keywords):
        if k not in used_keywords and kw.value.counts not in found:
            res = reader.bare_plural(k)
            if res is not None:
                found.setdefault(kw.value.counts, []).append(res)
    best: dict[str, _Result] = {}
    for counts, results in found.items():
        stated = [r for r in results if r.stated]
        # Of several coded figures ("Total fatalities coded to 18 ... with 9 coded to
        # Kharita"), the last is the one for this event.
        best[counts] = stated[-1] if stated else max(results, key=lambda r: r.value)
    return reader.add_others(best) if reader.additions else best


def _skip_spaces(norm: str, pos: int) -> int:
    while pos < len(norm) and norm[pos].isspace():
        pos += 1
    return pos


def _skip_back(norm: str, pos: int) -> int:
    """The offset just after the last non-space character before ``pos``."""
    while pos > 0 and norm[pos - 1].isspace():
        pos -= 1
    return pos
