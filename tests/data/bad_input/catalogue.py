"""Catalogue of bad (and odd but valid) input messages, each with the reason it must get.

Shared by tests/unit/test_bad_input.py (parse_article, table-driven) and
tests/integration/test_bad_input_e2e.py (the same records through a worker on a real broker).
Every record is a real case: what a feed, a script or a hostile producer actually pushes.
``reason`` None means the message is a valid Article; ``expect`` then lists fields it must have.
Sizes follow the default byte limit (``INCIDENT_MAX_ARTICLE_BYTES``).
"""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass, field
from typing import Any

import orjson

from streams.settings import Settings

LIMIT = Settings().max_article_bytes
ERBIL = "Rockets hit Erbil airport on Monday, officials said."


@dataclass(frozen=True)
class Case:
    """One input message: ``raw`` bytes, the DLQ ``reason`` (None: accepted) and why."""

    kind: str
    raw: bytes
    reason: str | None
    why: str
    expect: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> bytes:
        """The Kafka key a producer would use: the kind names the record."""
        return self.kind.encode()


def article(article_id: str, body: Any = ERBIL, **fields: Any) -> bytes:
    """A JSON article message; ``body=...`` left out means no body field at all."""
    data: dict[str, Any] = {"id": article_id}
    if body is not ...:
        data["body"] = body
    data.update(fields)
    return orjson.dumps(data)


