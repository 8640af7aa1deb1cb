"""When an event happened: weekday, relative and explicit dates resolved against publication."""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Iterable
from datetime import MAXYEAR, MINYEAR, date, datetime, timedelta
from typing import Any, NamedTuple

from streams.extract.numbers import (
    SentenceScan,
    numbers_in_sentence,
    offset_map,
    sentence_scan,
    tags,
)
from streams.extract.text import Lexicon, PhraseMatch, phrase_key
from streams.normalize import original_span

__all__ = ["EventDate", "find_event_date", "load_date_lexicon", "month_words"]

LANGUAGES = ("ar", "en")
# An event more than this many days before publication is reported as historical.
HISTORICAL_AFTER_DAYS = 7
# An "N units ago" expression reaching back this many days or more reports an earlier event.
AGO_HISTORICAL_DAYS = 2
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PRECISIONS = ("day", "week", "month", "unknown")
_UNITS = ("hour", "day", "week", "month", "year")


class EventDate(NamedTuple):
    """The event's date as the text gives it, with offsets of the expression in the sentence.

    ``precision`` is ``day``, ``week``, ``month`` or ``unknown`` (then ``date`` is None);
    ``historical`` is true when the event lies more than a week before publication, when an
    "ago" expression reaches back two days or more ("قبل أيام"), or in an earlier month or year.
    Without an expression: no date, start == end == 0.
    """

    date: date | None
    precision: str
    historical: bool
    text: str | None
    start: int
    end: int


NO_DATE = EventDate(None, "unknown", False, None, 0, 0)


class _Weekday(NamedTuple):
    weekday: int  # Monday is 0, as date.weekday()


class _Month(NamedTuple):
    month: int


class _Relative(NamedTuple):
    back: int
    unit: str
    precision: str


class _Unit(NamedTuple):
    unit: str
    says: int  # how many the word itself says; 0 for plurals that need a number or mean "few"
    few: int


_Item = _Weekday | _Month | _Relative | _Unit


class _Words(NamedTuple):
    """Normalised words and phrases (up to three words) to recognise next to an expression."""

    phrases: frozenset[str]
    sizes: tuple[int, ...]  # the phrase lengths in words present, longest first

    @classmethod
    def of(cls, phrases: Iterable[str]) -> _Words:
        found = frozenset(phrases)
        sizes = sorted({len(p.split()) for p in found}, reverse=True)
        return cls(found, tuple(sizes))

    def ending(self, words: list[str]) -> int:
        """How many of the last ``words`` form a listed phrase (longest), 0 if none.

        A leading Arabic "و", "ف" or "ب" is tolerated on its first word ("وفي", "فقبل").
        """
        for k in self.sizes:
            if len(words) < k:
                continue
            head, *rest = words[-k:]
            if " ".join([head, *rest]) in self.phrases:
                return k
            if len(head) > 2 and head[0] in "وفب" and " ".join([head[1:], *rest]) in self.phrases:
                return k
        return 0

    def starting(self, words: list[str]) -> int:
        """How many of the first ``words`` form a listed phrase (longest), 0 if none."""
        for k in self.sizes:
            if len(words) >= k and " ".join(words[:k]) in self.phrases:
                return k
        return 0


class _DateLexicon(NamedTuple):
    entries: dict[str, list[tuple[str, _Item]]]  # by language, for the shared phrase index
    proclitics: list[str]
    words: dict[str, _Words]  # by lexicon key: month_leads, ago_before, ...
    month_words: frozenset[str]


_WORD_KEYS = (
    "month_leads",
    "ago_before",
    "ago_after",
    "since_words",
    "ago_fillers",
    "past_after",
    "past_before",
    "future_after",
    "future_before",
    "weekday_prefixes",
    "weekday_suffixes",
    "year_leads",
)


def _forms(lex: Lexicon, key: str, node: dict[str, Any], langs: Iterable[str]) -> list[str]:
    forms: list[str] = []
    for lang in langs:
        if lang in node:
            forms += lex.strings(f"{key}.{lang}", node[lang])
    return forms


