"""Scoring rules of streams.evaluate on small hand-made golds and predictions; fixture validity."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from streams.evaluate import (
    COUNT_QUALIFIERS,
    INCIDENT_KEYS,
    LABEL_KEYS,
    WEAPON_CATEGORIES,
    EvalReport,
    FieldScore,
    default_data_dir,
    default_fixtures_dir,
    evaluate_gtd_acled,
    evaluate_labelled,
    evaluate_seeds,
    format_report,
    greedy_pairs,
    load_aliases,
    load_labels,
    match_spans,
    norm_name,
    pick_best,
    read_anercorp,
    read_gtd_acled,
    region_groups,
    run_eval,
    score_spans,
)
from streams.records import (
    Actor,
    Article,
    Count,
    Counts,
    Evidence,
    Incident,
    Location,
    Weapon,
)

FIXTURES = default_fixtures_dir()
ANERCORP = default_data_dir() / "anercorp" / "ANERCorp"


def make_incident(
    *,
    admin1: str | None = None,
    place: str | None = None,
    precision: str = "city",
    country: str | None = None,
    category: str | None = None,
    gtd_type: str | None = None,
    killed: int | None = None,
    killed_q: str = "exact",
    wounded: int | None = None,
    quantity: int | None = None,
    quantity_q: str = "exact",
    actor: str | None = None,
    attribution: str = "reported",
    target: str | None = None,
    historical: bool = False,
    event_date: str | None = None,
) -> Incident:
    """An Incident with only the fields a test cares about."""
    location = (
        Location(
            name=place or admin1 or "",
            canonical=place or admin1 or "",
            precision=precision,
            admin1=admin1,
            country_code=country,
        )
        if place or admin1
        else None
    )
    return Incident(
        incident_id="i",
        article_id="a",
        language="ar",
        published_at=datetime(2021, 2, 24, tzinfo=UTC),
        event_date=event_date,
        date_precision="day" if event_date else "unknown",
        historical=historical,
        location=location,
        weapon=Weapon(category=category, gtd_type=gtd_type or "Explosives") if category else None,
        counts=Counts(
            quantity=Count(value=quantity, qualifier=quantity_q) if quantity is not None else None,
            killed=Count(value=killed, qualifier=killed_q) if killed is not None else None,
            wounded=Count(value=wounded) if wounded is not None else None,
        ),
        actor=Actor(name=actor, attribution=attribution) if actor else None,
        evidence=Evidence(sentence="", start=0, end=0),
        confidence=0.5,
        field_confidence={},
        target=target,
    )


@pytest.fixture(scope="module")
def aliases() -> Any:
    return load_aliases(FIXTURES / "aliases.yaml")


# --- FieldScore arithmetic -------------------------------------------------------------------


def test_right_prediction_is_a_true_positive() -> None:
    s = FieldScore()
    s.add(gold=True, pred=True, correct=True)
    assert (s.precision, s.recall, s.f1, s.accuracy) == (1.0, 1.0, 1.0, 1.0)


def test_wrong_prediction_is_a_precision_and_a_recall_miss() -> None:
    s = FieldScore()
    s.add(gold=True, pred=True, correct=True)
    s.add(gold=True, pred=True, correct=False)
    assert (s.pred, s.gold, s.pred_correct) == (2, 2, 1)
    assert s.precision == 0.5
    assert s.recall == 0.5


def test_missing_prediction_is_a_recall_miss_only() -> None:
    s = FieldScore()
    s.add(gold=True, pred=True, correct=True)
    s.add(gold=True, pred=False, correct=False)
    assert s.precision == 1.0
    assert s.recall == 0.5
    assert s.f1 == pytest.approx(2 / 3)


def test_prediction_for_absent_gold_is_a_precision_miss_only() -> None:
    s = FieldScore()
    s.add(gold=True, pred=True, correct=True)
    s.add(gold=False, pred=True, correct=False)
    assert s.precision == 0.5
    assert s.recall == 1.0


def test_both_absent_counts_for_accuracy_not_precision_or_recall() -> None:
    s = FieldScore()
    s.add(gold=True, pred=True, correct=True)
    s.add(gold=False, pred=False, correct=False)
    assert (s.precision, s.recall) == (1.0, 1.0)
    assert s.accuracy == 1.0
    assert s.n == 2


def test_ratios_are_undefined_without_predictions_or_gold() -> None:
    s = FieldScore()
    assert (s.precision, s.recall, s.f1, s.accuracy) == (None, None, None, None)
    s.add(gold=True, pred=False, correct=False)
    assert s.precision is None
    assert s.recall == 0.0
    assert s.f1 is None


def test_f1_is_zero_when_nothing_is_right() -> None:
    s = FieldScore()
    s.add(gold=True, pred=True, correct=False)
    assert s.f1 == 0.0


# --- Matching rules ---------------------------------------------------------------------------


def test_pick_best_takes_the_highest_score_and_the_first_on_ties() -> None:
    a, b, c = make_incident(admin1="A"), make_incident(admin1="B"), make_incident(admin1="C")
    scores = {id(a): 1.0, id(b): 2.0, id(c): 2.0}
    assert pick_best([a, b, c], lambda i: scores[id(i)]) is b
    assert pick_best([a, c], lambda i: 0.0) is a
    assert pick_best([], lambda i: 0.0) is None


def test_greedy_pairs_are_one_to_one_by_descending_score() -> None:
    assert greedy_pairs([[1, 3], [2, 0]]) == [(0, 1), (1, 0)]
    # More predictions than golds: the best-scoring prediction is taken, the rest stay unpaired.
    assert greedy_pairs([[0, 5, 1]]) == [(0, 1)]
    # More golds than predictions: the second gold stays unpaired.
    assert greedy_pairs([[2], [1]]) == [(0, 0)]
    assert greedy_pairs([]) == []


def test_span_overlap_and_exact_rules() -> None:
    gold = [(0, 6), (10, 15)]
    pred = [(1, 6), (20, 25)]
    overlap, exact = FieldScore(per_item=False), FieldScore(per_item=False)
    score_spans(gold, pred, overlap, exact=False)
    score_spans(gold, pred, exact, exact=True)
    assert (overlap.gold_correct, overlap.pred_correct) == (1, 1)
    assert (overlap.precision, overlap.recall) == (0.5, 0.5)
    assert (exact.gold_correct, exact.pred_correct) == (0, 0)
    assert overlap.accuracy is None  # accuracy has no meaning for span counts


def test_touching_spans_do_not_overlap() -> None:
    s = FieldScore(per_item=False)
    score_spans([(0, 5)], [(5, 9)], s, exact=False)
    assert s.pred_correct == 0


@pytest.mark.parametrize(
    ("match", "span"),
    [
        (re.search("بغداد", "في بغداد"), (3, 8)),
        ((3, 8, "Baghdad"), (3, 8)),
        ({"start": 3, "end": 8}, (3, 8)),
        (type("M", (), {"start": 3, "end": 8})(), (3, 8)),
        (type("S", (), {"span": (3, 8)})(), (3, 8)),
    ],
)
def test_match_spans_reads_common_match_shapes(match: Any, span: tuple[int, int]) -> None:
    assert match_spans([match]) == [span]


# --- Names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Al-Muqdādīyah", "Muqdadiya"),
        ("Salah ad Din Governorate", "Salah ad Din"),
        ("Ba'qubah", "Baqubah"),
        ("Deir ez-Zor", "Deir ez Zor"),
        ("Sadr City", "sadr"),
    ],
)
def test_norm_name_joins_spelling_variants(a: str, b: str) -> None:
    assert norm_name(a) == norm_name(b)


def test_norm_name_keeps_different_places_apart() -> None:
    assert norm_name("Baghdad") != norm_name("Basra")
    assert norm_name("Qadisiya (Baghdad)") != norm_name("Al Qadisiyah")


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("places", "Mayorality of Baghdad", "Baghdad"),
        ("places", "Ninawa", "Nineveh"),
        ("places", "Arbil", "Erbil"),
        ("places", "Liban-Sud", "South Lebanon"),
        ("actors", "Houthi extremists (Ansar Allah)", "Houthis"),
        ("actors", "Islamic State of Iraq and the Levant (ISIL)", "ISIS"),
        ("actors", "IDF", "Israel Defense Forces"),
        ("targets", "policemen", "police"),
    ],
)
def test_aliases_join_known_variants(aliases: Any, kind: str, a: str, b: str) -> None:
    assert aliases.same(kind, a, b)


def test_aliases_do_not_join_distinct_groups(aliases: Any) -> None:
    assert not aliases.same("actors", "Hamas", "Hezbollah")
    assert not aliases.same("places", "Baghdad", "Erbil")
    assert not aliases.same("places", None, "Baghdad")


def test_alias_file_with_a_name_in_two_groups_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "aliases.yaml"
    bad.write_text("places:\n  - [Gaza, Gaza City]\n  - [Gaza Strip, Gaza]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="two places groups"):
        load_aliases(bad)


def test_alias_file_with_an_unknown_kind_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "aliases.yaml"
    bad.write_text("weapons:\n  - [IED, roadside bomb]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown kind"):
        load_aliases(bad)


def test_extra_groups_join_existing_ones_and_skip_conflicts(aliases: Any) -> None:
    more = aliases.with_groups(
        "places", [["Baghdad", "Baghdad Capital Territory"], ["Erbil", "Baghdad"]]
    )
    assert more.same("places", "Baghdad Capital Territory", "Mayorality of Baghdad")
    assert not more.same("places", "Erbil", "Baghdad")  # touches two groups: skipped
    assert not aliases.same(
        "places", "Baghdad Capital Territory", "Baghdad"
    )  # the original is unchanged


def test_region_groups_read_the_gazetteer_admin1_table(tmp_path: Path) -> None:
    path = tmp_path / "admin1.yaml"
    path.write_text(
        "IQ.11: {canonical: Erbil, en: [Arbil, Hawler], ar: [أربيل]}\n"
        "IQ.19: {canonical: Halabja}\n",
        encoding="utf-8",
    )
    assert region_groups(path) == [["Erbil", "Arbil", "Hawler"], ["Halabja"]]
    assert region_groups(tmp_path / "absent.yaml") == []


# --- Reading the data -------------------------------------------------------------------------


def test_gtd_csv_with_sep_line_crlf_quotes_and_na(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes(
        b"sep=;\r\n"
        b"eventid;year;month;day;provstate;city;summary;nkill;gname\r\n"
        b'1;2021;2;22;Baghdad;N/A;"Rockets hit; nobody hurt.";0;Unknown\r\n'
        b"2;2020;1;0;Erbil;Erbil;A drone struck.;N/A;\r\n"
    )
    rows = read_gtd_acled(path)
    assert [r["eventid"] for r in rows] == ["1", "2"]
    assert rows[0]["summary"] == "Rockets hit; nobody hurt."
    assert rows[0]["city"] is None
    assert rows[1]["nkill"] is None
    assert rows[1]["gname"] is None  # empty is missing too
    assert all("\r" not in (v or "") for r in rows for v in r.values())


def test_gtd_csv_without_sep_line(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("eventid;city\n7;Mosul\n", encoding="utf-8")
    assert read_gtd_acled(path) == [{"eventid": "7", "city": "Mosul"}]


def test_anercorp_sentences_and_loc_spans(tmp_path: Path) -> None:
    path = tmp_path / "ANERCorp"
    path.write_text(
        "قتل O\nثلاثة O\nفي O\nحي B-LOC\nالمنصور I-LOC\n O\nببغداد B-LOC\n. O\n"
        "وصلت O\nإلى O\nتل I-LOC\nأبيب I-LOC\n. O\nبقية O\n",
        encoding="utf-8",
    )
    sentences = read_anercorp(path)
    assert [s.text for s in sentences] == [
        "قتل ثلاثة في حي المنصور ببغداد .",
        "وصلت إلى تل أبيب .",
        "بقية",
    ]
    first = sentences[0]
    assert [first.text[a:b] for a, b in first.entity_spans("LOC")] == ["حي المنصور", "ببغداد"]
    # An I-LOC after O (broken IOB) opens a span instead of being dropped.
    second = sentences[1]
    assert [second.text[a:b] for a, b in second.entity_spans("LOC")] == ["تل أبيب"]
    assert sentences[2].index == 2


# --- Section scorers on hand-made rows --------------------------------------------------------


def _row(**values: str | None) -> dict[str, str | None]:
    base: dict[str, str | None] = {
        "eventid": "1",
        "year": "2021",
        "month": "2",
        "day": "22",
        "summary": "text",
        "adatforras": "GTD",
        "provstate": None,
        "city": None,
        "weaptype1_txt": None,
        "nkill": None,
        "gname": None,
    }
    base.update(values)
    return base


def test_gtd_scorer_picks_the_prediction_that_matches_the_row(aliases: Any) -> None:
    row = _row(provstate="Erbil", city="Erbil", weaptype1_txt="Explosives", nkill="2")
    preds = [
        make_incident(admin1="Baghdad", place="Baghdad", category="rocket", killed=2),
        make_incident(admin1="Arbil", place="Erbil", category="drone", killed=2),
    ]
    sec = evaluate_gtd_acled([row], lambda a: preds, aliases)
    assert sec.fields["admin1"].gold_correct == 1
    assert sec.fields["place"].gold_correct == 1
    assert sec.fields["killed"].gold_correct == 1
    assert sec.figures["killed_exact_on_rows_with_deaths"] == 1.0


def test_gtd_scorer_counts_missing_and_spurious_values(aliases: Any) -> None:
    rows = [
        _row(eventid="1", provstate="Baghdad", nkill="0", gname="Unknown"),
        _row(
            eventid="2",
            provstate="Nineveh",
            nkill="3",
            gname="Islamic State of Iraq and the Levant (ISIL)",
        ),
    ]
    preds = {
        "1": [make_incident(admin1="Baghdad", actor="Islamic State")],
        "2": [],
    }
    sec = evaluate_gtd_acled(rows, lambda a: preds[a.id], aliases)
    admin1, actor, killed = sec.fields["admin1"], sec.fields["actor"], sec.fields["killed"]
    assert (admin1.gold, admin1.pred, admin1.gold_correct) == (2, 1, 1)
    # 'Unknown' group: no gold actor, so the prediction is a precision miss; row 2 a recall miss.
    assert (actor.gold, actor.pred, actor.gold_correct) == (1, 1, 0)
    assert (killed.gold, killed.pred) == (1, 0)
    assert sec.figures["killed_exact_on_all_rows_with_nkill"] == 0.5
    assert sec.figures["rows_with_an_incident"] == 1


def test_gtd_scorer_weapon_type_only_on_gtd_rows(aliases: Any) -> None:
    rows = [_row(adatforras="ACLED", weaptype1_txt=None), _row(weaptype1_txt="Firearms")]
    sec = evaluate_gtd_acled(
        rows, lambda a: [make_incident(category="firearm", gtd_type="Firearms")], aliases
    )
    weapon = sec.fields["weapon_type (GTD rows)"]
    assert (weapon.n, weapon.gold_correct) == (1, 1)


def test_gtd_actor_matches_through_brackets_and_colon_parts(aliases: Any) -> None:
    rows = [
        _row(eventid="1", gname="PKK: Kurdistan Workers Party"),
        _row(eventid="2", gname="Tehrik-i-Taliban Pakistan (TTP)"),
    ]
    preds = {"1": [make_incident(actor="PKK")], "2": [make_incident(actor="Taliban")]}
    sec = evaluate_gtd_acled(rows, lambda a: preds[a.id], aliases)
    assert sec.fields["actor"].gold_correct == 1  # the TTP is not the Afghan Taliban


def _label(incidents: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": "t", "sentence_index": 0, "text": "نص", "incidents": incidents}


def _gold(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict.fromkeys(INCIDENT_KEYS)
    base["historical"] = False
    base.update(fields)
    return base


def test_labelled_scorer_vague_counts_and_accepted_implicit_actor(aliases: Any) -> None:
    gold = _gold(
        place={
            "canonical": "Shujaiya",
            "accept": ["Gaza"],
            "admin1": "Gaza Strip",
            "country_code": "PS",
        },
        wounded={"value": None, "qualifier": "vague", "accept": [3]},
        actor={"name": None, "accept": ["Israel Defense Forces"]},
    )
    pred = make_incident(admin1="Gaza Strip", place="Gaza", country="PS", wounded=3, actor="IDF")
    sec = evaluate_labelled([_label([gold])], lambda a: [pred], aliases)
    assert sec.fields["place"].gold_correct == 1
    assert sec.fields["wounded"].gold_correct == 1
    actor = sec.fields["actor"]
    assert (actor.gold, actor.pred, actor.both_absent) == (0, 0, 1)  # neutral, not a miss


def test_labelled_scorer_pairs_incidents_and_counts_false_alarms(aliases: Any) -> None:
    rocket = _gold(
        weapon={"category": "rocket", "accept": []}, quantity={"value": 20, "qualifier": "exact"}
    )
    raid = _gold(weapon={"category": "airstrike", "accept": []})
    preds = [make_incident(category="airstrike"), make_incident(category="rocket", quantity=20)]
    labels = [_label([rocket, raid]), {**_label([]), "id": "neg"}]
    sec = evaluate_labelled(labels, lambda a: preds if a.id == "t" else preds[:1], aliases)
    assert sec.fields["weapon"].gold_correct == 2
    assert sec.fields["quantity"].gold_correct == 1
    incident = sec.fields["incident"]
    assert (incident.gold, incident.pred, incident.gold_correct) == (2, 3, 2)
    assert sec.figures["negative_sentences_with_a_prediction"] == 1


SEED_EXPECTED: dict[str, Any] = {
    "articles": ["s"],
    "incidents": [
        {
            "key": "rockets",
            "article_id": "s",
            "match": {"admin1": "Erbil", "weapon": "rocket"},
            "fields": {
                "admin1": "Erbil",
                "weapon": "rocket",
                "quantity": {"value": 14, "qualifier": "approx"},
                "actor": {"name": "Iran", "attribution": "accused", "accept": []},
                "killed": None,
            },
        },
        {
            "key": "raid",
            "article_id": "s",
            "match": {"admin1": "Baghdad", "any": {"killed": 5, "weapon": "firearm"}},
            "fields": {"admin1": "Baghdad", "killed": {"value": 5, "qualifier": "exact"}},
        },
    ],
}


def test_seed_scorer_finds_by_match_rule_and_lists_field_misses(aliases: Any) -> None:
    preds = [
        make_incident(
            admin1="Arbil",
            category="rocket",
            quantity=14,
            quantity_q="exact",
            actor="Iran",
            attribution="accused",
        ),
        make_incident(
            admin1="Baghdad", category="rocket"
        ),  # matches neither: wrong weapon, no toll
    ]
    article = Article(id="s", body="x", language="ar")
    sec = evaluate_seeds(SEED_EXPECTED, {"s": article}, lambda a: preds, aliases)
    assert (sec.figures["found"], sec.figures["expected"]) == (1, 2)
    assert sec.figures["stated_fields"] == 5
    assert sec.figures["stated_fields_right"] == 4
    assert any("quantity expected 14 approx, got 14 exact" in m for m in sec.misses)
    assert any(m.startswith("raid: NOT FOUND") for m in sec.misses)


def test_seed_scorer_uses_each_prediction_once(aliases: Any) -> None:
    expected = {**SEED_EXPECTED, "incidents": [SEED_EXPECTED["incidents"][1]] * 2}
    preds = [make_incident(admin1="Baghdad", killed=5)]
    sec = evaluate_seeds(expected, {"s": Article(id="s", body="x")}, lambda a: preds, aliases)
    assert sec.figures["found"] == 1


# --- run_eval end to end on a tiny data folder ------------------------------------------------


def test_run_eval_on_small_data_with_limit(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "gtd_acled_drone").mkdir(parents=True)
    (data / "gtd_acled_drone" / "rows.csv").write_bytes(
        b"sep=;\r\neventid;year;month;day;provstate;city;summary;nkill;gname;adatforras\r\n"
        b"1;2021;2;22;Baghdad;Baghdad;A drone hit Baghdad.;0;Unknown;GTD\r\n"
        b"2;2021;2;23;Erbil;Erbil;A drone hit Erbil.;1;Unknown;GTD\r\n"
    )
    (data / "anercorp").mkdir()
    (data / "anercorp" / "ANERCorp").write_text("في O\nبغداد B-LOC\n. O\n", encoding="utf-8")
    calls: list[str] = []

    def extract(article: Article) -> list[Incident]:
        calls.append(article.id)
        return [make_incident(admin1="Baghdad", place="Baghdad")]

    def find(text: str, language: str) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for m in re.finditer("بغداد", text)]

    report = run_eval(
        data,
        FIXTURES,
        extract=extract,
        find_places=find,
        limit=1,
        sections=["gtd_acled", "anercorp_places"],
    )
    assert isinstance(report, EvalReport)
    assert calls == ["1"]
    assert report.section("gtd_acled").fields["admin1"].gold_correct == 1
    assert report.section("anercorp_places").fields["place_span_exact"].recall == 1.0
    text = format_report(report)
    assert "admin1" in text and "place_span_overlap" in text
    assert json.loads(json.dumps(report.to_dict()))["limit"] == 1


def test_run_eval_reports_missing_data_as_skipped(tmp_path: Path) -> None:
    report = run_eval(
        tmp_path,
        FIXTURES,
        extract=lambda a: [],
        find_places=lambda t, lang: [],
        sections=["gtd_acled", "re3d_places"],
    )
    assert report.section("gtd_acled").skipped
    assert report.section("re3d_places").skipped
    assert "skipped" in format_report(report)


def test_default_data_dir_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("INCIDENT_EVAL_DATA", str(tmp_path))
    assert default_data_dir() == tmp_path
    monkeypatch.delenv("INCIDENT_EVAL_DATA")
    assert default_data_dir().parts[-3:] == ("shared", "eval", "data")


# --- Fixture validity -------------------------------------------------------------------------


LABELS = load_labels(FIXTURES / "anercorp_incidents.jsonl")


def test_labelled_set_is_large_enough_and_ids_are_unique() -> None:
    positives = [line for line in LABELS if line["incidents"]]
    assert len(positives) >= 40
    assert len({line["id"] for line in LABELS}) == len(LABELS)


@pytest.mark.parametrize("line", LABELS, ids=[line["id"] for line in LABELS])
def test_labelled_line_is_well_formed(line: dict[str, Any]) -> None:
    assert set(LABEL_KEYS) <= set(line)
    for incident in line["incidents"]:
        assert set(INCIDENT_KEYS) <= set(incident)
        assert isinstance(incident["historical"], bool)
        place = incident["place"]
        if place is not None:
            assert place["canonical"] and place["country_code"] and len(place["country_code"]) == 2
        weapon = incident["weapon"]
        if weapon is not None:
            assert weapon["category"] in WEAPON_CATEGORIES
            assert set(weapon["accept"]) <= WEAPON_CATEGORIES
        for name in ("quantity", "killed", "wounded"):
            count = incident[name]
            if count is not None:
                assert count["qualifier"] in COUNT_QUALIFIERS
                assert (count["value"] is None) == (count["qualifier"] == "vague")
        actor = incident["actor"]
        if actor is not None and actor["name"]:
            assert actor["attribution"] in {"claimed", "accused", "suspected", "reported"}


@pytest.mark.skipif(not ANERCORP.exists(), reason="ANERCorp evaluation data not present")
def test_labelled_sentences_occur_in_anercorp() -> None:
    sentences = read_anercorp(ANERCORP)
    for line in LABELS:
        assert sentences[line["sentence_index"]].text == line["text"], line["id"]


def test_seeds_expected_is_well_formed(aliases: Any) -> None:
    expected = json.loads((FIXTURES / "seeds_expected.json").read_text(encoding="utf-8"))
    seeds = FIXTURES.parent.parent.parent / "seeds"
    for aid in expected["articles"]:
        assert (seeds / f"{aid}.json").exists()
    keys = [item["key"] for item in expected["incidents"]]
    assert len(set(keys)) == len(keys) >= 5
    for item in expected["incidents"]:
        assert item["article_id"] in expected["articles"]
        assert "admin1" in item["match"]
        weapon = item["fields"].get("weapon")
        assert weapon is None or weapon in WEAPON_CATEGORIES
        body = json.loads((seeds / f"{item['article_id']}.json").read_text(encoding="utf-8"))[
            "body"
        ]
        assert item["evidence"] in body, item["key"]
