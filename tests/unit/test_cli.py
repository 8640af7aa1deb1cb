"""The command line as a user runs it: replay, extract, push errors, help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: bytes | None = None, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_replay_json_prints_topic_key_value_lines_with_one_erbil_cluster() -> None:
    done = run("replay", str(ROOT / "seeds"), "--json")
    assert done.returncode == 0, done.stderr.decode()
    lines = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert lines and all(set(line) == {"topic", "key", "value"} for line in lines)
    clusters: dict[str, dict[str, object]] = {}
    for line in lines:
        if line["topic"] == "incidents":
            clusters[line["value"]["cluster_id"]] = line["value"]
    erbil = [c for c in clusters.values() if (c["location"] or {}).get("region_id") == "IQ.11"]
    assert len(erbil) == 1
    assert {s["article_id"] for s in erbil[0]["sources"]} == {
        "000_2c9a285eebb8b24b",
        "003_22300b7c73ae127c",
    }
    high = [line for line in lines if line["topic"] == "alerts.high"]
    assert any(a["value"]["region"] == "IQ.07" for a in high), "the embassy attack is high"
    assert all(
        line["key"] == line["value"]["region"] for line in lines if line["topic"] == "alerts"
    )


def test_replay_puts_bad_records_on_the_dead_letter_topic(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"id": "x", "body": \n{"id": "ok", "body": "Nothing happened."}\n')
    done = run("replay", str(source), "--json")
    lines = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert [(x["topic"], x["value"]["reason"]) for x in lines if "reason" in x["value"]] == [
        ("articles.dlq", "not_json")
    ]


def test_extract_reads_json_lines_and_writes_incidents() -> None:
    seed = orjson.loads((ROOT / "seeds" / "003_22300b7c73ae127c.json").read_bytes())
    done = run("extract", "-", stdin=orjson.dumps(seed) + b"\nnot json\n")
    assert done.returncode == 0
    incidents = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert incidents and all(i["article_id"] == seed["id"] for i in incidents)
    assert b"line 2: rejected: not_json" in done.stderr


def test_push_to_an_unreachable_broker_is_a_clear_error() -> None:
    done = run("push", str(ROOT / "seeds"), "--quiet", KAFKA_BOOTSTRAP="127.0.0.1:1")
    assert done.returncode == 2
    assert b"cannot reach Kafka at 127.0.0.1:1" in done.stderr
    assert b"Traceback" not in done.stderr


def test_push_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    done = run("push", str(tmp_path / "none.json"))
    assert done.returncode == 2
    assert b"no such file or folder" in done.stderr