def _entries(lex: Lexicon, langs: tuple[str, ...]) -> list[tuple[str, _Item]]:
    entries: list[tuple[str, _Item]] = []
    weekdays = lex.mapping("weekdays")
    for name in weekdays:
        if name not in _WEEKDAYS:
            raise lex.error(f"weekdays.{name}", f"expected one of {_WEEKDAYS}")
    for index, name in enumerate(_WEEKDAYS):
        node = lex.mapping(f"weekdays.{name}")
        entries += [(f, _Weekday(index)) for f in _forms(lex, f"weekdays.{name}", node, langs)]
    months = lex.mapping("months")
    if sorted(months) != list(range(1, 13)):
        raise lex.error("months", "expected the keys 1 to 12")
    for month in range(1, 13):
        node = lex.mapping(f"months.{month}")
        entries += [(f, _Month(month)) for f in _forms(lex, f"months.{month}", node, langs)]
    for i, node in enumerate(lex.get("relative")):
        key = f"relative[{i}]"
        if not isinstance(node, dict):
            raise lex.error(key, "expected a mapping with back, unit, precision and forms")
        unit, precision = node.get("unit"), node.get("precision")
        if unit not in _UNITS:
            raise lex.error(f"{key}.unit", f"expected one of {_UNITS}, got {unit!r}")
        if precision not in _PRECISIONS:
            raise lex.error(f"{key}.precision", f"expected one of {_PRECISIONS}, got {precision!r}")
        item = _Relative(lex.integer(f"{key}.back", node.get("back")), unit, precision)
        entries += [(f, item) for f in _forms(lex, key, node, langs)]
    for i, node in enumerate(lex.get("units")):
        key = f"units[{i}]"
        if not isinstance(node, dict) or node.get("unit") not in _UNITS:
            raise lex.error(f"{key}.unit", f"expected one of {_UNITS}")
        count = lex.integer(f"{key}.count", node.get("count", 0))
        few = lex.integer(f"{key}.few", node.get("few", 0))
        if (count == 0) == (few == 0):
            raise lex.error(key, "give exactly one of count (what the word says) or few")
        entries += [(f, _Unit(node["unit"], count, few)) for f in _forms(lex, key, node, langs)]
    return entries


@functools.cache
def load_date_lexicon() -> _DateLexicon:
    """Read and check ``config/lexicons/dates.yaml`` (once); raises LexiconError if bad."""
    lex = Lexicon("dates.yaml")
    proclitics = lex.strings("proclitics.ar")
    entries: dict[str, list[tuple[str, _Item]]] = {}
    for lang in LANGUAGES:
        entries[lang] = _entries(lex, (lang,))
        seen: dict[str, _Item] = {}
        for form, item in entries[lang]:
            if seen.setdefault(phrase_key(form), item) != item:
                raise lex.error(f"(entries for {lang})", f"{form!r} has two meanings")
    words = {}
    for key in _WORD_KEYS:
        node = lex.mapping(key)
        words[key] = _Words.of(phrase_key(f) for f in _forms(lex, key, node, LANGUAGES))
    firsts = set()
    for month in range(1, 13):
        node = lex.mapping(f"months.{month}")
        firsts |= {
            phrase_key(f).split()[0] for f in _forms(lex, f"months.{month}", node, LANGUAGES)
        }
    return _DateLexicon(entries, proclitics, words, frozenset(firsts))


def month_words() -> frozenset[str]:
    """First words of every month name, normalised ("يناير", "كانون", "january")."""
    return load_date_lexicon().month_words


# --- helpers --------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
_PUNCT = re.compile(r"[^\w\s\-]")
_WINDOW = 48  # characters looked at around an expression: three words and their spaces
_DAY_BEFORE = re.compile(r"(?<!\d)(\d{1,2})\s*(?:-\s*)?(?:من\s+)?(?:شهر\s+)?$")
_DAY_AFTER = re.compile(r"\.?\s*(\d{1,2})(?:st|nd|rd|th)?(?![\d:/])")
_YEAR_AFTER = re.compile(r"\s*[,،]?\s*((?:19|20)\d\d)(?!\d)")
_ALT_MONTH = re.compile(r"\s*[/(]\s*")
_ISO = re.compile(r"(?<!\d)((?:19|20)\d\d)-(\d\d)-(\d\d)(?!\d)")
_YEAR = re.compile(r"(?<![\d/.,:-])((?:19|20)\d\d)(?![\d/:-])")
# GTD summaries open with the date: "03/14/2015: Assailants fired ..." (month first).
_GTD = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*:")
_JOIN = re.compile(r"[\s,،\-]*")
_ANY_DIGIT = re.compile(r"\d")


