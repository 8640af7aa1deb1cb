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
        ("they were killed in 2020", "en"),
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


# Each kind of phrasing, as news and ACLED/GTD notes write it: (text, lang, killed, wounded).
Counted = tuple[int, str] | None


@pytest.mark.parametrize(
    ("text", "lang", "killed", "wounded"),
    [
        # One victim named without a number: a singular auxiliary, a pronoun, an article.
        (
            "Badi, a senior intelligence official, was killed in the attack.",
            "en",
            (1, "exact"),
            None,
        ),
        ("The driver of the tanker was killed in the attack.", "en", (1, "exact"), None),
        (
            "Weinstein was accidentally killed in a United States air strike.",
            "en",
            (1, "exact"),
            None,
        ),
        (
            "A drone targeted a man and killed him after he left the mosque.",
            "en",
            (1, "exact"),
            None,
        ),
        ("The attack resulted in death of the Tribe leader.", "en", (1, "exact"), None),
        (
            "One of the vehicles was hit, killing the driver and injuring another.",
            "en",
            (1, "exact"),
            (1, "exact"),
        ),
        ("The bomb explosion killed a 60-year-old female civilian.", "en", (1, "exact"), None),
        (
            "an air or drone strike killing an IS militant and destroying a hideout",
            "en",
            (1, "exact"),
            None,
        ),
        ("Gunmen shot and killed Lieutenant Colonel Mohammed Al-Mamari.", "en", (1, "exact"), None),
        ("A drone targeted a militant from ISIS which led to his death.", "en", (1, "exact"), None),
        (
            "There was a fatality and 5 injuries on the military side.",
            "en",
            (1, "exact"),
            (5, "exact"),
        ),
        ("A man was gravely wounded and was taken to the hospital.", "en", None, (1, "exact")),
        ("لقي جندي إسرائيلي مصرعه وأصيب ثلاثة آخرون بجراح", "ar", (1, "exact"), (3, "exact")),
        ("التي لاقت حتفها في انفجار السفارة", "ar", (1, "exact"), None),
        ("وقتل صبي إثر سقوط قذيفة هاون على حي المعتصم", "ar", (1, "exact"), None),
        ("استشهدت فتاة فلسطينية واصيب 10 مواطنين", "ar", (1, "exact"), (10, "exact")),
        ("وقتل مسلحون شرطيا في المدينة", "ar", (1, "exact"), None),
        ("اغتال مسلحون معاون سجن أحداث الموصل", "ar", (1, "exact"), None),
        ("توفي قائد الجناح العسكري متأثرا بجروح أصيب بها", "ar", (1, "exact"), None),
        # Verbs and nouns of killing beyond "killed".
        ("Assailants executed two civilians in Mukalla city.", "en", (2, "exact"), None),
        (
            "an elderly man and his grandson lost their lives when a drone dropped a bomb",
            "en",
            (2, "exact"),
            None,
        ),
        ("At least 7 people died in the strike.", "en", (7, "at_least"), None),
        ("استشهد ثلاثة فلسطينيين وأصيب خمسة آخرون", "ar", (3, "exact"), (5, "exact")),
        ("واستشهد ما لا يقل عن 204 فلسطينيين", "ar", (204, "at_least"), None),
        ("قتلت اثنين واعتقلت 16", "ar", (2, "exact"), None),
        ("لقي خمسة أشخاص حتفهم", "ar", (5, "exact"), None),
        ("مصرع 3 عناصر", "ar", (3, "exact"), None),
        ("ثلاثة قتلى", "ar", (3, "exact"), None),
        # ACLED phrasing.
        ("The strike resulted in 3 fatalities.", "en", (3, "exact"), None),
        ("Fatalities: 3.", "en", (3, "exact"), None),
        ("There is no further information. 1 fatality.", "en", (1, "exact"), None),
        ("Unknown fatalities coded as 10.", "en", (10, "exact"), None),
        (
            "Ten fatalities were split across 7 events and coded 2 for this event.",
            "en",
            (2, "exact"),
            None,
        ),
        ("Fatalities coded as 9, using the most updated estimates.", "en", (9, "exact"), None),
        ("killing a civilian and injuring another individual", "en", (1, "exact"), (1, "exact")),
        ("A child was killed when the shell hit the house.", "en", (1, "exact"), None),
        ("killed three and injured five", "en", (3, "exact"), (5, "exact")),
        # Death tolls.
        ("The death toll rose to 12.", "en", (12, "exact"), None),
        (
            "The death toll from Monday's bombing in the capital has risen to 35.",
            "en",
            (35, "exact"),
            None,
        ),
        ("ارتفع أمس عدد الشهداء الفلسطينيين في حي الشجاعية إلى ثمانية", "ar", (8, "exact"), None),
        ("ارتفعت حصيلة القتلى إلى 12", "ar", (12, "exact"), None),
        # Groups listed are summed.
        (
            "Two civilians, six soldiers, and three assailants were killed.",
            "en",
            (11, "exact"),
            None,
        ),
        (
            "During the attack six soldiers and four attackers were killed.",
            "en",
            (10, "exact"),
            None,
        ),
        (
            "At least 13 Syrian Armed Forces (SAF) soldiers and four workers were killed.",
            "en",
            (17, "at_least"),
            None,
        ),
        ("4 military soldiers and a police were killed.", "en", (5, "exact"), None),
        ("A lieutenant and a lance corporal were killed.", "en", (2, "exact"), None),
        (
            "Two men and one woman were killed, and five men and three women were hurt.",
            "en",
            (3, "exact"),
            (8, "exact"),
        ),
        (
            "an unknown drone strike killed a Taliban commander and one of his companions",
            "en",
            (2, "exact"),
            None,
        ),
        (
            "militants shot dead three women and three children from Rufaila",
            "en",
            (6, "exact"),
            None,
        ),
        (
            "Nine military soldiers and PNA members died and 20 others were injured.",
            "en",
            (9, "at_least"),
            (20, "exact"),
        ),
        ("وفي حي المنصور أصيب 3 من عناصر الشرطة ومدنيان في انفجار سيارة", "ar", None, (5, "exact")),
        ("مقتل 3 جنود ومدني", "ar", (4, "exact"), None),
        # A total and its breakdown: the total.
        ("killing 7, including 3 children", "en", (7, "exact"), None),
        (
            "Four military soldiers including two company commanders were killed.",
            "en",
            (4, "exact"),
            None,
        ),
        (
            "At least 24 people, including protesters and police, were killed.",
            "en",
            (24, "at_least"),
            None,
        ),
        (
            "8 civilians, mostly local volunteers, were killed, and 2 were injured.",
            "en",
            (8, "exact"),
            (2, "exact"),
        ),
        (
            "Three senior officials, a police chief and two army officers, were killed.",
            "en",
            (3, "exact"),
            None,
        ),
        (
            "Two people including the staff officer of the Road Department was killed.",
            "en",
            (2, "exact"),
            None,
        ),
        ("مقتل 7 مدنيين بينهم 3 أطفال", "ar", (7, "exact"), None),
        # Victims added before or after the count: GTD counts the attackers too.
        (
            "In addition to the assailant, four people, including soldiers, were killed.",
            "en",
            (5, "exact"),
            None,
        ),
        (
            "In addition to the two bombers, at least 86 people were killed.",
            "en",
            (88, "at_least"),
            None,
        ),
        (
            "The owner was killed in the blast, along with two police officers and one civilian.",
            "en",
            (4, "exact"),
            None,
        ),
        ("اقتحمت القوات منزله وقتلته مع سبعة من عائلته بينهم أربع نساء", "ar", (8, "exact"), None),
        # Arabic places a place between the verb and its subject; duals count two.
        (
            "وقتل في المقدادية شمال شرق بعقوبة ثلاثة مدنيين فيما أصيب حوالي 20 آخرين",
            "ar",
            (3, "exact"),
            (20, "approx"),
        ),
        ("وقتل أيضا شخصان وأصيب آخران برصاص مسلحين", "ar", (2, "exact"), (2, "exact")),
        ("سقوط قتيلين", "ar", (2, "exact"), None),
        # Ranges give their lower bound, at least.
        ("Between 4-7 Ansar al-Sharia members died in an explosion.", "en", (4, "at_least"), None),
        (
            "killing between two and three YPG members and wounding seven others",
            "en",
            (2, "at_least"),
            (7, "exact"),
        ),
        ("مقتل ما بين 3 و5 أشخاص", "ar", (3, "at_least"), None),
        # Plural keywords without a number: some, vague.
        ("أدى الانفجار إلى سقوط قتلى وجرحى", "ar", (3, "vague"), (3, "vague")),
        # Nobody hurt.
        ("There were no reported casualties in the blast.", "en", (0, "exact"), (0, "exact")),
        (
            "killing the assailant, but no other casualties were reported",
            "en",
            (1, "exact"),
            (0, "exact"),
        ),
    ],
)
def test_casualty_phrasings(text: str, lang: str, killed: Counted, wounded: Counted) -> None:
    assert counts(text, lang) == (killed, wounded)


