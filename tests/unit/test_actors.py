"""Actors and attribution: doers vs victims, claims, accusations with the accuser, suspicions."""

from __future__ import annotations

import pytest

from streams.extract.actors import (
    Attribution,
    actor_matches,
    actor_mentions,
    attribute,
    best_attribution,
    display_name,
)
from streams.extract.lexicon import Lexicons, NormText, load_lexicons
from streams.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def lexicons() -> Lexicons:
    return load_lexicons(PROJECT_ROOT / "config" / "lexicons")


def attribute_sentence(
    lex: Lexicons, text: str, *, speakers: tuple[str, ...] = ()
) -> Attribution | None:
    nt = NormText(text)
    matches = lex.scan(nt)
    mentions = actor_mentions(matches, nt)
    return best_attribution(attribute(matches, nt, mentions, context_speakers=speakers))


@pytest.mark.parametrize(
    ("text", "name", "attribution", "by"),
    [
        # reported: the text states the doer
        (
            'وقبل نحو شهر نفذ "داعش" هجوماً انتحارياً مزدوجاً في ساحة الطيران',
            "Islamic State",
            "reported",
            None,
        ),
        (
            "يذكر أن الهجمات الداعشية تكررت الثلاثاء في قضاء الطارمية",
            "Islamic State",
            "reported",
            None,
        ),
        (
            "شنت القوى الأمنية عملية مداهمة على تجمع لعناصر من داعش",
            "Security forces",
            "reported",
            None,
        ),
        ("ISIS militants attacked an army post near Kirkuk.", "Islamic State", "reported", None),
        (
            "Islamic State armed drone targeted Syrian Arab Army soldiers.",
            "Islamic State",
            "reported",
            None,
        ),
        (
            "PKK militants reportedly hit Turkish Military forces on the hill.",
            "PKK",
            "reported",
            None,
        ),
        # claimed, and a negated claim that is no claim
        ("The Taliban claimed responsibility for the attack.", "Taliban", "claimed", None),
        (
            "Houthi extremists (Ansar Allah) claimed responsibility for the incident.",
            "Houthis",
            "claimed",
            None,
        ),
        ("وتبنى تنظيم داعش الهجوم في بيان.", "Islamic State", "claimed", None),
        (
            "No group claimed responsibility for the incident; however, sources attributed the "
            "attack to Houthi extremists (Ansar Allah).",
            "Houthis",
            "suspected",
            None,
        ),
        # accused, with the accuser
        (
            "Washington holds Iran responsible for the rocket attacks.",
            "Iran",
            "accused",
            "United States",
        ),
        (
            "وكانت وزارة الخارجية الأميركية قد اتهمت مساء الاثنين إيران بالمسؤولية عن الهجمات "
            "الصاروخية",
            "Iran",
            "accused",
            "United States",
        ),
        (
            "The United States accused Kataib Hezbollah of the attack.",
            "Kataib Hezbollah",
            "accused",
            "United States",
        ),
        # suspected
        (
            "Authorities suspected that a pro-Russia militia may have carried out the attack.",
            "Pro-Russia Militia",
            "suspected",
            None,
        ),
        ("The Taliban was suspected to be responsible.", "Taliban", "suspected", None),
        ("ويعتقد أن حزب العمال الكردستاني يقف وراء الهجوم", "PKK", "suspected", None),
        # a force announcing killings it made claims them
        ("فقد أعلن الجيش الأميركي أنه قتل ثمانية في بعقوبة", "US military", "claimed", None),
        (
            "كما أعلنت القيادة العامة للقوات المسلحة العراقية قتل تسعة في مناطق متفرقة من بغداد",
            "Iraqi security forces",
            "claimed",
            None,
        ),
        (
            "وأعلنت القوات العراقية أيضا أنها قتلت سبعة وجرحت ثلاثة",
            "Iraqi security forces",
            "claimed",
            None,
        ),
        (
            "The Iraqi army said it killed five militants near Rutbah.",
            "Iraqi security forces",
            "claimed",
            None,
        ),
        # the verb comes first in Arabic: its subject is the doer
        (
            "شنت الطائرات الإسرائيلية غارات على بلدة بنت جبيل",
            "Israel Defense Forces",
            "reported",
            None,
        ),
        ("وواصل الطيران الإسرائيلي غاراته على القطاع", "Israel Defense Forces", "reported", None),
        ("قام الجيش الإسرائيلي بعملية إنزال قرب بعلبك", "Israel Defense Forces", "reported", None),
        (
            "وتحركت القوات الحكومية السودانية وهاجمت القرية",
            "Sudanese Armed Forces",
            "reported",
            None,
        ),
        ("ومن جانبها قصفت المقاومة اللبنانية شمال إسرائيل", "Hezbollah", "reported", None),
        ("وأطلقت قوات وزارة الداخلية النار على المسلحين", "Security forces", "reported", None),
    ],
)
def test_attribution(
    lexicons: Lexicons, text: str, name: str, attribution: str, by: str | None
) -> None:
    found = attribute_sentence(lexicons, text)
    assert found is not None
    assert (found.actor.name, found.attribution, found.by) == (name, attribution, by)