def _words_before(norm: str, pos: int) -> list[str]:
    """Up to three words right before ``pos`` with no punctuation in between."""
    window = norm[max(0, pos - _WINDOW) : pos]
    cut = [m.end() for m in _PUNCT.finditer(window)]
    if cut:
        window = window[cut[-1] :]
    return _WORD.findall(window)[-3:]


def _words_after(norm: str, pos: int) -> list[str]:
    """Up to three words right after ``pos`` with no punctuation in between."""
    window = norm[pos : pos + _WINDOW]
    punct = _PUNCT.search(window)
    if punct:
        window = window[: punct.start()]
    return _WORD.findall(window)[:3]


def _back_span(norm: str, pos: int, count: int) -> int:
    """Offset where the ``count`` words before ``pos`` begin."""
    start = pos
    for _ in range(count):
        starts = [m.start() for m in _WORD.finditer(norm, max(0, start - _WINDOW), start)]
        if not starts:
            break
        start = starts[-1]
    return start


def _forward_span(norm: str, pos: int, count: int) -> int:
    """Offset where the ``count`` words after ``pos`` end."""
    end = pos
    for match in _WORD.finditer(norm, pos):
        if count == 0:
            break
        end = match.end()
        count -= 1
    return end


def _minus_months(day: date, months: int) -> date | None:
    """``months`` before ``day`` (the day clamped to the month's end); None before year 1."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    if not MINYEAR <= year <= MAXYEAR:
        return None
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _days_before(day: date, days: int) -> date | None:
    """``days`` before ``day``; None past the calendar's limits (before 0001-01-01)."""
    try:
        return day - timedelta(days=days)
    except OverflowError:
        return None


def _not_after_next_day(day: date, published: date) -> bool:
    """``day`` is at most a day after ``published`` (no overflow at 9999-12-31)."""
    return (day - published).days <= 1


def _latest(year: int | None, month: int, day: int, published: date) -> date | None:
    """The date with that month/day: in ``year`` if given, else the latest not after publication."""
    try:
        if year is not None:
            return date(year, month, day)
        found = date(published.year, month, day)
        return found if found <= published else date(published.year - 1, month, day)
    except ValueError:
        return None  # 30 February, or 29 February in a year without it


class _Candidate(NamedTuple):
    start: int
    end: int
    date: date | None
    precision: str
    rank: int  # explicit 3, weekday 2, relative 1: the more explicit wins when adjacent
    historical: bool | None = None  # None: decided from the distance to publication


# --- the finders ----------------------------------------------------------------------------


def _weekday(
    norm: str, match: PhraseMatch[Any], published: date, words: dict[str, _Words]
) -> _Candidate | None:
    before, after = _words_before(norm, match.start), _words_after(norm, match.end)
    if words["future_after"].starting(after) or words["future_before"].ending(before):
        return None  # "الاثنين المقبل", "next Monday": not when anything happened
    delta = (published.weekday() - match.value.weekday) % 7
    past = words["past_after"].starting(after)
    if delta == 0 and (past or words["past_before"].ending(before)):
        delta = 7
    start = _back_span(norm, match.start, words["weekday_prefixes"].ending(before))
    suffix = words["weekday_suffixes"].starting(after) or past
    end = _forward_span(norm, match.end, suffix)
    day = _days_before(published, delta)
    if day is None:
        return None
    return _Candidate(start, end, day, "day", 2)


