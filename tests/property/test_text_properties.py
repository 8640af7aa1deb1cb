"""Properties of text handling on arbitrary input: normalisation, offsets, sentences, extractors."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.extract.dates import find_event_date
from streams.extract.numbers import find_casualties, find_numbers
from streams.extract.text import split_sentences
from streams.normalize import (
    _DENSE,
    normalize_ar,
    normalize_with_map,
    original_span,
    strip_proclitics,
)

# Arabic letters, marks, digits (three scripts), punctuation both ways, Latin, ligatures,
# format characters and whitespace: the characters the code treats specially, plus any text.
_SPECIAL = st.sampled_from(
    list("أإآٱاةهىيؤئءبتثجحخدذرسشصضطظعغفقكلمنوکی")
    + [chr(c) for c in range(0x064B, 0x0653)]
    + list("ـ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹0123456789٫٬،؛؟۔.,;:!?\"'«»()-/%")
    + list("AZaz İßΣ")
    + ["ﻻ", "ﷺ", "\u200c", "\u200f", "\ufeff", "\u00a0", "\n", "\t"]
)
TEXT = st.text(alphabet=st.one_of(_SPECIAL, st.characters()), max_size=80)
ARABIC_WORD = st.text(alphabet=st.sampled_from(list("وفبلكالمصرجدن")), min_size=0, max_size=8)
WORDS = st.lists(
    st.sampled_from(
        [
            "مقتل",
            "خمسة",
            "وعشرين",
            "عناصر",
            "من",
            '"داعش"',
            "بحوالي",
            "14",
            "صاروخاً",
            "قتلى",
            "وإصابة",
            "مساء",
            "الاثنين",
            "قبل",
            "نحو",
            "شهر",
            "28",
            "يناير",
            "killed",
            "at",
            "least",
            "five",
            "people",
            "were",
            "wounded",
            "on",
            "Monday",
            "January",
            "ago",
            "days",
            "a",
            "dozen",
            ".",
            "،",
            "., ",
            "\n",
            "U.S.",
            "1.5",
        ]
    ),
    max_size=25,
).map(" ".join)
ANY_TEXT = st.one_of(TEXT, WORDS)
PUBLISHED = st.dates(min_value=date(1971, 1, 1), max_value=date(2100, 12, 31))


@given(TEXT)
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalize_ar(text)
    assert normalize_ar(once) == once


@given(TEXT)
def test_fast_path_equals_per_character_translation(text: str) -> None:
    # normalize_ar skips the per-character table when it can; the table is the reference.
    assert normalize_ar(text) == text.translate(_DENSE)


@given(TEXT)
def test_offset_map_is_monotonic_in_range_and_faithful(text: str) -> None:
    norm, mapping = normalize_with_map(text)
    assert norm == normalize_ar(text)
    assert len(mapping) == len(norm)
    assert all(0 <= i < len(text) for i in mapping)
    assert all(a <= b for a, b in itertools.pairwise(mapping))
    for out_index, in_index in enumerate(mapping):
        assert norm[out_index] in normalize_ar(text[in_index])


@given(TEXT, st.data())
def test_original_span_is_ordered_and_in_range(text: str, data: st.DataObject) -> None:
    norm, mapping = normalize_with_map(text)
    start = data.draw(st.integers(0, len(norm)))
    end = data.draw(st.integers(start, len(norm)))
    lo, hi = original_span(mapping, start, end, len(text))
    assert 0 <= lo <= hi <= len(text)
    if start < end:
        # The original span normalises to at least the normalised span.
        assert norm[start:end] in normalize_ar(text[lo:hi])


@given(ARABIC_WORD)
def test_proclitic_candidates_are_the_token_then_stems(token: str) -> None:
    candidates = strip_proclitics(token)
    assert candidates[0] == token
    assert len(set(candidates)) == len(candidates)
    for stem in candidates[1:]:
        assert len(stem) >= 2
        assert token.endswith(stem) or token.endswith(stem.removeprefix("ال"))


@given(ANY_TEXT)
def test_sentences_cover_the_text_without_overlap(body: str) -> None:
    sentences = split_sentences(body)
    previous_end = 0
    covered: set[int] = set()
    for s in sentences:
        assert previous_end <= s.start < s.end <= len(body)
        assert body[s.start : s.end] == s.text == s.text.strip()
        covered.update(range(s.start, s.end))
        previous_end = s.end
    assert all(i in covered for i, ch in enumerate(body) if not ch.isspace())


@settings(deadline=None)
@given(ANY_TEXT, st.sampled_from(["ar", "en", "und"]))
def test_find_numbers_never_raises_and_quotes_the_text(text: str, lang: str) -> None:
    for mention in find_numbers(text, lang):
        assert 0 <= mention.start < mention.end <= len(text)
        assert text[mention.start : mention.end] == mention.text
        assert mention.value >= 0
        assert mention.qualifier in {"exact", "approx", "at_least", "vague"}


@settings(deadline=None)
@given(ANY_TEXT, st.sampled_from(["ar", "en", "und"]))
def test_find_casualties_never_raises(text: str, lang: str) -> None:
    found = find_casualties(text, lang)
    for count, span in ((found.killed, found.killed_span), (found.wounded, found.wounded_span)):
        if count is not None:
            assert count.value >= 0
        if span is not None:
            assert 0 <= span[0] <= span[1] <= len(text)


@settings(deadline=None)
@given(ANY_TEXT, st.sampled_from(["ar", "en", "und"]), PUBLISHED)
def test_find_event_date_never_raises(text: str, lang: str, published: date) -> None:
    found = find_event_date(text, lang, published)
    assert found.precision in {"day", "week", "month", "unknown"}
    if found.text is not None:
        assert text[found.start : found.end] == found.text
    if found.date is not None:
        assert found.date <= published + timedelta(days=1)
