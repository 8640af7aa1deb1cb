"""Input validation: what becomes an Article and what goes to the dead-letter topic, and why."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.ingest import Forgetting, RejectedInput, dead_letter, parse_article

LIMIT = 10_000


def raw(obj: object) -> bytes:
    return orjson.dumps(obj)


def test_valid_arabic_article_keeps_fields_and_unknown_extras() -> None:
    article = parse_article(
        raw(
            {
                "id": "a1",
                "body": "استهدفت صواريخ كاتيوشا محيط السفارة الأميركية في بغداد.",
                "published_at": "2021-02-24T08:00:00Z",
                "source": "Elaph",
                "language": "ar",
                "desk": "Iraq",
            }
        ),
        max_bytes=LIMIT,
    )
    assert article.id == "a1"
    assert article.published_at == datetime(2021, 2, 24, 8, tzinfo=UTC)
    assert article.source == "Elaph"
    assert article.extra == {"desk": "Iraq"}


def test_date_only_published_at_is_midnight_utc() -> None:
    article = parse_article(
        raw({"id": "x", "body": "Rockets hit Erbil.", "published_at": "2021-02-24"}),
        max_bytes=LIMIT,
    )
    assert article.published_at == datetime(2021, 2, 24, tzinfo=UTC)


def test_missing_published_at_is_allowed() -> None:
    article = parse_article(raw({"id": "x", "body": "Rockets hit Erbil."}), max_bytes=LIMIT)
    assert article.published_at is None


def test_unsupported_language_tag_falls_back_to_detection() -> None:
    article = parse_article(raw({"id": "x", "body": "text", "language": "fr"}), max_bytes=LIMIT)
    assert article.language is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", "empty"),
        (b"x" * (LIMIT + 1), "too_large"),
        (b'\xff\xfe{"id": 1}', "not_utf8"),
        (b'{"id": "a", "body": ', "not_json"),
        (b"not json at all", "not_json"),
        (raw(["id", "body"]), "not_object"),
        (raw({"body": "نص"}), "missing_field"),
        (raw({"id": "a"}), "missing_field"),
        (raw({"id": 7, "body": "text"}), "wrong_type"),
        (raw({"id": "a", "body": ["text"]}), "wrong_type"),
        (raw({"id": "a", "body": "text", "title": 3}), "wrong_type"),
        (raw({"id": "a", "body": "   "}), "empty_body"),
        (raw({"id": "a", "body": "text", "published_at": "last Tuesday"}), "bad_date"),
    ],
)
def test_bad_input_is_rejected_with_its_reason(value: bytes, reason: str) -> None:
    with pytest.raises(RejectedInput) as info:
        parse_article(value, max_bytes=LIMIT)
    assert info.value.reason == reason
    assert info.value.detail


def test_dead_letter_keeps_text_payload_whole() -> None:
    payload = b'{"id": "a", "body": '
    err = RejectedInput("not_json", "truncated")
    dl = dead_letter(payload, err, key="a", topic="articles", partition=0, offset=5)
    assert (dl.reason, dl.raw, dl.raw_encoding, dl.key, dl.offset) == (
        "not_json",
        payload.decode(),
        "utf-8",
        "a",
        5,
    )


def test_dead_letter_keeps_binary_payload_as_base64() -> None:
    payload = b"\xff\x00\x81binary"
    dl = dead_letter(payload, RejectedInput("not_utf8", "x"))
    assert dl.raw_encoding == "base64"
    assert base64.b64decode(dl.raw) == payload


@given(st.binary(max_size=300))
def test_any_bytes_give_an_article_or_a_reason(value: bytes) -> None:
    try:
        article = parse_article(value, max_bytes=LIMIT)
    except RejectedInput as exc:
        assert exc.reason
    else:
        assert article.id and article.body.strip()


def test_article_ids_are_forgotten_after_the_dedup_horizon_a_few_at_a_time() -> None:
    now = datetime(2021, 3, 1, tzinfo=UTC)
    seen = {f"old-{n}": (now - timedelta(days=8, minutes=n)).isoformat() for n in range(5)}
    seen |= {f"new-{n}": (now - timedelta(days=6, minutes=n)).isoformat() for n in range(5)}
    memory = Forgetting(seen, timedelta(days=7), batch=3, every=timedelta(hours=1))
    forgotten = [memory.sweep(now) for _ in range(4)]
    # Ten ids in batches of three: four calls read them all, and only the old ones go.
    assert sum(forgotten) == 5 and max(forgotten) <= 3
    assert sorted(seen) == [f"new-{n}" for n in range(5)]
    # Nothing more to read until the next snapshot is due, an hour on.
    seen["old-again"] = (now - timedelta(days=9)).isoformat()
    assert memory.sweep(now + timedelta(minutes=30)) == 0
    assert memory.sweep(now + timedelta(hours=1)) == 1
    assert "old-again" not in seen and len(seen) == 5


def test_a_repeat_within_the_horizon_is_still_known() -> None:
    now = datetime(2021, 3, 1, tzinfo=UTC)
    seen = {"a": (now - timedelta(hours=1)).isoformat()}
    memory = Forgetting(seen, timedelta(days=7))
    assert memory.sweep(now) == 0
    assert "a" in seen
