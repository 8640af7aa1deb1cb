"""Numbers with qualifiers, and killed/wounded counts, in Arabic and English sentences."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.extract.numbers import (
    find_casualties,
    find_numbers,
    load_casualty_lexicon,
    load_number_lexicon,
    reset_caches,
)
from streams.extract.text import LexiconError
from streams.settings import config_dir


def one(text: str, lang: str) -> tuple[int, str, str]:
    """(value, qualifier, kind) of the only number in ``text``."""
    found = find_numbers(text, lang)
    assert len(found) == 1, found
    return found[0].value, found[0].qualifier, found[0].kind


@pytest.mark.parametrize(
    ("text", "lang", "value", "qualifier"),
    [
        # Seed phrases.
        ("حيث تم قصف مواقع القوات الأميركية في المدينة بحوالي 14 صاروخاً", "ar", 14, "approx"),
        ('أدت إلى مقتل خمسة عناصر من "داعش"', "ar", 5, "exact"),
        # Arabic words in their gender and case forms, compounds with "و".
        ("واحد", "ar", 1, "exact"),
        ("إحدى", "ar", 1, "exact"),
        ("اثنين", "ar", 2, "exact"),
        ("اثنتان", "ar", 2, "exact"),
        ("ثلاث", "ar", 3, "exact"),
        ("ثماني", "ar", 8, "exact"),
        ("عشرة", "ar", 10, "exact"),
        ("أحد عشر جندياً", "ar", 11, "exact"),
        ("إحدى عشرة قذيفة", "ar", 11, "exact"),
        ("اثنا عشر", "ar", 12, "exact"),
        ("تسعة عشر", "ar", 19, "exact"),
        ("عشرين", "ar", 20, "exact"),
        ("خمسة وعشرين شخصاً", "ar", 25, "exact"),
        ("ثلاثة وتسعون", "ar", 93, "exact"),
        ("مئة", "ar", 100, "exact"),
        ("مائة وخمسون", "ar", 150, "exact"),
        ("مئتين", "ar", 200, "exact"),
        ("ثلاث مئة", "ar", 300, "exact"),
        ("ثلاثمائة وخمسين", "ar", 350, "exact"),
        ("مئة وخمسة وعشرون", "ar", 125, "exact"),
        ("ألف", "ar", 1000, "exact"),
        ("ثلاثة آلاف", "ar", 3000, "exact"),
        ("أربعة آلاف وخمسمئة", "ar", 4500, "exact"),
        ("بثلاثة صواريخ", "ar", 3, "exact"),
        # Digits in any script, with separators; "14 ألف".
        ("١٤ صاروخاً", "ar", 14, "exact"),
        ("۲۵ نفر", "ar", 25, "exact"),
        ("١٬٥٠٠ شخص", "ar", 1500, "exact"),
        ("14 ألف", "ar", 14000, "exact"),
        ("بـ14 صاروخاً", "ar", 14, "exact"),
        # Arabic qualifiers.
        ("نحو 5", "ar", 5, "approx"),
        ("قرابة ١٥٠ شخصاً", "ar", 150, "approx"),
        ("زهاء مئة", "ar", 100, "approx"),
        ("ما يقارب 30", "ar", 30, "approx"),
        ("14 صاروخاً تقريباً", "ar", 14, "approx"),
        ("ما لا يقل عن 10", "ar", 10, "at_least"),
        ("أكثر من 20 قتيلاً", "ar", 20, "at_least"),
        ("لا يقل عن ثلاثة", "ar", 3, "at_least"),
        ("5 على الأقل", "ar", 5, "at_least"),
        # Vague quantities give a floor.
        ("عشرات المدنيين", "ar", 20, "vague"),
        ("مئات", "ar", 200, "vague"),
        ("عدد من الصواريخ", "ar", 3, "vague"),
        ("آلاف", "ar", 2000, "vague"),
        # English.
        ("one", "en", 1, "exact"),
        ("twelve", "en", 12, "exact"),
        ("twenty-five people", "en", 25, "exact"),
        ("twenty five", "en", 25, "exact"),
        ("one hundred and five", "en", 105, "exact"),
        ("three hundred", "en", 300, "exact"),
        ("two thousand five hundred", "en", 2500, "exact"),
        ("a dozen rockets", "en", 12, "exact"),
        ("two dozen", "en", 24, "exact"),
        ("1,500 troops", "en", 1500, "exact"),
        ("1.5 million", "en", 1_500_000, "exact"),
        ("about 40", "en", 40, "approx"),
        ("nearly 300", "en", 300, "approx"),
        ("some 50 people", "en", 50, "approx"),
        ("an estimated 70", "en", 70, "approx"),
        ("at least 10", "en", 10, "at_least"),
        ("more than 3 million", "en", 3_000_000, "at_least"),
        ("over 20", "en", 20, "at_least"),
        ("dozens of civilians", "en", 24, "vague"),
        ("hundreds", "en", 200, "vague"),
        ("several rockets", "en", 3, "vague"),
        ("a number of", "en", 3, "vague"),
    ],
)
def test_number_value_and_qualifier(text: str, lang: str, value: int, qualifier: str) -> None:
    assert one(text, lang)[:2] == (value, qualifier)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("صاروخين", "dual"),
        ("صاروخان", "dual"),
        ("قذيفتين", "dual"),
        ("عبوتين ناسفتين", "dual"),
        ("بالقذيفتين", "dual"),
        ("هجوماً انتحارياً مزدوجاً", "double"),
        ("تفجير مزدوج", "double"),
        ("twin blasts", "double"),
    ],
)
def test_words_that_mean_two(text: str, kind: str) -> None:
    assert one(text, "ar" if text[0] > "z" else "en") == (2, "exact", kind)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("الاثنين", "ar"),  # Monday, not "the two"
        ("الثلاثاء", "ar"),  # Tuesday contains "ثلاث"
        ("مسلحين", "ar"),  # a sound plural, not a dual
        ("F-16 jets", "en"),
        ("at 10:30", "en"),
        ("30% of", "en"),
        ("someone often", "en"),  # "one", "ten" inside words
        ("لست أدري", "ar"),  # "ل" + "ست" is not six
    ],
)
def test_no_number(text: str, lang: str) -> None:
    assert find_numbers(text, lang) == []


def test_separate_numbers_stay_separate() -> None:
    found = find_numbers("مقتل 3 وإصابة 12", "ar")
    assert [m.value for m in found] == [3, 12]
    assert [m.value for m in find_numbers("five twenty", "en")] == [5, 20]


def test_mention_offsets_quote_the_sentence() -> None:
    text = "قصف بحوالي ١٤ صاروخاً"
    (mention,) = find_numbers(text, "ar")
    assert text[mention.start : mention.end] == mention.text == "حوالي ١٤"


# --- casualties -----------------------------------------------------------------------------


def counts(text: str, lang: str) -> tuple[tuple[int, str] | None, tuple[int, str] | None]:
    c = find_casualties(text, lang)
    killed = (c.killed.value, c.killed.qualifier) if c.killed else None
    wounded = (c.wounded.value, c.wounded.qualifier) if c.wounded else None
    return killed, wounded


@pytest.mark.parametrize(
    ("text", "lang", "killed", "wounded"),
    [
        ('وأدت المداهمة إلى مقتل خمسة عناصر من "داعش"، وفق بيان للجيش', "ar", (5, "exact"), None),
        ("أسفر عن مقتل 3 وإصابة 12", "ar", (3, "exact"), (12, "exact")),
        ("قتل 4 أشخاص في الهجوم", "ar", (4, "exact"), None),
        ("سقوط 3 قتلى", "ar", (3, "exact"), None),
        ("سقوط قتيلين و5 جرحى", "ar", (2, "exact"), (5, "exact")),
        ("مصرع جنديين بانفجار عبوة", "ar", (2, "exact"), None),
        ("مقتل جندي وإصابة اثنين آخرين", "ar", (1, "exact"), (2, "exact")),
        ("أصيب 3 جنود بجروح", "ar", None, (3, "exact")),
        ("إصابة ما لا يقل عن 20 مدنياً", "ar", None, (20, "at_least")),
        ("مقتل نحو 30 شخصاً", "ar", (30, "approx"), None),
        ("سقوط عشرات القتلى", "ar", (20, "vague"), None),
        ("انفجرت العبوة دون وقوع إصابات", "ar", (0, "exact"), (0, "exact")),
        ("A bomb killed 5 people", "en", (5, "exact"), None),
        ("5 people were killed", "en", (5, "exact"), None),
        ("The blast left 3 dead", "en", (3, "exact"), None),
        ("wounding 12", "en", None, (12, "exact")),
        ("killing at least 10 civilians", "en", (10, "at_least"), None),
        ("5 dead and 12 injured", "en", (5, "exact"), (12, "exact")),
        ("Two soldiers were killed and three wounded", "en", (2, "exact"), (3, "exact")),
        ("Fourteen rockets hit the base, killing 2", "en", (2, "exact"), None),
        ("The death toll rose to 15", "en", (15, "exact"), None),
        ("dozens were killed", "en", (24, "vague"), None),
        ("killed a soldier", "en", (1, "exact"), None),
        ("The attack caused no casualties", "en", (0, "exact"), (0, "exact")),
        ("No one was killed but 4 were injured", "en", (0, "exact"), (4, "exact")),
    ],
)
def test_casualty_counts(
    text: str, lang: str, killed: tuple[int, str] | None, wounded: tuple[int, str] | None
) -> None:
    assert counts(text, lang) == (killed, wounded)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("قتل في 28 يناير قائد التنظيم", "ar"),  # a date, not a toll
        ("أطلقت 14 صاروخاً أسفرت عن مقتل", "ar"),  # rockets, not victims
        ("he was killed in 2020", "en"),
        ("killed 3 km from the border", "en"),
        ("The talks were held in Baghdad", "en"),
    ],
)
def test_no_casualty_count(text: str, lang: str) -> None:
    c = find_casualties(text, lang)
    assert c.killed is None and c.wounded is None


@pytest.mark.parametrize(
    ("text", "lang", "group_text", "group"),
    [
        ('أدت إلى مقتل خمسة عناصر من "داعش"، وفق بيان', "ar", 'عناصر من "داعش"', "militants"),
        ("killing five ISIS members in a raid", "en", "ISIS members", "militants"),
        ("killing at least 10 civilians", "en", "civilians", "civilians"),
        ("Two soldiers were killed", "en", "soldiers", "security"),
        ("مقتل 7 مدنيين بينهم 3 أطفال", "ar", "مدنيين", "civilians"),
        ("مصرع جنديين", "ar", "جنديين", "security"),
    ],
)
def test_victims_are_described_as_written(
    text: str, lang: str, group_text: str, group: str
) -> None:
    c = find_casualties(text, lang)
    assert c.killed_group_text == group_text
    assert c.killed_group == group


def test_militants_killed_are_kept_apart_but_still_counted() -> None:
    c = find_casualties('شنت القوى الأمنية مداهمة أدت إلى مقتل خمسة عناصر من "داعش"', "ar")
    assert c.killed is not None and c.killed.value == 5
    assert c.perpetrators_killed == c.killed
    civilians = find_casualties("killing at least 10 civilians", "en")
    assert civilians.perpetrators_killed is None


def test_casualty_span_quotes_keyword_and_number() -> None:
    text = "وأسفر الهجوم عن مقتل 3 وإصابة 12 آخرين"
    c = find_casualties(text, "ar")
    assert c.killed_span is not None and c.wounded_span is not None
    assert text[c.killed_span[0] : c.killed_span[1]] == "مقتل 3"
    # The attached conjunction "و" is not part of the evidence.
    assert text[c.wounded_span[0] : c.wounded_span[1]] == "إصابة 12"


def test_largest_count_of_a_kind_wins() -> None:
    # A total and the subset within it: the total.
    c = find_casualties("killed 7 people, including 3 children", "en")
    assert c.killed is not None and c.killed.value == 7


# --- lexicon data -----------------------------------------------------------------------------


def test_shipped_lexicons_load() -> None:
    assert load_number_lexicon().entries["ar"]
    assert load_casualty_lexicon().keywords["en"]


@pytest.fixture
def lexicon_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A writable copy of config/ that the loaders read instead of the real one."""
    shutil.copytree(config_dir() / "lexicons", tmp_path / "lexicons")
    monkeypatch.setenv("INCIDENT_CONFIG_DIR", str(tmp_path))
    reset_caches()
    yield tmp_path / "lexicons"
    monkeypatch.undo()
    reset_caches()