def _month(
    norm: str,
    match: PhraseMatch[Any],
    published: date,
    words: dict[str, _Words],
    following: list[PhraseMatch[Any]],
) -> tuple[_Candidate | None, int]:
    """An explicit date around a month name, and the offset up to which matches are consumed."""
    start, end = match.start + match.prefix, match.end
    alt = _ALT_MONTH.match(norm, end)
    if (
        alt
        and following
        and following[0].start == alt.end()
        and isinstance(following[0].value, _Month)
    ):
        end = following[0].end  # "كانون الثاني/يناير": one month, two names
    day: int | None = None
    day_before = _DAY_BEFORE.search(norm, max(0, start - 16), start)
    if day_before:
        day, start = int(day_before.group(1)), day_before.start()
    else:
        day_after = _DAY_AFTER.match(norm, end)
        if day_after:
            day, end = int(day_after.group(1)), day_after.end()
    year_match = _YEAR_AFTER.match(norm, end)
    year = int(year_match.group(1)) if year_match else None
    if year_match:
        end = year_match.end()
    before = _words_before(norm, start)
    if words["since_words"].ending(before):
        return None, end  # "since January": a period, not the event
    month = match.value.month
    if day is not None and 1 <= day <= 31:
        found = _latest(year, month, day, published)
        return (_Candidate(start, end, found, "day", 3) if found else None), end
    lead = words["month_leads"].ending(before)
    if year is None and not lead:
        return None, end  # "may", "آب" alone: a verb, a father
    first = _latest(year, month, 1, published)
    if first is None:
        return None, end
    start = _back_span(norm, start, lead) if lead and year is None else start
    same_month = (first.year, first.month) == (published.year, published.month)
    return _Candidate(start, end, first, "month", 3, historical=not same_month), end


def _relative(match: PhraseMatch[Any], published: date) -> _Candidate | None:
    item: _Relative = match.value
    start = match.start + match.prefix
    if item.unit == "year":
        return _Candidate(start, match.end, None, "unknown", 1, historical=True)
    day = _shift(published, item.unit, item.back)
    if day is None:
        return None  # before the calendar starts: no date rather than an error
    return _Candidate(start, match.end, day, item.precision, 1)


def _shift(published: date, unit: str, count: int) -> date | None:
    if unit == "month":
        return _minus_months(published, count)
    days = {"hour": 0, "day": count, "week": 7 * count}[unit]
    return _days_before(published, days)


def _ago(
    norm: str,
    match: PhraseMatch[Any],
    published: date,
    words: dict[str, _Words],
    numbers: list[Any],
) -> _Candidate | None:
    """ "قبل ثلاثة أيام", "قبل نحو شهر", "two weeks ago": a unit with how many, and "ago"."""
    item: _Unit = match.value
    start, end = match.start + match.prefix, match.end
    count, vague = item.says, False
    for number in numbers:
        if number.core_end <= start and not norm[number.core_end : start].strip():
            count, vague, start = number.value, number.qualifier == "vague", number.start
            break
    if count == 0:
        count, vague = item.few, True
    before = _words_before(norm, start)
    # Skip fillers back to "قبل": "قبل نحو شهر".
    while True:
        k = words["ago_fillers"].ending(before)
        if not k:
            break
        before = before[:-k]
        start = _back_span(norm, start, k)
    ago_before = words["ago_before"].ending(before)
    ago_after = words["ago_after"].starting(_words_after(norm, end)) if not ago_before else 0
    if not ago_before and not ago_after:
        return None
    if ago_before and item.unit in ("month", "year") and words["since_words"].ending(before):
        return None  # "الأعنف منذ ثلاث سنوات": the worst in three years, not a date
    start = _back_span(norm, start, ago_before)
    end = _forward_span(norm, end, ago_after)
    if item.unit == "year":
        return _Candidate(start, end, None, "unknown", 1, historical=True)
    precision = {"hour": "day", "day": "day", "week": "week", "month": "month"}[item.unit]
    if vague and precision == "day":
        precision = "week"  # "قبل أيام": some days, within the week
    back = _shift(published, item.unit, count)
    if back is None:
        return None
    # "قبل أيام" / "two days ago" tell of an event behind the day's news (background), unlike
    # a weekday name or "yesterday"; so an "ago" reaching back two days or more is historical.
    historical = (published - back).days >= AGO_HISTORICAL_DAYS
    return _Candidate(start, end, back, precision, 1, historical=historical)


