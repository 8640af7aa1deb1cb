"""The extractor: one article in, its incidents out (weapon, counts, actor, place, date)."""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from streams.extract.actors import (
    Attribution,
    actor_mentions,
    attribute,
    best_attribution,
    display_name,
    speakers,
)
from streams.extract.dates import EventDate, find_event_date
from streams.extract.lexicon import Lexicons, Match, NormText, load_lexicons
from streams.extract.numbers import Casualties, find_casualties, find_numbers
from streams.extract.text import Sentence, split_sentences
from streams.normalize import detect_language, normalize_ar
from streams.records import (
    Actor,
    Article,
    Count,
    Counts,
    Evidence,
    Incident,
    Location,
    Source,
    Weapon,
)
from streams.settings import config_dir as default_config_dir

__all__ = ["Extractor", "get_extractor", "incident_id"]

LANGUAGES = ("ar", "en")

# How an article becomes incidents (each step a function below):
# 1. One normalising pass and one Aho-Corasick scan of the whole body (every lexicon at once);
#    the body is split into sentences and each sentence takes its share of the matches.
# 2. A sentence is read as an incident when it has a strong event word, an eventive weapon
#    ("انفجار", "shelling") or a weak event word with a weapon, and no non-incident cue vetoes it
#    (policy, threats, statistics, habits, future tense; soft cues yield to stated casualties).
# 3. Its reading: the most specific weapon the event words govern and its count, casualties,
#    actor and attribution (streams.extract.actors), target, the locative place nearest the
#    event (streams.geo), and the event date (streams.extract.dates).
# 4. Readings of consecutive sentences that tell one event are chained ("At least six soldiers
#    were killed in the blast."), then duplicates in the article merged (same place, agreeing
#    weapon, date, actor, target), keeping the most informative fields.
# 5. Incidents too vague to place, date or count are dropped (see _specific); claims and
#    accusations of nearby sentences are attached (see _ATTRIBUTION_WINDOW).
# Dates: a reading without a date of its own takes one only from a sentence chained or merged
# with it; otherwise event_date is None, date_precision "unknown" and event_time the
# publication time (the ingest time when the article has none), so windows still place it.

# --- the rules, as numbers a reader can find in one place -------------------------------------

# A number counts a weapon when at most this many words stand between them: "14 صاروخاً",
# "fired three Katyusha rockets" (before), "صاروخين اثنين" (after).
_QUANTITY_BEFORE = 2
_QUANTITY_AFTER = 1
# "مزدوج" / "double" sits right after (Arabic) or before (English) the weapon it multiplies.
_MODIFIER_WINDOW = 2
# Attribution context window (documented rule): a claim, accusation or suspicion stated in one
# sentence applies to incidents read from that sentence or the one just before or after it
# ("the US accuses Iran of the rocket attacks" next to the attack). Never further: a
# spokesman's accusation three paragraphs away may concern other attacks.
_ATTRIBUTION_WINDOW = 1
# A sentence continues the incident of the sentence before it only when adjacent.
_CONTINUATION_GAP = 1
# A device word this many words or fewer from an event word is the event's weapon.
_GOVERNED = 8
# Words the gazetteer may read as a town but that news uses as plain nouns: "المدينة" (the city),
# "البلاد" (the country). Worked around here; reported to the gazetteer's owner.
_GENERIC_PLACE_WORDS = frozenset({"المدينه", "مدينه", "البلاد", "بلاد"})
# A place this many words or fewer from an event word is where the event happened.
_NEAR_EVENT = 6
# A place named without a locative word counts only as the event's object, right after it.
_OBJECT_PLACE = 3
# Speakers (states named in the sentences before) that may be the accuser of a later sentence.
_SPEAKER_MEMORY = 2

_PRECISION_ORDER = {"landmark": 0, "district": 1, "city": 2, "admin1": 3, "country": 4}
_PRECISION_RANK = {"landmark": 5, "district": 4, "city": 4, "admin1": 2, "country": 1}
_PLACE_CONFIDENCE = {"landmark": 0.9, "district": 0.85, "city": 0.85, "admin1": 0.6, "country": 0.3}
_DATE_CONFIDENCE = {"day": 0.9, "week": 0.7, "month": 0.6, "unknown": 0.0}
_WORD = re.compile(r"\w+")


