"""The extractor end to end on the seed articles and GTD-like English reports."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from streams.extract.engine import Extractor, get_extractor, incident_id
from streams.ingest import parse_article
from streams.records import Article, Incident, Location
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
            # One named man shot dead: 1, or no count where a bare name is not counted.
            {0, 1},
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
    killed: int | set[int] | None,
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
    allowed = killed if isinstance(killed, set) else {killed or 0}
    assert (inc.counts.killed.value if inc.counts.killed else 0) in allowed
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
        # talks on stopping rocket fire, football, a train crash, a toll with no attack
        "تباينت أمس المواقف بين الرئيس الفلسطيني والفصائل بشأن التهدئة ووقف إطلاق الصواريخ .",
        "وقال إن فرق الدوري الإنجليزي الممتاز ستنتفض لمواجهة الصاروخ القادم واصفا إياه "
        "بالهجوم القوي .",
        "أسفر حادث التصادم بين قطاري المنصورة وبنها عن رحيل 56 مواطنا وإصابة 143 آخرين .",
        "وأشار مسؤول في الشرطة إلى أن 77 شخصا قتلوا في الإقليم الساحلي .",
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


# --- Arabic news patterns -------------------------------------------------------------------


def extract_ar(extractor: Extractor, body: str) -> list[Incident]:
    article = Article(
        id="ar", body=body, language="ar", published_at=datetime(2006, 8, 1, tzinfo=UTC)
    )
    return extractor.extract(article)


def actor_name(incident: Incident) -> str | None:
    return incident.actor.name if incident.actor else None


@pytest.mark.parametrize(
    ("body", "category", "actor"),
    [
        # the subject of the attack verb, and aircraft make an air raid
        (
            "شنت الطائرات الإسرائيلية غارات على بلدة بنت جبيل أمس .",
            "airstrike",
            "Israel Defense Forces",
        ),
        (
            "جاء ذلك بعد ساعات من قصف الطيران الإسرائيلي مبنى بحي الزيتون شرق مدينة غزة .",
            "airstrike",
            "Israel Defense Forces",
        ),
        (
            "وقصفت طائرة مروحية إسرائيلية منزلا في مخيم جباليا شمال قطاع غزة .",
            "airstrike",
            "Israel Defense Forces",
        ),
        # "قصف" without aircraft is shelling; named mortars and artillery
        ("وقتل ثلاثة مدنيين في قصف مدفعي استهدف بلدة بنت جبيل .", "artillery", None),
        ("وقتل صبي إثر سقوط قذيفة هاون على حي المعتصم بسامراء .", "mortar", None),
        # "فجر أمس" is dawn, not a bombing
        (
            "توغلت دبابات فجر أمس في بيت حانون ما أدى إلى إصابة خمسة مواطنين بنيران الجنود .",
            "firearm",
            None,
        ),
        # armed forces are no gunmen
        (
            "وأعلنت القيادة العامة للقوات المسلحة العراقية قتل تسعة في مناطق متفرقة من بغداد .",
            None,
            "Iraqi security forces",
        ),
    ],
)
def test_arabic_weapon_and_actor(
    extractor: Extractor, body: str, category: str | None, actor: str | None
) -> None:
    [inc] = extract_ar(extractor, body)
    assert (inc.weapon.category if inc.weapon else None) == category
    assert actor_name(inc) == actor


@pytest.mark.parametrize(
    ("body", "actor", "attribution"),
    [
        (
            "فقد أعلن الجيش الأميركي أنه قتل ثمانية مسلحين خلال مداهمات في بعقوبة .",
            "US military",
            "claimed",
        ),
        (
            "وأعلنت القوات العراقية أنها قتلت سبعة مسلحين في حي العامل ببغداد .",
            "Iraqi security forces",
            "claimed",
        ),
        (
            "من جهتها أعلنت سرايا القدس مسؤوليتها عن إطلاق قذيفة صاروخية على ناقلة جند .",
            "Palestinian Islamic Jihad",
            "claimed",
        ),
        (
            "وهاجمت القوات الحكومية السودانية بلدة قرب مدينة الفاشر .",
            "Sudanese Armed Forces",
            "reported",
        ),
    ],
)
def test_arabic_attribution(extractor: Extractor, body: str, actor: str, attribution: str) -> None:
    [inc] = extract_ar(extractor, body)
    assert inc.actor is not None
    assert (inc.actor.name, inc.actor.attribution) == (actor, attribution)


@pytest.mark.parametrize(
    ("body", "canonical"),
    [
        # the place a compass word orients by is not the scene
        ("وفي بعقوبة شمال بغداد قتل ثلاثة مدنيين في انفجار عبوة ناسفة .", "Baqubah"),
        ("وفي محافظة ديالى شمال شرق بغداد قتل أربعة مدنيين في هجمات متفرقة .", "Diyala"),
        # a dateline is where the reporter is
        ("بيروت ـ من مراسلنا : قتل ضابط إسرائيلي في اشتباك قرب مدينة بعلبك اللبنانية .", "Baalbek"),
        # a town named without a locative word stands in when nothing better is named
        ("الفلوجة وقتل مسلحون شرطيا في المدينة .", "Fallujah"),
        ("وتقول الشرطة إن الانفجار وقع أمام مبنى محكمة مدينة كركوك .", "Kirkuk"),
    ],
)
def test_arabic_place_chosen(extractor: Extractor, body: str, canonical: str) -> None:
    [inc] = extract_ar(extractor, body)
    assert inc.location is not None
    assert canonical.lower() in {
        inc.location.canonical.lower(),
        (inc.location.admin1 or "").lower(),
    }


def test_place_named_as_reference_without_another_town(extractor: Extractor) -> None:
    """ "west of Rutbah, Al Anbar": Rutbah is still the nearest place the text gives."""
    body = (
        "03/10/2017: Assailants equipped with explosives-carrying drones attacked an Iraqi "
        "Volunteer Forces headquarters west of Rutbah, Al Anbar, Iraq."
    )
    [inc] = extractor.extract(Article(id="r", body=body, language="en"))
    assert inc.location is not None and "rutb" in inc.location.canonical.lower()


def test_town_the_gazetteer_lacks_is_placed_in_the_region_after_it(extractor: Extractor) -> None:
    body = (
        "04/02/2012: An explosive device detonated near a liquefied natural gas pipeline in "
        "Balhaf town, Shabwah governorate, Yemen."
    )
    [inc] = extractor.extract(Article(id="s", body=body, language="en"))
    assert inc.location is not None
    assert (inc.location.canonical, inc.location.admin1) == ("Balhaf", "Shabwah")
    assert inc.location.geonameid is None  # named by the text, not a gazetteer place


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "وجددت إسرائيل قصفها مساء امس لضاحية بيروت الجنوبية وكان طيران الاحتلال قد شن "
            "سلسلة غارات على مدينة الهرمل ، ومن جانبها أطلقت المقاومة اللبنانية 20 صاروخا على "
            "صفد .",
            [
                ("artillery", "Israel Defense Forces"),
                ("airstrike", "Israel Defense Forces"),
                ("rocket", "Hezbollah"),
            ],
        ),
        (
            "استشهدت فتاة فلسطينية وأصيب عشرة مواطنين في مدينة رفح ، في وقت أصيب فيه ثلاثة "
            "آخرون خلال تبادل لإطلاق النار مع قوات الاحتلال في نابلس .",
            [(None, None), ("firearm", "Israel Defense Forces")],
        ),
        (
            "من جهتها أعلنت سرايا القدس مسؤوليتها عن قنص جندي إسرائيلي وإطلاق قذيفة صاروخية "
            "تجاه ناقلة جند ظهر أمس في شرق بلدة خزاعة جنوب قطاع غزة .",
            [("firearm", "Palestinian Islamic Jihad"), ("rocket", "Palestinian Islamic Jihad")],
        ),
        # clauses that tell one incident stay one
        (
            "وفي سنجار أصيب تسعة أشخاص بتفجير انتحاري ، فيما ذكرت الشرطة في وقت سابق أن 5 "
            "حراس قتلوا في الانفجار .",
            [("suicide_bomb", None)],
        ),
        (
            "وقتل في المقدادية ثلاثة مدنيين فيما أصيب حوالي 20 آخرين بسقوط قذيفتي هاون وانفجار "
            "عبوة ناسفة بسوق المدينة .",
            [("mortar", None)],
        ),
    ],
)
def test_incidents_of_one_sentence(
    extractor: Extractor, body: str, expected: list[tuple[str | None, str | None]]
) -> None:
    incidents = extract_ar(extractor, body)
    assert [(i.weapon.category if i.weapon else None, actor_name(i)) for i in incidents] == expected
    assert len({i.incident_id for i in incidents}) == len(incidents)
    assert all(i.location is not None for i in incidents)


def test_clauses_in_english(extractor: Extractor) -> None:
    body = "A car bomb exploded in Kirkuk, while gunmen attacked a checkpoint in Mosul."
    incidents = extractor.extract(Article(id="w", body=body, language="en"))
    assert [(i.weapon.category if i.weapon else None, admin1(i)) for i in incidents] == [
        ("vehicle_bomb", "Kirkuk"),
        ("firearm", "Nineveh"),
    ]


@pytest.mark.parametrize(
    ("body", "killed", "wounded"),
    [
        # a completed assassination kills one
        ("وفي الموصل اغتال مسلحون مسؤولا محليا وسط المدينة .", 1, None),
        # a toll stated exactly, with a party named: an incident even without place or weapon
        ("الجيش الاسرائيلي اعترف بمقتل ضابط من الوحدات الخاصة لديه وجرح اثنين .", 1, 2),
    ],
)
def test_tolls(extractor: Extractor, body: str, killed: int | None, wounded: int | None) -> None:
    [inc] = extract_ar(extractor, body)
    assert (inc.counts.killed.value if inc.counts.killed else None) == killed
    assert (inc.counts.wounded.value if inc.counts.wounded else None) == wounded


def test_toll_of_the_earlier_event_is_not_this_ones(extractor: Extractor) -> None:
    body = (
        "09/01/2013: A roadside bomb detonated near a Pakistani military convoy in Boya area, "
        "Federally Administered Tribal Areas, Pakistan. At least nine Pakistani soldiers were "
        "killed in the blast. A spokesperson for Mujahideen Ansar claimed responsibility for the "
        "attack, stating that it was in retaliation for a drone strike the previous day, which "
        "killed four members of the Turkistan Islamic Party."
    )
    [inc] = extractor.extract(Article(id="t", body=body, language="en"))
    assert inc.counts.killed is not None and inc.counts.killed.value == 9


def test_a_suspicion_about_the_attack_before_is_not_the_next_ones(extractor: Extractor) -> None:
    body = (
        "قتل خمسة أشخاص وأصيب عشرة آخرون بانفجار سيارة مفخخة في سوق شعبي بمدينة الحلة صباح "
        "اليوم. ولم تتبن أي جهة مسؤولية الهجوم، فيما يشتبه بأن تنظيم القاعدة يقف وراءه. وفي "
        "الموصل، قتل شرطيان برصاص مسلحين مجهولين."
    )
    first, second = extract_ar(extractor, body)
    assert (actor_name(first), first.actor.attribution if first.actor else None) == (
        "al-Qaeda",
        "suspected",
    )
    assert actor_name(second) is None


def test_a_new_clause_names_its_own_doer(extractor: Extractor) -> None:
    """After "بينما" another act is told: the forces of the first clause did not plant the bomb."""
    body = (
        "قالت وزارة الداخلية إن قوات الأمن قتلت ثلاثة مسلحين في اشتباك بمنطقة الطارمية، بينما "
        "أصيب جندي بانفجار عبوة ناسفة في الفلوجة."
    )
    clash, bombing = extract_ar(extractor, body)
    assert clash.weapon is not None and clash.weapon.category == "firearm"
    assert actor_name(clash) == "Iraqi security forces"
    assert bombing.weapon is not None and bombing.weapon.category == "ied"
    assert actor_name(bombing) is None


@pytest.mark.parametrize(
    ("body", "place", "admin1", "country"),
    [
        # GeoNames knows El Plateado only in Mexico: the text puts it in Colombia's Cauca.
        (
            "On 30 January 2025, in El Plateado (Cauca), FARC dissidents dropped explosives "
            "from drones in a park, killing two civilians.",
            "El Plateado",
            "Cauca",
            "CO",
        ),
        # GeoNames' Bragh is Prague: the village is in Erbil province.
        (
            "On 26 June 2021, unknown militants targeted civilian properties with three "
            "suicide-drones near Bragh village, Erbil province.",
            "Bragh",
            "Erbil",
            "IQ",
        ),
        # A namesake in another region of the same country (Zaragoza, Antioquia).
        (
            "On 15 January 2025, in Zaragoza (Valle del Cauca), suspected FARC dissidents "
            "attacked a police station with explosive drones.",
            "Zaragoza",
            "Valle del Cauca",
            "CO",
        ),
    ],
)
def test_town_named_with_another_region_is_placed_in_it(
    extractor: Extractor, body: str, place: str, admin1: str, country: str
) -> None:
    [inc] = extractor.extract(Article(id="acled", body=body, language="en"))
    loc = inc.location
    assert loc is not None
    assert (loc.name, loc.precision, loc.admin1, loc.country_code) == (
        place,
        "city",
        admin1,
        country,
    )
    assert loc.geonameid is None  # not the namesake's id


@pytest.mark.parametrize(
    ("body", "town", "region"),
    [
        (
            "Gunmen killed three police officers in Paracuaro, Michoacan, on Tuesday, "
            "officials said.",
            "Paracuaro",
            "Michoacan",
        ),
        (
            "Assailants opened fire on a bus in Los Hoyos, Michoacan de Ocampo, killing two "
            "people.",
            "Los Hoyos",
            "Michoacan",
        ),
    ],
)
def test_a_town_followed_by_its_region_is_the_place(
    extractor: Extractor, body: str, town: str, region: str
) -> None:
    # The region is nearer the event word, yet the town before it says where it happened.
    [inc] = extractor.extract(Article(id="s", body=body, language="en"))
    assert inc.location is not None
    assert (inc.location.canonical, inc.location.admin1) == (town, region)
    assert inc.location.precision == "city"


def test_drones_downed_over_a_city_are_located_there(extractor: Extractor) -> None:
    body = "Two explosives-laden drones were shot down by air defenses over Riyadh, Saudi Arabia."
    [inc] = extractor.extract(Article(id="over", body=body, language="en"))
    assert inc.location is not None
    assert (inc.location.canonical, inc.location.admin1) == ("Riyadh", "Riyadh")


def test_scene_set_in_an_earlier_sentence_locates_the_incident(extractor: Extractor) -> None:
    body = (
        "Fighting resumed in Kawkareik township, Kayin state, on Monday. "
        "Three soldiers died in a drone strike on the army post."
    )
    [inc] = extractor.extract(Article(id="scene", body=body, language="en"))
    assert inc.location is not None
    assert inc.location.admin1 == "Kayin"


@pytest.mark.parametrize(
    ("body", "place", "precision", "admin1"),
    [
        # the record says where it codes the event, even a place the gazetteer lacks
        ("On 2 May 2024, unknown militants attacked a police post in the municipality of "
         "Chilapa (coded to El Jaguey), Guerrero, with explosive drones.",
         "El Jaguey", "city", "Guerrero"),
        ("On 5 March 2024, a drone struck an army checkpoint in the Golan Heights, coded to "
         "Majdal Shams (Quneitra). No casualties were reported.",
         "Majdal Shams", "city", "Quneitra"),
        # the land around a town yields to the town named in it...
        ("On 8 June 2024, a drone by unknown forces struck a truck in Hajin town in the eastern "
         "countryside of Deir ez Zor, killing two men.", "Hajin", "city", "Deir ez-Zor"),
        # ...not to its own region
        ("On 9 June 2024, drones targeted QSD positions in the western countryside of Ein Issa "
         "in Ar-Raqqa.", "Ein Issa", "city", "Raqqa"),
        # a village spelled like a Turkish town lies in the land the sentence names
        ("On 10 June 2024, an unidentified drone struck a weapons depot of pro-Iran militias in "
         "Ayyash in the countryside of Deir ez Zor.", "Ayyash", "city", "Deir ez-Zor"),
        # a site the gazetteer lacks, named with its kind
        ("On 11 June 2024, Islamic Resistance in Iraq attacked the Coalition base at the Conoco "
         "Gas Field in the countryside of Deir ez Zor with drones.",
         "Conoco Gas Field", "landmark", "Deir ez-Zor"),
        # but a site next to a known town is placed at the town
        ("On 12 June 2024, Houthi drones targeted King Khalid Air Base near Khamis Mushait, "
         "Asir, Saudi Arabia.", "Khamis Mushait", "city", "Asir"),
        # "in X, Region, Country": X is a town of that region
        ("On 13 June 2024, gunmen opened fire on a checkpoint in Qarat Shiha, Diyala, Iraq, "
         "killing two soldiers.", "Qarat Shiha", "city", "Diyala"),
        ("On 14 June 2024, in Yebyu township (Dawei district, Tanintharyi region), resistance "
         "forces attacked a military column with drones.", "Yebyu", "city", "Tanintharyi"),
        ("On 15 June 2024, a suicide drone struck regime positions on the Kbana axis in the "
         "countryside of Latakia.", "Kbana", "city", "Latakia"),
        # an area of a district is the place; an area of a named town is the town
        ("On 17 June 2024, PKK militants attacked Turkish army positions in the Gire Sipi area "
         "in the Al Amadiya district of Duhok with drones.", "Gire Sipi", "city", "Duhok"),
        ("On 18 June 2024, a bomb exploded in the Gulshan area, Karachi city, Sindh province, "
         "killing one.", "Karachi", "city", "Sindh"),
        # incident records name a part of a town after the town
        ("On 12 March 2024, an armed group targeted a market in Khartoum - Soba (Khartoum, "
         "Khartoum) with drones, killing 3 civilians.", "Khartoum - Soba", "district", "Khartoum"),
        # "in X in Y": a village of the region or of the land around a town...
        ("On 8 October 2023, an unidentified drone conducted airstrikes in Tayyana in rural "
         "Deir ez Zor, killing a civilian.", "Tayyana", "city", "Deir ez-Zor"),
        ("On 19 December 2023, unidentified forces struck a vehicle in the badia of Al Kharita "
         "in the countryside of Deir ez Zor.", "Al Kharita", "city", "Deir ez-Zor"),
        # ...but a site of a town is no village, nor is a university's namesake
        ("On 27 July 2019, assailants opened fire on a soldier near Al-Thawra Hospital in Taizz, "
         "Yemen.", "Taizz", "city", "Taiz"),
        ("Alleged Islamic State drones dropped bombs around University of Euphrates in "
         "Deir-ez-Zor, injuring regime soldiers.", "Deir-ez-Zor", "city", "Deir ez-Zor"),
        # a local area, told from a known region by its own region after it
        ("On 29 May 2024, AQAP drones targeted security forces stationed in the Wadi Hatat "
         "region (Jayshan, Abyan), wounding one.", "Wadi Hatat", "city", "Abyan"),
        # "X (Y)": the name in brackets is the one the place is known by
        ("On 14 July 2024, PKK militants attacked Turkish army forces in Sergele (Sargali) area "
         "in Al Amadiya district of Duhok.", "Sergele", "city", "Duhok"),
        # "Town, Country": a town named like its region is the town
        ("On 3 April 2021, air defences intercepted a drone targeting Jazan, Saudi Arabia.",
         "Jazan", "city", "Jazan"),
        # a region nearer the event word stands for the first place listed in it
        ("On 9 April 2024, in Kyon Doe village (Kawkareik township, Kawkareik district, Kayin "
         "state), an unidentified armed group conducted drone strikes by dropping three bombs "
         "on the township administration office.", "Kyon Doe", "city", "Kayin"),
        # a site named with its kind, with no preposition before it
        ("On 25 July 2024, unknown forces targeted Menagh Military Airbase in Aleppo "
         "countryside with a drone.", "Menagh Military Airbase", "landmark", "Aleppo"),
        ("On 2 February 2025, a suicide drone struck the Khor Mor Gas Field (Chamchamal, Al "
         "Sulaymaniyah), causing damage.", "Khor Mor Gas Field", "landmark", "Sulaymaniyah"),
        # a longer name than the known one at its head is another place
        ("On 13 June 2021, a drone struck a school in Dhahran al-Janub district, Asir, Saudi "
         "Arabia.", "Dhahran al-Janub", "city", "Asir"),
        # the state after an unknown town, not the state's namesake village elsewhere
        ("On 4 January 2025, in Los Naranjos, Michoacan de Ocampo, two drones exploded at the "
         "exit of the town.", "Los Naranjos", "city", "Michoacan"),
        # an area of a region, or struck by name
        ("On 26 August 2024, PKK forces attacked Turkish army units in Gire Kuro area of Duhok "
         "with drones.", "Gire Kuro", "city", "Duhok"),
        ("On 24 June 2020, an unidentified drone targeted Kafr Uwayd area in the southern "
         "countryside of Idleb.", "Kafr Uwayd", "city", "Idlib"),
        # but a neighbourhood of a town named with it is the town
        ("Assailants attacked Meshlab neighborhood in Raqqah, Syria, with drones.",
         "Raqqah", "city", "Raqqa"),
        # a district the gazetteer lacks, or knows only by a shorter namesake abroad
        ("On 3 May 2019, an explosive device detonated near a police post in Zana Khan "
         "district, Ghazni province, Afghanistan.", "Zana Khan", "city", "Ghazni"),
        ("On 4 May 2019, assailants bombed an oil pipeline in Mafraq al-Sa'id district, "
         "Shabwah, Yemen.", "Mafraq al-Sa'id", "city", "Shabwah"),
        # a district of a town named with it: the town is the place
        ("On 5 May 2019, gunmen shot a judge in Habra district, Sanaa city, Amanat Al Asimah "
         "governorate, Yemen.", "Sanaa", "city", "Amanat al-Asimah"),
        # a party "coded as" is not a place
        ("On 16 June 2024, a drone strike by an unidentified group (coded as Unidentified Armed "
         "Group) hit a fuel truck near Gao (Gao, Gao).", "Gao", "city", "Gao"),
    ],
)  # fmt: skip
def test_the_most_specific_place_the_record_names(
    extractor: Extractor, body: str, place: str, precision: str, admin1: str
) -> None:
    loc = only_location(extractor, body)
    assert (loc.name, loc.precision, loc.admin1) == (place, precision, admin1)


def only_location(extractor: Extractor, body: str) -> Location:
    """The location of the one incident an English incident record yields."""
    [inc] = extractor.extract(Article(id="acled", body=body, language="en"))
    assert inc.location is not None
    return inc.location


def test_a_later_coded_to_sentence_places_an_unplaced_incident(extractor: Extractor) -> None:
    body = (
        "On 2 December 2024, the Islamic Resistance in Iraq launched a drone toward northern "
        "Israel, which crashed in an open area. No casualties occurred. Coded to Safed "
        "(Zefat, HaZafon). The Islamic Resistance in Iraq launched the drone, claiming it "
        "targeted a vital site."
    )
    loc = only_location(extractor, body)
    assert (loc.name, loc.country_code) == ("Safed", "IL")


def test_a_later_coded_as_about_another_place_leaves_a_placed_incident(
    extractor: Extractor,
) -> None:
    body = (
        "On 23 May 2023, in Ka Ne Lay village (Myawaddy township, Myawaddy district, Kayin "
        "state), the KNLA carried out a drone attack on a military camp, killing nine soldiers. "
        "Fatalities split across three villages (Maw Khee which coded as Myawaddy)."
    )
    assert only_location(extractor, body).name == "Ka Ne Lay"


def test_a_name_in_brackets_is_the_canonical_name_of_an_unlisted_place(
    extractor: Extractor,
) -> None:
    body = (
        "On 14 July 2024, PKK militants attacked Turkish army forces in Sergele (Sargali) area "
        "in Al Amadiya district of Duhok."
    )
    loc = only_location(extractor, body)
    assert (loc.name, loc.canonical) == ("Sergele", "Sargali")


def test_a_scene_set_in_the_next_sentence_places_an_unplaced_incident(
    extractor: Extractor,
) -> None:
    body = (
        "A house was bombed by two missiles launched from a drone, killing three people. "
        "The strike took place in Khan Yunis."
    )
    assert only_location(extractor, body).name == "Khan Yunis"
