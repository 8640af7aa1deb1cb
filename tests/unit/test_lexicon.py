"""Lexicon loading, validation and matching: Arabic clitics, spans as written, overlap policy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from streams.extract.lexicon import (
    Entry,
    LexiconError,
    Lexicons,
    Match,
    Matcher,
    NormText,
    load_lexicons,
    resolve_overlaps,
)
from streams.extract.text import LexiconError as TextLexiconError
from streams.settings import PROJECT_ROOT

LEXICON_DIR = PROJECT_ROOT / "config" / "lexicons"


@pytest.fixture(scope="module")
def lexicons() -> Lexicons:
    return load_lexicons(LEXICON_DIR)


def weapons_in(lex: Lexicons, text: str) -> list[tuple[str, str]]:
    """(category, text as written) of every weapon found in ``text``."""
    return [(m.entry.label, m.text) for m in lex.scan(NormText(text)) if m.kind == "weapon"]


@pytest.mark.parametrize(
    ("text", "category", "written"),
    [
        ("واستهدفت صواريخ كاتيوشا محيط السفارة", "rocket", "صواريخ كاتيوشا"),
        ("بحوالي 14 صاروخاً", "rocket", "صاروخاً"),
        ("أطلق صاروخين على القاعدة", "rocket", "صاروخين"),
        ("سقطت قذيفة هاون قرب المطار", "mortar", "قذيفة هاون"),
        ("تم قصف مواقع القوات", "artillery", "تم قصف"),
        ("نفذ داعش هجوماً انتحارياً مزدوجاً", "suicide_bomb", "هجوماً انتحارياً"),
        ("فجر انتحاري حزاماً ناسفاً", "suicide_bomb", "حزاماً ناسفاً"),
        ("انفجرت عبوة ناسفة على جانب الطريق", "ied", "عبوة ناسفة على جانب الطريق"),
        ("انفجار سيارة مفخخة في السوق", "vehicle_bomb", "انفجار سيارة مفخخة"),
        ("وقتل ثلاثة بانفجار سيارة قرب الجامع", "vehicle_bomb", "انفجار سيارة"),
        ("وأدت المداهمة والاشتباكات التي تلتها", "firearm", "الاشتباكات"),
        ("شنت طائرات حربية غارة جوية", "airstrike", "غارة جوية"),
        ("هجوم بطائرة مسيرة مفخخة", "drone", "هجوم بطائرة مسيرة"),
        ("أسقطت الدفاعات درون", "drone", "درون"),
        ("ألقى مسلح قنبلة يدوية", "grenade", "قنبلة يدوية"),
        ("هز انفجار العاصمة", "explosive", "انفجار"),
        ("أقدم مجهولون على إحراق سيارات", "incendiary", "إحراق"),
        ("قتل شاب طعناً بسكين", "melee", "طعناً"),
        ("Assailants fired three Katyusha rockets", "rocket", "Katyusha rockets"),
        ("mortar shells landed near the base", "mortar", "mortar shells"),
        ("a suicide bomber detonated his vest", "suicide_bomb", "suicide bomber"),
        ("a roadside bomb struck a patrol", "ied", "roadside bomb"),
        ("a VBIED exploded at the gate", "vehicle_bomb", "VBIED"),
        ("an explosives-laden motorcycle detonated", "vehicle_bomb", "explosives-laden motorcycle"),
        ("gunmen opened fire on a checkpoint", "firearm", "gunmen"),
        ("an airstrike hit the village", "airstrike", "airstrike"),
        ("a UAV dropped a grenade", "drone", "UAV"),
        ("assailants threw a hand grenade", "grenade", "hand grenade"),
        ("the blast damaged shops", "explosive", "blast"),
        ("arson destroyed the office", "incendiary", "arson"),
        ("he was stabbed near the mosque", "melee", "stabbed"),
        # aircraft named without a strike word, helicopter fire read as an air strike
        ("بنيران أطلقتها طائرة مروحية", "airstrike", "طائرة مروحية"),
        ("وتقصفها بطائرات انتونوف", "airstrike", "طائرات انتونوف"),
        ("كما أغارت طائرات عديدة على المنطقة", "airstrike", "أغارت"),
        ("an attack helicopter fired on the convoy", "airstrike", "attack helicopter"),
        ("قصف مدفعي على البلدة", "artillery", "قصف مدفعي"),
        ("سقطت قذائف الهاون على الحي", "mortar", "قذائف الهاون"),
        ("استشهد ثلاثة بنيران الجيش", "firearm", "بنيران"),
    ],
)
def test_weapon_forms(lexicons: Lexicons, text: str, category: str, written: str) -> None:
    assert (category, written) in weapons_in(lexicons, text)


@pytest.mark.parametrize(
    ("category", "gtd_type", "gtd_subtype"),
    [
        ("rocket", "Explosives", "Projectile (rockets, mortars, RPGs, etc.)"),
        ("mortar", "Explosives", "Projectile (rockets, mortars, RPGs, etc.)"),
        ("artillery", "Explosives", "Projectile (rockets, mortars, RPGs, etc.)"),
        ("vehicle_bomb", "Explosives", "Vehicle"),
        ("suicide_bomb", "Explosives", "Suicide (carried bodily by human being)"),
        ("grenade", "Explosives", "Grenade"),
        ("explosive", "Explosives", "Unknown Explosive Type"),
        ("ied", "Explosives", "Unknown Explosive Type"),
        ("drone", "Explosives", "Remote Trigger"),
        ("firearm", "Firearms", "Unknown Gun Type"),
        ("incendiary", "Incendiary", "Arson/Fire"),
        ("melee", "Melee", "Knife or Other Sharp Object"),
    ],
)
def test_categories_use_gtd_strings(
    lexicons: Lexicons, category: str, gtd_type: str, gtd_subtype: str
) -> None:
    found = lexicons.categories[category]
    assert (found.gtd_type, found.gtd_subtype) == (gtd_type, gtd_subtype)


def test_entry_subtype_overrides_category(lexicons: Lexicons) -> None:
    hits = [m for m in lexicons.scan(NormText("a land mine exploded")) if m.kind == "weapon"]
    assert ("ied", "Landmine") in [(m.entry.label, m.entry.get("gtd_subtype")) for m in hits]


@pytest.mark.parametrize(
    ("text", "quantity"),
    [("أطلقوا صاروخين", 2), ("قذيفتي هاون", 2), ("عبوتين ناسفتين", 2), ("انفجارين", 2)],
)
def test_dual_forms_carry_their_count(lexicons: Lexicons, text: str, quantity: int) -> None:
    hits = [m for m in lexicons.scan(NormText(text)) if m.kind == "weapon"]
    assert [m.entry.get("quantity") for m in hits] == [quantity]


@pytest.mark.parametrize(
    "text",
    [
        "توغلت الدبابات فجر أمس في المنطقة",  # dawn, not "detonated"
        "وقد سقطت القذائف فجرا",
        "دعا إلى وقف فوري لإطلاق النار",  # a ceasefire
        "بشأن التهدئة ووقف إطلاق الصواريخ",  # stopping rocket fire
        "أعلنت القيادة العامة للقوات المسلحة العراقية",  # armed forces, not gunmen
        "زار مصنع صواريخ في المدينة",
        "أعلنت قتل تسعة واعتقال مسلحين آخرين",  # gunmen arrested, no gunfire
    ],
)
def test_phrases_that_name_no_weapon_use(lexicons: Lexicons, text: str) -> None:
    assert [
        c for c, _ in weapons_in(lexicons, text) if c in ("explosive", "firearm", "rocket")
    ] == []


def test_loose_bombardment_ranks_below_aircraft_and_gunfire(lexicons: Lexicons) -> None:
    """ "قصف" alone is any bombardment: a named aircraft makes it an air strike, and beside
    clashes it is not the main weapon; "قصف مدفعي" stays artillery at the category's rank."""
    [loose] = [m for m in lexicons.scan(NormText("القصف")) if m.kind == "weapon"]
    [firm] = [m for m in lexicons.scan(NormText("القصف المدفعي")) if m.kind == "weapon"]
    [aircraft] = [m for m in lexicons.scan(NormText("طائرة مروحية")) if m.kind == "weapon"]
    assert loose.entry.label == firm.entry.label == "artillery"
    assert firm.entry.get("rank") == lexicons.categories["artillery"].rank
    assert loose.entry.get("rank") < aircraft.entry.get("rank")
    assert aircraft.entry.get("rank") < lexicons.categories["firearm"].rank