@pytest.mark.parametrize(
    ("text", "lang", "killed", "wounded"),
    [
        # Numbers that are not victims: ages, units, resolutions, animals, bases, dates, times.
        ("Raids killed 3 children, aged 9, 10 and 13.", "en", (3, "exact"), None),
        ("An employee who arrived at the IB 97 base was injured.", "en", None, (1, "exact")),
        ("Resolution 1701 was adopted before 5 soldiers were killed.", "en", (5, "exact"), None),
        (
            "Two civilians were injured, their dog was killed, and the house was damaged.",
            "en",
            None,
            (2, "exact"),
        ),
        ("صدر القرار 1701 بعد مقتل جندي", "ar", (1, "exact"), None),
        ("أصيب طفل يبلغ من العمر 12 عاما", "ar", None, (1, "exact")),
        (
            "Ten fatalities were split across 7 events and coded 2 for this event.",
            "en",
            (2, "exact"),
            None,
        ),
        # A description that is not one victim.
        (
            "the army shelled the building, killing an unknown number of assailants.",
            "en",
            None,
            None,
        ),
        (
            "At least 20 soldiers were killed and an unknown number of soldiers were injured.",
            "en",
            (20, "at_least"),
            None,
        ),
        ("The reason is unknown. 2 members of a family were injured.", "en", None, (2, "exact")),
        # Negation, doubt, attempts.
        ("No soldier was killed in the attack.", "en", None, None),
        ("It is unclear whether the driver was killed.", "en", None, None),
        ("وتعرض الكاتب لمحاولة اغتيال بالسكين", "ar", None, None),
        # Another, earlier event: "in retaliation for", "ردا على".
        (
            "The group said it was in retaliation for a drone strike that killed two commanders.",
            "en",
            None,
            None,
        ),
        (
            "In retaliation for the killing of two commanders, gunmen attacked, killing 5.",
            "en",
            (5, "exact"),
            None,
        ),
        ("Coded Actor 1 Unidentified Military Force.", "en", None, None),
        # "Martyrs" in a name, the dead already counted: no bare plural.
        ("ونقلت جثث الشهداء إلى مستشفى شهداء الأقصى", "ar", None, None),
        ("مطالبا بقتلة عثمان", "ar", None, None),
        # "and" between two counts of different kinds does not sum them.
        ("killing 6 soldiers and wounding 12 others", "en", (6, "exact"), (12, "exact")),
        ("مقتل 3 وإصابة 12", "ar", (3, "exact"), (12, "exact")),
        ("was killed and 3 soldiers were wounded", "en", (1, "exact"), (3, "exact")),
        ("Fourteen rockets hit the base and two people were killed.", "en", (2, "exact"), None),
        ("اعتقلت خمسة مواطنين بينهم أحد الجرحى", "ar", None, (1, "exact")),
    ],
)
def test_numbers_that_are_not_tolls(
    text: str, lang: str, killed: Counted, wounded: Counted
) -> None:
    assert counts(text, lang) == (killed, wounded)


