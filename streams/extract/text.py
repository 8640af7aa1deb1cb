"""Sentences over the original body, lexicon loading, and phrase matching on normalised text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import ahocorasick
import yaml

from streams.normalize import normalize_ar
from streams.settings import config_dir

__all__ = [
    "Lexicon",
    "LexiconError",
    "PhraseIndex",
    "PhraseMatch",
    "PhraseMatcher",
    "PhraseScan",
    "Sentence",
    "phrase_key",
    "split_sentences",
]


class Sentence(NamedTuple):
    """One sentence: ``body[start:end] == text``, without surrounding whitespace."""

    start: int
    end: int
    text: str


_ARABIC_LETTER = "\u0621-\u064a\u0671-\u06d3"
_TERMINATORS = ".!?؟۔…"
# A candidate end: a newline (paragraphs and headlines carry no full stop), or terminators,
# closing quotes/brackets, then the ".," / ".،" runs some feeds leave between sentences
# ('"داعش"., وأضاف'), followed by a space, the end, or an Arabic letter (Arabic copy often
# omits the space after a full stop). The pattern opens with one character class so the regex
# engine can skip ahead quickly; the lookbehind accepts a newline on its own.
_BOUNDARY = re.compile(
    rf"[{_TERMINATORS}\n](?:(?<=\n)|[{_TERMINATORS}]*[\"'”’»)\]]*[,،]?(?=\s|$|[{_ARABIC_LETTER}]))"
)
# A lone full stop is not an end after an initial ("U.S.", "J. Smith", Arabic "د."), after a
# short vowel-less title ("Mr.", "Dr.", "Lt.", "Sgt."), when the next word starts in lower
# case ("approx. five"), or between a Latin word and a number ("Jan. 28", "No. 5").
_ABBREVIATION = re.compile(r"(?:^|[\s.(\"'])(?:\w|[B-DF-HJ-NP-TV-Z][b-df-hj-np-tv-xz]{0,3})$")
# Only a short word abbreviates before a number ("Jan. 28", "No. 5", "Sept. 11"); after a
# longer one ("on the outpost. 4 soldiers were killed") the number opens a sentence.
_LATIN_WORD_END = re.compile(r"(?<![A-Za-z])[A-Za-z]{1,4}$")
_NEXT_WORD = re.compile(r"\s*(\S)")
# How far back the abbreviation check looks: the longest title plus its left boundary.
_LOOKBACK = 6


def _is_abbreviation(body: str, dot: int) -> bool:
    """True when the lone full stop at ``body[dot]`` belongs to an abbreviation."""
    before = body[max(0, dot - _LOOKBACK) : dot]
    if _ABBREVIATION.search(before):
        return True
    nxt = _NEXT_WORD.match(body, dot + 1)
    if nxt is None:
        return False
    first = nxt.group(1)
    if "a" <= first <= "z":
        return True
    return first.isdigit() and _LATIN_WORD_END.search(before) is not None


def split_sentences(body: str) -> list[Sentence]:
    """Split ``body`` into sentences whose offsets point into ``body``.

    >>> [s.text for s in split_sentences('قتل "داعش"., وأضاف أن U.S. forces left.')]
    ['قتل "داعش".,', 'وأضاف أن U.S. forces left.']
    """
    sentences: list[Sentence] = []
    start = 0
    for match in _BOUNDARY.finditer(body):
        if match.group() == "." and _is_abbreviation(body, match.start()):
            continue
        _append_bounded(body, start, match.end(), sentences)
        start = match.end()
    _append_bounded(body, start, len(body), sentences)
    return sentences


# The longest sentence read as one. Real news sentences are far shorter; a longer run with no
# full stop (a list, a feed's glued paragraphs, a pathological body) is cut into pieces, so the
# per-sentence steps that compare matches pairwise stay bounded and extraction stays linear.
MAX_SENTENCE = 1500
_CLAUSE_CUTS = "،,;؛"
_SPACE_CUTS = " \t\u00a0\r\n"


def _append_bounded(body: str, start: int, end: int, sentences: list[Sentence]) -> None:
    """Add ``body[start:end]`` in pieces of at most ``MAX_SENTENCE`` characters, cut after the
    last clause punctuation (، , ; ؛) in the second half of a piece, else at the last space."""
    while end - start > MAX_SENTENCE:
        hi = start + MAX_SENTENCE
        lo = start + MAX_SENTENCE // 2
        cut = max(body.rfind(c, lo, hi) for c in _CLAUSE_CUTS)
        if cut < 0:
            cut = max(body.rfind(c, lo, hi) for c in _SPACE_CUTS)
        cut = cut + 1 if cut >= 0 else hi
        _append(body, start, cut, sentences)
        start = cut
    _append(body, start, end, sentences)


def _append(body: str, start: int, end: int, sentences: list[Sentence]) -> None:
    """Add ``body[start:end]`` trimmed of whitespace, unless nothing is left."""
    segment = body[start:end]
    text = segment.strip()
    if text:
        start += len(segment) - len(segment.lstrip())
        sentences.append(Sentence(start, start + len(text), text))


class LexiconError(ValueError):
    """A lexicon file is unreadable or has a bad entry; the message names the file and key."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}")


