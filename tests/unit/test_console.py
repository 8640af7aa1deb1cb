"""Human-readable rendering of alerts, incidents and dead letters."""

from __future__ import annotations

import orjson

from streams.console import describe


def test_alert_line_shows_severity_rule_region_and_evidence() -> None:
    alert = {
        "alert_id": "abc",
        "rule": "diplomatic_target",
        "severity": "high",
        "region": "IQ.07",
        "region_name": "Baghdad",
        "window": {
            "kind": "tumbling_1d",
            "start": "2021-02-22T00:00:00Z",
            "end": "2021-02-23T00:00:00Z",
        },
        "figures": {"count": 1.0},
        "incidents": [{"incident_id": "i1", "evidence": "واستهدفت صواريخ كاتيوشا محيط السفارة"}],
        "revision": 2,
    }
    text = describe("alerts", orjson.dumps(alert))
    assert text.startswith("[HIGH] diplomatic_target rev 2 · Baghdad (IQ.07)")
    assert "count=1" in text
    assert "واستهدفت صواريخ كاتيوشا" in text


def test_incident_line_marks_approximate_counts() -> None:
    incident = {
        "incident_id": "i",
        "location": {"canonical": "Erbil", "admin1": "Erbil", "region_id": "IQ.11"},
        "weapon": {"category": "rocket"},
        "counts": {
            "quantity": {"value": 14, "qualifier": "approx"},
            "killed": None,
            "wounded": None,
        },
        "actor": None,
        "event_date": "2021-02-15",
        "date_precision": "day",
    }
    text = describe("incidents", orjson.dumps(incident))
    assert "Erbil" in text and "rocket" in text and "qty ~14" in text


def test_dead_letter_and_non_json_render_as_text() -> None:
    dl = {"reason": "not_json", "detail": "truncated", "raw": "{", "key": None}
    assert describe("articles.dlq", orjson.dumps(dl)).startswith("[DLQ] not_json")
    assert describe("x", b"\xffplain").endswith("plain")