def incident_id(article_id: str, start: int, end: int) -> str:
    """Deterministic id of the incident read from ``body[start:end]`` of an article.

    >>> incident_id("a1", 0, 10) == incident_id("a1", 0, 10) != incident_id("a1", 0, 11)
    True
    """
    return hashlib.sha1(f"{article_id}\x1f{start}\x1f{end}".encode()).hexdigest()[:16]


# --- what one sentence says about an incident -------------------------------------------------


@dataclass
class _Reading:
    """One sentence's reading of an incident (its own fields, before merging)."""

    index: int
    sentence: Sentence
    strength: float
    weapon: Weapon | None = None
    weapon_conf: float = 0.0
    quantity: Count | None = None
    quantity_conf: float = 0.0
    killed: Count | None = None
    wounded: Count | None = None
    attributions: list[Attribution] = field(default_factory=list)
    target: str | None = None
    location: Location | None = None
    place_conf: float = 0.0
    date: EventDate | None = None
    anaphor: bool = False


@dataclass
class _Incident:
    """Readings merged into one incident; ``primary`` gives the evidence and the id."""

    readings: list[_Reading]
    attributions: list[Attribution] = field(default_factory=list)

    @property
    def last(self) -> int:
        return max(r.index for r in self.readings)

    def indices(self) -> set[int]:
        return {r.index for r in self.readings}

    def pick(self, name: str) -> Any:
        """The field from the most informative reading that has it."""
        for r in sorted(self.readings, key=_informativeness, reverse=True):
            value = getattr(r, name)
            if value is not None:
                return value
        return None

    @property
    def primary(self) -> _Reading:
        return max(self.readings, key=lambda r: (_informativeness(r), -r.index))

    def location(self) -> tuple[Location | None, float]:
        best = max(self.readings, key=lambda r: (_place_rank(r.location), r.place_conf, -r.index))
        return best.location, best.place_conf

    def weapon(self) -> tuple[Weapon | None, float]:
        """The weapon of the first sentence that names one: later sentences of a report add
        detail or context ("stating it was revenge for drone strikes"), not the means."""
        armed = [r for r in self.readings if r.weapon is not None]
        if not armed:
            return None, 0.0
        first = min(armed, key=lambda r: r.index)
        return first.weapon, first.weapon_conf

    def date(self) -> EventDate | None:
        dated = [r.date for r in self.readings if r.date is not None and r.date.date is not None]
        if not dated:
            return None
        order = ("day", "week", "month", "unknown")
        return min(dated, key=lambda d: order.index(d.precision) if d.precision in order else 9)

    def all_attributions(self) -> list[Attribution]:
        out = list(self.attributions)
        for r in self.readings:
            out.extend(r.attributions)
        return out


def _place_rank(loc: Location | None) -> int:
    return 0 if loc is None else _PRECISION_RANK.get(loc.precision, 1)


def _informativeness(r: _Reading) -> float:
    """How much a reading says: place, weapon, counts, actor, date (ties: earlier sentence)."""
    score = 3.0 * (r.location is not None) + 0.5 * _place_rank(r.location)
    score += 2.0 * (r.weapon is not None) + 1.0 * (r.quantity is not None)
    score += 1.0 * (r.killed is not None) + 0.5 * (r.wounded is not None)
    score += 1.0 * bool(r.attributions) + 1.0 * (r.date is not None and r.date.date is not None)
    score += 0.5 * (r.target is not None)
    return score


# --- the extractor ---------------------------------------------------------------------------


