"""Human-readable one-line renderings of the records on our topics."""

from __future__ import annotations

from typing import Any

import orjson


def _count(c: Any) -> str:
    if not isinstance(c, dict):
        return "-"
    marks = {"approx": "~", "at_least": ">=", "vague": "?"}
    return f"{marks.get(c.get('qualifier', 'exact'), '')}{c.get('value')}"


def describe_alert(a: dict[str, Any]) -> str:
    """``[HIGH] target_diplomatic · Baghdad (IQ.07) · 2021-02-22 day · count=1 · reason``."""
    window = a.get("window") or {}
    figures = ", ".join(f"{k}={v:g}" for k, v in (a.get("figures") or {}).items())
    region = a.get("region_name") or a.get("region")
    rev = f" rev {a['revision']}" if a.get("revision", 1) > 1 else ""
    severity = str(a.get("severity", "?")).upper()
    head = f"[{severity}] {a.get('rule')}{rev} · {region} ({a.get('region')})"
    span = f"{window.get('kind')} {window.get('start')} → {window.get('end')}"
    lines = [f"{head} · {span} · {figures}"]
    if a.get("reason"):
        lines.append(f"    {a['reason']}")
    for inc in a.get("incidents") or []:
        lines.append(f"    - {inc.get('incident_id')}: {str(inc.get('evidence', ''))[:160]}")
    return "\n".join(lines)


def describe_incident(i: dict[str, Any]) -> str:
    """One line: where, what, how many, who, when."""
    loc = i.get("location") or {}
    weapon = (i.get("weapon") or {}).get("category", "unknown")
    counts = i.get("counts") or {}
    actor = i.get("actor") or {}
    who = f"{actor.get('name')} ({actor.get('attribution')})" if actor else "-"
    when = f"{i.get('event_date')} ({i.get('date_precision')})"
    if i.get("historical"):
        when += " historical"
    sources = len(i.get("sources") or []) or 1
    return (
        f"{loc.get('canonical', '?')}, {loc.get('admin1', '?')} [{loc.get('region_id')}] · {weapon}"
        f" · qty {_count(counts.get('quantity'))} killed {_count(counts.get('killed'))}"
        f" wounded {_count(counts.get('wounded'))} · by {who} · {when}"
        f" · {sources} source(s) rev {i.get('revision', 1)}"
    )


def describe(topic: str, value: bytes) -> str:
    """Render a record from ``topic``; anything unrecognised is shown as text."""
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        return value.decode("utf-8", "replace")
    if isinstance(data, dict):
        if "alert_id" in data:
            return describe_alert(data)
        if "incident_id" in data and "counts" in data:
            return describe_incident(data)
        if "reason" in data and "raw" in data:
            return f"[DLQ] {data['reason']}: {data.get('detail')} (key {data.get('key')})"
    return orjson.dumps(data).decode("utf-8")
