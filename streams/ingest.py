"""Validate raw input messages into Articles, or reject them with a reason for the DLQ."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson

from streams.records import Article, DeadLetter

KNOWN_FIELDS = ("id", "body", "published_at", "title", "url", "source", "language")
OPTIONAL_TEXT_FIELDS = ("title", "url", "source", "language")
LANGUAGES = ("ar", "en")


class RejectedInput(Exception):
    """An input message that is not a valid Article; ``reason`` is a short stable label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO 8601 date or date-time; naive values are taken as UTC.

    >>> parse_timestamp("2021-02-24").isoformat()
    '2021-02-24T00:00:00+00:00'
    """
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text_field(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RejectedInput(
            "wrong_type", f"field {name!r} must be a string, got {type(value).__name__}"
        )
    return value


def parse_article(
    raw: bytes | None, *, max_bytes: int, produced_at: datetime | None = None
) -> Article:
    """Decode one message value into an Article, or raise RejectedInput naming what is wrong."""
    if raw is None or len(raw) == 0:
        raise RejectedInput("empty", "the message has no value")
    if len(raw) > max_bytes:
        raise RejectedInput("too_large", f"{len(raw)} bytes exceeds the limit of {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RejectedInput("not_utf8", f"invalid UTF-8 at byte {exc.start}") from None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise RejectedInput("not_json", str(exc)) from None
    if not isinstance(data, dict):
        raise RejectedInput("not_object", f"expected a JSON object, got {type(data).__name__}")
    for required in ("id", "body"):
        if required not in data or data[required] is None:
            raise RejectedInput("missing_field", f"required field {required!r} is missing")
    article_id, body = data["id"], data["body"]
    if not isinstance(article_id, str) or not article_id.strip():
        raise RejectedInput("wrong_type", "field 'id' must be a non-empty string")
    if not isinstance(body, str):
        raise RejectedInput(
            "wrong_type", f"field 'body' must be a string, got {type(body).__name__}"
        )
    if not body.strip():
        raise RejectedInput("empty_body", "field 'body' is empty")
    published_raw = _text_field(data, "published_at")
    published_at = None
    if published_raw is not None:
        try:
            published_at = parse_timestamp(published_raw)
        except ValueError:
            raise RejectedInput(
                "bad_date", f"published_at {published_raw[:40]!r} is not ISO 8601"
            ) from None
    language = _text_field(data, "language")
    if language is not None and language not in LANGUAGES:
        # An unsupported language tag is not fatal: detection decides instead.
        language = None
    extra = {k: v for k, v in data.items() if k not in KNOWN_FIELDS} or None
    return Article(
        id=article_id,
        body=body,
        published_at=published_at,
        title=_text_field(data, "title"),
        url=_text_field(data, "url"),
        source=_text_field(data, "source"),
        language=language,
        extra=extra,
        produced_at=produced_at,
    )


def dead_letter(
    raw: bytes | None,
    error: RejectedInput,
    *,
    key: str | None = None,
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    now: datetime | None = None,
) -> DeadLetter:
    """The record for ``articles.dlq``: the raw value kept whole, as text where decodable."""
    payload = raw or b""
    try:
        text, encoding = payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(payload).decode("ascii"), "base64"
    return DeadLetter(
        reason=error.reason,
        detail=error.detail,
        raw=text,
        raw_encoding=encoding,
        received_at=now or datetime.now(UTC),
        key=key,
        topic=topic,
        partition=partition,
        offset=offset,
    )