class Extractor:
    """Reads incidents from articles; load once (``from_config``), call ``extract`` per article.

    >>> from streams.records import Article
    >>> ex = get_extractor()
    >>> [i.weapon.category for i in ex.extract(Article(id="x", language="en",
    ...     body="Assailants fired three rockets at Baghdad airport on Monday."))]
    ['rocket']
    """

    def __init__(self, lexicons: Lexicons, gazetteer: Any | None) -> None:
        self.lexicons = lexicons
        self.gazetteer = gazetteer

    @classmethod
    def from_config(cls, config_dir: Path | None = None) -> Extractor:
        """Load lexicons (``config/lexicons``) and the gazetteer once; fails fast on bad data."""
        folder = Path(config_dir) if config_dir is not None else default_config_dir()
        lexicons = load_lexicons(folder / "lexicons")
        return cls(lexicons, _load_gazetteer(None if config_dir is None else folder))

    # -- public --------------------------------------------------------------------------------

    def extract(self, article: Article, *, now: datetime | None = None) -> list[Incident]:
        """Incidents reported in ``article``, in text order; none for policy or statistics text.

        ``now`` stands in for a missing ``published_at`` (the incident then says
        ``published_at_assumed``).
        """
        body = article.body if isinstance(article.body, str) else ""
        if not body.strip():
            return []
        lang = _language(article.language, body)
        published, assumed = _published(article.published_at, now)
        nt = NormText(body)
        matches = self.lexicons.scan(nt)
        sentences = split_sentences(body)
        starts = [m.start for m in matches]
        places = _ArticlePlaces(self.gazetteer, body, lang)

        readings: list[_Reading] = []
        # sentence index -> (attributions stated there, whether it refers back to an event)
        side: dict[int, tuple[list[Attribution], bool]] = {}
        anaphoric: dict[int, Casualties] = {}  # casualties of sentences referring back
        recent_speakers: list[list[str]] = []
        last_group: str | None = None
        for index, sentence in enumerate(sentences):
            lo = bisect.bisect_left(starts, sentence.start)
            hi = bisect.bisect_left(starts, sentence.end)
            own = [m for m in matches[lo:hi] if m.end <= sentence.end]
            mentions = actor_mentions(own, nt, last_group=last_group)
            context_speakers = [s for group in recent_speakers for s in group]
            attributions = attribute(own, nt, mentions, context_speakers=context_speakers)
            reading = self._read(index, sentence, own, lang, published, places, attributions)
            if reading is not None:
                readings.append(reading)
            else:
                # Only a sentence about an attack ("the attack", "الهجمات", a weapon) attributes
                # the incidents around it: "ستحمّل إيران المسؤولية عن أفعال حلفاء طهران" does not.
                strong = [a for a in attributions if a.attribution != "reported"]
                if strong and any(m.kind in ("trigger", "weapon", "anaphor") for m in own):
                    side[index] = (strong, any(m.kind == "anaphor" for m in own))
                if any(m.kind == "anaphor" for m in own):
                    anaphoric[index] = find_casualties(sentence.text, lang)
            recent_speakers = [*recent_speakers, speakers(mentions)][-_SPEAKER_MEMORY:]
            for m in mentions:
                if m.kind == "group" and not m.anaphor:
                    last_group = m.name

        incidents = _merge_duplicates(_chain(readings))
        kept = [i for i in incidents if _specific(i)]
        # A dropped reading (too vague to be an incident) may still accuse or claim: it then
        # attributes its neighbours like any other non-incident sentence.
        for dropped in (i for i in incidents if not _specific(i)):
            for r in dropped.readings:
                strong = [a for a in r.attributions if a.attribution != "reported"]
                if strong:
                    side[r.index] = (strong, r.anaphor)
        _attach_side(kept, side, anaphoric)
        incidents = kept
        return [self._build(inc, article, lang, published, assumed) for inc in incidents]

    # -- one sentence --------------------------------------------------------------------------

    def _read(
        self,
        index: int,
        sentence: Sentence,
        own: Sequence[Match],
        lang: str,
        published: datetime,
        places: _ArticlePlaces,
        attributions: list[Attribution],
    ) -> _Reading | None:
        """The incident reading of one sentence, or None when it reports no incident."""
        # After "in retaliation for" / "ردا على" the sentence tells of another, earlier event.
        cut = min((m.start for m in own if m.kind == "other_event"), default=sentence.end)
        weapons = [m for m in own if m.kind == "weapon" and m.start < cut]
        # An Arabic verb with the future prefix ("ستستهدف") reports nothing that happened.
        triggers = [m for m in own if m.kind == "trigger" and m.start < cut and "س" not in m.prefix]
        cues = [m for m in own if m.kind == "cue"]
        strong = any(t.entry.get("strength") == "strong" for t in triggers)
        weak = any(t.entry.get("strength") == "weak" for t in triggers)
        eventive = any(w.entry.get("event") for w in weapons)
        if not (strong or eventive or (weak and weapons)):
            return None
        if any(c.entry.get("veto") == "hard" for c in cues):
            return None
        casualties = find_casualties(sentence.text, lang)
        stated_casualties = casualties.killed is not None or casualties.wounded is not None
        if any(c.entry.get("veto") == "soft" for c in cues) and not stated_casualties:
            return None
        strength = 1.0 if (strong or eventive) and weapons else 0.8 if strong or eventive else 0.6
        reading = _Reading(index, sentence, strength)
        reading.killed, reading.wounded = casualties.killed, casualties.wounded
        reading.anaphor = any(m.kind == "anaphor" for m in own)
        self._weapon(reading, weapons, own, sentence, lang, casualties)
        # Names after "in retaliation for" belong to the earlier event, unless they claim.
        reading.attributions = [
            a for a in attributions if a.attribution != "reported" or a.actor.start < cut
        ]
        reading.target = _target(own, attributions)
        events = [(m.start, m.end) for m in (*weapons, *triggers)]
        names = [(m.start, m.end) for m in own if m.kind == "actor"]
        reading.location, reading.place_conf = _place(
            places.body, places.within(sentence), events, names
        )
        found = find_event_date(sentence.text, lang, published)
        reading.date = found if found.date is not None else None
        return reading

    def _weapon(
        self,
        reading: _Reading,
        weapons: Sequence[Match],
        own: Sequence[Match],
        sentence: Sentence,
        lang: str,
        casualties: Casualties,
    ) -> None:
        """The sentence's weapon (most specific named) and how many were used."""
        if not weapons:
            return
        # The most specific weapon wins, among those the event words govern: a device named
        # far from every event word ("مكان لتصنيع الصواريخ", a rocket factory) is context.
        events = [m for m in own if m.kind == "trigger" or m.entry.get("event")]

        def governed(w: Match) -> bool:
            return w.entry.get("event") or any(
                _words(sentence.text[_gap(w, e, sentence.start)]) <= _GOVERNED for e in events
            )

        best = max(
            weapons,
            key=lambda w: (governed(w), int(w.entry.get("rank", 0)), -w.start),
        )
        # The weapon as written takes in a multiplier right after it ("هجوماً انتحارياً مزدوجاً").
        end = best.end
        for m in own:
            if (
                m.kind == "modifier"
                and m.start >= end
                and not _words(sentence.text[end - sentence.start : m.start - sentence.start])
            ):
                end = m.end
                break
        reading.weapon = Weapon(
            category=best.entry.label,
            gtd_type=str(best.entry.get("gtd_type")),
            gtd_subtype=best.entry.get("gtd_subtype"),
            text=sentence.text[best.start - sentence.start : end - sentence.start],
        )
        reading.weapon_conf = 0.9 if reading.strength >= 1.0 else 0.75
        reading.quantity, reading.quantity_conf = _quantity(best, own, sentence, lang, casualties)

    # -- output --------------------------------------------------------------------------------

    def _build(
        self,
        inc: _Incident,
        article: Article,
        lang: str,
        published: datetime,
        assumed: bool,
    ) -> Incident:
        primary = inc.primary
        sentence = primary.sentence
        ident = incident_id(article.id, sentence.start, sentence.end)
        location, place_conf = inc.location()
        weapon, weapon_conf = inc.weapon()
        quantity = inc.pick("quantity")
        killed = inc.pick("killed")
        wounded = inc.pick("wounded")
        event = inc.date()
        # The strongest attribution wins (a claim in the next sentence over a name in this one);
        # at equal strength the incident's own sentences over a neighbour's.
        own = [a for r in inc.readings for a in r.attributions]
        ranked = [(a.rank[0], 1, a.rank[1], a) for a in own] + [
            (a.rank[0], 0, a.rank[1], a) for a in inc.attributions
        ]
        best = max(ranked, key=lambda t: t[:3])[3] if ranked else None
        actor: Actor | None = None
        if best is not None:
            info = self.lexicons.actors.get(best.actor.name)
            name = best.actor.name
            if info is not None:
                name = display_name(info, location.country_code if location else None)
            actor = Actor(name=name, text=best.actor.text, attribution=best.attribution, by=best.by)
        own_counts = {n for n in ("killed", "wounded") if getattr(primary, n) is not None}
        fc = {
            "place": round(place_conf if location else 0.0, 3),
            "weapon": round(weapon_conf if weapon else 0.0, 3),
            "quantity": max((r.quantity_conf for r in inc.readings if r.quantity), default=0.0),
            "killed": 0.0 if killed is None else 0.85 if "killed" in own_counts else 0.75,
            "wounded": 0.0 if wounded is None else 0.85 if "wounded" in own_counts else 0.75,
            "actor": round(best.confidence, 3) if best is not None else 0.0,
            "date": _DATE_CONFIDENCE.get(event.precision, 0.0) if event else 0.0,
        }
        strength = max(r.strength for r in inc.readings)
        # Overall: is it an incident at all (the trigger evidence), and can it be placed and
        # typed; counts and actor refine an incident but do not make one more real.
        confidence = 0.4 * strength + 0.3 * fc["place"] + 0.15 * fc["weapon"] + 0.15 * fc["date"]
        if event is not None and event.date is not None:
            event_date = event.date.isoformat()
            precision, historical = event.precision, event.historical
            event_time = datetime.combine(event.date, time(0, 0), tzinfo=UTC)
        else:
            event_date, precision, historical, event_time = None, "unknown", False, published
        return Incident(
            incident_id=ident,
            article_id=article.id,
            language=lang,
            published_at=published,
            event_date=event_date,
            date_precision=precision,
            historical=historical,
            location=location,
            weapon=weapon,
            counts=Counts(quantity=quantity, killed=killed, wounded=wounded),
            actor=actor,
            evidence=Evidence(sentence=sentence.text, start=sentence.start, end=sentence.end),
            confidence=round(max(0.0, min(1.0, confidence)), 3),
            field_confidence={k: round(float(v), 3) for k, v in fc.items()},
            source=article.source,
            target=inc.pick("target"),
            published_at_assumed=assumed,
            event_time=event_time,
            produced_at=article.produced_at,
            cluster_id=ident,
            revision=1,
            sources=[
                Source(
                    article_id=article.id,
                    incident_id=ident,
                    source=article.source,
                    published_at=published,
                )
            ],
        )