@pytest.mark.parametrize(
    ("text", "killed"),
    [("اغتال مسلحون مسؤولا محليا", 1), ("Gunmen assassinated a judge", 1), ("محاولة اغتيال", None)],
)
def test_completed_assassination_states_one_dead(
    lexicons: Lexicons, text: str, killed: int | None
) -> None:
    triggers = [m for m in lexicons.scan(NormText(text)) if m.kind == "trigger"]
    assert [m.entry.get("killed") for m in triggers] == [killed]


@pytest.mark.parametrize(
    ("text", "openers"),
    [
        ("قصفت إسرائيل الضاحية وكان الطيران قد شن غارات على الهرمل", ["وكان"]),
        ("استشهد فلسطيني في رفح، في وقت اعتقلت فيه القوات آخرين في نابلس", ["في وقت"]),
        ("عن قنص جندي وإطلاق قذيفة على ناقلة جند", ["وإطلاق"]),
        ("فيما ذكرت الشرطة في وقت سابق أن خمسة قتلوا", ["فيما"]),  # "earlier" opens nothing
        ("A bomb exploded in Kirkuk while gunmen attacked a checkpoint", ["while"]),
    ],
)
def test_clause_openers(lexicons: Lexicons, text: str, openers: list[str]) -> None:
    found = [m.text for m in lexicons.scan(NormText(text)) if m.kind == "clause"]
    assert found == openers


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("في بعقوبة شمال بغداد", "شمال"),
        ("في سنجار شمال غربي الموصل", "شمال غربي"),
        ("15 km north of Baghdad", "north of"),
    ],
)
def test_compass_words(lexicons: Lexicons, text: str, direction: str) -> None:
    found = [m.text for m in lexicons.scan(NormText(text)) if m.kind == "place:directions"]
    assert found == [direction]