def test_coded_figure_is_marked_stated() -> None:
    coded = find_casualties(
        "4 fatalities split across three days, and coded as 1 for this event", "en"
    )
    assert coded.killed is not None and coded.killed.value == 1 and coded.killed_stated
    told = find_casualties("Four soldiers were killed.", "en")
    assert told.killed is not None and not told.killed_stated


def test_listed_groups_keep_their_description() -> None:
    c = find_casualties("During the attack six soldiers and four attackers were killed.", "en")
    assert c.killed_group_text == "six soldiers and four attackers"
    assert c.killed_group is None  # security and militants: no one side
    total = find_casualties("Four military soldiers including two officers were killed.", "en")
    assert (total.killed_group_text, total.killed_group) == ("military soldiers", "security")


def test_list_span_covers_every_group() -> None:
    text = "Two civilians, six soldiers, and three assailants were killed."
    c = find_casualties(text, "en")
    assert c.killed_span is not None
    assert text[c.killed_span[0] : c.killed_span[1]] == text[:-1]


@pytest.mark.parametrize(
    ("text", "lang", "value", "qualifier"),
    [
        ("4-7", "en", 4, "at_least"),
        ("two or three", "en", 2, "at_least"),
        ("between 16 and 22", "en", 16, "at_least"),
        ("ما بين 3 و5", "ar", 3, "at_least"),
        ("آخران", "ar", 2, "exact"),
        ("مدنيان", "ar", 2, "exact"),
    ],
)
def test_ranges_and_nominative_duals(text: str, lang: str, value: int, qualifier: str) -> None:
    assert one(text, lang)[:2] == (value, qualifier)


def test_and_without_between_is_no_range() -> None:
    assert [m.value for m in find_numbers("3 and 5", "en")] == [3, 5]
    assert find_numbers("مدنيين", "ar") == []  # "-ين" is the plural too: not a dual


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


def test_yaml_boolean_negation_is_rejected(lexicon_copy: Path) -> None:
    path = lexicon_copy / "casualties.yaml"
    text = path.read_text(encoding="utf-8")
    # Unquoted, "no" reads as False: the loader names the list and the entry.
    path.write_text(text.replace('en: ["no", "not",', "en: [no, not,", 1), "utf-8")
    with pytest.raises(LexiconError, match=r"casualties\.yaml: negations\.en\[0\]"):
        load_casualty_lexicon()


def test_bad_gap_names_file_and_key(lexicon_copy: Path) -> None:
    path = lexicon_copy / "casualties.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("verb_first_gap:\n  ar: 6", "verb_first_gap:\n  ar: six", 1), "utf-8"
    )
    with pytest.raises(LexiconError, match=r"casualties\.yaml: verb_first_gap\.ar"):
        load_casualty_lexicon()


def test_keyword_listed_for_killed_and_wounded_is_rejected(lexicon_copy: Path) -> None:
    path = lexicon_copy / "casualties.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("en: [wounding him,", "en: [killing him, wounding him,", 1), "utf-8"
    )
    with pytest.raises(LexiconError, match=r"casualties\.yaml: wounded\.one\.en.*also listed"):
        load_casualty_lexicon()
