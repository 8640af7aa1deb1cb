"""The bad-input catalogue: each kind of bad message gets its reason, and its dead letter
keeps the message; odd but valid messages become Articles, cleaned as documented."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.ingest import (
    DLQ_MAX_RAW_BYTES,
    REASONS,
    RejectedInput,
    clean_text,
    dead_letter,
    parse_article,
)
from streams.records import DeadLetter

CATALOGUE_PATH = Path(__file__).resolve().parents[1] / "data" / "bad_input" / "catalogue.py"
# Faust's producer refuses a request over this many bytes (producer_max_request_size).
KAFKA_RECORD_LIMIT = 1_000_000


def load_catalogue() -> ModuleType:
    """tests/data/bad_input/catalogue.py, imported by path (tests are not a package)."""
    spec = importlib.util.spec_from_file_location("bad_input_catalogue", CATALOGUE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


catalogue = load_catalogue()
LIMIT: int = catalogue.LIMIT
BAD: list[Any] = catalogue.BAD
GOOD: list[Any] = catalogue.GOOD


def restored(letter: DeadLetter) -> bytes:
    """The message bytes a dead letter carries."""
    if letter.raw_encoding == "base64":
        return base64.b64decode(letter.raw)
    assert letter.raw_encoding == "utf-8"
    return letter.raw.encode("utf-8")


def test_the_catalogue_covers_every_reason_with_at_least_twenty_kinds() -> None:
    kinds = [case.kind for case in BAD + GOOD]
    assert len(set(kinds)) == len(kinds), "kinds name the records: unique"
    assert len(BAD) >= 20
    covered = {case.reason for case in BAD}
    assert covered == set(REASONS) - {"extraction_error", "extraction_crashed"}  # the worker's


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.kind)
def test_bad_message_is_rejected_with_its_reason(case: Any) -> None:
    with pytest.raises(RejectedInput) as info:
        parse_article(case.raw, max_bytes=LIMIT)
    assert (info.value.reason, case.kind) == (case.reason, case.kind)
    assert info.value.reason in REASONS
    assert info.value.detail


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.kind)
def test_dead_letter_keeps_the_message_and_fits_one_kafka_record(case: Any) -> None:
    with pytest.raises(RejectedInput) as info:
        parse_article(case.raw, max_bytes=LIMIT)
    letter = dead_letter(
        case.raw, info.value, key=case.kind, topic="articles", partition=0, offset=9
    )
    assert letter.reason == case.reason
    assert len(letter.dumps()) + len(case.key) < KAFKA_RECORD_LIMIT
    kept = restored(letter)
    if case.reason == "too_large":
        # Over the budget: the head, and where the whole message is.
        assert case.raw.startswith(kept) and len(kept) < len(case.raw)
        assert hashlib.sha256(case.raw).hexdigest() in letter.detail
        assert "articles[0]@9" in letter.detail
    else:
        assert kept == case.raw


@pytest.mark.parametrize("case", GOOD, ids=lambda c: c.kind)
def test_odd_but_valid_message_is_an_article(case: Any) -> None:
    article = parse_article(case.raw, max_bytes=LIMIT)
    assert article.id and article.body.strip()
    for name, value in case.expect.items():
        assert getattr(article, name) == value, name


def test_cleaning_keeps_every_offset_of_the_body() -> None:
    body = "Rockets\x00 hit \u202eErbil\u202c, \x1b[1mairport\x7f."
    article = parse_article(orjson.dumps({"id": "o", "body": body}), max_bytes=LIMIT)
    assert len(article.body) == len(body)
    assert article.body.index("Erbil") == body.index("Erbil")
    assert "\u202e" not in article.body and "\x00" not in article.body


def test_source_and_title_are_cleaned_like_the_body() -> None:
    raw = orjson.dumps(
        {"id": "s", "body": "Rockets hit Erbil.", "source": "\u202eswen", "title": "a\x07b"}
    )
    article = parse_article(raw, max_bytes=LIMIT)
    assert (article.source, article.title) == ("\u200bswen", "a b")


@pytest.mark.parametrize(
    ("published_at", "produced_at", "reason"),
    [
        ("2021-03-01T12:00:00Z", datetime(2021, 3, 1, tzinfo=UTC), None),  # hours ahead: slack
        ("2021-03-01T00:00:00-12:00", datetime(2021, 3, 1, tzinfo=UTC), None),
        ("2021-03-05T00:00:00Z", datetime(2021, 3, 1, tzinfo=UTC), "bad_date"),
        ("1899-12-31", None, "bad_date"),
        ("1900-01-01", None, None),
    ],
)
def test_published_at_must_fall_between_1900_and_a_day_after_production(
    published_at: str, produced_at: datetime | None, reason: str | None
) -> None:
    raw = orjson.dumps({"id": "t", "body": "Rockets hit Erbil.", "published_at": published_at})
    if reason is None:
        assert parse_article(raw, max_bytes=LIMIT, produced_at=produced_at).published_at
        return
    with pytest.raises(RejectedInput) as info:
        parse_article(raw, max_bytes=LIMIT, produced_at=produced_at)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("Rockets hit Erbil\x00", None),  # one stray control character
        ("R\x00o\x00c\x00k\x00", "control_chars"),
        ("abc\x01", None),
        ("ab\x01", "control_chars"),  # a third of the visible characters
        ("a\x01", "control_chars"),
        ("....!!!", "no_text"),
        ("١٢٣ ٤٥٦", "no_text"),  # Arabic-Indic digits are no letters
        ("ـــــ", "no_text"),  # tatweel, the Arabic stretch, repeated
        ("a a", None),
        ("\u200b\u200f\ufeff", "empty_body"),
    ],
)
def test_degenerate_bodies(body: str, reason: str | None) -> None:
    raw = orjson.dumps({"id": "b", "body": body})
    if reason is None:
        assert parse_article(raw, max_bytes=LIMIT).body
        return
    with pytest.raises(RejectedInput) as info:
        parse_article(raw, max_bytes=LIMIT)
    assert info.value.reason == reason


def test_dead_letter_of_an_escape_heavy_message_is_cut_to_fit() -> None:
    # Each quote doubles in JSON, each control character grows to six bytes.
    raw = b'"' * 400_000 + b"\x01" * 200_000
    letter = dead_letter(raw, RejectedInput("not_json", "x"), topic="articles", partition=1)
    assert len(letter.dumps()) < KAFKA_RECORD_LIMIT
    assert raw.startswith(restored(letter))
    assert "of 600000 bytes" in letter.detail


def test_dead_letter_of_large_binary_is_cut_on_whole_base64_groups() -> None:
    raw = bytes(range(256)) * 4_000  # 1 MB, not UTF-8
    letter = dead_letter(raw, RejectedInput("too_large", "x"))
    assert letter.raw_encoding == "base64"
    assert len(letter.raw) <= DLQ_MAX_RAW_BYTES
    assert raw.startswith(base64.b64decode(letter.raw, validate=True))


def test_dead_letter_bounds_a_huge_key() -> None:
    letter = dead_letter(b"x", RejectedInput("not_json", "x"), key="k" * 100_000)
    assert letter.key is not None and len(letter.key) <= 1024


@given(st.text())
def test_clean_text_keeps_length_and_is_idempotent(text: str) -> None:
    once, _ = clean_text(text)
    assert len(once) == len(text)
    assert clean_text(once) == (once, 0)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        name: json_values
        for name in ("id", "body", "published_at", "title", "url", "source", "language")
    },
)


@given(fields, json_values)
def test_any_json_gives_an_article_or_a_known_reason(data: dict[str, Any], other: Any) -> None:
    for value in (data, other):
        raw = json.dumps(value).encode()  # big integers too, which orjson cannot write
        try:
            article = parse_article(raw, max_bytes=LIMIT)
        except RejectedInput as exc:
            assert exc.reason in REASONS
            assert restored(dead_letter(raw, exc)) == raw
        else:
            assert article.id.strip() and article.body.strip()