class _ArticlePlaces:
    """The article's resolved places, found in one gazetteer pass on first need.

    One ``locate`` over the whole body (its own countries and regions are the context) instead
    of one per sentence: the gazetteer is the costliest stage, and articles without an incident
    reading never pay for it.
    """

    def __init__(self, gazetteer: Any | None, body: str, lang: str) -> None:
        self.gazetteer = gazetteer
        self.body = body
        self.lang = lang
        self._places: list[Any] | None = None

    def within(self, sentence: Sentence) -> list[Any]:
        """Resolved places inside ``sentence``, best incident location first (as located)."""
        if self.gazetteer is None:
            return []
        if self._places is None:
            empty = self.gazetteer.context("", self.lang)
            self._places = list(self.gazetteer.locate(self.body, self.lang, empty))
        return [
            p
            for p in self._places
            if sentence.start <= p.mention.start and p.mention.end <= sentence.end
        ]


def _place(
    text: str,
    located: Sequence[Any],
    events: Sequence[tuple[int, int]],
    names: Sequence[tuple[int, int]] = (),
) -> tuple[Location | None, float]:
    """A sentence's incident location, from its locative places ("في", "ب", "in", "near").

    ``located`` are the gazetteer's resolved places of the sentence; ``events`` the spans of
    its triggers and weapons and ``names`` of its actors, all offsets into ``text``. A place
    named outside a locative phrase ("ويعاني العراق", "Iraq said") is where someone is, not
    where something happened. Of the locative places, those within a few words of an event word
    come first ("الهجوم الأخير على أربيل" over "مؤتمر صحافي في واشنطن"), then the most precise.
    """
    places = [
        p
        for p in located
        # part of a name: "Kurdistan Workers' Party", "حزب الله اللبناني"
        if not any(p.mention.start < e and s < p.mention.end for s, e in names)
        and _bare(p.mention.text) not in _GENERIC_PLACE_WORDS
    ]
    # The sentence's places agree with each other ("Omar - Oil Fields in Deir ez Zor"): a
    # town resolved to another country than the rest, or to another region than the one
    # the sentence names ("Dhahran al-Janub district, Asir"), is probably the wrong town.
    countries = Counter(p.location.country_code for p in places)
    majority, votes = countries.most_common(1)[0] if countries else (None, 0)
    admins = [p for p in places if p.location.precision == "admin1"]
    best: tuple[tuple[int, ...], Location] | None = None
    for rank, place in enumerate(places):
        m_start, m_end = place.mention.start, place.mention.end
        code = place.location.country_code
        foreign = int(votes >= 2 and code != majority)
        off_region = int(
            place.location.precision in ("landmark", "district", "city")
            and any(
                a.location.country_code == code
                and a.location.region_id != place.location.region_id
                and _apposition(text[m_end : a.mention.start])
                for a in admins
                if a.mention.start >= m_end
            )
        )

        # Words from the nearest event word before the place ("attack ... in X"), and to
        # the nearest one after it ("In X, a bomb exploded"), which counts for less.
        after = min((_words(text[e:m_start]) for s, e in events if e <= m_start), default=99)
        before = min((_words(text[m_end:s]) for s, e in events if s >= m_end), default=99)
        precision = place.location.precision
        if place.mention.locative:
            near = 0 if after <= _NEAR_EVENT else 1 if before <= _NEAR_EVENT else 2
        elif after <= 1 and precision != "country":
            near = 0  # the event's own name or object: "هجوم أربيل", "shelled Salh"
        elif after <= _OBJECT_PLACE and precision != "country":
            near = 3  # a little further: "targeted the Banin area"
        else:
            continue
        # A region or town beats a country; then nearness to the event; then precision
        # ("هجوم أربيل" in "كردستان العراق" is in Erbil).
        key = (
            int(precision == "country"),
            foreign,
            off_region,
            near,
            _PRECISION_ORDER.get(precision, 9),
            rank,
            m_start,
        )
        if best is None or key < best[0]:
            best = (key, place.location)
    if best is None:
        return None, 0.0
    location = best[1]
    return location, _PLACE_CONFIDENCE.get(location.precision, 0.5)


