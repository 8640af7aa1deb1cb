"""Arabic normalisation, offset maps, proclitics, language detection and tokens."""

from __future__ import annotations

import pytest

from streams.normalize import (
    Token,
    detect_language,
    normalize_ar,
    normalize_with_map,
    original_span,
    strip_proclitics,
    tokenize,
)


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("أربيل", "اربيل"),  # hamza above
        ("إيران", "ايران"),  # hamza below
        ("آب", "اب"),  # madda
        ("ٱلله", "الله"),  # wasla
        ("الطارمية", "الطارميه"),  # taa marbuta
        ("مصطفى", "مصطفي"),  # alef maqsura
        ("مسؤول", "مسوول"),  # hamza on waw
        ("رئيس", "رييس"),  # hamza on yaa
        ("صاروخاً", "صاروخا"),  # tanween
        ("تجمّع", "تجمع"),  # shadda
        ("بـغداد", "بغداد"),  # tatweel
        ("١٤ صاروخا", "14 صاروخا"),  # Arabic-Indic digits
        ("۱۴", "14"),  # Persian digits
        ("١٬٥٠٠", "1,500"),  # Arabic thousands separator
        ("کردستان", "كردستان"),  # Persian kaf
        ("Katyusha ROCKETS", "katyusha rockets"),
        ("ﻻ", "لا"),  # presentation-form ligature
        ("مي\u200cشود", "ميشود"),  # zero-width non-joiner
    ],
)
def test_normalize_ar_folds_variants(written: str, folded: str) -> None:
    assert normalize_ar(written) == folded


@pytest.mark.parametrize("text", ["أُطلِقَت صواريخ كاتيوشا", "بحوالي ١٤ صاروخاً", "U.S. Embassy"])
def test_normalize_ar_is_idempotent(text: str) -> None:
    once = normalize_ar(text)
    assert normalize_ar(once) == once


def test_normalize_with_map_gives_the_same_text() -> None:
    text = "قُصفت أربيل بحوالي ١٤ صاروخاً."
    norm, _ = normalize_with_map(text)
    assert norm == normalize_ar(text)


def test_span_in_normalised_text_maps_to_the_word_as_written() -> None:
    text = "حيث تم قصف مواقع القوات بحوالي 14 صاروخاً. كما"
    norm, mapping = normalize_with_map(text)
    start = norm.index("صاروخا")
    orig = original_span(mapping, start, start + len("صاروخا"), len(text))
    # The tanween removed after the last letter belongs to the word as written.
    assert text[orig[0] : orig[1]] == "صاروخاً"


def test_span_over_a_removed_tatweel_and_hamza() -> None:
    text = "في بـأربيل"
    norm, mapping = normalize_with_map(text)
    start = norm.index("باربيل")
    orig = original_span(mapping, start, len(norm), len(text))
    assert text[orig[0] : orig[1]] == "بـأربيل"


def test_ligature_expansion_maps_both_letters_to_the_ligature() -> None:
    norm, mapping = normalize_with_map("ﻻ")
    assert norm == "لا"
    assert mapping == [0, 0]


@pytest.mark.parametrize(
    ("token", "stem"),
    [
        ("وبغداد", "بغداد"),
        ("ببغداد", "بغداد"),
        ("لبغداد", "بغداد"),
        ("والطارميه", "الطارميه"),
        ("والطارميه", "طارميه"),
        ("بالطارميه", "الطارميه"),
        ("فالموصل", "الموصل"),
        ("للموصل", "الموصل"),  # "ل" + "ال" is written "لل"
        ("وكالموصل", "الموصل"),
    ],
)
def test_strip_proclitics_offers_the_stem(token: str, stem: str) -> None:
    candidates = strip_proclitics(token)
    assert candidates[0] == token
    assert stem in candidates


def test_strip_proclitics_never_leaves_fewer_than_two_letters() -> None:
    assert strip_proclitics("بل") == ["بل"]
    assert all(len(c) >= 2 for c in strip_proclitics("وبا"))


def test_strip_proclitics_keeps_an_unprefixed_word_first_and_alone() -> None:
    assert strip_proclitics("اربيل") == ["اربيل"]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("قصفت صواريخ كاتيوشا السفارة الأميركية في بغداد", "ar"),
        ("Rockets hit the US embassy in Baghdad", "en"),
        ("قال كيربي إن the attack on Erbil was serious وأن التحقيقات جارية", "ar"),
        ("12345 !!", "und"),
        ("", "und"),
    ],
)
def test_detect_language_by_script(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_tokenize_gives_offsets_into_the_text() -> None:
    text = "قصف أربيل، بـ14 صاروخاً"
    tokens = tokenize(text)
    assert [t.text for t in tokens] == ["قصف", "أربيل", "بـ14", "صاروخاً"]
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert isinstance(tokens[0], Token)