# --- the matcher ---------------------------------------------------------------------------


@pytest.fixture
def matcher() -> Matcher:
    m = Matcher()
    m.add(Entry("weapon", "rocket", "rocket"), "ar", ["صاروخ", "صواريخ"])
    m.add(Entry("actor", "is", "Islamic State"), "ar", ["الدولة الإسلامية"])
    m.add(Entry("actor", "is", "Islamic State"), "en", ["IS", "Islamic State"])
    m.add(Entry("target", "embassy", "diplomatic mission"), "ar", ["سفارة"])
    m.add(Entry("weapon", "bomb", "explosive"), "en", ["bomb"])
    m.add(Entry("weapon", "car_bomb", "vehicle_bomb"), "en", ["car bomb"])
    m.add(Entry("verb", "respond", "future"), "ar", ["نرد"], clitics="verb")
    return m


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("وبالصواريخ", ["الصواريخ"]),  # the span starts at the article
        ("للدولة الإسلامية", ["للدولة الإسلامية"]),  # ل + ال written لل
        ("سفارتنا في بغداد", ["سفارت"]),  # taa marbuta before an attached pronoun
        ("صاروخٌ", ["صاروخٌ"]),  # the end stretches over removed marks
        ("الصواريخية", []),  # no unknown suffix
        ("مصاروخ", []),  # not a proclitic
        ("IS militants", ["IS"]),
        ("this is it", []),  # acronyms only in capitals
        ("a car bomb", ["car bomb"]),  # the longest entry wins
        ("bombs", []),  # English forms are whole words
        ("بالصواريخ10", ["الصواريخ"]),  # a figure glued to an Arabic word is a boundary
    ],
)
def test_matcher_boundaries(matcher: Matcher, text: str, found: list[str]) -> None:
    assert [m.text for m in matcher.scan(NormText(text))] == found