# --- helpers: language, time, gazetteer -------------------------------------------------------


def _language(declared: str | None, body: str) -> str:
    """The article's language: as declared when ar/en ("AR", "ar-IQ" too), else detected."""
    if isinstance(declared, str) and declared[:2].lower() in LANGUAGES:
        return declared[:2].lower()
    found = detect_language(body)
    return found if found in LANGUAGES else "en"


def _published(value: Any, now: datetime | None) -> tuple[datetime, bool]:
    """``published_at`` as an aware datetime, else ``now`` (ingest time) and assumed=True."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)), False
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=UTC), False
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)), False
    stand_in = now if now is not None else datetime.now(UTC)
    return (stand_in if stand_in.tzinfo else stand_in.replace(tzinfo=UTC)), True


def _load_gazetteer(folder: Path | None) -> Any:
    """The gazetteer for a config folder (the shared, cached one for the default folder)."""
    from streams import geo  # deferred: building the index is the slow part of start-up

    if folder is None:
        return geo.get_gazetteer()
    return geo.Gazetteer.load(folder / "gazetteer")


# --- helpers: weapon quantity and target ------------------------------------------------------


# Words that may stand between a town and its region in "Town district, Region, Country".
_APPOSITION_WORDS = frozenset(
    {
        *("district", "subdistrict", "town", "city", "village", "area", "region", "province"),
        *("governorate", "state", "county", "neighborhood", "neighbourhood", "municipality"),
        *("township", "oblast", "قضاء", "ناحية", "مدينة", "محافظة", "بلدة", "قرية"),
    }
)


def _apposition(between: str) -> bool:
    """True when ``between`` joins a place to the region after it: ", ", " district, ", " (".

    >>> _apposition(" district, "), _apposition(" and ")
    (True, False)
    """
    if "," not in between and "،" not in between and "(" not in between:
        return False
    return all(w.lower() in _APPOSITION_WORDS for w in _WORD.findall(between))


def _bare(name: str) -> str:
    """A place name without its Arabic proclitics ("بالمدينة" -> "المدينه"), normalised."""
    norm = normalize_ar(name).strip()
    for prefix in ("وب", "ول", "وف", "و", "ب", "ل", "ف"):
        if norm.startswith(prefix + "ال"):
            return norm[len(prefix) :]
    return norm


def _gap(a: Match, b: Match, offset: int) -> slice:
    """The text between two matches, as a slice of their sentence (``offset``: its start)."""
    if a.end <= b.start:
        return slice(a.end - offset, b.start - offset)
    if b.end <= a.start:
        return slice(b.end - offset, a.start - offset)
    return slice(0, 0)


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _quantity(
    weapon: Match,
    own: Sequence[Match],
    sentence: Sentence,
    lang: str,
    casualties: Casualties,
) -> tuple[Count | None, float]:
    """How many of ``weapon``: its dual form, a number next to it, times "مزدوج"/"double"."""
    base: Count | None = None
    conf = 0.0
    implied = weapon.entry.get("quantity")
    if isinstance(implied, int):
        base, conf = Count(value=implied, qualifier="exact"), 0.9
    else:
        base, conf = _adjacent_number(weapon, sentence, lang, casualties)
    multiplier = _multiplier(weapon, own, sentence, lang)
    if multiplier > 1:
        value = multiplier * (base.value if base is not None else 1)
        qualifier = base.qualifier if base is not None else "exact"
        return Count(value=value, qualifier=qualifier), 0.85
    return base, conf


def _adjacent_number(
    weapon: Match, sentence: Sentence, lang: str, casualties: Casualties
) -> tuple[Count | None, float]:
    body = sentence.text
    w_start, w_end = weapon.start - sentence.start, weapon.end - sentence.start
    taken = [s for s in (casualties.killed_span, casualties.wounded_span) if s is not None]
    best: tuple[int, Count] | None = None
    for num in find_numbers(body, lang):
        if any(num.start < b and a < num.end for a, b in taken):
            continue  # a casualty figure, not a weapon count
        if num.value <= 0 or num.value > 10000 or num.kind == "double":
            continue
        if num.end <= w_start:
            gap = _words(body[num.end : w_start])
            if gap > _QUANTITY_BEFORE:
                continue
        elif num.start >= w_end:
            gap = _words(body[w_end : num.start])
            if gap > _QUANTITY_AFTER:
                continue
        else:
            continue
        if best is None or gap < best[0]:
            best = (gap, Count(value=num.value, qualifier=num.qualifier))
    if best is None:
        return None, 0.0
    return best[1], 0.9 if best[1].qualifier == "exact" else 0.75


def _multiplier(weapon: Match, own: Sequence[Match], sentence: Sentence, lang: str) -> int:
    for m in own:
        if m.kind != "modifier":
            continue
        if m.start >= weapon.end:
            gap = _words(sentence.text[weapon.end - sentence.start : m.start - sentence.start])
        elif m.end <= weapon.start:
            gap = _words(sentence.text[m.end - sentence.start : weapon.start - sentence.start])
        else:
            continue
        if gap <= _MODIFIER_WINDOW:
            return int(m.entry.get("multiply", 1))
    return 1


def _target(own: Sequence[Match], attributions: Sequence[Attribution]) -> str | None:
    """What was hit: a target word after the sentence's first event word, not the perpetrator."""
    events = [m for m in own if m.kind in ("trigger", "weapon")]
    if not events:
        return None
    first_event = min(m.start for m in events)
    # Neither the perpetrator nor the weapon ("سيارة" of "سيارة مفخخة") is what was hit.
    doers = [(a.actor.start, a.actor.end) for a in attributions]
    doers += [(m.start, m.end) for m in own if m.kind == "weapon"]
    candidates = [
        m
        for m in own
        if m.kind == "target"
        and m.start >= first_event
        and not any(m.start < e and s < m.end for s, e in doers)
    ]
    if not candidates:
        return None
    # The first target after the event; a higher-priority one right behind it wins
    # ("محيط السفارة الأميركية" over a nearby generic word).
    first = candidates[0]
    close = [m for m in candidates if m.start - first.start <= 40]
    return max(close, key=lambda m: (m.entry.priority, -m.start)).entry.label