def test_bad_role_names_file_and_key(lexicon_copy: Path) -> None:
    path = lexicon_copy / "numbers.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{role: unit, value: 1,", "{role: bogus, value: 1,", 1), "utf-8")
    with pytest.raises(LexiconError, match=r"numbers\.yaml: words\.ar\[0\]\.role"):
        load_number_lexicon()


def test_yaml_boolean_word_is_rejected(lexicon_copy: Path) -> None:
    path = lexicon_copy / "casualties.yaml"
    text = path.read_text(encoding="utf-8")
    # Bare "on" is a YAML boolean: the loader must say so rather than match "True".
    path.write_text(text.replace('[in, "on", at,', "[in, on, at,", 1), "utf-8")
    with pytest.raises(LexiconError, match=r"casualties\.yaml: blockers\.en\[1\]"):
        load_casualty_lexicon()


def test_phrase_with_two_meanings_is_rejected(lexicon_copy: Path) -> None:
    path = lexicon_copy / "numbers.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("forms: [ثلاثة, ثلاث]", "forms: [ثلاثة, ثلاث, أربع]", 1), "utf-8")
    with pytest.raises(LexiconError, match=r"numbers\.yaml.*two meanings"):
        load_number_lexicon()


def test_missing_file_is_named(lexicon_copy: Path) -> None:
    (lexicon_copy / "numbers.yaml").unlink()
    with pytest.raises(LexiconError, match=r"numbers\.yaml"):
        find_numbers("خمسة", "ar")