def _explicit_numeric(norm: str, published: date, words: dict[str, _Words]) -> list[_Candidate]:
    """ISO dates ("2021-02-23") and a bare year after "في"/"in" ("في عام 2014")."""
    found: list[_Candidate] = []
    for m in _ISO.finditer(norm):
        day = _latest(int(m.group(1)), int(m.group(2)), int(m.group(3)), published)
        if day is not None:
            found.append(_Candidate(m.start(), m.end(), day, "day", 3))
    for m in _YEAR.finditer(norm):
        before = _words_before(norm, m.start())
        lead = words["year_leads"].ending(before)
        if not lead or words["since_words"].ending(before[:-lead] or before):
            continue
        year = int(m.group(1))
        if year > published.year:
            continue
        start = _back_span(norm, m.start(), lead)
        found.append(
            _Candidate(start, m.end(), None, "unknown", 2, historical=year < published.year)
        )
    return found


def _candidates(text: str, scan: SentenceScan, lang: str, published: date) -> list[_Candidate]:
    norm = scan.norm
    words = load_date_lexicon().words
    matches = scan.phrases.select(*tags("dates", lang))
    found: list[_Candidate] = []
    numbers: list[Any] | None = None
    consumed = 0
    reach = -1  # end of the first usable expression: later ones matter only if adjacent
    for i, match in enumerate(matches):
        if match.start < consumed:
            continue
        if reach >= 0 and match.start > reach and not _JOIN.fullmatch(norm, reach, match.start):
            break  # the first expression wins; the rest of the sentence cannot change that
        item = match.value
        candidate: _Candidate | None = None
        if isinstance(item, _Weekday):
            candidate = _weekday(norm, match, published, words)
        elif isinstance(item, _Month):
            candidate, consumed = _month(norm, match, published, words, matches[i + 1 : i + 2])
        elif isinstance(item, _Relative):
            candidate = _relative(match, published)
        elif isinstance(item, _Unit):
            if numbers is None:
                numbers = list(numbers_in_sentence(text, lang))
            candidate = _ago(norm, match, published, words, numbers)
        if candidate is not None:
            found.append(candidate)
            usable = candidate.date is None or _not_after_next_day(candidate.date, published)
            if usable:
                reach = max(reach, candidate.end)
    if _ANY_DIGIT.search(norm):
        found += _explicit_numeric(norm, published, words)
    return found


def _choose(norm: str, found: list[_Candidate], published: date) -> _Candidate | None:
    """The first expression in the sentence, merged with any written right next to it."""
    usable = sorted(
        (c for c in found if c.date is None or _not_after_next_day(c.date, published)),
        key=lambda c: c.start,
    )
    if not usable:
        return None
    best = usable[0]
    start, end = best.start, best.end
    for other in usable[1:]:
        if other.start < end or _JOIN.fullmatch(norm, end, other.start):
            # "أمس الاثنين", "Tuesday, Feb. 23": one expression; the more explicit gives the date.
            start, end = min(start, other.start), max(end, other.end)
            if other.rank > best.rank:
                best = other
        else:
            break
    return best._replace(start=start, end=end)


def find_event_date(text: str, lang: str, published_at: datetime | date) -> EventDate:
    """The event date stated in a sentence, resolved against the publication date.

    Weekdays resolve to the latest such day on or before publication; a date without a year
    to the latest year not after publication. The first expression in the sentence wins.

    >>> find_event_date("وقبل نحو شهر نفذ داعش هجوماً", "ar", date(2021, 2, 24))[:3]
    (datetime.date(2021, 1, 24), 'month', True)
    """
    published = published_at.date() if isinstance(published_at, datetime) else published_at
    gtd = _GTD.match(text)
    if gtd:
        month, day, year = (int(g) for g in gtd.groups())
        found = _latest(year, month, day, published) if 1 <= month <= 12 else None
        if found is not None:
            start, end = gtd.start(1), gtd.end(3)
            historical = (published - found).days > HISTORICAL_AFTER_DAYS
            return EventDate(found, "day", historical, text[start:end], start, end)
    scan = sentence_scan(text)
    chosen = _choose(scan.norm, _candidates(text, scan, lang, published), published)
    if chosen is None:
        return NO_DATE
    if chosen.historical is not None:
        historical = chosen.historical
    else:
        historical = chosen.date is not None and (
            (published - chosen.date).days > HISTORICAL_AFTER_DAYS
        )
    start, end = original_span(offset_map(text), chosen.start, chosen.end, len(text))
    return EventDate(chosen.date, chosen.precision, historical, text[start:end], start, end)