# --- merging readings into incidents ----------------------------------------------------------


def _same_region(a: Location | None, b: Location | None) -> bool:
    """Compatible places: either missing, the same region, or one is the other's country."""
    if a is None or b is None:
        return True
    if a.precision == "country" or b.precision == "country":
        return a.country_code == b.country_code
    if a.region_id and b.region_id:
        return a.region_id == b.region_id
    return a.canonical == b.canonical


def _same_place(a: Location | None, b: Location | None) -> bool:
    """One place for duplicate merging: both known below country level, same region (or the
    same canonical name). Two events "in Iraq" are not thereby one."""
    if a is None or b is None or a.precision == "country" or b.precision == "country":
        return False
    if a.region_id and b.region_id:
        return a.region_id == b.region_id
    return a.canonical == b.canonical and a.country_code == b.country_code


def _weapons_agree(a: Weapon | None, b: Weapon | None) -> bool:
    if a is None or b is None:
        return True
    projectile = {"rocket", "mortar", "artillery"}
    if a.category == b.category or {a.category, b.category} <= projectile:
        return True
    # "the bomb" of a drone attack: an unspecified explosive fits any explosive weapon.
    pair = {a.category, b.category}
    return "explosive" in pair and a.gtd_type == b.gtd_type == "Explosives"


