"""Validate raw input messages into Articles, or reject them with a reason for the DLQ.

Every message on ``articles`` ends as an Article or as a ``RejectedInput(reason, detail)``; the
worker sends the latter, with the message kept whole, to ``articles.dlq`` and goes on with the
next message. The reasons are a closed set (``REASONS``), so ``/metrics`` counts them with a
bounded label and a dead-letter subscriber can act on them. Checks run cheapest first and each
costs one pass at C speed at most, so a message at the byte limit is judged in milliseconds.

What is accepted, and how it is cleaned (decisions, with the user's view in mind):

- A UTF-8 byte order mark before the JSON is skipped: Windows tools write one.
- Unknown fields are kept (``extra``); an unsupported ``language`` tag is not fatal: the
  language is detected instead. A region subtag is dropped ("ar-IQ" is Arabic).
- Control characters (C0 other than tab, newline and carriage return; DEL; C1) in the body,
  title or source are each replaced by one space: a stray form feed or NUL from a copy-paste
  does not spoil an article, and offsets into the body stay those of the text as sent. A body
  where they make up a third or more of the visible characters (UTF-16 text read as bytes,
  a binary blob in a string) is not text: ``control_chars``.
- Bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069) are
  replaced, one for one, by a zero-width space in the same fields. They reorder what a reader
  sees ("Trojan Source", CVE-2021-42574), so evidence quoted on a dashboard could read
  differently from what was matched; the zero-width space is invisible, has no direction, and
  like them is skipped by ``normalize_ar``, so extraction and offsets are unchanged. The
  left-to-right, right-to-left and Arabic letter marks (U+200E, U+200F, U+061C) stay: they
  are common in Arabic copy and reorder nothing.
- ``published_at`` must be a real publication time: ISO 8601, not before 1900 (feeds write
  ``0001-01-01T00:00:00Z`` for "unknown") and not more than a day after the message was
  produced (time-zone slips stay within a day). Anything else is ``bad_date``: the date the
  event is resolved against ("yesterday") would be wrong, so the article is not guessed at.
- A body that is one character repeated, or has no letter at all ("،،،", "1111"), is
  ``no_text``. Repetitive text with words in it is a valid article however odd it looks.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from streams.records import Article, DeadLetter

KNOWN_FIELDS = ("id", "body", "published_at", "title", "url", "source", "language")
OPTIONAL_TEXT_FIELDS = ("title", "url", "source", "language")
LANGUAGES = ("ar", "en")

MAX_DEPTH = 64  # no news feed nests deeper; deeper JSON only attacks recursive code downstream
MAX_ID_CHARS = 512  # ids are table keys and appear in every incident

# Reason label -> what it means. Labels are stable: dashboards and DLQ consumers key on them.
REASONS: dict[str, str] = {
    "empty": "the message has no value",
    "too_large": "the message is over the byte limit (INCIDENT_MAX_ARTICLE_BYTES)",
    "binary": "the message has NUL bytes: a binary payload (compressed, Avro, UTF-16), not JSON",
    "not_utf8": "the message is not UTF-8 (often text in another encoding, e.g. Windows-1256)",
    "not_json": "the message is not one JSON document (truncated, trailing data, NaN, ...)",
    "lone_surrogate": "a JSON string escapes half a UTF-16 surrogate pair ('\\ud800')",
    "too_deep": f"JSON nested deeper than {MAX_DEPTH} levels",
    "duplicate_key": "a key appears twice in one JSON object (parsers disagree on which wins)",
    "not_object": "the JSON document is not an object (an array, string, number or null)",
    "missing_field": "'id' or 'body' is missing or null",
    "wrong_type": "a field has the wrong JSON type (id, body and text fields are strings)",
    "bad_id": f"'id' is blank, over {MAX_ID_CHARS} characters, or has control characters",
    "empty_body": "'body' is empty or only whitespace and invisible characters",
    "control_chars": "'body' is mostly control characters, not text",
    "no_text": "'body' has no letters, or is one character repeated",
    "bad_date": "'published_at' is not an ISO 8601 time, is impossible, or is out of range",
    # Raised by the worker, not here: the extractor failed on a valid article.
    "extraction_error": "the extractor raised on this article (a bug: please report it)",
    "extraction_crashed": "the extraction process died on this article twice (a bug: report it)",
}

EARLIEST_PUBLISHED = datetime(1900, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)

# A dead letter is one Kafka record too: Faust's producer refuses requests over 1,000,000
# bytes (producer_max_request_size) and brokers default to about 1 MB per message. Its raw
# value is kept whole while its JSON form fits this budget, else cut to the head that fits.
DLQ_MAX_RAW_BYTES = 900_000
_DLQ_MAX_DETAIL = 2_000
_DLQ_MAX_KEY = 1_024

_BOM = "\ufeff"
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_ZERO_WIDTH_SPACE = "\u200b"
_INVISIBLE = re.compile("[\u200b-\u200f\u061c\u2060-\u2064\ufeff\u00ad]|" + _BIDI_CONTROLS.pattern)
_LETTER = re.compile(r"[^\W\d_]")


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


def clean_text(text: str) -> tuple[str, int]:
    """Neutralise control and bidi-override characters one for one; also the controls count.

    >>> clean_text("Erbil\\x00 \\u202eattack")
    ('Erbil  \\u200battack', 1)
    """
    cleaned, controls = _CONTROLS.subn(" ", text)
    if not cleaned.isascii():
        cleaned = _BIDI_CONTROLS.sub(_ZERO_WIDTH_SPACE, cleaned)
    return cleaned, controls


def parse_article(
    raw: bytes | None, *, max_bytes: int, produced_at: datetime | None = None
) -> Article:
    """Decode one message value into an Article, or raise RejectedInput naming what is wrong.

    ``produced_at`` (the message's Kafka timestamp; now when omitted) bounds ``published_at``.

    >>> parse_article(b'{"id": "a1", "body": "Rockets hit Erbil."}', max_bytes=1000).id
    'a1'
    >>> try:
    ...     parse_article(b"[1, 2]", max_bytes=1000)
    ... except RejectedInput as exc:
    ...     print(exc.reason, "-", exc.detail)
    not_object - expected a JSON object, got a JSON array
    """
    data = _decode(raw, max_bytes)
    article_id = _required(data, "id")
    if not isinstance(article_id, str):
        raise RejectedInput("wrong_type", f"field 'id' must be a string, got {_kind(article_id)}")
    _check_id(article_id)
    body = _required(data, "body")
    if not isinstance(body, str):
        raise RejectedInput("wrong_type", f"field 'body' must be a string, got {_kind(body)}")
    body = _check_body(body)
    published_at = _published_at(data, produced_at or datetime.now(UTC))
    language = _text_field(data, "language")
    if language is not None:
        # "ar-IQ", "EN_us" name a supported language; any other tag leaves it to detection.
        primary = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
        language = primary if primary in LANGUAGES else None
    title, source = _text_field(data, "title"), _text_field(data, "source")
    extra = {k: v for k, v in data.items() if k not in KNOWN_FIELDS} or None
    return Article(
        id=article_id,
        body=body,
        published_at=published_at,
        title=None if title is None else clean_text(title)[0],
        url=_text_field(data, "url"),
        source=None if source is None else clean_text(source)[0],
        language=language,
        extra=extra,
        produced_at=produced_at,
    )


def _decode(raw: bytes | None, max_bytes: int) -> dict[str, Any]:
    """The message as a JSON object, or the reason it is not one."""
    if raw is None or len(raw) == 0:
        raise RejectedInput("empty", "the message has no value")
    if len(raw) > max_bytes:
        raise RejectedInput("too_large", f"{len(raw)} bytes exceeds the limit of {max_bytes}")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise RejectedInput(
            "binary", f"NUL byte at offset {nul}: a binary payload or UTF-16 text, not JSON"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RejectedInput(
            "not_utf8", f"invalid UTF-8 at byte {exc.start} ({raw[exc.start : exc.start + 4]!r})"
        ) from None
    text = text.removeprefix(_BOM)
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        message = str(exc)
        if "depth limit" in message or "recursion" in message:
            raise RejectedInput("too_deep", f"nested deeper than {MAX_DEPTH} levels") from None
        if "surrogate" in message:
            raise RejectedInput("lone_surrogate", message) from None
        raise RejectedInput("not_json", message) from None
    depth = _depth(data)
    if depth > MAX_DEPTH:
        raise RejectedInput("too_deep", f"nested {depth} levels deep, the limit is {MAX_DEPTH}")
    if not isinstance(data, dict):
        raise RejectedInput("not_object", f"expected a JSON object, got {_kind(data)}")
    _check_unique_keys(text)
    return data


def _depth(value: Any) -> int:
    """Nesting depth of decoded JSON (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break  # already too deep: no need to measure how much
        stack.extend((child, level + 1) for child in node if isinstance(child, dict | list))
    return deepest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise RejectedInput("duplicate_key", f"key {key[:80]!r} appears twice")
            seen.add(key)
    return found


def _check_unique_keys(text: str) -> None:
    # orjson keeps the last of repeated keys, other parsers the first: a message whose id or
    # body depends on the parser is ambiguous, so it is refused (RFC 8259 section 4). The
    # standard library's parser reports key pairs; depth is already bounded for it.
    try:
        json.loads(text, object_pairs_hook=_no_duplicates)
    except ValueError as exc:  # what orjson reads, it may refuse: a 5,000-digit integer
        raise RejectedInput("not_json", str(exc)[:200]) from None


def _kind(value: Any) -> str:
    """The JSON type of a decoded value, as a reader of the message would name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, int | float):
        return "a JSON number"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, list):
        return "a JSON array"
    return "a JSON object"


def _required(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise RejectedInput("missing_field", f"required field {name!r} is missing")
    if data[name] is None:
        raise RejectedInput("missing_field", f"required field {name!r} is null")
    return data[name]


def _check_id(article_id: str) -> None:
    if not article_id.strip():
        raise RejectedInput("bad_id", "field 'id' is blank")
    if len(article_id) > MAX_ID_CHARS:
        raise RejectedInput(
            "bad_id", f"field 'id' has {len(article_id)} characters, the limit is {MAX_ID_CHARS}"
        )
    control = _CONTROLS.search(article_id) or re.search("[\t\n\r]", article_id)
    if control:
        raise RejectedInput("bad_id", f"field 'id' has a control character ({control.group()!r})")


def _check_body(body: str) -> str:
    """The body cleaned (see the module docstring), or why it is not text."""
    cleaned, controls = clean_text(body)
    visible = len(_INVISIBLE.sub("", "".join(cleaned.split())))
    if visible == 0 and controls == 0:
        raise RejectedInput("empty_body", "field 'body' is empty or only whitespace")
    if controls * 2 >= visible:
        raise RejectedInput(
            "control_chars",
            f"field 'body' has {controls} control characters to {visible} visible ones",
        )
    letter = _LETTER.search(cleaned)
    if letter is None:
        raise RejectedInput("no_text", "field 'body' has no letters")
    if not cleaned.strip().strip(letter.group()):
        raise RejectedInput("no_text", f"field 'body' is {letter.group()!r} repeated")
    return cleaned


def _published_at(data: dict[str, Any], reference: datetime) -> datetime | None:
    raw = _text_field(data, "published_at")
    if raw is None:
        return None
    try:
        published = parse_timestamp(raw)
    except ValueError:
        raise RejectedInput("bad_date", f"published_at {raw[:40]!r} is not ISO 8601") from None
    if published < EARLIEST_PUBLISHED:
        raise RejectedInput("bad_date", f"published_at {raw[:40]!r} is before 1900")
    if published > reference + FUTURE_SLACK:
        ahead = published - reference
        raise RejectedInput(
            "bad_date",
            f"published_at {raw[:40]!r} is {ahead.days} days {ahead.seconds // 3600} hours "
            "after the message was produced",
        )
    return published


def _text_field(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RejectedInput("wrong_type", f"field {name!r} must be a string, got {_kind(value)}")
    return value


def dead_letter(
    raw: bytes | None,
    error: RejectedInput,
    *,
    key: str | None = None,
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    now: datetime | None = None,
    max_raw_bytes: int = DLQ_MAX_RAW_BYTES,
) -> DeadLetter:
    """The record for ``articles.dlq``: the raw value kept whole, as text where decodable.

    Text that is not UTF-8 is kept as base64 (``raw_encoding``). A value whose JSON form
    would pass ``max_raw_bytes`` (only ever a ``too_large`` message, or one full of escapes)
    keeps its head; the detail then gives the whole size, its SHA-256 and where it lies.

    >>> dead_letter(b'{"id": "a", "body": ', RejectedInput("not_json", "truncated")).raw
    '{"id": "a", "body": '
    """
    payload = raw or b""
    try:
        text, encoding = payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = "", "base64"
    detail = error.detail[:_DLQ_MAX_DETAIL]
    if encoding == "utf-8":
        kept = _head_that_fits(text, max_raw_bytes)
        cut = len(kept) < len(text)
        kept_bytes = len(kept.encode("utf-8")) if cut else len(payload)
    else:
        # base64 takes 4 characters per 3 bytes; whole groups of 3 keep it decodable.
        kept_bytes = min(len(payload), max_raw_bytes // 4 * 3)
        kept = base64.b64encode(payload[:kept_bytes]).decode("ascii")
        cut = kept_bytes < len(payload)
    if cut:
        where = f"{topic}[{partition}]@{offset}" if topic is not None else "the input"
        digest = hashlib.sha256(payload).hexdigest()
        detail += (
            f"; raw keeps the first {kept_bytes} of {len(payload)} bytes (sha256 {digest}), "
            f"the whole message is at {where}"
        )
    return DeadLetter(
        reason=error.reason,
        detail=detail,
        raw=kept,
        raw_encoding=encoding,
        received_at=now or datetime.now(UTC),
        key=None if key is None else key[:_DLQ_MAX_KEY],
        topic=topic,
        partition=partition,
        offset=offset,
    )


def _json_size(text: str) -> int:
    return len(orjson.dumps(text))


def _head_that_fits(text: str, budget: int) -> str:
    """``text``, or its longest head whose JSON string form is at most ``budget`` bytes."""
    if len(text) * 6 + 2 <= budget or _json_size(text) <= budget:
        return text
    lo, hi = 0, len(text)  # the answer is in [lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _json_size(text[:mid]) <= budget:
            lo = mid
        else:
            hi = mid
    return text[:lo]


class Forgetting:
    """Forgets the ids of a seen-articles store once they are older than ``keep``, a few a call.

    Repeats of an article come within days (re-sent feeds, a producer's retries); remembering
    every id for ever would grow a worker's memory without bound (17 M ids a day at 200
    articles/s). Values are the ISO time the article was first seen. The sweep walks a snapshot
    of the keys ``batch`` at a time, so no call holds the stream up (50 reads cost about 0.05 ms
    an article, a fortieth of extracting it), and takes a new snapshot at most every ``every``.
    """

    def __init__(
        self,
        store: MutableMapping[str, Any],
        keep: timedelta,
        *,
        batch: int = 50,
        every: timedelta = timedelta(hours=1),
    ) -> None:
        self._store = store
        self._keep = keep
        self._batch = batch
        self._every = every
        self._pending: list[str] = []
        self._snapshot_at: datetime | None = None

    def sweep(self, now: datetime) -> int:
        """Forget up to ``batch`` expired ids; how many were forgotten."""
        if not self._pending:
            if self._snapshot_at is not None and now - self._snapshot_at < self._every:
                return 0
            self._pending = list(self._store.keys())
            self._snapshot_at = now
        horizon = now - self._keep
        forgotten = 0
        for _ in range(min(self._batch, len(self._pending))):
            key = self._pending.pop()
            seen = self._store.get(key)
            if seen is not None and parse_timestamp(seen) < horizon:
                del self._store[key]
                forgotten += 1
        return forgotten
