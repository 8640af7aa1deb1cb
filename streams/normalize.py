"""Text clean-up: Arabic normalisation with an offset map, proclitics, language, tokens."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

__all__ = [
    "Token",
    "detect_language",
    "normalize_ar",
    "normalize_with_map",
    "original_span",
    "strip_proclitics",
    "tokenize",
]


def _build_table() -> dict[int, str]:
    """One code point -> replacement table; every replacement is a fixed point (idempotence)."""
    table: dict[int, str] = {}
    # Alef with hamza/madda/wasla -> bare alef: writers drop hamza freely ("اول" for "أول").
    for ch in "أإآٱ":
        table[ord(ch)] = "ا"
    table[ord("ة")] = "ه"  # taa marbuta is often written as haa in news and place names
    table[ord("ى")] = "ي"  # alef maqsura vs yaa are confused (Egyptian style drops the dots)
    # Hamza on waw/yaa carriers folded too: "مسؤول"/"مسئول" and "رئيس"/"رييس" spellings meet
    # the dotless forms used in transliterated place names; the standalone hamza ء stays.
    table[ord("ؤ")] = "و"
    table[ord("ئ")] = "ي"
    # Persian/Urdu letters that appear in Arabic-script copy pasted from other sources.
    table[ord("ی")] = "ي"
    table[ord("ک")] = "ك"
    table[ord("ې")] = "ي"
    # Tashkeel, Quranic annotation marks, superscript alef and tatweel carry no identity.
    for cp in [*range(0x0610, 0x061B), *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE)]:
        if cp != 0x06DE and cp != 0x06E9:  # those two are symbols, not marks
            table[cp] = ""
    table[0x0640] = ""  # tatweel (kashida) stretches words: "بـغداد"
    # Invisible format characters that split words without being seen.
    for cp in (0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x061C, 0xFEFF, 0x00AD):
        table[cp] = ""
    for cp in range(0x202A, 0x202F):
        table[cp] = ""
    for cp in range(0x2066, 0x206A):
        table[cp] = ""
    # Arabic-Indic and Persian digits, Arabic decimal and thousands separators -> ASCII.
    for i in range(10):
        table[0x0660 + i] = str(i)
        table[0x06F0 + i] = str(i)
    table[0x066B] = "."
    table[0x066C] = ","
    table[0x00A0] = " "  # no-break space behaves as a space for word boundaries
    # Latin lower-casing, one character to one character only, so the fast translate path and
    # the offset map agree (no context-dependent rules such as Greek final sigma).
    for cp in (*range(0x41, 0x5B), *range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        low = chr(cp).lower()
        if low != chr(cp) and len(low) == 1:
            table[cp] = low
    # Arabic presentation forms (ligatures such as "ﻻ") decompose, then fold like the rest.
    base = dict(table)
    for cp in (*range(0xFB50, 0xFE00), *range(0xFE70, 0xFF00)):
        ch = chr(cp)
        decomposed = unicodedata.normalize("NFKC", ch)
        if decomposed != ch:
            table[cp] = decomposed.translate(base)
    return table


_TABLE = _build_table()


# str.translate looks each character up; a dense list indexed by code point is about twice as
# fast as the dict on Arabic text. Entries: int (one char), None (delete), str (expansion);
# code points past the BMP raise IndexError inside translate, which leaves them unchanged.
def _dense(table: dict[int, str]) -> list[int | str | None]:
    dense: list[int | str | None] = list(range(0x10000))
    for cp, rep in table.items():
        dense[cp] = ord(rep) if len(rep) == 1 else (rep or None)
    return dense


_DENSE = _dense(_TABLE)
# Characters whose replacement is not exactly one character: the only places where the offset
# map stops being a shifted identity, so normalize_with_map only walks these.
_RESHAPING = re.compile(
    "[" + "".join(re.escape(chr(cp)) for cp, rep in sorted(_TABLE.items()) if len(rep) != 1) + "]"
)


# Fast path, same result as ``text.translate(_DENSE)`` at about half the cost on Arabic news:
# str.replace for the frequent letter folds and one regex for marks run at C speed, and the
# per-character translate runs only when a rarer character (digit, Persian letter, Latin
# capital, ligature, format character) is present.
_FREQUENT = tuple((chr(cp), _TABLE[cp]) for cp in map(ord, "أإآٱةىؤئ"))
_MARKS = re.compile(
    "[" + "".join(re.escape(chr(cp)) for cp, rep in sorted(_TABLE.items()) if rep == "") + "]"
)
_RARE = re.compile(
    "["
    + "".join(
        re.escape(chr(cp))
        for cp, rep in sorted(_TABLE.items())
        if rep != "" and chr(cp) not in dict(_FREQUENT)
    )
    + "]"
)


def normalize_ar(text: str) -> str:
    """Fold Arabic orthographic variants, digits and Latin case; idempotent.

    >>> normalize_ar("بـأربيل ١٤ صاروخاً")
    'باربيل 14 صاروخا'
    """
    if text.isascii():
        return text.lower()
    for variant, plain in _FREQUENT:
        text = text.replace(variant, plain)
    text = _MARKS.sub("", text)
    if _RARE.search(text):
        text = text.translate(_DENSE)
    return text


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """Normalise ``text`` and give, for each output character, its index in ``text``.

    >>> normalize_with_map("صاروخاً.")
    ('صاروخا.', [0, 1, 2, 3, 4, 5, 7])
    """
    out = normalize_ar(text)
    mapping: list[int] = []
    pos = 0  # next input index not yet mapped
    for match in _RESHAPING.finditer(text):
        i = match.start()
        # Everything between the previous reshaping char and this one maps one to one.
        mapping.extend(range(pos, i))
        mapping.extend([i] * len(_TABLE[ord(text[i])]))
        pos = i + 1
    mapping.extend(range(pos, len(text)))
    return out, mapping


def original_span(mapping: list[int], start: int, end: int, length: int) -> tuple[int, int]:
    """Map a span ``[start, end)`` of normalised text back to ``[start, end)`` in the original.

    ``length`` is the length of the original text. The end stretches over marks removed after
    the last character (the tanween of "صاروخاً") so evidence quotes the word as written.

    >>> original_span([0, 1, 2, 3, 4, 5, 7], 0, 6, 8)
    (0, 7)
    """
    if start >= end:
        at = mapping[start] if start < len(mapping) else length
        return at, at
    orig_start = mapping[start]
    orig_end = mapping[end] if end < len(mapping) else length
    return orig_start, max(orig_end, mapping[end - 1] + 1)


# Proclitic prefixes: conjunction (و ف), then preposition (ب ل ك), then the article (ال);
# "ل" + "ال" is written "لل". Each entry: (prefix, whether it ends in the article).
def _build_prefixes() -> list[tuple[str, bool]]:
    found: dict[str, bool] = {}
    for conj in ("", "و", "ف"):
        for prep in ("", "ب", "ل", "ك"):
            for art in ("", "ال"):
                prefix = conj + (prep + art if not (prep == "ل" and art) else "لل")
                if prefix:
                    found[prefix] = bool(art)
    return sorted(found.items(), key=lambda item: (len(item[0]), item[0]))


_PREFIXES = _build_prefixes()
_MIN_STEM = 2


def strip_proclitics(token: str) -> list[str]:
    """Candidate stems of a normalised Arabic token, the token itself first.

    Forms with the article keep a variant with "ال" so both "الموصل" and "موصل" are tried.

    >>> strip_proclitics("فالموصل")
    ['فالموصل', 'الموصل', 'موصل']
    """
    candidates = [token]
    seen = {token}
    for prefix, has_article in _PREFIXES:
        if not token.startswith(prefix):
            continue
        rest = token[len(prefix) :]
        if len(rest) < _MIN_STEM:
            continue
        forms = ("ال" + rest, rest) if has_article else (rest,)
        for form in forms:
            if form not in seen:
                seen.add(form)
                candidates.append(form)
    return candidates


_ARABIC_RUN = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]+")
_LATIN_RUN = re.compile(r"[A-Za-z\u00C0-\u024F]+")
# Language is decided on the opening of a text: enough letters to be sure, bounded cost.
_SAMPLE = 3000
_MIN_LETTERS = 3


def detect_language(text: str) -> str:
    """``"ar"`` or ``"en"`` by the share of Arabic vs Latin letters, ``"und"`` with too few.

    Latin script is taken as English: the stream carries Arabic and English news only.

    >>> detect_language("قصف أربيل بـ14 صاروخاً"), detect_language("Rockets hit Erbil")
    ('ar', 'en')
    """
    sample = text[:_SAMPLE]
    arabic = sum(len(m) for m in _ARABIC_RUN.findall(sample))
    latin = sum(len(m) for m in _LATIN_RUN.findall(sample))
    if arabic + latin < _MIN_LETTERS:
        return "und"
    return "ar" if arabic >= latin else "en"


class Token(NamedTuple):
    """A word: ``text[start:end]`` of the text it was found in."""

    start: int
    end: int
    text: str


# Word characters plus Arabic marks and tatweel, so un-normalised words are not split by them.
_WORD = re.compile(r"[\w\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]+")


def tokenize(text: str) -> list[Token]:
    """Word tokens (letters, digits, marks) with offsets into ``text``.

    >>> tokenize("قصف أربيل")
    [Token(start=0, end=3, text='قصف'), Token(start=4, end=9, text='أربيل')]
    """
    return [Token(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