@pytest.mark.parametrize(
    "text",
    [
        # victims are not perpetrators
        "وأدت المداهمة والاشتباكات إلى مقتل خمسة عناصر من داعش",
        "A raid killed five ISIS members near Tarmiyah.",
        "A drone targeted a militant from ISIS in Al Mayadin city.",
        "An unidentified armed group targeted an HTS position in Idleb, killing 4 HTS fighters.",
        # the perpetrator is unknown: no actor rather than an "unknown" one
        "Unidentified gunmen opened fire on a tanker.",
        "فتح مسلحون مجهولون النار على دورية",
        # a threat is no accusation: "حمل" needs "المسؤولية" after the accused
        "حمل مسلحون السلاح في الشارع",
        # an army announcing its own dead claims nothing
        "وأعلن الجيش الأميركي مقتل جندي في الأنبار",
        "The army said two soldiers were killed in the blast.",
        # the parties "between" whom a truce holds are not the doers
        "في عملية هي الأولى منذ وقف العمليات الحربية بين إسرائيل وحزب الله",
        # a suspect's links name the group he belongs to, not who attacked
        "خلال مداهمات استهدفت شخصا يشتبه في صلته بقيادات بتنظيم القاعدة",
        # "قتلوا" after a name: "were killed" is read before "killed"
        "ان هؤلاء الجنود الاسرائيليين الذين قتلوا بمواجهات",
        # what was damaged did not strike
        "explosions occurred near the airfield, damaging a Russian military aircraft.",
    ],
)
def test_no_perpetrator(lexicons: Lexicons, text: str) -> None:
    assert attribute_sentence(lexicons, text) is None


def test_defenders_are_not_perpetrators(lexicons: Lexicons) -> None:
    found = attribute_sentence(
        lexicons,
        "Security forces identified and shot down an explosives-laden drone launched by the "
        "Houthis.",
    )
    assert found is not None and found.actor.name == "Houthis"


def test_accuser_from_the_sentences_before(lexicons: Lexicons) -> None:
    text = 'كما حمّل "إيران مسؤولية ميليشياتها في العراق وتورطها في الهجمات المتكررة"'
    found = attribute_sentence(lexicons, text, speakers=("United States",))
    assert found is not None
    assert (found.actor.name, found.attribution, found.by) == ("Iran", "accused", "United States")


def test_future_accusation_still_names_accuser(lexicons: Lexicons) -> None:
    text = (
        "وصرح المتحدث باسم الخارجية الأميركية، نيد برايس: "
        '"سنحمّل إيران المسؤولية عن أفعال أتباعها الذين يهاجمون الأميركيين"'
    )
    found = attribute_sentence(lexicons, text)
    assert found is not None
    assert (found.actor.name, found.attribution, found.by) == ("Iran", "accused", "United States")


def test_group_anaphor_resolves_to_last_group(lexicons: Lexicons) -> None:
    nt = NormText("وكانت هجمات فلول التنظيم تصاعدت في الفترة الأخيرة")
    mentions = actor_mentions(lexicons.scan(nt), nt, last_group="Islamic State")
    assert [(m.name, m.anaphor, m.role) for m in mentions] == [("Islamic State", True, "agent")]


@pytest.mark.parametrize(
    ("name", "country", "expected"),
    [
        ("Security forces", "IQ", "Iraqi security forces"),
        ("Security forces", "SD", "Sudanese Armed Forces"),
        ("Security forces", "IL", "Israel Defense Forces"),
        ("Security forces", "SY", "Syrian armed forces"),
        ("Security forces", None, "Security forces"),
        ("Taliban", "PK", "Tehrik-i-Taliban Pakistan (TTP)"),
        ("Taliban", "AF", "Taliban"),
    ],
)
def test_display_name_by_country(
    lexicons: Lexicons, name: str, country: str | None, expected: str
) -> None:
    assert display_name(lexicons.actors[name], country) == expected


@pytest.mark.parametrize(
    ("name", "gname", "same"),
    [
        ("Islamic State", "Islamic State of Iraq and the Levant (ISIL)", True),
        ("Houthis", "Houthi extremists (Ansar Allah)", True),
        ("AQAP", "AQAP: Al Qaeda in the Arabian Peninsula", True),
        ("PKK", "PKK: Kurdistan Workers Party", True),
        ("Popular Mobilization Forces", "Popular Mobilization Forces (Iraq)", True),
        ("Israel Defense Forces", "Military Forces of Israel", True),
        ("US military", "Military Forces of the United States", True),
        ("Sudanese Armed Forces", "Military Forces of Sudan", True),
        ("Taliban", "Tehrik-i-Taliban Pakistan (TTP)", False),
        ("Hamas", "Hezbollah", False),
        (None, "Taliban", False),
    ],
)
def test_actor_matches_gtd_names(
    lexicons: Lexicons, name: str | None, gname: str, same: bool
) -> None:
    assert actor_matches(name, gname, lexicons.actors) is same


def test_a_bare_group_far_from_the_event_is_context(lexicons: Lexicons) -> None:
    """A group named without a role word is weakly the doer only near an event word."""
    near = attribute_sentence(lexicons, "قتل جنديان في هجوم نفذته حركة طالبان")
    assert near is not None and near.actor.name == "Taliban"
    far = attribute_sentence(
        lexicons,
        "On 22 March 2021, unidentified drones targeted the oil wells in the desert of "
        "Al-Bukamal in the countryside of Deir-ez-Zor, which are under the control of pro-Iran "
        "militias.",
    )
    assert far is None


def test_a_state_speaks_and_its_forces_act(lexicons: Lexicons) -> None:
    """ "إسرائيل" and "Washington" are states (accusers, speakers); their armies act."""
    assert lexicons.actors["Israel"].kind == "state"
    assert lexicons.actors["Israel Defense Forces"].kind == "state_forces"
    assert lexicons.actors["US military"].kind == "state_forces"
    found = attribute_sentence(lexicons, "اتهمت إسرائيل حزب الله بإطلاق الصواريخ على حيفا")
    assert found is not None
    assert (found.actor.name, found.attribution, found.by) == ("Hezbollah", "accused", "Israel")
