"""The extractor: one article in, its incidents out (weapon, counts, actor, place, date)."""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from streams.extract.actors import (
    ActorMention,
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
#    (policy and truce talk, threats, statistics, habits, future tense, disasters, sports; soft
#    cues yield to stated casualties). A sentence whose clauses ("فيما", "وكان", "while") tell
#    incidents of other weapons or regions gives one reading per incident (Extractor._clauses).
# 3. Its reading: the most specific weapon the event words govern and its count, casualties,
#    actor and attribution (streams.extract.actors), target, the locative place nearest the
#    event (streams.geo; a place the text says the event is coded to wins, reference points,
#    datelines and the land around a town named with a place in it yield, a non-locative town
#    stands in when nothing else is named), and the event date (streams.extract.dates).
# 4. Readings of consecutive sentences that tell one event are chained ("At least six soldiers
#    were killed in the blast."), then duplicates in the article merged (same place, agreeing
#    weapon, date, actor, target), keeping the most informative fields.
# 5. Incidents too vague to place, date or count are dropped (see _specific); claims and
#    accusations of nearby sentences are attached (see _ATTRIBUTION_WINDOW).
# Dates: a reading without a date of its own takes one only from a sentence chained or merged
# with it; otherwise event_date is None, date_precision "unknown" and event_time the
# publication time (the ingest time when the article has none), so windows still place it.

# Casualties of a sentence: read when the sentence is, and again for the tolls told after an
# incident; the result is immutable, so the second reading is the first one's.
_casualties = functools.lru_cache(maxsize=256)(find_casualties)

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
# Merging duplicates compares an incident with this many incidents kept at its place, the
# latest. More incidents at one place that no two of them merge (other dates, weapons, actors)
# make a chronology, not a report told twice; comparing with all of them made such an article
# quadratic.
_MERGE_MEMORY = 64
# A sentence continues the incident of the sentence before it only when adjacent.
_CONTINUATION_GAP = 1
# A sentence that only gives a toll may tell more of the incident up to this many sentences back.
_TOLL_CONTINUATION_GAP = 2
# A device word this many words or fewer from an event word is the event's weapon.
_GOVERNED = 8
# Words the gazetteer may read as a town but that news uses as plain nouns: "المدينة" (the city),
# "البلاد" (the country). Worked around here; reported to the gazetteer's owner (it still reads
# "بسوق المدينة" as Medina).
_GENERIC_PLACE_WORDS = frozenset({"المدينه", "مدينه", "البلاد", "بلاد"})
# A place this many words or fewer from an event word is where the event happened.
_NEAR_EVENT = 6
# A place named without a locative word counts only as the event's object, right after it.
_OBJECT_PLACE = 3
# Speakers (states named in the sentences before) that may be the accuser of a later sentence.
_SPEAKER_MEMORY = 2

# Trigger ids whose object is the target ("استهدفت", "استهداف", "targeted"), and how many
# characters may stand between them (a space, "a", an article).
_AIMING_TRIGGERS = frozenset({"attack_verb", "targeting_noun"})
_AIM_GAP = 4
# Trigger ids that only count the dead and wounded: no sign of violence by themselves.
_TOLL_TRIGGERS = frozenset({"kill", "injure"})
# A place that stands in for want of a locative one counts for less (see _place).
_FALLBACK_PLACE = 0.7
# A dateline: a place followed by a dash or colon ("بيروت ـ من فتحي محمود", "لندن :").
_DATELINE = re.compile(r"\s*[ـ\-–—:]")
# Words that open a locative compass phrase: "في شمال العراق", "in the north of Iraq".
_LOCATIVE_OPENERS = frozenset({"في", "وفي", "the", "in"})
# Punctuation and spaces trimmed off a clause ("، في وقت ...").
_CLAUSE_TRIM = " \t\n,،;؛:-ـ"
# Text ending in a comma or an opening bracket: the next name qualifies the one before it.
_APPOSED = re.compile(r"[,،(]\s*$")
# "في" a few words before a place, with no punctuation between: "في مناطق متفرقة من بغداد",
# "في سوق جميلة الشعبي بأحد أحياء مدينة الصدر".
_LOCATIVE_BEFORE = re.compile(r"(?:^|\s)(?:و?في|in)(?:\s+[^\s.,،؛;:!?()\"]+){1,5}\s+$")
_LAST_WORD = re.compile(r"(\w+)\W*$")
_SPACES = re.compile(r"\s+")
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
    # The place only stands in: no locative place was named (see _place).
    place_fallback: bool = False
    # The weapon is named only loosely ("القصف": shelling or an air raid).
    loose: bool = False
    # Something in the sentence besides a toll says violence: an attack word, a weapon, a party
    # acting ("77 شخصا قتلوا" alone may be a tsunami's toll).
    violent: bool = False


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
        best = max(self.readings, key=_place_key)
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
        return min(dated, key=_date_key)

    def all_attributions(self) -> list[Attribution]:
        out = list(self.attributions)
        for r in self.readings:
            out.extend(r.attributions)
        return out


@dataclass
class _Traits:
    """What chaining and merging compare of an incident, kept up to date as readings join.

    Each is what the ``_Incident`` method of that name gives, by the same keys and tie-breaks
    (the earlier reading wins a tie). Recomputing them over every reading at each comparison
    made an article of many alike sentences, read as one incident, quadratic. Valid while
    the readings are not changed, as they are not until merging is done.
    """

    place: _Reading
    armed: _Reading | None  # the reading whose weapon ``weapon()`` gives
    date: EventDate | None
    targeted: _Reading | None  # the reading whose target ``pick("target")`` gives
    own_actor: Attribution | None  # the strongest attribution of the readings
    side_actor: Attribution | None  # the strongest attribution given by neighbours
    last: int

    @classmethod
    def of(cls, inc: _Incident) -> _Traits:
        first, *rest = inc.readings
        traits = cls.of_reading(first)
        for r in rest:
            traits.absorb(cls.of_reading(r))
        traits.side_actor = best_attribution(inc.attributions)
        return traits

    @classmethod
    def of_reading(cls, r: _Reading) -> _Traits:
        return cls(
            place=r,
            armed=r if r.weapon is not None else None,
            date=r.date if r.date is not None and r.date.date is not None else None,
            targeted=r if r.target is not None else None,
            own_actor=best_attribution(r.attributions),
            side_actor=None,
            last=r.index,
        )

    def absorb(self, later: _Traits) -> None:
        """The traits once the readings of ``later`` follow these."""
        if _place_key(later.place) > _place_key(self.place):
            self.place = later.place
        if later.armed is not None and (self.armed is None or later.armed.index < self.armed.index):
            self.armed = later.armed
        if later.date is not None and (
            self.date is None or _date_key(later.date) < _date_key(self.date)
        ):
            self.date = later.date
        if later.targeted is not None and (
            self.targeted is None
            or _informativeness(later.targeted) > _informativeness(self.targeted)
        ):
            self.targeted = later.targeted
        self.own_actor = _stronger(self.own_actor, later.own_actor)
        self.side_actor = _stronger(self.side_actor, later.side_actor)
        self.last = max(self.last, later.last)

    @property
    def location(self) -> Location | None:
        return self.place.location

    @property
    def weapon(self) -> Weapon | None:
        return self.armed.weapon if self.armed is not None else None

    @property
    def target(self) -> str | None:
        return self.targeted.target if self.targeted is not None else None

    @property
    def actor(self) -> Attribution | None:
        """What ``best_attribution(all_attributions())`` gives: neighbours' come first."""
        return _stronger(self.side_actor, self.own_actor)


def _stronger(a: Attribution | None, b: Attribution | None) -> Attribution | None:
    """The stronger attribution of two, the first on a tie (as ``best_attribution``)."""
    if a is None or b is None:
        return b if a is None else a
    return b if b.rank > a.rank else a


def _place_key(r: _Reading) -> tuple[bool, int, float, int]:
    """A reading's place, better the greater: a locative one, precise, confident, early."""
    return (
        r.location is not None and not r.place_fallback,
        _place_rank(r.location),
        r.place_conf,
        -r.index,
    )


_DATE_ORDER = ("day", "week", "month", "unknown")


def _date_key(d: EventDate) -> int:
    """An event date's precision, the finer the smaller."""
    return _DATE_ORDER.index(d.precision) if d.precision in _DATE_ORDER else 9


def _place_rank(loc: Location | None) -> int:
    return 0 if loc is None else _PRECISION_RANK.get(loc.precision, 1)


def _informativeness(r: _Reading) -> float:
    """How much a reading says: place, weapon, counts, actor, date (ties: earlier sentence)."""
    placed = r.location is not None and not r.place_fallback
    score = 3.0 * placed + 0.5 * _place_rank(r.location if placed else None)
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
            reading = self._read(
                index, sentence, own, lang, published, places, attributions, mentions
            )
            if reading is not None:
                parts = self._clauses(
                    reading, own, nt, lang, published, places, context_speakers, last_group
                )
                readings.extend(parts)
            else:
                # Only a sentence about an attack ("the attack", "الهجمات", a weapon) attributes
                # the incidents around it: "ستحمّل إيران المسؤولية عن أفعال حلفاء طهران" does not.
                strong = [a for a in attributions if a.attribution != "reported"]
                if strong and any(m.kind in ("trigger", "weapon", "anaphor") for m in own):
                    side[index] = (strong, any(m.kind == "anaphor" for m in own))
                if any(m.kind == "anaphor" for m in own):
                    anaphoric[index] = _casualties(sentence.text, lang)
            recent_speakers = [*recent_speakers, speakers(mentions)][-_SPEAKER_MEMORY:]
            for m in mentions:
                if m.kind == "group" and not m.anaphor:
                    last_group = m.name

        incidents = _merge_duplicates(_chain(readings))
        kept = [i for i in incidents if _specific(i)]
        # Only after the cut: a scene set elsewhere makes no vague reading an incident.
        told = set().union(*(inc.indices() for inc in kept)) if kept else set()
        for inc in kept:
            if inc.location()[0] is None:
                _set_scene(inc, sentences, places, told)
        _stated_scenes(kept, sentences, places, told)
        # A dropped reading (too vague to be an incident) may still accuse or claim: it then
        # attributes its neighbours like any other non-incident sentence.
        for dropped in (i for i in incidents if not _specific(i)):
            for r in dropped.readings:
                strong = [a for a in r.attributions if a.attribution != "reported"]
                if strong:
                    side[r.index] = (strong, r.anaphor)
        _attach_side(kept, side, anaphoric)
        _attach_tolls(kept, sentences, lang)
        incidents = kept
        return [self._build(inc, article, lang, published, assumed) for inc in incidents]

    # -- one sentence --------------------------------------------------------------------------

    def _clauses(
        self,
        reading: _Reading,
        own: Sequence[Match],
        nt: NormText,
        lang: str,
        published: datetime,
        places: _ArticlePlaces,
        context_speakers: Sequence[str],
        last_group: str | None,
    ) -> list[_Reading]:
        """The incidents of one sentence: one reading, or one per clause that tells another.

        A sentence may report several incidents in clauses opened by "فيما", "وكان", "في وقت",
        "while" ("وجددت إسرائيل قصفها لضاحية بيروت الجنوبية وكان طيران الاحتلال قد شن غارات
        على الهرمل"). Each clause with an event and a weapon or place of its own is read; a
        clause that agrees with the one before (weapon, region) tells the same incident and
        joins it, as do clauses that say nothing of their own. Only when two incidents remain
        is the sentence split; a part without a place or date takes the sentence's.
        """
        sentence = reading.sentence
        clauses = [m for m in own if m.kind == "clause" and m.start > sentence.start]
        cuts = sorted({m.start for m in clauses})
        # Where a coordinated act starts ("... عن قنص جندي وإطلاق قذيفة"): its doer is the one
        # named before; a new clause ("فيما", "while") names its own or none.
        shared = {m.start for m in clauses if m.entry.id == "coordinator"}
        if not cuts:
            return [reading]
        bounds = [sentence.start, *cuts, sentence.end]
        groups: list[tuple[int, int, list[_Reading]]] = []  # (start, end, clause readings)
        for a, b in itertools.pairwise(bounds):
            part = self._read_span(
                a, b, own, nt, lang, published, places, context_speakers, last_group, reading.index
            )
            if groups and (
                part is None
                or (part.weapon is None and part.location is None)
                or _same_incident(groups[-1][2], part)
            ):
                start, _, parts = groups[-1]
                groups[-1] = (start, b, [*parts, part] if part is not None else parts)
            elif part is not None and (part.weapon is not None or part.location is not None):
                groups.append((groups[-1][1] if groups else sentence.start, b, [part]))
            elif not groups:
                continue  # an opening clause of its own: it joins the first group (see above)
        if len(groups) < 2:
            return [reading]
        out: list[_Reading] = []
        for start, end, _ in groups:
            part = self._read_span(
                start,
                end,
                own,
                nt,
                lang,
                published,
                places,
                context_speakers,
                last_group,
                reading.index,
            )
            if part is None:
                continue
            if part.date is None:
                part.date = reading.date
            if not part.attributions and out and start in shared:
                # "أعلنت سرايا القدس مسؤوليتها عن قنص جندي وإطلاق قذيفة": the doer named
                # first did every act listed after it.
                part.attributions = list(out[-1].attributions)
            out.append(part)
        if len(out) < 2:
            return [reading]
        # A part that names no place of its own, or only the country, is where the sentence
        # says ("... عن قنص جندي وإطلاق قذيفة ... في شرق بلدة خزاعة").
        for part in out:
            if part.location is None or part.location.precision == "country":
                finer = [
                    r
                    for r in (*out, reading)
                    if r.location is not None
                    and r.location.precision != "country"
                    and not r.place_fallback
                    and (
                        part.location is None
                        or r.location.country_code == part.location.country_code
                    )
                ]
                if finer:
                    part.location, part.place_conf = finer[0].location, finer[0].place_conf * 0.8
                    part.place_fallback = True
        return out

    def _read_span(
        self,
        start: int,
        end: int,
        own: Sequence[Match],
        nt: NormText,
        lang: str,
        published: datetime,
        places: _ArticlePlaces,
        context_speakers: Sequence[str],
        last_group: str | None,
        index: int,
    ) -> _Reading | None:
        """The reading of ``body[start:end]`` (a clause of sentence ``index``), or None."""
        text = nt.text[start:end]
        lead = len(text) - len(text.lstrip(_CLAUSE_TRIM))
        text = text.strip(_CLAUSE_TRIM)
        if not text:
            return None
        clause = Sentence(start + lead, start + lead + len(text), text)
        inside = [m for m in own if clause.start <= m.start and m.end <= clause.end]
        mentions = actor_mentions(inside, nt, last_group=last_group)
        attributions = attribute(inside, nt, mentions, context_speakers=context_speakers)
        return self._read(index, clause, inside, lang, published, places, attributions, mentions)

    def _read(
        self,
        index: int,
        sentence: Sentence,
        own: Sequence[Match],
        lang: str,
        published: datetime,
        places: _ArticlePlaces,
        attributions: list[Attribution],
        mentions: Sequence[ActorMention] = (),
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
        # The toll after "in retaliation for" is the earlier event's ("a drone strike the
        # previous day, which killed four").
        casualties = _casualties(sentence.text[: cut - sentence.start], lang)
        stated_casualties = casualties.killed is not None or casualties.wounded is not None
        if any(c.entry.get("veto") == "soft" for c in cues) and not stated_casualties:
            return None
        strength = 1.0 if (strong or eventive) and weapons else 0.8 if strong or eventive else 0.6
        reading = _Reading(index, sentence, strength)
        reading.killed, reading.wounded = casualties.killed, casualties.wounded
        if reading.killed is None:
            reading.killed = _implied_killed(triggers)
        reading.anaphor = any(m.kind == "anaphor" for m in own)
        reading.violent = (
            bool(weapons)
            or any(t.entry.id not in _TOLL_TRIGGERS for t in triggers)
            or any(m.kind != "unidentified" and m.role != "speaker" for m in mentions)
        )
        self._weapon(reading, weapons, own, sentence, lang, casualties)
        # Names after "in retaliation for" belong to the earlier event, unless they claim.
        reading.attributions = [
            a for a in attributions if a.attribution != "reported" or a.actor.start < cut
        ]
        reading.target = _target(own, attributions)
        events = [(m.start, m.end) for m in (*weapons, *triggers)]
        names = [(m.start, m.end) for m in own if m.kind == "actor"]
        reading.location, reading.place_conf, reading.place_fallback = _place(
            places.body,
            places.within(sentence),
            events,
            names,
            _references(own, places.body),
            cut,
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
        offset = sentence.start
        events = _Spans(
            sentence.text,
            [
                (m.start - offset, m.end - offset)
                for m in own
                if m.kind == "trigger" or m.entry.get("event")
            ],
        )

        def governed(w: Match) -> bool:
            start, end = w.start - offset, w.end - offset
            return w.entry.get("event") or (
                events.overlaps(start, end) or min(events.words_around(start, end)) <= _GOVERNED
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
        category = self.lexicons.categories.get(best.entry.label)
        reading.loose = category is not None and int(best.entry.get("rank", 0)) < category.rank
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
        if location is not None and self.gazetteer is not None:
            # The region of the event's day: a town of a region merged since is coded in it.
            when = event.date if event is not None and event.date else published.date()
            location = self.gazetteer.as_of(location, when)
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
                if info.forces is not None:
                    name = info.forces  # a state named as the doer struck with its forces
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
        # (mention start, rank in ``_places``), sorted: a sentence's places by bisection.
        self._starts: list[tuple[int, int]] = []

    def within(self, sentence: Sentence) -> list[Any]:
        """Resolved places inside ``sentence``, best incident location first (as located)."""
        if self.gazetteer is None:
            return []
        if self._places is None:
            empty = self.gazetteer.context("", self.lang)
            self._places = list(self.gazetteer.locate(self.body, self.lang, empty))
            self._starts = sorted((p.mention.start, n) for n, p in enumerate(self._places))
        places = self._places
        lo = bisect.bisect_left(self._starts, (sentence.start, -1))
        hi = bisect.bisect_left(self._starts, (sentence.end, -1))
        return [
            places[n]
            for n in sorted(n for _, n in self._starts[lo:hi])
            if places[n].mention.end <= sentence.end
        ]


def _place(
    text: str,
    located: Sequence[Any],
    events: Sequence[tuple[int, int]],
    names: Sequence[tuple[int, int]] = (),
    references: Sequence[int] = (),
    cut: int | None = None,
) -> tuple[Location | None, float, bool]:
    """A sentence's incident location, its place and whether that place only stands in.

    ``located`` are the gazetteer's resolved places of the sentence; ``events`` the spans of
    its triggers and weapons and ``names`` of its actors, all offsets into ``text``;
    ``references`` where places named as reference points start ("في بعقوبة شمال بغداد":
    Baqubah, not Baghdad); ``cut`` where the sentence turns to an earlier event ("in response
    to a prior attack at ..."), whose places only stand in.

    Locative places ("في", "ب", "in", "near") come first: those within a few words of an event
    word ("الهجوم الأخير على أربيل" over "مؤتمر صحافي في واشنطن"), then the most precise. A
    place named outside a locative phrase ("ويعاني العراق", "Iraq said") is where someone is,
    not where something happened; a dateline ("بيروت ـ من فلان") is where the reporter is. Only
    when no place qualifies does one the sentence names some other way stand in, near an event
    word or after "في" a few words back ("الفلوجة وقتل مسلحون شرطيا", "الانفجار وقع أمام مبنى
    محكمة مدينة كركوك", "in Balhaf town, Shabwah governorate"), at a lower confidence.
    """
    named = _Spans(text, names)
    # A locative place that is a whole name by itself stays a place: "over Riyadh" is where
    # drones were downed even though "Riyadh" may also stand for the government.
    whole = set(names)
    places = [
        p
        for p in located
        # part of a name: "Kurdistan Workers' Party", "حزب الله اللبناني"
        if (
            not named.overlaps(p.mention.start, p.mention.end)
            or (p.mention.locative and (p.mention.start, p.mention.end) in whole)
        )
        and _bare(p.mention.text) not in _GENERIC_PLACE_WORDS
    ]
    # The sentence's places agree with each other ("Omar - Oil Fields in Deir ez Zor"): a
    # town resolved to another country than the rest, or to another region than the one
    # the sentence names ("Dhahran al-Janub district, Asir"), is probably the wrong town.
    countries = Counter(p.location.country_code for p in places)
    majority, votes = countries.most_common(1)[0] if countries else (None, 0)
    admins = [p for p in places if p.location.precision == "admin1"]
    oriented = {p.location.canonical for p in places if p.mention.start in references}
    anchors = [
        p.mention.locative
        and (p.location.precision in ("landmark", "district", "city") or p.mention.admin_cue)
        and p.mention.start not in references
        for p in places
    ]
    named_countries = {p.location.country_code for p in places if p.location.precision == "country"}
    # Countries of the land a sentence sets its places in ("in rural Deir ez Zor"): a town
    # read in another country ("Ayyash" as Ayas, Turkey) is a namesake.
    around_places = [p for p in places if p.mention.surrounds]
    surrounding = {p.location.country_code for p in around_places}
    first_start = min((p.mention.start for p in places), default=0)
    nearest = _Spans(text, events)
    best: tuple[tuple[int, ...], Location] | None = None
    # Region mention start -> a place the text puts in it that the gazetteer knows only abroad.
    rehomed: dict[int, tuple[int, Location]] = {}
    for rank, place in enumerate(places):
        m_start, m_end = place.mention.start, place.mention.end
        code = place.location.country_code
        foreign = int(votes >= 2 and code != majority)
        alien = int(bool(surrounding) and code not in surrounding)
        location = place.location
        container = next((p for p in around_places if p.mention.start > m_start), None)
        if alien and container is not None and location.precision in ("city", "district"):
            # "Ayyash in the countryside of Deir ez Zor": a village of that land, as written.
            location, alien = _rehome(place, container.location), 0
        # The land around a town yields to a place named before it ("in Mahkan town in Deir
        # ez Zor countryside"), not to its own region ("the countryside of Ein Issa in Raqqa").
        around = int(place.mention.surrounds and m_start > first_start)
        region = _apposed_region(text, place, admins, named_countries)
        off_region = int(region is not None)
        if region is not None:
            rehomed.setdefault(region.mention.start, (-1, _rehome(place, region.location)))
        elif within := (
            _apposed_region(text, place, admins, named_countries, inside=True)
            or _listed_region(place, admins)
        ):
            # "in Paracuaro, Michoacan, ... launched": the town, should its region win; of
            # several ("in Bilin town (Bilin township, Thaton district, Mon state)") the first.
            held = rehomed.get(within.mention.start)
            if held is None or m_start < held[0]:
                rehomed[within.mention.start] = (m_start, location)

        # Words from the nearest event word before the place ("attack ... in X"), and to
        # the nearest one after it ("In X, a bomb exploded"), which counts for less.
        after, before = nearest.words_around(m_start, m_end)
        precision = place.location.precision
        fallback = 0
        if place.mention.locative:
            near = 0 if after <= _NEAR_EVENT else 1 if before <= _NEAR_EVENT else 2
        elif after <= 1 and precision != "country":
            near = 0  # the event's own name or object: "هجوم أربيل", "shelled Salh"
        elif after <= _OBJECT_PLACE and precision != "country":
            near = 3  # a little further: "targeted the Banin area"
        elif (
            min(after, before) <= _GOVERNED
            or _apposed(text, m_start)
            or _LOCATIVE_BEFORE.search(text, max(0, m_start - 60), m_start)
        ):
            # Named some other way near the event, or after a comma as the region of a place
            # the gazetteer did not know ("in Balhaf town, Shabwah governorate"): only if
            # nothing better, the nearest to an event first.
            if precision == "country" and after > _NEAR_EVENT:
                continue
            fallback, near = 1, min(after, before)
        else:
            continue
        if cut is not None and m_start >= cut:
            fallback = 1  # the earlier event's place: where this one was only if nothing else
        dateline = int(_DATELINE.match(text, m_end) is not None)
        # A reference point ("شمال بغداد") yields only to a place the sentence puts the event
        # at ("في محافظة ديالى شمال شرق بغداد"), not to its own region ("west of Rutbah, Anbar").
        # The city a sentence orients by is not its scene where else it names it either
        # ("الاستنفار الأمني ببغداد ... في بعقوبة شمال بغداد").
        referred = m_start in references or place.location.canonical in oriented
        reference = int(referred and any(anchors))
        # A region or town beats a country; then nearness to the event; then precision
        # ("هجوم أربيل" in "كردستان العراق" is in Erbil).
        key = (
            alien,
            int(not place.mention.stated),
            fallback,
            dateline,
            int(precision == "country") if not fallback else 0,
            reference,
            foreign,
            off_region,
            around,
            near,
            _PRECISION_ORDER.get(precision, 9),
            rank,
            m_start,
        )
        if best is None or key < best[0]:
            best = (key, location)
    if best is None:
        return None, 0.0, False
    location, fallback = best[1], bool(best[0][2])
    start = best[0][-1]
    if location.precision == "admin1" and start in rehomed:
        # "in El Plateado (Cauca)": El Plateado, placed in Cauca, at a region's confidence
        conf = _PLACE_CONFIDENCE.get("admin1", 0.5)
        return rehomed[start][1], conf * (_FALLBACK_PLACE if fallback else 1.0), fallback
    confidence = _PLACE_CONFIDENCE.get(location.precision, 0.5)
    return location, confidence * (_FALLBACK_PLACE if fallback else 1.0), fallback


def _set_scene(
    inc: _Incident, sentences: Sequence[Sentence], places: _ArticlePlaces, told: set[int]
) -> None:
    """Give ``inc``, which names no place, the scene an earlier sentence sets, if any.

    A lead often sets the scene in a sentence the extractor does not read as the incident
    ("in Kyainseikgyi township (Kawkareik district, Kayin state), joint forces ... carried out
    drones trikes"; the next sentence: "... died in the drone strikes"). The nearest earlier
    sentence with a place named locatively stands in, at a stand-in's confidence; failing
    that, the next sentence when it tells no incident of its own ("Event took place in
    southern Rafah.").
    """
    first = min(inc.indices())
    after = inc.last + 1
    following = [] if after in told or after >= len(sentences) else [sentences[after]]
    for sentence in [*reversed(sentences[:first]), *following]:
        located = [p for p in places.within(sentence) if p.mention.locative]
        if not located:
            continue
        location, conf, _ = _place(places.body, located, ())
        if location is not None and location.precision != "country":
            reading = inc.readings[0]
            reading.location, reading.place_fallback = location, True
            reading.place_conf = conf * _FALLBACK_PLACE
            return


def _stated_scenes(
    incidents: Sequence[_Incident],
    sentences: Sequence[Sentence],
    places: _ArticlePlaces,
    told: set[int],
) -> None:
    """Move an incident to the place a later sentence of its own says it is coded to.

    Incident records often close with where they code an event they could not place: "It is
    unclear where the drone fell. Coded to Katzrin (Quneitra)." Such a sentence, when it
    reports no incident of its own, places the incident told before it if that incident has
    no place finer than a region. ``told`` holds the indices of the incidents' sentences.
    """
    if not incidents:
        return
    for index, sentence in enumerate(sentences):
        if index in told:
            continue
        stated = [p for p in places.within(sentence) if p.mention.stated]
        if not stated:
            continue
        before = [inc for inc in incidents if min(inc.indices()) < index]
        if not before:
            continue
        inc = max(before, key=lambda i: min(i.indices()))
        own, _ = inc.location()
        if own is not None and own.precision not in ("admin1", "country"):
            continue  # placed already: "(Maw Khee which coded as Myawaddy)" is another place
        location, conf, _ = _place(places.body, stated, ())
        if location is None:
            continue
        for reading in inc.readings:
            reading.location, reading.place_conf, reading.place_fallback = location, conf, False


class _Spans:
    """Spans of a sentence (event words, names) by position: which overlaps a place or a
    weapon, and how many words away the nearest on either side is, by bisection.

    Only the nearest span on a side counts: the gap to one further away holds every word of
    the nearer gap, so it is never shorter. Looking up the nearest instead of measuring every
    span keeps a long sentence with many places, weapons, names and events linear.
    """

    def __init__(self, text: str, events: Sequence[tuple[int, int]]) -> None:
        self.text = text
        ordered = sorted(events)
        self.starts = [s for s, _ in ordered]
        self.ends = sorted([e for _, e in ordered])
        # reach[i]: the furthest end of the first i + 1 events in order of start
        self.reach = list(itertools.accumulate([e for _, e in ordered], max))

    def overlaps(self, start: int, end: int) -> bool:
        """True when an event overlaps ``[start, end)``."""
        i = bisect.bisect_left(self.starts, end)
        return i > 0 and self.reach[i - 1] > start

    def words_around(self, start: int, end: int) -> tuple[int, int]:
        """Words from the last event ending by ``start``, and to the first starting at ``end``
        or later (99 when there is none)."""
        i = bisect.bisect_right(self.ends, start)
        after = _words(self.text[self.ends[i - 1] : start]) if i else 99
        j = bisect.bisect_left(self.starts, end)
        before = _words(self.text[end : self.starts[j]]) if j < len(self.starts) else 99
        return after, before


def _apposed_region(
    text: str,
    place: Any,
    admins: Sequence[Any],
    named_countries: set[str | None],
    inside: bool = False,
) -> Any | None:
    """The region the text names right after a town when the town is not in it: another
    region of its country ("Dhahran al-Janub district, Asir"), or one abroad while the
    sentence names no country of the town ("El Plateado (Cauca)": not the Mexican one).
    With ``inside``, the region right after a town that is in it ("Paracuaro, Michoacan")."""
    loc = place.location
    if loc.precision not in ("landmark", "district", "city"):
        return None
    for a in admins:
        if inside:
            if a.mention.start >= place.mention.end and a.location.region_id == loc.region_id:
                return a if _apposition(text[place.mention.end : a.mention.start]) else None
            continue
        if (
            a.mention.start >= place.mention.end
            and a.location.region_id != loc.region_id
            and (
                a.location.country_code == loc.country_code
                or loc.country_code not in named_countries
            )
            and _apposition(text[place.mention.end : a.mention.start])
        ):
            return a
    return None


def _listed_region(place: Any, admins: Sequence[Any]) -> Any | None:
    """The region listed after a town in the same list of places, when the town is in it
    ("Bilin town (Bilin township, Thaton district, Mon state)")."""
    loc = place.location
    if loc.precision not in ("landmark", "district", "city") or not place.mention.locative:
        return None
    return next(
        (
            a
            for a in admins
            if a.mention.group == place.mention.group
            and a.mention.start >= place.mention.end
            and a.location.region_id == loc.region_id
        ),
        None,
    )


def _rehome(place: Any, region: Location) -> Location:
    """A town as written, placed in ``region`` (at the region's point): the gazetteer knows
    only a namesake elsewhere."""
    return Location(
        name=place.location.name,
        canonical=place.mention.text,
        precision=place.location.precision,
        country_code=region.country_code,
        admin1=region.admin1,
        region_id=region.region_id,
        geonameid=None,
        lat=region.lat,
        lon=region.lon,
    )


def _references(own: Sequence[Match], text: str) -> list[int]:
    """Where places named as reference points start: right after a compass word that no
    locative word opens ("شمال بغداد" in "في بعقوبة شمال بغداد"; not "بجنوب لبنان", "in the
    north of Iraq")."""
    out: list[int] = []
    for m in own:
        if m.kind != "place:directions":
            continue
        word_start = m.start
        while word_start > 0 and text[word_start - 1].isalnum():
            word_start -= 1
        before = _last_word(text, word_start)
        opener = before is not None and before.lower() in _LOCATIVE_OPENERS
        if "ب" in m.prefix or opener:
            continue
        gap = _SPACES.match(text, m.end)
        out.append(gap.end() if gap else m.end)
    return out


# How far back the two searches below look first; they look four times further each time the
# answer may lie further back (a long run of spaces or punctuation). Searching from the start
# of the body for every place or compass word made a long body quadratic.
_LOOK_BACK = 64


def _last_word(text: str, end: int) -> str | None:
    """The last word before ``end`` (as ``_LAST_WORD.search(text, 0, end)``), or None."""
    span = _LOOK_BACK
    while True:
        lo = max(0, end - span)
        found = _LAST_WORD.search(text, lo, end)
        # A word found at ``lo`` may begin before it; none found, it may lie before ``lo``.
        if found is not None and (found.start() > lo or lo == 0):
            return found.group(1)
        if lo == 0:
            return None
        span *= 4


def _apposed(text: str, end: int) -> bool:
    """True when a comma or an opening bracket, then only spaces, come before ``end`` (as
    ``_APPOSED.search(text, 0, end)``)."""
    span = _LOOK_BACK
    while True:
        lo = max(0, end - span)
        if _APPOSED.search(text, lo, end) is not None:
            return True
        # Anything but spaces in the window ends the search: the comma must follow it.
        if lo == 0 or text[lo:end].strip():
            return False
        span *= 4


def _implied_killed(triggers: Sequence[Match]) -> Count | None:
    """The toll an event word states by itself ("اغتال مسلحون معاون سجن": one dead)."""
    for t in triggers:
        killed = t.entry.get("killed")
        if isinstance(killed, int) and killed > 0:
            return Count(value=killed, qualifier="exact")
    return None


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
    # The object of a targeting word is what was hit ("غارة إسرائيلية استهدفت منزلا" after
    # "استشهاد ثلاثة فلسطينيين"; "مستهدفا قوات أمن كردية").
    aims = [m.end for m in own if m.kind == "trigger" and m.entry.id in _AIMING_TRIGGERS]
    aimed = [m for m in candidates if any(0 <= m.start - end <= _AIM_GAP for end in aims)]
    first = aimed[0] if aimed else candidates[0]
    close = [m for m in candidates if 0 <= m.start - first.start <= 40]
    return max(close, key=lambda m: (m.entry.priority, -m.start)).entry.label


# --- merging readings into incidents ----------------------------------------------------------


def _same_incident(parts: Sequence[_Reading], new: _Reading) -> bool:
    """A clause tells the incident of the clauses before it (``parts``): its weapon agrees with
    theirs, or one of them is named loosely, or it refers back ("في القصف ... نتيجة القصف
    الجوي"); and its place is compatible with theirs."""
    armed = [p for p in parts if p.weapon is not None]
    firm = [p for p in armed if not p.loose]
    weapon = (firm or armed)[0].weapon if armed else None
    loose = new.loose or new.anaphor or (bool(armed) and not firm)
    location = next((p.location for p in parts if p.location is not None), None)
    agree = loose or _weapons_agree(weapon, new.weapon)
    return agree and _same_region(location, new.location)


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


def _actors_agree(x: Attribution | None, y: Attribution | None) -> bool:
    """Compatible doers (the strongest attribution of each): one missing, or the same actor."""
    return x is None or y is None or x.actor.name == y.actor.name


def _chain(readings: Sequence[_Reading]) -> list[_Incident]:
    """Group readings of consecutive sentences that tell one incident.

    A reading continues the incident of the sentence just before it when it names no other
    place (none, or the same region, or the country around it), refers back to it ("the
    attack", "الهجوم") or names no weapon of another kind, and its date and actor agree.
    """
    incidents: list[_Incident] = []
    cur: _Traits | None = None  # of the last incident
    for r in readings:
        # A toll with no place of its own, shortly after an incident, tells more of it.
        counts_only = r.location is None and (r.killed is not None or r.wounded is not None)
        if (
            cur is not None
            and counts_only
            and 0 < r.index - cur.last <= _TOLL_CONTINUATION_GAP
            and _dates_agree(cur.date, r.date, days=1)
        ):
            incidents[-1].readings.append(r)
            cur.absorb(_Traits.of_reading(r))
            continue
        # Clauses of one sentence were told apart already (Extractor._clauses).
        if cur is not None and 0 < r.index - cur.last <= _CONTINUATION_GAP:
            continues = (
                (
                    r.location is None
                    or r.place_fallback
                    or (r.anaphor and _same_region(cur.location, r.location))
                )
                and (r.anaphor or r.weapon is None or _weapons_agree(cur.weapon, r.weapon))
                and _dates_agree(cur.date, r.date, days=1)
                and _actors_agree(cur.actor, best_attribution(r.attributions))
            )
            if continues:
                incidents[-1].readings.append(r)
                cur.absorb(_Traits.of_reading(r))
                continue
        incidents.append(_Incident([r]))
        cur = _Traits.of_reading(r)
    return incidents


def _attach_side(
    incidents: Sequence[_Incident],
    side: dict[int, tuple[list[Attribution], bool]],
    anaphoric: dict[int, Casualties],
) -> None:
    """Attributions of non-incident sentences go to incidents within the context window;
    casualties of a sentence referring back ("in the blast") go to the incident just before."""
    # Sentence index -> the incidents reading it, and those whose last reading it is (in
    # incident order): a sentence's neighbours are looked up, not searched for.
    reading: dict[int, list[int]] = {}
    ending: dict[int, list[int]] = {}
    for n, inc in enumerate(incidents):
        for i in sorted(inc.indices()):
            reading.setdefault(i, []).append(n)
        ending.setdefault(inc.last, []).append(n)
    for index, (attributions, refers_back) in side.items():
        # One sentence further when the attributing sentence refers back to an event ("claimed
        # responsibility for the incident", "الهجمات المتكررة"), over e.g. "This was one of
        # three similar attacks" in between.
        # Such a sentence speaks of an event told before it, not of the next one ("ولم تتبن
        # أي جهة مسؤولية الهجوم، فيما يشتبه بأن تنظيم القاعدة يقف وراءه. وفي الموصل، قتل ...").
        window = _ATTRIBUTION_WINDOW + (1 if refers_back else 0)
        near = range(index - window, index + 1 if refers_back else index + window + 1)
        for n in sorted({n for i in near for n in reading.get(i, ())}):
            incidents[n].attributions.extend(attributions)
    for index, casualties in anaphoric.items():
        for n in ending.get(index - 1, ()):
            inc = incidents[n]
            head = inc.readings[-1]
            if inc.pick("killed") is None and casualties.killed is not None:
                head.killed = casualties.killed
            if inc.pick("wounded") is None and casualties.wounded is not None:
                head.wounded = casualties.wounded


def _attach_tolls(incidents: Sequence[_Incident], sentences: Sequence[Sentence], lang: str) -> None:
    """Tolls stated after an incident's own sentences, before the next incident, are its own.

    A figure coded as such ("Fatalities coded as 3.", "1 fatality.") is the toll of record and
    wins; otherwise a toll told later ("Four people died.") fills an incident that has none.
    """
    firsts = sorted((min(inc.indices()), n) for n, inc in enumerate(incidents))
    for pos, (first, n) in enumerate(firsts):
        stop = firsts[pos + 1][0] if pos + 1 < len(firsts) else len(sentences)
        inc = incidents[n]
        own = inc.indices()
        found = [(i, _casualties(sentences[i].text, lang)) for i in range(first, stop)]
        head = max(inc.readings, key=lambda r: (_informativeness(r), -r.index))
        stated = next((c for _, c in found if c.killed is not None and c.killed_stated), None)
        if stated is not None:
            for r in inc.readings:
                r.killed = None
            head.killed = stated.killed
        elif inc.pick("killed") is None:
            later = next(
                (c for i, c in found if i not in own and c.killed is not None and c.killed.value),
                None,
            )
            if later is not None:
                head.killed = later.killed


def _merge_duplicates(incidents: list[_Incident]) -> list[_Incident]:
    """One incident per (event, place): same place, agreeing weapon, date, actor and target.

    An incident joins the first one kept before it that it agrees with. Only incidents kept
    at its place can agree (``_same_place``), so they are looked up by region and by name;
    and only the last ``_MERGE_MEMORY`` of those are compared (see there).
    """
    out: list[_Incident] = []
    traits: list[_Traits] = []
    # region id, or (canonical name, country) -> positions in ``out`` of incidents placed there
    placed: dict[Any, list[int]] = {}
    for inc in incidents:
        new = _Traits.of(inc)
        for n in _merge_candidates(placed, new.location):
            kept = traits[n]
            if (
                _same_place(kept.location, new.location)
                and _weapons_agree(kept.weapon, new.weapon)
                and _dates_agree(kept.date, new.date)
                and _actors_agree(kept.actor, new.actor)
                and (kept.target is None or new.target is None or kept.target == new.target)
            ):
                before = kept.location
                out[n].readings.extend(inc.readings)
                out[n].attributions.extend(inc.attributions)
                kept.absorb(new)
                if kept.location is not before:
                    _index_place(placed, kept.location, n)
                break
        else:
            out.append(inc)
            traits.append(new)
            _index_place(placed, new.location, len(out) - 1)
    return out


def _place_keys(loc: Location | None) -> list[Any]:
    """Where ``_same_place`` may find ``loc``: its region, and its name in its country."""
    if loc is None or loc.precision == "country":
        return []
    keys: list[Any] = [(loc.canonical, loc.country_code)]
    if loc.region_id:
        keys.append(loc.region_id)
    return keys


def _index_place(placed: dict[Any, list[int]], loc: Location | None, n: int) -> None:
    for key in _place_keys(loc):
        positions = placed.setdefault(key, [])
        if not positions or positions[-1] != n:
            positions.append(n)


def _merge_candidates(placed: dict[Any, list[int]], loc: Location | None) -> list[int]:
    """Positions of the kept incidents that may be at ``loc``, first kept first."""
    found = {n for key in _place_keys(loc) for n in placed.get(key, ())[-_MERGE_MEMORY:]}
    return sorted(found)


def _specific(inc: _Incident) -> bool:
    """Keep an incident a reader can place, date or count (documented rule).

    Sentences such as "الهجمات الصاروخية الأخيرة على القوات العراقية" (the recent rocket attacks
    on Iraqi forces) name no place, no date and no count of one event: they summarise, and are
    dropped. An incident is kept when it has a place; without one, when it is dated to the day
    or week and names its weapon or casualties, when it counts casualties or devices of a
    named weapon ("a drone strike killed three"), when a group claims an attack with a named
    weapon ("أعلنت سرايا القدس مسؤوليتها عن إطلاق قذيفة صاروخية"), or when it states its own
    toll exactly ("اعترف الجيش الإسرائيلي بمقتل ضابط وجرح اثنين": a summary says "dozens",
    not "one officer and two wounded") and says more than a toll (a party, an attack word, a
    weapon: "77 شخصا قتلوا" alone may be a flood's).
    """
    location, _ = inc.location()
    if location is not None:
        return True
    counted = any(r.killed or r.wounded or r.quantity for r in inc.readings)
    tolled = any(
        c is not None and c.qualifier in ("exact", "at_least") and r.violent
        for r in inc.readings
        for c in (r.killed, r.wounded)
    )
    when = inc.date()
    dated = when is not None and when.precision in ("day", "week")
    weapon, _ = inc.weapon()
    claimed = any(a.attribution == "claimed" for a in inc.all_attributions())
    return (
        tolled
        or (dated and (weapon is not None or counted))
        or ((counted or claimed) and weapon is not None)
    )


@functools.lru_cache(maxsize=1)
def get_extractor() -> Extractor:
    """The process-wide extractor over the default ``config/`` (loaded on first use)."""
    return Extractor.from_config()
