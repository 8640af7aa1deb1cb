"""Event dates from weekday, relative and explicit expressions, resolved against publication."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from streams.extract.dates import find_event_date, load_date_lexicon, month_words

# The seeds were published on Wednesday 24 February 2021.
WEDNESDAY = date(2021, 2, 24)


@pytest.mark.parametrize(
    ("text", "lang", "expected", "precision", "historical"),
    [
        # Weekdays: the latest such day on or before publication.
        ("تلقى الكاظمي مساء الثلاثاء اتصالا هاتفيا", "ar", date(2021, 2, 23), "day", False),
        (
            "واستهدفت صواريخ كاتيوشا، مساء الاثنين، محيط السفارة",
            "ar",
            date(2021, 2, 22),
            "day",
            False,
        ),
        ("يوم الثلاثاء", "ar", date(2021, 2, 23), "day", False),
        ("صباح الأحد", "ar", date(2021, 2, 21), "day", False),
        ("كشفت بغداد وواشنطن الاربعاء تفاصيل", "ar", WEDNESDAY, "day", False),
        ("الخميس", "ar", date(2021, 2, 18), "day", False),
        ("والاثنين", "ar", date(2021, 2, 22), "day", False),
        ("و-الاثنين", "ar", date(2021, 2, 22), "day", False),
        ("الأربعاء الماضي", "ar", date(2021, 2, 17), "day", False),
        ("Rockets hit the base on Monday", "en", date(2021, 2, 22), "day", False),
        ("Tuesday evening", "en", date(2021, 2, 23), "day", False),
        ("last Wednesday", "en", date(2021, 2, 17), "day", False),
        # Relative words.
        ("أمس", "ar", date(2021, 2, 23), "day", False),
        ("امس", "ar", date(2021, 2, 23), "day", False),
        ("البارحة", "ar", date(2021, 2, 23), "day", False),
        ("بالأمس", "ar", date(2021, 2, 23), "day", False),
        ("الليلة الماضية", "ar", date(2021, 2, 23), "day", False),
        ("اليوم", "ar", WEDNESDAY, "day", False),
        ("أول أمس", "ar", date(2021, 2, 22), "day", False),
        ("yesterday", "en", date(2021, 2, 23), "day", False),
        ("last night", "en", date(2021, 2, 23), "day", False),
        ("today", "en", WEDNESDAY, "day", False),
        # "Ago" phrases.
        ("وقبل نحو شهر نفذ داعش هجوماً انتحارياً", "ar", date(2021, 1, 24), "month", True),
        ("about a month ago", "en", date(2021, 1, 24), "month", True),
        ("فقبل أيام شنت القوى الأمنية عملية مداهمة", "ar", date(2021, 2, 21), "week", True),
        ("a few days ago", "en", date(2021, 2, 21), "week", True),
        ("قبل يومين", "ar", date(2021, 2, 22), "day", True),
        ("منذ يومين", "ar", date(2021, 2, 22), "day", True),
        ("قبل ثلاثة أيام", "ar", date(2021, 2, 21), "day", True),
        ("قبل أسبوع", "ar", date(2021, 2, 17), "week", True),
        ("last week", "en", date(2021, 2, 17), "week", False),
        ("two weeks ago", "en", date(2021, 2, 10), "week", True),
        ("قبل شهرين", "ar", date(2020, 12, 24), "month", True),
        # Explicit dates: the latest year not after publication unless given.
        ("أعلن الكاظمي في 28 يناير أن الجيش قتل", "ar", date(2021, 1, 28), "day", True),
        ("وفي 28 يناير", "ar", date(2021, 1, 28), "day", True),
        ("28 كانون الثاني", "ar", date(2021, 1, 28), "day", True),
        ("28 كانون الثاني/يناير 2021", "ar", date(2021, 1, 28), "day", True),
        ("الجمعة 19 شباط", "ar", date(2021, 2, 19), "day", False),
        ("في 3 آذار", "ar", date(2020, 3, 3), "day", True),
        ("January 28", "en", date(2021, 1, 28), "day", True),
        ("on 28 January", "en", date(2021, 1, 28), "day", True),
        ("28 January 2021", "en", date(2021, 1, 28), "day", True),
        ("Jan. 28, 2021", "en", date(2021, 1, 28), "day", True),
        ("on 20 February", "en", date(2021, 2, 20), "day", False),
        ("2021-02-20", "en", date(2021, 2, 20), "day", False),
        # Months.
        ("بعد تولي الكاظمي رئاسة الحكومة في مايو 2020 .", "ar", date(2020, 5, 1), "month", True),
        ("في أيار", "ar", date(2020, 5, 1), "month", True),
        ("in May", "en", date(2020, 5, 1), "month", True),
        ("earlier in February", "en", date(2021, 2, 1), "month", False),
    ],
)
def test_event_date(text: str, lang: str, expected: date, precision: str, historical: bool) -> None:
    found = find_event_date(text, lang, WEDNESDAY)
    assert (found.date, found.precision, found.historical) == (expected, precision, historical)
    assert found.text is not None
    assert text[found.start : found.end] == found.text


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("last year", "en"),
        ("العام الماضي", "ar"),
        ("في عام 2014 سيطر التنظيم على الموصل", "ar"),
    ],
)
def test_a_year_is_historical_without_a_date(text: str, lang: str) -> None:
    found = find_event_date(text, lang, WEDNESDAY)
    assert (found.date, found.precision, found.historical) == (None, "unknown", True)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("نفذ هجوماً هو الأعنف في بغداد منذ ثلاث سنوات", "ar"),  # "the worst in three years"
        ("the worst attack since 2014", "en"),
        ("منذ يناير", "ar"),  # since January: a period
        ("سيزور الوزير بغداد الاثنين المقبل", "ar"),  # the future
        ("talks resume next Monday", "en"),
        ("they may go", "en"),  # "may" is a verb here
        ("قال إن الأب نيد", "ar"),
        ("بحث الجانبان تعزيز التعاون", "ar"),
        ("", "en"),
    ],
)
def test_no_event_date(text: str, lang: str) -> None:
    found = find_event_date(text, lang, WEDNESDAY)
    assert (found.date, found.precision, found.text) == (None, "unknown", None)
    assert not found.historical


def test_gtd_summary_opens_with_month_day_year() -> None:
    text = "03/14/2015: Assailants fired mortars at a checkpoint in Baghdad."
    found = find_event_date(text, "en", date(2015, 3, 20))
    assert (found.date, found.precision, found.historical) == (date(2015, 3, 14), "day", False)
    assert found.text == "03/14/2015"


def test_adjacent_expressions_are_one_and_the_explicit_one_decides() -> None:
    found = find_event_date("قتل أمس الاثنين", "ar", date(2021, 2, 23))
    assert found.date == date(2021, 2, 22)
    assert found.text == "أمس الاثنين"


def test_first_expression_in_the_sentence_wins() -> None:
    text = "وقبل نحو شهر نفذ داعش هجوماً هو الأعنف منذ ثلاث سنوات"
    assert find_event_date(text, "ar", WEDNESDAY).text == "وقبل نحو شهر"


def test_same_weekday_as_publication_is_that_day() -> None:
    assert find_event_date("on Wednesday", "en", WEDNESDAY).date == WEDNESDAY


def test_published_at_may_be_an_aware_datetime() -> None:
    published = datetime(2021, 2, 24, 9, 30, tzinfo=UTC)
    assert find_event_date("أمس", "ar", published).date == date(2021, 2, 23)


def test_date_lexicon_loads_with_every_month() -> None:
    words = month_words()
    assert {"يناير", "كانون", "january", "حزيران", "june"} <= words
    assert load_date_lexicon().words["ago_before"].phrases