def _padded(unit: str, total_bytes: int, article_id: str) -> bytes:
    """An article whose message is exactly ``total_bytes`` long, its body ``unit`` repeated."""
    overhead = len(article(article_id, ""))
    body = unit * ((total_bytes - overhead) // len(unit.encode()) + 1)
    message = article(article_id, body)
    while len(message) > total_bytes:  # trim whole characters (Arabic ones are 2 bytes)
        body = body[: -max(1, (len(message) - total_bytes) // 2)]
        message = article(article_id, body)
    return message + b" " * (total_bytes - len(message))  # JSON allows trailing whitespace


def _random_text_bytes() -> bytes:
    data = random.Random(7).randbytes(512)
    return data.replace(b"\x00", b"\x01")  # no NUL: then the only fault is the encoding


BAD: list[Case] = [
    Case("empty_value", b"", "empty", "a tombstone or a producer that sent no value"),
    Case("not_json", b"Rockets hit Erbil airport", "not_json", "plain text pushed as is"),
    Case(
        "cp1256_text",
        article("cp1256", "قصف صاروخي على أربيل").decode().encode("cp1256"),
        "not_utf8",
        "Arabic in Windows-1256, the legacy encoding of Arabic Windows",
    ),
    Case(
        "random_bytes",
        _random_text_bytes(),
        "not_utf8",
        "random bytes (with no NUL among them)",
    ),
    Case("nul_bytes", b"\x00" * 64, "binary", "a zero-filled buffer"),
    Case(
        "gzip_json",
        gzip.compress(article("gz"), mtime=0),
        "binary",
        "compressed JSON pushed without Kafka's own compression",
    ),
    Case(
        "utf16_json",
        article("u16").decode().encode("utf-16"),
        "binary",
        "JSON saved as UTF-16 (PowerShell's default), NUL bytes every other byte",
    ),
    Case("truncated_json", b'{"id": "cut", "body": "Rockets hit Er', "not_json", "cut mid-string"),
    Case(
        "two_documents",
        article("one") + b" " + article("two"),
        "not_json",
        "JSON Lines pushed as one message",
    ),
    Case("nan_value", b'{"id": "nan", "body": "x", "score": NaN}', "not_json", "NaN is no JSON"),
    Case(
        "lone_surrogate",
        b'{"id": "sur", "body": "Rockets \\ud800 hit Erbil"}',
        "lone_surrogate",
        "half an emoji: a UTF-16 string cut between its surrogates",
    ),
    Case(
        "nested_10000",
        b"[" * 10_000 + b"]" * 10_000,
        "too_deep",
        "10,000 nested arrays (past orjson's own limit)",
    ),
    Case(
        "nested_in_extra",
        article("deep", extra=orjson.loads(b"[" * 100 + b"]" * 100)),
        "too_deep",
        "an unknown field nested 100 deep (within orjson's limit, past ours)",
    ),
    Case(
        "huge_body",
        article("huge", "a" * LIMIT),
        "too_large",
        "a body past the byte limit",
    ),
    Case(
        "sentence_1mb",
        _padded("Rockets hit Erbil and ", LIMIT + 1, "long-sentence"),
        "too_large",
        "one sentence of 1 MB, a byte over the limit",
    ),
    Case(
        "sarukh_100000",
        article("sarukh", "صاروخ " * 100_000),
        "too_large",
        '"صاروخ " 100,000 times: 1.1 MB',
    ),
    Case("json_array", b'[{"id": "a1", "body": "x"}]', "not_object", "a batch in an array"),
    Case("json_string", b'"Rockets hit Erbil"', "not_object", "a bare JSON string"),
    Case("json_number", b"42", "not_object", "a bare number"),
    Case("json_null", b"null", "not_object", "JSON null"),
    Case(
        "duplicate_key",
        b'{"id": "dup", "body": "weather report", "body": "Rockets hit Erbil."}',
        "duplicate_key",
        "two bodies: orjson keeps the last, other parsers the first",
    ),
    Case("missing_id", orjson.dumps({"body": ERBIL}), "missing_field", "no id"),
    Case("missing_body", article("nobody", ...), "missing_field", "no body"),
    Case("null_body", article("null-body", None), "missing_field", "body null"),
    Case("id_number", orjson.dumps({"id": 17, "body": ERBIL}), "wrong_type", "id a number"),
    Case("body_list", article("list", [ERBIL]), "wrong_type", "body a list of paragraphs"),
    Case(
        "published_at_number",
        article("epoch", published_at=1614153600),
        "wrong_type",
        "Unix seconds instead of ISO 8601",
    ),
    Case(
        "title_object",
        article("title-obj", title={"en": "Rockets"}),
        "wrong_type",
        "a title per language",
    ),
    Case("id_too_long", article("x" * 513), "bad_id", "an id of 513 characters"),
    Case("id_blank", article("   "), "bad_id", "an id of spaces"),
    Case("id_newline", article("a1\nb2"), "bad_id", "two ids glued with a newline"),
    Case("empty_body", article("empty", ""), "empty_body", "an empty body"),
    Case(
        "whitespace_body",
        article("ws", " \n\t\u00a0\u3000\u200b "),
        "empty_body",
        "spaces, no-break and ideographic spaces, a zero-width space",
    ),
    Case(
        "bidi_only_body",
        article("bidi-only", "\u202e\u2066\u2069\u202c"),
        "empty_body",
        "only bidi controls: nothing left once they are neutralised",
    ),
    Case(
        "control_body",
        article("ctrl", "\x01\x02\x03\x04\x1b[31m"),
        "control_chars",
        "a terminal escape sequence and other controls",
    ),
    Case(
        "utf16_in_string",
        article("u16s", "\x00".join("Rockets hit Erbil") + "\x00"),
        "control_chars",
        "UTF-16LE bytes read as Latin-1: a NUL after every letter",
    ),
    Case(
        "arabic_commas",
        article("commas", "،" * 200_000),
        "no_text",
        '"،" 200,000 times (400 kB): no letters',
    ),
    Case("digits_only", article("digits", "1" * 500_000), "no_text", '"1" 500,000 times'),
    Case("one_letter", article("aaa", "a" * 10_000), "no_text", "one character repeated"),
    Case("not_iso_date", article("d1", published_at="last Tuesday"), "bad_date", "words"),
    Case("us_date", article("d2", published_at="02/24/2021"), "bad_date", "US-style date"),
    Case("impossible_date", article("d3", published_at="2021-02-30"), "bad_date", "30 Feb"),
    Case(
        "future_date",
        article("d4", published_at="2999-01-01T00:00:00Z"),
        "bad_date",
        "far in the future",
    ),
    Case(
        "zero_date",
        article("d5", published_at="0001-01-01T00:00:00Z"),
        "bad_date",
        "Go's zero time, .NET's DateTime.MinValue",
    ),
]

GOOD: list[Case] = [
    Case(
        "bom",
        b"\xef\xbb\xbf" + article("bom"),
        None,
        "a UTF-8 byte order mark first (Notepad)",
        {"id": "bom", "body": ERBIL},
    ),
    Case(
        "unknown_language",
        article("fr", language="fr"),
        None,
        "an unsupported language tag: detected instead",
        {"language": None},
    ),
    Case(
        "regional_language",
        article("ar-iq", "قصف صاروخي على مطار أربيل يوم الاثنين", language="ar-IQ"),
        None,
        "a BCP 47 tag with a region",
        {"language": "ar"},
    ),
    Case(
        "stray_controls",
        article("stray", "Rockets hit Erbil\x0c airport\x00 on Monday, officials said."),
        None,
        "a form feed and a NUL from a copy-paste: replaced by spaces",
        {"body": "Rockets hit Erbil  airport  on Monday, officials said."},
    ),
    Case(
        "bidi_override",
        article("rlo", "Rockets hit \u202eErbil\u202c airport on Monday, officials said."),
        None,
        "a right-to-left override: neutralised (zero-width space), text kept",
        {"body": "Rockets hit \u200bErbil\u200b airport on Monday, officials said."},
    ),
    Case(
        "rlm_marks",
        article("rlm", "قصف \u200fصاروخي\u200f على مطار أربيل"),
        None,
        "right-to-left marks are normal in Arabic copy: kept",
        {"body": "قصف \u200fصاروخي\u200f على مطار أربيل"},
    ),
    Case(
        "emoji_surrogate_pair",
        b'{"id": "emoji", "body": "Rockets hit Erbil \\ud83d\\ude80 airport."}',
        None,
        "a whole surrogate pair is a valid escape",
        {"body": "Rockets hit Erbil \U0001f680 airport."},
    ),
    Case(
        "unknown_fields",
        article("extra", desk="Iraq", tags=["erbil"]),
        None,
        "unknown fields are kept",
        {"extra": {"desk": "Iraq", "tags": ["erbil"]}},
    ),
    Case(
        "offset_date",
        article("tz", published_at="2021-02-16T01:30:00+03:00"),
        None,
        "a time-zone offset",
    ),
    Case(
        "a_space_400000",
        article("a-space", "a " * 400_000),
        None,
        '"a " 400,000 times (800 kB): odd, but words; the extractor must stay linear',
    ),
    Case(
        "just_under_limit",
        _padded("a ", LIMIT, "under-limit"),
        None,
        "a single sentence of exactly the byte limit",
    ),
]
