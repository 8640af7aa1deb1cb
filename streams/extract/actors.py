"""Actors and attribution: who did it (claimed, accused, suspected, reported), not whom it hit."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from streams.extract.lexicon import ActorInfo, Match, NormText
from streams.normalize import normalize_ar

__all__ = [
    "ATTRIBUTION_RANK",
    "ActorMention",
    "Attribution",
    "actor_matches",
    "actor_mentions",
    "attribute",
    "best_attribution",
    "display_name",
    "speakers",
]

# Which attribution wins when one incident has several: an explicit claim beats an accusation,
# which beats a suspicion, which beats the text simply naming the doer.
ATTRIBUTION_RANK = {"claimed": 4, "accused": 3, "suspected": 2, "reported": 1}

# Windows, in word tokens between a cue and the actor it governs. Small on purpose: role words
# bind to the nearest name ("killing five ISIS members"), attribution verbs reach a little
# further over titles and dates ("اتهمت مساء الاثنين إيران").
_ROLE_WINDOW = 3
_CLAIM_BEFORE = 12
_CLAIM_AFTER = 6
_ACCUSE_AFTER = 8
_RESPONSIBILITY_AFTER = 5
_SUSPECT_AFTER = 10
_SUSPECT_BEFORE = 4
_NEGATION_WINDOW = 3
# "أعلن [القيادة العامة ل]القوات المسلحة العراقية قتل": the force within this many words after
# the announcing verb (Arabic), or the verb right after the force ("the army said it killed").
_ANNOUNCER_AFTER = 3
_ANNOUNCER_BEFORE = 1
# A group named without a role word is weakly the doer only this close to an event word: "منذ
# تثبيت وقف العمليات الحربية بين إسرائيل وحزب الله", a clause away, names it for context.
_BARE_GROUP_WINDOW = 10

_CLAUSE_BREAKS = frozenset(";؛")
_ROLE_PRIORITY = {"victim": 0, "speaker": 1, "agent": 2}
# A role word does not reach over a comma: "On 1 November 2023, Islamic Resistance in Iraq
# claimed..." - "On" there opens a date, not "an attack on" the group.
_PHRASE_BREAKS = frozenset(";؛,،:")


@dataclass(frozen=True, slots=True)
class ActorMention:
    """An actor named in the text, with the role its neighbourhood gives it.

    ``role``: ``agent`` (the doer: "نفذ داعش", "ISIS militants attacked"), ``victim`` ("مقتل خمسة
    عناصر من داعش", "targeting Houthi positions"), ``defender`` ("Saudi air defenses
    intercepted"), ``speaker`` (named through a person's title: "الأمين العام لحزب الله",
    "a spokesman for the TTP") or ``none``.
    """

    name: str
    kind: str
    text: str
    start: int
    end: int
    nstart: int
    nend: int
    role: str
    # True when the mention is an anaphor ("التنظيم", "the group") resolved to ``name``.
    anaphor: bool = False


@dataclass(frozen=True, slots=True)
class Attribution:
    """How a sentence attributes an incident: the actor, the kind of attribution, by whom."""

    actor: ActorMention
    attribution: str  # claimed | accused | suspected | reported
    by: str | None
    confidence: float

    @property
    def rank(self) -> tuple[int, float]:
        """Sort key: stronger attribution first, then higher confidence."""
        return (ATTRIBUTION_RANK[self.attribution], self.confidence)


def _dist(nt: NormText, left_end: int, right_start: int) -> int:
    """Word tokens strictly between two spans (``left`` ends before ``right`` starts)."""
    return nt.tokens_between(left_end, right_start)


def _crosses_clause(nt: NormText, a: int, b: int, breaks: frozenset[str] = _CLAUSE_BREAKS) -> bool:
    """True when a clause break (";") lies between normalised positions ``a`` < ``b``."""
    return not breaks.isdisjoint(nt.norm[a:b])


def actor_mentions(
    matches: Sequence[Match],
    nt: NormText,
    *,
    last_group: str | None = None,
) -> list[ActorMention]:
    """Actors named in one sentence's ``matches``, each with its role.

    ``last_group`` is the group named last before this sentence in the article: an anaphor
    ("التنظيم", "the group") stands for it. Without one, anaphors are ignored.
    """
    named = [
        m
        for m in matches
        if m.kind == "actor" or (m.kind == "actor_anaphor" and last_group is not None)
    ]
    if not named:
        return []  # most sentences name no one: their cues need no index
    roles_before = _Nearby(
        [
            m
            for m in matches
            if m.kind in ("role:agent_before", "role:victim_before", "role:title_before")
        ]
    )
    roles_after = _Nearby(
        [m for m in matches if m.kind in ("role:agent_after", "role:victim_after")]
    )
    defensive = _Nearby(
        [m for m in matches if m.kind == "trigger" and m.entry.get("role") == "defensive"]
    )
    weapons = [m for m in matches if m.kind == "weapon"]
    out: list[ActorMention] = []
    for m in named:
        if m.kind == "actor":
            name, kind, anaphor = m.entry.label, str(m.entry.get("kind")), False
        else:
            name, kind, anaphor = last_group or "", "group", True
        role = _role(m, nt, roles_before, roles_after, defensive)
        if role == "none" and any(w.nstart < m.nend and m.nstart < w.nend for w in weapons):
            # A name that is itself the means of attack strikes: "واصل الطيران الإسرائيلي
            # غاراته", "كانت الطائرات المقاتلة الإسرائيلية تقصف", "a US drone".
            role = "agent"
        out.append(
            ActorMention(name, kind, m.text, m.start, m.end, m.nstart, m.nend, role, anaphor)
        )
    return out


class _Nearby:
    """Cues of one sentence by position, so that a mention meets only those within a few
    words of it: measuring every cue from every mention (and reading the text between) made a
    long sentence naming many actors and cues cubic. Words between two spans only grow as
    one moves away, so the walk outwards stops at the first cue out of reach."""

    def __init__(self, cues: Sequence[Match]) -> None:
        self.by_end = sorted(cues, key=lambda c: c.nend)
        self.ends = [c.nend for c in self.by_end]
        self.by_start = sorted(cues, key=lambda c: c.nstart)
        self.starts = [c.nstart for c in self.by_start]

    def before(self, nt: NormText, pos: int, window: int) -> Iterator[tuple[Match, int]]:
        """Cues ending by ``pos`` at most ``window`` words before it, with that distance."""
        for i in range(bisect.bisect_right(self.ends, pos) - 1, -1, -1):
            cue = self.by_end[i]
            d = _dist(nt, cue.nend, pos)
            if d > window:
                return
            yield cue, d

    def after(self, nt: NormText, pos: int, window: int) -> Iterator[tuple[Match, int]]:
        """Cues starting at ``pos`` or later, at most ``window`` words after it."""
        for i in range(bisect.bisect_left(self.starts, pos), len(self.starts)):
            cue = self.by_start[i]
            d = _dist(nt, pos, cue.nstart)
            if d > window:
                return
            yield cue, d


def _role(
    m: Match,
    nt: NormText,
    roles_before: _Nearby,
    roles_after: _Nearby,
    defensive: _Nearby,
) -> str:
    """The role of one actor mention: the nearest role cue within the window decides."""
    # (distance, side, priority, role): the nearest cue; at equal distance one before the name,
    # then the victim reading of a word that is both ("الجنود الذين قتلوا": were killed).
    best: tuple[int, int, int, str] | None = None
    for cue, d in roles_before.before(nt, m.nstart, _ROLE_WINDOW):
        if not _crosses_clause(nt, cue.nend, m.nstart, _PHRASE_BREAKS):
            role = {"role:agent_before": "agent", "role:title_before": "speaker"}.get(
                cue.kind, "victim"
            )
            cand = (d, 0, _ROLE_PRIORITY[role], role)
            best = cand if best is None or cand < best else best
    for cue, d in roles_after.after(nt, m.nend, _ROLE_WINDOW):
        if not _crosses_clause(nt, m.nend, cue.nstart, _PHRASE_BREAKS):
            role = "agent" if cue.kind == "role:agent_after" else "victim"
            cand = (d, 1, _ROLE_PRIORITY[role], role)
            best = cand if best is None or cand < best else best
    # Whoever intercepts, shoots down or defuses is defending ("Security forces identified and
    # shot down a drone", "intercepted by the Saudi air defenses"): that wins over any cue.
    if next(defensive.after(nt, m.nend, _ROLE_WINDOW), None) is not None:
        return "defender"
    for trig, _ in defensive.before(nt, m.nstart, 2):
        between = nt.words_between(trig.nend, m.nstart)
        if between and between[0] in ("by", "من", "بواسطه"):
            return "defender"
    return best[3] if best is not None else "none"


def speakers(mentions: Iterable[ActorMention]) -> list[str]:
    """Named states and forces in a sentence: who may speak in the next sentences, the likeliest
    last (a government before its forces: "المتحدث باسم الخارجية الأميركية ... أن القوات
    الأميركية ستتجنب" speaks for the United States)."""
    named = [m for m in mentions if m.role != "victim"]  # "قصف مواقع القوات الأميركية"
    forces = [m.name for m in named if m.kind == "state_forces"]
    return forces + [m.name for m in named if m.kind == "state"]


def _negated(cue: Match, negations: Sequence[Match], nt: NormText) -> bool:
    """A claim cue is void when a negation overlaps it or comes just before it."""
    for neg in negations:
        if neg.nstart < cue.nend and cue.nstart < neg.nend:
            return True
        if neg.nend <= cue.nstart and _dist(nt, neg.nend, cue.nstart) <= _NEGATION_WINDOW:
            return True
    return False


def _named(mentions: Iterable[ActorMention]) -> list[ActorMention]:
    """Mentions that can be a perpetrator: not unidentified, not a victim or defender."""
    return [
        m for m in mentions if m.kind != "unidentified" and m.role not in ("victim", "defender")
    ]


def attribute(
    matches: Sequence[Match],
    nt: NormText,
    mentions: Sequence[ActorMention],
    *,
    context_speakers: Sequence[str] = (),
) -> list[Attribution]:
    """Every attribution one sentence makes, strongest first.

    ``context_speakers`` are the states named in the sentences just before (the spokesman's
    government): the accuser when the accusing sentence itself names none ("كما حمّل إيران
    المسؤولية" after "المتحدث باسم وزارة الدفاع الأميركية"). Tables of Arabic and English
    sentences are in tests/unit/test_actors.py.
    """
    attr = [m for m in matches if m.kind == "attr"]
    negations = [m for m in matches if m.kind == "attr_neg"]
    found: list[Attribution] = []
    used: set[int] = set()  # nstart of mentions already attributed
    responsibilities = [c for c in attr if c.entry.label == "responsibility"]
    events = [m for m in matches if m.kind in ("trigger", "weapon")]

    for cue in attr:
        label = cue.entry.label
        if label == "claimed":
            if _negated(cue, negations, nt):
                continue
            who = _claimant(cue, nt, mentions)
            if who is not None:
                found.append(Attribution(who, "claimed", None, 0.9))
                used.add(who.nstart)
        elif label in ("accuse", "hold"):
            if _negated(cue, negations, nt):
                continue
            accused = _first_after(cue, nt, mentions, _ACCUSE_AFTER, allow_victim=True)
            if accused is None:
                continue
            second = _verb_first_object(cue, nt, mentions, accused) if label == "accuse" else None
            by = None
            if second is not None:
                # "اتهمت إسرائيل حزب الله": the verb first, then who accuses, then whom.
                accused, by = second, accused.name
            if label == "hold" and not any(
                r.nstart >= accused.nend
                and _dist(nt, accused.nend, r.nstart) <= _RESPONSIBILITY_AFTER
                for r in responsibilities
            ):
                continue  # "حمل" alone is "carry": an accusation needs "المسؤولية"
            by = by or _accuser(cue, nt, mentions, accused, context_speakers)
            found.append(Attribution(accused, "accused", by, 0.75))
            used.add(accused.nstart)
        elif label == "responsibility" and cue.lang == "en":
            # "Iran is responsible", "militias were behind the attack": the actor just before.
            before = [
                m
                for m in _named(mentions)
                if m.nend <= cue.nstart and _dist(nt, m.nend, cue.nstart) <= 3
            ]
            if before and before[-1].nstart not in used and not _negated(cue, negations, nt):
                accused = before[-1]
                by = _accuser(cue, nt, mentions, accused, context_speakers)
                found.append(Attribution(accused, "accused", by, 0.6))
                used.add(accused.nstart)
        elif label == "suspected":
            who = _suspect(cue, nt, mentions)
            if who is not None and who.nstart not in used:
                found.append(Attribution(who, "suspected", None, 0.6))
                used.add(who.nstart)
        elif label == "announce":
            who = _announcer(cue, nt, mentions, matches)
            if who is not None and who.nstart not in used:
                found.append(Attribution(who, "claimed", None, 0.8))
                used.add(who.nstart)

    for m in mentions:
        if m.nstart in used or m.kind == "unidentified":
            continue
        if m.role == "agent":
            conf = 0.75 if m.kind == "group" else 0.6
            found.append(Attribution(m, "reported", None, conf))
        elif m.role == "none" and m.kind == "group" and _near_event(m, nt, events):
            # A group named in an incident sentence without a role word: weakly the doer.
            found.append(Attribution(m, "reported", None, 0.4))
    found.sort(key=lambda a: (-a.rank[0], -a.rank[1], a.actor.nstart))
    return found


def _verb_first_object(
    cue: Match, nt: NormText, mentions: Sequence[ActorMention], first: ActorMention
) -> ActorMention | None:
    """In Arabic verb-first order ("اتهمت إسرائيل حزب الله"), the accused after the accuser.

    Returns the accused when ``first`` (the name right after the verb) is a state and another
    actor follows it at once; None when the verb has a subject before it ("وكانت الخارجية
    الأميركية قد اتهمت إيران") or names one actor only.
    """
    if cue.lang != "ar" or first.kind not in ("state", "state_forces"):
        return None
    # A subject in the cue's clause: the nearest name before the cue is in it if any is (the
    # text from a name further back holds the nearer one's).
    nearest = max(
        (m.nend for m in mentions if m.kind != "unidentified" and m.nend <= cue.nstart),
        default=None,
    )
    if nearest is not None and not _crosses_clause(nt, nearest, cue.nstart):
        return None
    return next(
        (
            m
            for m in mentions
            if m.nstart >= first.nend
            and m.name != first.name
            and m.kind != "unidentified"
            and _dist(nt, first.nend, m.nstart) <= 1
        ),
        None,
    )


def _near_event(m: ActorMention, nt: NormText, events: Sequence[Match]) -> bool:
    """True when an event word lies within ``_BARE_GROUP_WINDOW`` words of the mention."""
    for e in events:
        if e.nend <= m.nstart and _dist(nt, e.nend, m.nstart) <= _BARE_GROUP_WINDOW:
            return True
        if e.nstart >= m.nend and _dist(nt, m.nend, e.nstart) <= _BARE_GROUP_WINDOW:
            return True
    return False


def _announcer(
    cue: Match, nt: NormText, mentions: Sequence[ActorMention], matches: Sequence[Match]
) -> ActorMention | None:
    """A force announcing a killing it made: "أعلن الجيش الأميركي أنه قتل ثمانية".

    The force is named right after the announcing verb (or just before it in English), and a
    kill word follows the force with nothing but link words ("أنه", "أيضا", "it") between. Not
    a claim when the dead are the force's own ("أعلن الجيش مقتل جندي").
    """
    kills = [
        m
        for m in matches
        if m.kind == "trigger" and m.entry.id in ("kill", "assassinated") and m.nstart > cue.nend
    ]
    if not kills:
        return None
    links = [m for m in matches if m.kind == "announce_links"]
    for who in _named(mentions):
        if who.kind == "unidentified":
            continue
        if who.nstart >= cue.nend:
            near = _dist(nt, cue.nend, who.nstart) <= _ANNOUNCER_AFTER
        else:
            near = who.nend <= cue.nstart and _dist(nt, who.nend, cue.nstart) <= _ANNOUNCER_BEFORE
        if not near or _crosses_clause(nt, min(who.nend, cue.nend), max(who.nstart, cue.nstart)):
            continue
        start = max(who.nend, cue.nend)
        kill = next((k for k in kills if k.nstart >= start), None)
        if kill is None or not _only_links(nt, start, kill.nstart, links):
            continue
        if any(
            m.kind == "own_loss" and m.nstart >= kill.nend and _dist(nt, kill.nend, m.nstart) <= 1
            for m in matches
        ):
            return None
        return who
    return None


def _only_links(nt: NormText, left: int, right: int, links: Sequence[Match]) -> bool:
    """True when every word in ``[left, right)`` of the normalised text is a link word."""
    covered = sum(nt.tokens_between(m.nstart, m.nend) for m in links if left <= m.nstart < right)
    return nt.tokens_between(left, right) <= covered


def _claimant(cue: Match, nt: NormText, mentions: Sequence[ActorMention]) -> ActorMention | None:
    """Who claims: the first named actor of the clause before the cue, else just after it."""
    before = [
        m
        for m in _named(mentions)
        if m.nend <= cue.nstart
        and _dist(nt, m.nend, cue.nstart) <= _CLAIM_BEFORE
        and not _crosses_clause(nt, m.nend, cue.nstart)
    ]
    if before:
        if cue.lang == "ar":
            return before[-1]  # Arabic clauses chain with "و": the nearest name is the subject
        return before[0]
    return _first_after(cue, nt, mentions, _CLAIM_AFTER)


def _first_after(
    cue: Match,
    nt: NormText,
    mentions: Sequence[ActorMention],
    window: int,
    *,
    allow_victim: bool = False,
) -> ActorMention | None:
    pool = mentions if allow_victim else _named(mentions)
    for m in pool:
        if m.kind == "unidentified":
            continue
        if m.nstart >= cue.nend and _dist(nt, cue.nend, m.nstart) <= window:
            return m
    return None


def _accuser(
    cue: Match,
    nt: NormText,
    mentions: Sequence[ActorMention],
    accused: ActorMention,
    context_speakers: Sequence[str],
) -> str | None:
    """Who accuses: a named actor before the cue in the sentence, else the latest speaker."""
    before = [
        m
        for m in mentions
        if m.nend <= cue.nstart and m.name != accused.name and m.kind != "unidentified"
    ]
    if before:
        states = [m for m in before if m.kind in ("state", "state_forces")]
        return (states or before)[-1].name
    after = [
        m
        for m in mentions
        if m.nstart > accused.nend
        and m.name != accused.name
        and m.kind in ("state", "state_forces")
    ]
    if after and cue.lang == "en":
        return after[0].name  # "Iran is responsible, the Pentagon said"
    for name in reversed(context_speakers):
        if name != accused.name:
            return name
    return None


def _suspect(cue: Match, nt: NormText, mentions: Sequence[ActorMention]) -> ActorMention | None:
    """The suspected actor: after the cue ("attributed the attack to X") or just before it."""
    after = _first_after(cue, nt, mentions, _SUSPECT_AFTER)
    before = [
        m
        for m in _named(mentions)
        if m.nend <= cue.nstart and _dist(nt, m.nend, cue.nstart) <= _SUSPECT_BEFORE
    ]
    if after is not None and before:
        d_after = _dist(nt, cue.nend, after.nstart)
        d_before = _dist(nt, before[-1].nend, cue.nstart)
        return after if d_after <= d_before + 2 else before[-1]
    return after if after is not None else (before[-1] if before else None)


def best_attribution(attributions: Iterable[Attribution]) -> Attribution | None:
    """The strongest attribution, or None.

    >>> best_attribution([]) is None
    True
    """
    best: Attribution | None = None
    for a in attributions:
        if best is None or a.rank > best.rank:
            best = a
    return best


def display_name(info: ActorInfo, country_code: str | None) -> str:
    """The canonical name, made specific by country for generic forces ("القوات الأمنية" in Iraq).

    >>> display_name(ActorInfo("Security forces", "state_forces",
    ...              by_country={"IQ": "Iraqi security forces"}), "IQ")
    'Iraqi security forces'
    """
    if country_code and country_code in info.by_country:
        return info.by_country[country_code]
    return info.name


def _key(name: str) -> str:
    return " ".join(normalize_ar(name).replace("-", " ").replace("'", "").split())


def actor_matches(name: str | None, gname: str | None, actors: Mapping[str, ActorInfo]) -> bool:
    """True when a predicted canonical actor ``name`` is the GTD/ACLED group ``gname``.

    Compares with the actor's ``gtd_names``, its own name and its affiliates' parents, ignoring
    case, hyphens and a trailing "(...)" qualifier; for evaluation scripts.

    >>> from streams.extract.lexicon import ActorInfo
    >>> table = {"Houthis": ActorInfo("Houthis", "group", ("Houthi extremists (Ansar Allah)",))}
    >>> actor_matches("Houthis", "Houthi extremists (Ansar Allah)", table)
    True
    """
    if not name or not gname:
        return False
    info = actors.get(name)
    names = {name}
    if info is not None:
        names.update(info.gtd_names)
    gold = _key(gname)
    gold_bare = _key(gname.split("(")[0])
    return any(_key(n) in (gold, gold_bare) or _key(n.split("(")[0]) == gold_bare for n in names)