def test_spans_point_into_the_original_text(matcher: Matcher) -> None:
    text = "قصفٌ بـصواريخَ على القاعدة"
    [hit] = matcher.scan(NormText(text))
    assert text[hit.start : hit.end] == hit.text == "صواريخَ"


def test_verb_clitics_keep_the_future_prefix(matcher: Matcher) -> None:
    [hit] = matcher.scan(NormText("وسنرد بطريقة محسوبة"))
    assert hit.prefix == "وس"


def test_overlap_policy_is_per_kind() -> None:
    weapon = Entry("weapon", "w", "artillery")
    trigger = Entry("trigger", "t", "attack")
    blocker = Entry("weapon", "b", "blocked", attrs={"block": True})
    kept = resolve_overlaps(
        [
            Match(0, 3, "قصف", weapon, "ar", 0, 3),
            Match(0, 3, "قصف", trigger, "ar", 0, 3),
            Match(10, 20, "shot down", blocker, "en", 10, 20),
            Match(10, 14, "shot", weapon, "en", 10, 14),
        ]
    )
    assert [(m.kind, m.text) for m in kept] == [("weapon", "قصف"), ("trigger", "قصف")]


# --- validation ----------------------------------------------------------------------------


@pytest.fixture
def lexicon_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "lexicons"
    shutil.copytree(LEXICON_DIR, folder)
    return folder


def test_shipped_lexicons_load(lexicons: Lexicons) -> None:
    assert {"rocket", "drone", "unknown"} <= set(lexicons.categories)
    assert lexicons.actors["Islamic State"].kind == "group"
    assert lexicons.actors["Islamic State Khorasan Province"].affiliate_of == "Islamic State"


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("weapons.yaml", "    category: mortar\n", "    category: mortars\n", "unknown category"),
        (
            "weapons.yaml",
            "    rank: 90\n",
            "    rank: 90\n    colour: red\n",
            "unknown keys colour",
        ),
        ("triggers.yaml", "    veto: soft\n", "    veto: maybe\n", "veto must be hard or soft"),
        ("actors.yaml", "    kind: group\n", "    kind: gang\n", "kind must be one of"),
        ("targets.yaml", "    priority: 90\n", "    priority: high\n", "priority must be"),
        ("actors.yaml", '"on", at,', "on, at,", "quote it"),
        ("weapons.yaml", "    rank: 28\n", "    rank: low\n", "rank must be an integer"),
        ("triggers.yaml", "    killed: 1\n", "    killed: one\n", "killed must be an integer"),
        ("triggers.yaml", "  directions:\n", "  compass:\n", "unknown keys compass"),
    ],
)
def test_bad_lexicon_fails_with_file_and_line(
    lexicon_copy: Path, file: str, old: str, new: str, message: str
) -> None:
    path = lexicon_copy / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(LexiconError, match=message) as info:
        load_lexicons(lexicon_copy)
    assert f"{file}:" in str(info.value)


def test_not_yaml_fails(lexicon_copy: Path) -> None:
    (lexicon_copy / "targets.yaml").write_text("targets: [unclosed\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="not valid YAML"):
        load_lexicons(lexicon_copy)


def test_one_error_family_for_every_lexicon(lexicon_copy: Path) -> None:
    """The numbers and dates lexicons raise text.LexiconError: catching it catches these too."""
    (lexicon_copy / "targets.yaml").write_text("targets: [unclosed\n", encoding="utf-8")
    with pytest.raises(TextLexiconError):
        load_lexicons(lexicon_copy)
