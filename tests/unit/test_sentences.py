"""Sentence splitting over the body: Arabic punctuation, feeds' ".," runs, abbreviations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.extract.text import Sentence, split_sentences

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def texts(body: str) -> list[str]:
    return [s.text for s in split_sentences(body)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # The seeds' feed leaves ".," between sentences.
        (
            'في محاربة تنظيم "داعش"., وأضاف الكاظمي: "كما أكدنا".',
            ['في محاربة تنظيم "داعش".,', 'وأضاف الكاظمي: "كما أكدنا".'],
        ),
        ("هل قُتل أحد؟ لا أحد.", ["هل قُتل أحد؟", "لا أحد."]),
        ("جملة أولى۔ جملة ثانية", ["جملة أولى۔", "جملة ثانية"]),
        ("عنوان بلا نقطة\nنص الخبر.", ["عنوان بلا نقطة", "نص الخبر."]),
        ("الفقرة الأولى.\n\nالفقرة الثانية.", ["الفقرة الأولى.", "الفقرة الثانية."]),
        # Arabic copy may drop the space after a full stop.
        ("قصف ببغداد.والهجوم هو الثالث.", ["قصف ببغداد.", "والهجوم هو الثالث."]),
        (
            'He said: "We will respond." Then he left.',
            ['He said: "We will respond."', "Then he left."],
        ),
        ("Rockets hit! Nobody was hurt?", ["Rockets hit!", "Nobody was hurt?"]),
        # a number after a word longer than an abbreviation opens a sentence
        (
            "A drone dropped a bomb on the outpost. 4 fatalities split across three days.",
            ["A drone dropped a bomb on the outpost.", "4 fatalities split across three days."],
        ),
        (
            "The attack was the worst... Officials said.",
            ["The attack was the worst...", "Officials said."],
        ),
    ],
)
def test_sentence_ends(body: str, expected: list[str]) -> None:
    assert texts(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "The U.S. embassy was hit.",
        "Mr. Kirby said the inquiry goes on.",
        "Dr. Smith and Lt. Jones were there.",
        "Losses rose by 1.5 percent.",
        "The strike came on Jan. 28 at dawn.",
        "Building No. 5 was hit.",
        "It began on Sept. 11 in the city.",
        "The U.N. envoy, approx. five hours later, arrived.",
        "قال د. محمد إن الهجوم فاشل.",
    ],
)
def test_abbreviations_and_decimals_do_not_end_a_sentence(body: str) -> None:
    assert texts(body) == [body]


def test_arabic_comma_and_semicolon_do_not_end_a_sentence() -> None:
    body = "أسفر عن مقتل 3، وإصابة 12؛ وفق مصدر أمني."
    assert texts(body) == [body]


def test_offsets_point_into_the_body() -> None:
    body = "  أولى.   ثانية؟\n\n ثالثة  "
    sentences = split_sentences(body)
    assert [body[s.start : s.end] for s in sentences] == [s.text for s in sentences]
    assert [s.text for s in sentences] == ["أولى.", "ثانية؟", "ثالثة"]
    assert all(isinstance(s, Sentence) for s in sentences)


@pytest.mark.parametrize("body", ["", "   ", "\n\n"])
def test_blank_text_has_no_sentences(body: str) -> None:
    assert split_sentences(body) == []


def test_seed_sentences_are_separate_and_keep_their_offsets() -> None:
    body = json.loads((SEEDS / "003_22300b7c73ae127c.json").read_text(encoding="utf-8"))["body"]
    sentences = split_sentences(body)
    for s in sentences:
        assert body[s.start : s.end] == s.text
    # The raid and its toll are one sentence; the suicide attack a month earlier another.
    raid = [s.text for s in sentences if "مقتل خمسة عناصر" in s.text]
    assert len(raid) == 1 and raid[0].startswith("فقبل أيام")
    month_ago = [s.text for s in sentences if "قبل نحو شهر" in s.text]
    assert len(month_ago) == 1 and "مقتل خمسة" not in month_ago[0]
    assert not any("., " in s.text for s in sentences)