def _dates_agree(a: EventDate | None, b: EventDate | None, *, days: int = 0) -> bool:
    """Compatible event dates: one missing, or the coarser one's span holds the finer one
    (``days`` more of slack: a report's next sentence may tell of the day after)."""
    if a is None or b is None or a.date is None or b.date is None:
        return True
    slack = {"day": 0, "week": 7, "month": 31, "unknown": 10000}
    tolerance = max(slack.get(a.precision, 0), slack.get(b.precision, 0)) + days
    return abs((a.date - b.date).days) <= tolerance and a.historical == b.historical


def _actors_agree(a: Sequence[Attribution], b: Sequence[Attribution]) -> bool:
    x, y = best_attribution(a), best_attribution(b)
    return x is None or y is None or x.actor.name == y.actor.name


def _chain(readings: Sequence[_Reading]) -> list[_Incident]:
    """Group readings of consecutive sentences that tell one incident.

    A reading continues the incident of the sentence just before it when it names no other
    place (none, or the same region, or the country around it), refers back to it ("the
    attack", "الهجوم") or names no weapon of another kind, and its date and actor agree.
    """
    incidents: list[_Incident] = []
    for r in readings:
        cur = incidents[-1] if incidents else None
        if cur is not None and r.index - cur.last <= _CONTINUATION_GAP:
            loc, _ = cur.location()
            weapon, _ = cur.weapon()
            continues = (
                (r.location is None or (r.anaphor and _same_region(loc, r.location)))
                and (r.anaphor or r.weapon is None or _weapons_agree(weapon, r.weapon))
                and _dates_agree(cur.date(), r.date, days=1)
                and _actors_agree(cur.all_attributions(), r.attributions)
            )
            if continues:
                cur.readings.append(r)
                continue
        incidents.append(_Incident([r]))
    return incidents


