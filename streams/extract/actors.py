"""Actors and attribution: who did it (claimed, accused, suspected, reported), not whom it hit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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

_CLAUSE_BREAKS = frozenset(";؛")
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
    return any(ch in breaks for ch in nt.norm[a:b])


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
    roles_before = [
        m
        for m in matches
        if m.kind in ("role:agent_before", "role:victim_before", "role:title_before")
    ]
    roles_after = [m for m in matches if m.kind in ("role:agent_after", "role:victim_after")]
    defensive = [m for m in matches if m.kind == "trigger" and m.entry.get("role") == "defensive"]
    out: list[ActorMention] = []
    for m in matches:
        if m.kind == "actor":
            name, kind, anaphor = m.entry.label, str(m.entry.get("kind")), False
        elif m.kind == "actor_anaphor" and last_group is not None:
            name, kind, anaphor = last_group, "group", True
        else:
            continue
        role = _role(m, nt, roles_before, roles_after, defensive)
        out.append(
            ActorMention(name, kind, m.text, m.start, m.end, m.nstart, m.nend, role, anaphor)
        )
    return out


def _role(
    m: Match,
    nt: NormText,
    roles_before: Sequence[Match],
    roles_after: Sequence[Match],
    defensive: Sequence[Match],
) -> str:
    """The role of one actor mention: the nearest role cue within the window decides."""
    best: tuple[int, int, str] | None = None  # (distance, side, role); side 0 = before wins ties
    for cue in roles_before:
        if cue.nend <= m.nstart and not _crosses_clause(nt, cue.nend, m.nstart, _PHRASE_BREAKS):
            d = _dist(nt, cue.nend, m.nstart)
            if d <= _ROLE_WINDOW:
                role = {"role:agent_before": "agent", "role:title_before": "speaker"}.get(
                    cue.kind, "victim"
                )
                cand = (d, 0, role)
                best = cand if best is None or cand < best else best
    for cue in roles_after:
        if cue.nstart >= m.nend and not _crosses_clause(nt, m.nend, cue.nstart, _PHRASE_BREAKS):
            d = _dist(nt, m.nend, cue.nstart)
            if d <= _ROLE_WINDOW:
                role = "agent" if cue.kind == "role:agent_after" else "victim"
                cand = (d, 1, role)
                best = cand if best is None or cand < best else best
    # Whoever intercepts, shoots down or defuses is defending ("Security forces identified and
    # shot down a drone", "intercepted by the Saudi air defenses"): that wins over any cue.
    for trig in defensive:
        if trig.nstart >= m.nend and _dist(nt, m.nend, trig.nstart) <= _ROLE_WINDOW:
            return "defender"
        if trig.nend <= m.nstart and _dist(nt, trig.nend, m.nstart) <= 2:
            between = nt.words_between(trig.nend, m.nstart)
            if between and between[0] in ("by", "من", "بواسطه"):
                return "defender"
    return best[2] if best is not None else "none"


def speakers(mentions: Iterable[ActorMention]) -> list[str]:
    """Named states and forces in a sentence, in order: who may speak in the next sentences."""
    return [m.name for m in mentions if m.kind in ("state", "state_forces")]


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
            if label == "hold" and not any(
                r.nstart >= accused.nend
                and _dist(nt, accused.nend, r.nstart) <= _RESPONSIBILITY_AFTER
                for r in responsibilities
            ):
                continue  # "حمل" alone is "carry": an accusation needs "المسؤولية"
            by = _accuser(cue, nt, mentions, accused, context_speakers)
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

    for m in mentions:
        if m.nstart in used or m.kind == "unidentified":
            continue
        if m.role == "agent":
            conf = 0.75 if m.kind == "group" else 0.6
            found.append(Attribution(m, "reported", None, conf))
        elif m.role == "none" and m.kind == "group":
            # A group named in an incident sentence without a role word: weakly the doer.
            found.append(Attribution(m, "reported", None, 0.4))
    found.sort(key=lambda a: (-a.rank[0], -a.rank[1], a.actor.nstart))
    return found


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
