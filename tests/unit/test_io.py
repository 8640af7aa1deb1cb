"""Push input: files, folders, JSON arrays, JSON Lines, stdin; bad records passed through."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from streams.io import read_messages


def test_folder_reads_json_and_jsonl_files_in_order(tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_text('{"id": "b1", "body": "x"}\n\n{"id": "b2", "body": "y"}\n')
    (tmp_path / "a.json").write_text('{"id": "a", "body": "مقال"}')
    (tmp_path / "notes.txt").write_text("ignored")
    msgs = list(read_messages([str(tmp_path)]))
    assert [m.key for m in msgs] == [b"a", b"b1", b"b2"]
    assert orjson.loads(msgs[0].value)["body"] == "مقال"


def test_json_array_file_gives_one_message_per_element(tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    path.write_text('[{"id": "1", "body": "x"}, {"id": "2", "body": "y"}]')
    assert [m.key for m in read_messages([str(path)])] == [b"1", b"2"]


def test_invalid_records_are_pushed_raw_for_the_dead_letter_topic(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"id": "ok", "body": "x"}\nnot json\n{"body": "no id"}\n')
    msgs = list(read_messages([str(path)]))
    assert [m.value for m in msgs[1:]] == [b"not json", b'{"body": "no id"}']
    assert [m.key for m in msgs] == [b"ok", None, None]


def test_stdin_is_json_lines() -> None:
    stdin = io.BytesIO(b'{"id": "s1", "body": "x"}\n{"id": "s2", "body": "y"}\n')
    assert [m.key for m in read_messages(["-"], stdin=stdin)] == [b"s1", b"s2"]


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        list(read_messages([str(tmp_path / "nope.json")]))


def test_seed_folder_yields_both_seed_articles() -> None:
    seeds = Path(__file__).resolve().parents[2] / "seeds"
    ids = {m.key for m in read_messages([str(seeds)])}
    assert ids == {b"000_2c9a285eebb8b24b", b"003_22300b7c73ae127c"}