def _attach_side(
    incidents: Sequence[_Incident],
    side: dict[int, tuple[list[Attribution], bool]],
    anaphoric: dict[int, Casualties],
) -> None:
    """Attributions of non-incident sentences go to incidents within the context window;
    casualties of a sentence referring back ("in the blast") go to the incident just before."""
    for index, (attributions, refers_back) in side.items():
        # One sentence further when the attributing sentence refers back to an event ("claimed
        # responsibility for the incident", "الهجمات المتكررة"), over e.g. "This was one of
        # three similar attacks" in between.
        window = _ATTRIBUTION_WINDOW + (1 if refers_back else 0)
        for inc in incidents:
            if any(abs(index - i) <= window for i in inc.indices()):
                inc.attributions.extend(attributions)
    for index, casualties in anaphoric.items():
        for inc in incidents:
            if index - inc.last == 1:
                head = inc.readings[-1]
                if inc.pick("killed") is None and casualties.killed is not None:
                    head.killed = casualties.killed
                if inc.pick("wounded") is None and casualties.wounded is not None:
                    head.wounded = casualties.wounded


def _merge_duplicates(incidents: list[_Incident]) -> list[_Incident]:
    """One incident per (event, place): same place, agreeing weapon, date, actor and target."""
    out: list[_Incident] = []
    for inc in incidents:
        for kept in out:
            loc_a, _ = kept.location()
            loc_b, _ = inc.location()
            wa, _ = kept.weapon()
            wb, _ = inc.weapon()
            ta, tb = kept.pick("target"), inc.pick("target")
            if (
                _same_place(loc_a, loc_b)
                and _weapons_agree(wa, wb)
                and _dates_agree(kept.date(), inc.date())
                and _actors_agree(kept.all_attributions(), inc.all_attributions())
                and (ta is None or tb is None or ta == tb)
            ):
                kept.readings.extend(inc.readings)
                kept.attributions.extend(inc.attributions)
                break
        else:
            out.append(inc)
    return out


def _specific(inc: _Incident) -> bool:
    """Keep an incident a reader can place, date or count (documented rule).

    Sentences such as "الهجمات الصاروخية الأخيرة على القوات العراقية" (the recent rocket attacks
    on Iraqi forces) name no place, no date and no count of one event: they summarise, and are
    dropped. An incident is kept when it has a place; without one, when it is dated to the day
    or week and names its weapon or casualties, or when it counts casualties or devices of a
    named weapon ("a drone strike killed three").
    """
    location, _ = inc.location()
    if location is not None:
        return True
    counted = any(r.killed or r.wounded or r.quantity for r in inc.readings)
    when = inc.date()
    dated = when is not None and when.precision in ("day", "week")
    weapon, _ = inc.weapon()
    return (dated and (weapon is not None or counted)) or (counted and weapon is not None)


@functools.lru_cache(maxsize=1)
def get_extractor() -> Extractor:
    """The process-wide extractor over the default ``config/`` (loaded on first use)."""
    return Extractor.from_config()
