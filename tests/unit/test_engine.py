"""The extractor end to end on the seed articles and GTD-like English reports."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from streams.extract.engine import Extractor, get_extractor, incident_id
from streams.ingest import parse_article
from streams.records import Article, Incident
from streams.settings import PROJECT_ROOT

SEEDS = PROJECT_ROOT / "seeds"
ELAPH = "000_2c9a285eebb8b24b"
ALHURRA = "003_22300b7c73ae127c"


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return get_extractor()


def seed(article_id: str) -> Article:
    path = next(SEEDS.glob(f"{article_id}.json"))
    return parse_article(Path(path).read_bytes(), max_bytes=1_000_000)


@pytest.fixture(scope="module")
def seed_incidents(extractor: Extractor) -> dict[str, list[Incident]]:
    return {aid: extractor.extract(seed(aid)) for aid in (ELAPH, ALHURRA)}


def admin1(incident: Incident) -> str | None:
    return incident.location.admin1 if incident.location else None


def find(incidents: list[Incident], **want: object) -> Incident:
    """The one incident whose fields have the wanted values (admin1, category, canonical)."""
    hits = [
        i
        for i in incidents
        if all(
            {
                "admin1": admin1(i),
                "category": i.weapon.category if i.weapon else None,
                "canonical": i.location.canonical if i.location else None,
            }[k]
            == v
            for k, v in want.items()
        )
    ]
    assert len(hits) == 1, [(admin1(i), i.weapon, i.evidence.sentence[:60]) for i in incidents]
    return hits[0]


# --- seeds ---------------------------------------------------------------------------------


def test_embassy_rockets(seed_incidents: dict[str, list[Incident]]) -> None:
    inc = find(seed_incidents[ALHURRA], admin1="Baghdad", category="rocket")
    assert "كاتيوشا" in (inc.weapon.text or "") if inc.weapon else False
    assert inc.target == "diplomatic mission"
    assert inc.event_date == "2021-02-22" and inc.date_precision == "day"
    assert inc.historical is False
    assert inc.location is not None and inc.location.country_code == "IQ"


def test_erbil_rockets_counted_and_blamed_on_iran(
    seed_incidents: dict[str, list[Incident]],
) -> None:
    inc = find(seed_incidents[ALHURRA], admin1="Erbil")
    assert inc.weapon is not None and inc.weapon.category == "rocket"
    assert inc.counts.quantity is not None
    assert (inc.counts.quantity.value, inc.counts.quantity.qualifier) == (14, "approx")
    assert inc.actor is not None
    assert (inc.actor.name, inc.actor.attribution, inc.actor.by) == (
        "Iran",
        "accused",
        "United States",
    )
    assert inc.target == "US forces"


def test_erbil_in_the_other_report(seed_incidents: dict[str, list[Incident]]) -> None:
    inc = find(seed_incidents[ELAPH], admin1="Erbil")
    assert inc.weapon is not None and inc.weapon.category == "rocket"
    assert inc.actor is not None
    assert (inc.actor.name, inc.actor.attribution, inc.actor.by) == (
        "Iran",
        "accused",
        "United States",
    )


def test_tarmiyah_attacks_by_isis(seed_incidents: dict[str, list[Incident]]) -> None:
    tarmiyah = [
        i for i in seed_incidents[ALHURRA] if i.location and i.location.canonical == "Tarmiyah"
    ]
    [attacks] = [i for i in tarmiyah if i.event_date == "2021-02-23"]
    assert admin1(attacks) == "Baghdad"
    assert attacks.actor is not None
    assert (attacks.actor.name, attacks.actor.attribution) == ("Islamic State", "reported")
    assert attacks.target == "military"
    assert attacks.historical is False


def test_tarmiyah_raid_kills_five_isis_members(seed_incidents: dict[str, list[Incident]]) -> None:
    [raid] = [i for i in seed_incidents[ALHURRA] if i.counts.killed is not None]
    assert raid.location is not None and raid.location.canonical == "Tarmiyah"
    killed = raid.counts.killed
    assert killed is not None and (killed.value, killed.qualifier) == (5, "exact")
    assert raid.weapon is not None and raid.weapon.category == "firearm"
    # The security forces raided; the ISIS members are the dead, not the perpetrators.
    assert raid.actor is not None and raid.actor.name == "Iraqi security forces"
    assert raid.event_date is not None and raid.event_date < "2021-02-24"


def test_tayaran_square_double_suicide_bombing(seed_incidents: dict[str, list[Incident]]) -> None:
    inc = find(seed_incidents[ALHURRA], category="suicide_bomb")
    assert admin1(inc) == "Baghdad"
    assert inc.counts.quantity is not None
    assert (inc.counts.quantity.value, inc.counts.quantity.qualifier) == (2, "exact")
    assert inc.actor is not None
    assert (inc.actor.name, inc.actor.attribution) == ("Islamic State", "reported")
    assert inc.historical is True
    assert inc.date_precision == "month" and (inc.event_date or "").startswith("2021-01")


@pytest.mark.parametrize(
    "phrase",
    ["كشفت بغداد وواشنطن", "سنرد بطريقة محسوبة", "سنحمّل إيران المسؤولية", "ناقشا", "حذرت"],
)
def test_policy_sentences_give_no_incident(
    seed_incidents: dict[str, list[Incident]], phrase: str
) -> None:
    sentences = [i.evidence.sentence for incs in seed_incidents.values() for i in incs]
    assert not any(phrase in s for s in sentences)


def test_vague_recent_attacks_give_no_incident(seed_incidents: dict[str, list[Incident]]) -> None:
    # "الهجمات الصاروخية الأخيرة على القوات العراقية" names no place, date or count.
    sentences = [i.evidence.sentence for i in seed_incidents[ELAPH]]
    assert not any("الهجمات الصاروخية الأخيرة" in s for s in sentences)


def test_repeated_embassy_attack_is_one_incident(seed_incidents: dict[str, list[Incident]]) -> None:
    embassy = [i for i in seed_incidents[ALHURRA] if i.target == "diplomatic mission"]
    assert len(embassy) == 1


def test_evidence_points_into_the_body(
    extractor: Extractor, seed_incidents: dict[str, list[Incident]]
) -> None:
    for aid, incidents in seed_incidents.items():
        body = seed(aid).body
        for inc in incidents:
            assert body[inc.evidence.start : inc.evidence.end] == inc.evidence.sentence
            assert inc.incident_id == incident_id(aid, inc.evidence.start, inc.evidence.end)
            assert inc.cluster_id == inc.incident_id and inc.revision == 1
            assert inc.sources and inc.sources[0].incident_id == inc.incident_id
            assert 0.0 <= inc.confidence <= 1.0
            assert set(inc.field_confidence) == {
                "place",
                "weapon",
                "quantity",
                "killed",
                "wounded",
                "actor",
                "date",
            }


def test_ids_are_deterministic(extractor: Extractor) -> None:
    article = seed(ALHURRA)
    first = [i.incident_id for i in extractor.extract(article)]
    again = [i.incident_id for i in extractor.extract(article)]
    assert first == again and len(set(first)) == len(first)


# --- article-level behaviour ---------------------------------------------------------------

REPORT = "Assailants fired three rockets at the US embassy in Baghdad on Monday."


def test_missing_published_at_uses_now(extractor: Extractor) -> None:
    now = datetime(2021, 2, 24, 12, 0, tzinfo=UTC)
    [inc] = extractor.extract(Article(id="a", body=REPORT, language="en"), now=now)
    assert inc.published_at == now and inc.published_at_assumed is True
    assert inc.event_date == "2021-02-22"


def test_language_is_detected(extractor: Extractor) -> None:
    published = datetime(2021, 2, 24, tzinfo=UTC)
    [inc] = extractor.extract(Article(id="a", body=REPORT, published_at=published))
    assert inc.language == "en" and inc.published_at_assumed is False


def test_event_time_is_midnight_of_the_event_date(extractor: Extractor) -> None:
    published = datetime(2021, 2, 24, 15, 30, tzinfo=UTC)
    [inc] = extractor.extract(Article(id="a", body=REPORT, language="en", published_at=published))
    assert inc.event_time == datetime(2021, 2, 22, tzinfo=UTC)


def test_undated_incident_uses_publication_time(extractor: Extractor) -> None:
    published = datetime(2021, 2, 24, 15, 30, tzinfo=UTC)
    body = "Assailants fired three rockets at the US embassy in Baghdad."
    [inc] = extractor.extract(Article(id="a", body=body, language="en", published_at=published))
    assert (inc.event_date, inc.date_precision, inc.event_time) == (None, "unknown", published)


# --- English GTD-like reports ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "category", "gtd_type", "killed", "actor", "attribution"),
    [
        (
            "06/13/2020: A ballistic missile was intercepted targeting Najran, Saudi Arabia. An "
            "unknown number of civilians were injured by falling debris. Houthi extremists "
            "(Ansar Allah) claimed responsibility for the incident.",
            "rocket",
            "Explosives",
            None,
            "Houthis",
            "claimed",
        ),
        (
            "09/29/2014: A land mine detonated near a group of Afghan National Army (ANA) "
            "soldiers in Kabul province, Afghanistan. At least six soldiers were killed in the "
            "blast. The Taliban claimed responsibility for the incident.",
            "ied",
            "Explosives",
            6,
            "Taliban",
            "claimed",
        ),
        (
            "08/04/2016: Assailants threw a grenade at a Yemeni Police station in Aden, Adan, "
            "Yemen. There were no reported casualties in the blast. No group claimed "
            "responsibility; however, sources suspected that the incidents were carried out by "
            "Al-Qaida in the Arabian Peninsula (AQAP).",
            "grenade",
            "Explosives",
            0,
            "AQAP",
            "suspected",
        ),
        (
            "07/22/2015: Assailants set fire to vehicles in Van province, Turkey. No casualties "
            "were reported. No group claimed responsibility for the incident; however, sources "
            "attributed the attack to the Kurdistan Workers' Party (PKK).",
            "incendiary",
            "Incendiary",
            0,
            "PKK",
            "suspected",
        ),
        (
            "08/04/2013: Gunmen shot and killed Lieutenant Colonel Mohammed Al-Mamari in Al "
            "Bayda governorate, Yemen. Al-Qaida in the Arabian Peninsula (AQAP) claimed "
            "responsibility for the incident, saying the attack was in revenge for drone "
            "strikes conducted by the United States (US).",
            "firearm",
            "Firearms",
            None,
            "AQAP",
            "claimed",
        ),
        (
            "12/18/2013: A suicide bomber detonated an explosives-laden vehicle at a military "
            "checkpoint in Mir Ali town, Federally Administered Tribal Areas, Pakistan. Five "
            "soldiers were killed and 34 other people were wounded in the attack.",
            "vehicle_bomb",
            "Explosives",
            5,
            None,
            None,
        ),
    ],
)
def test_gtd_like_reports(
    extractor: Extractor,
    body: str,
    category: str,
    gtd_type: str,
    killed: int | None,
    actor: str | None,
    attribution: str | None,
) -> None:
    published = datetime(int(body[6:10]), int(body[:2]), int(body[3:5]), tzinfo=UTC)
    incidents = extractor.extract(
        Article(id="gtd", body=body, language="en", published_at=published)
    )
    assert len(incidents) == 1
    [inc] = incidents
    assert inc.weapon is not None
    assert (inc.weapon.category, inc.weapon.gtd_type) == (category, gtd_type)
    # "No casualties" may come back as 0 or as no count: both say nobody died.
    assert (inc.counts.killed.value if inc.counts.killed else 0) == (killed or 0)
    assert (inc.actor.name if inc.actor else None) == actor
    assert (inc.actor.attribution if inc.actor else None) == attribution
    assert inc.event_date == published.date().isoformat()


@pytest.mark.parametrize(
    "body",
    [
        "The minister warned that militants will attack the capital with rockets.",
        "So far this year, 120 people have been killed in bombings across Iraq.",
        "Militias usually target US bases in western Iraq with rockets.",
        "وعادة ما تستهدف المليشيات الموالية لإيران أهدافا أميركية في العراق.",
        "ودعا الأمين العام إلى وقف فوري لإطلاق النار في بيروت.",
        "",
        "   ",
    ],
)
def test_no_incident(extractor: Extractor, body: str) -> None:
    article = Article(id="n", body=body, published_at=datetime(2021, 2, 24, tzinfo=UTC))
    assert extractor.extract(article) == []


def test_two_events_in_one_article(extractor: Extractor) -> None:
    body = (
        "A car bomb exploded in Kirkuk on Monday, killing four people. "
        "On Tuesday, gunmen attacked a checkpoint in Mosul."
    )
    incidents = extractor.extract(
        Article(id="two", body=body, language="en", published_at=datetime(2021, 2, 24, tzinfo=UTC))
    )
    assert [i.weapon.category if i.weapon else None for i in incidents] == [
        "vehicle_bomb",
        "firearm",
    ]
    assert incidents[0].event_date == "2021-02-22" and incidents[1].event_date == "2021-02-23"
    assert date.fromisoformat(incidents[0].event_date) < date(2021, 2, 24)


def test_from_config_reads_another_folder(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    # A lexicon of our own: "tube bomb" as a vehicle bomb, to see the folder is the one read.
    weapons = config / "lexicons" / "weapons.yaml"
    text = weapons.read_text(encoding="utf-8")
    weapons.write_text(text.replace("[car bomb,", "[tube bomb, car bomb,", 1), encoding="utf-8")
    extractor = Extractor.from_config(config)
    published = datetime(2021, 2, 24, tzinfo=UTC)
    [inc] = extractor.extract(Article(id="a", body=REPORT, language="en", published_at=published))
    assert inc.weapon is not None and inc.weapon.category == "rocket"
    body = "A tube bomb exploded in Kirkuk on Monday."
    [own] = extractor.extract(Article(id="b", body=body, language="en", published_at=published))
    assert own.weapon is not None and own.weapon.category == "vehicle_bomb"