class Lexicon:
    """One YAML file of ``config/lexicons``, read once, with checked access by dotted key.

    >>> Lexicon("numbers.yaml").strings("two_words.en")
    ['double', 'twin']
    """

    def __init__(self, name: str) -> None:
        self.path = config_dir() / "lexicons" / name
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise LexiconError(self.path, "(file)", f"cannot read: {exc}") from exc
        except yaml.YAMLError as exc:
            raise LexiconError(self.path, "(file)", f"not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise LexiconError(self.path, "(file)", "the top level must be a mapping")
        self.data: dict[str, Any] = data

    def error(self, key: str, problem: str) -> LexiconError:
        """An error about ``key`` of this file, to raise."""
        return LexiconError(self.path, key, problem)

    def get(self, key: str, default: Any = ...) -> Any:
        """The value at a dotted ``key`` ("qualifiers.approx.before"); missing raises."""
        node: Any = self.data
        for part in key.split("."):
            # YAML reads "1:" as the integer 1: accept either spelling of such keys.
            step: str | int = part
            if isinstance(node, dict) and part not in node and part.isdigit():
                step = int(part)
            if not isinstance(node, dict) or step not in node:
                if default is not ...:
                    return default
                raise self.error(key, "missing")
            node = node[step]
        return node

    def mapping(self, key: str, default: Any = ...) -> dict[str, Any]:
        """The mapping at ``key``."""
        node = self.get(key, default)
        if not isinstance(node, dict):
            raise self.error(key, f"expected a mapping, got {type(node).__name__}")
        return node

    def strings(self, key: str, node: Any = ...) -> list[str]:
        """The list of non-empty strings at ``key`` (or ``node``, reported as ``key``).

        YAML 1.1 reads bare ``no``/``on``/``yes`` as booleans: such entries fail here, loudly.
        """
        value = self.get(key) if node is ... else node
        if not isinstance(value, list):
            raise self.error(key, f"expected a list of strings, got {type(value).__name__}")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.error(f"{key}[{i}]", f"expected a non-empty string, got {item!r}")
        return value

    def integer(self, key: str, node: Any = ...) -> int:
        """The non-negative integer at ``key`` (or ``node``, reported as ``key``)."""
        value = self.get(key) if node is ... else node
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(key, f"expected a non-negative integer, got {value!r}")
        return value


V = TypeVar("V")


class PhraseMatch(NamedTuple, Generic[V]):
    """A lexicon phrase found in normalised text; ``prefix`` proclitic letters open the span."""

    start: int
    end: int
    value: V
    prefix: int


def phrase_key(phrase: str) -> str:
    """The form a phrase is matched in: normalised, single spaces."""
    return " ".join(normalize_ar(phrase).split())


class PhraseIndex:
    """Several lexicons ("tags") in one Aho-Corasick automaton: one pass serves them all.

    Phrases are normalised at build time. Arabic proclitics ("و", "ب", ...) may be attached to
    phrases of at least ``min_proclitic_stem`` letters. Within a tag a phrase has one meaning;
    across tags the same phrase may mean different things.

    >>> index = PhraseIndex({"q": ([("حوالي", "approx")], ["ب"])})
    >>> index.scan(normalize_ar("قصف بحوالي 14")).select("q")
    [PhraseMatch(start=4, end=10, value='approx', prefix=1)]
    """

    def __init__(
        self,
        lexicons: Mapping[str, tuple[Iterable[tuple[str, Any]], Sequence[str]]],
        min_proclitic_stem: int = 3,
    ) -> None:
        table: dict[str, dict[str, tuple[int, Any]]] = {}  # key -> tag -> (prefix, value)
        for tag, (entries, proclitics) in lexicons.items():
            explicit: dict[str, Any] = {}
            for phrase, value in entries:
                key = phrase_key(phrase)
                if not key:
                    raise ValueError(f"{tag}: empty phrase {phrase!r}")
                if key in explicit and explicit[key] != value:
                    raise ValueError(
                        f"{tag}: {phrase!r} has two meanings: {explicit[key]!r}, {value!r}"
                    )
                explicit[key] = value
            for key, value in explicit.items():
                table.setdefault(key, {})[tag] = (0, value)
            # Generated "و" + word never overrides a listed word of the same tag.
            prefixes = [phrase_key(p) for p in proclitics]
            for key, value in explicit.items():
                if len(key) < min_proclitic_stem:
                    continue
                for prefix in prefixes:
                    variant = prefix + key
                    if variant not in explicit:
                        table.setdefault(variant, {}).setdefault(tag, (len(prefix), value))
        self._automaton = ahocorasick.Automaton()
        for key, by_tag in table.items():
            hits = tuple((tag, prefix, value) for tag, (prefix, value) in by_tag.items())
            self._automaton.add_word(key, (len(key), hits))
        self._empty = not table
        if not self._empty:
            self._automaton.make_automaton()

    def scan(self, norm: str) -> PhraseScan:
        """Every whole-word occurrence of every phrase in normalised ``norm``."""
        hits: dict[str, list[tuple[int, int, int, Any]]] = {}
        if self._empty:
            return PhraseScan(hits)
        size = len(norm)
        for last, (length, entries) in self._automaton.iter(norm):
            start = last + 1 - length
            # Whole words only; a digit may touch a word ("28يناير" in careless copy).
            if start > 0 and norm[start - 1].isalpha():
                continue
            if last + 1 < size and norm[last + 1].isalpha():
                continue
            for tag, prefix, value in entries:
                hits.setdefault(tag, []).append((start, last + 1, prefix, value))
        return PhraseScan(hits)


class PhraseScan:
    """The phrases found in one text, by tag; ``select`` resolves overlaps."""

    __slots__ = ("_hits",)

    def __init__(self, hits: dict[str, list[tuple[int, int, int, Any]]]) -> None:
        self._hits = hits

    def select(self, *tags: str) -> list[PhraseMatch[Any]]:
        """Non-overlapping matches of the given tags, leftmost then longest, in text order."""
        if len(tags) == 1:
            found = self._hits.get(tags[0], [])
        else:
            found = [hit for tag in tags for hit in self._hits.get(tag, ())]
        if len(found) > 1:
            found = sorted(found, key=lambda f: (f[0], -f[1]))
        result: list[PhraseMatch[Any]] = []
        reach = 0
        for start, end, prefix, value in found:
            if start >= reach:
                result.append(PhraseMatch(start, end, value, prefix))
                reach = end
        return result


class PhraseMatcher(Generic[V]):
    """One lexicon over normalised text: a ``PhraseIndex`` with a single tag.

    >>> m = PhraseMatcher([("حوالي", "approx")], proclitics=["ب"])
    >>> m.find(normalize_ar("قصف بحوالي 14"))
    [PhraseMatch(start=4, end=10, value='approx', prefix=1)]
    """

    def __init__(
        self,
        entries: Iterable[tuple[str, V]],
        proclitics: Sequence[str] = (),
        min_proclitic_stem: int = 3,
    ) -> None:
        self._index = PhraseIndex({"": (entries, proclitics)}, min_proclitic_stem)

    def find(self, norm: str) -> list[PhraseMatch[V]]:
        """Non-overlapping whole-word matches in normalised ``norm``, in text order."""
        return self._index.scan(norm).select("")
