"""Extraction throughput: articles per second on one core, against the decode-and-scan floor.

Run: ``python bench/bench_extract.py [--rounds N] [--limit N]``. The corpus is the seed articles
plus the GTD/ACLED incident summaries of the evaluation data (``$INCIDENT_EVAL_DATA`` or
``../shared/eval/data``), each as the raw JSON an ``articles`` message carries. Two figures are
printed from the same run: the full path (JSON decode, validation, extraction) and the floor
(JSON decode plus one normalising pass over the body), which no extractor can beat. A third
times the Arabic path alone on the hand-labelled ANERCorp sentences (long, many clauses).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from streams.evaluate import default_data_dir, read_gtd_acled
from streams.extract.engine import get_extractor
from streams.ingest import parse_article
from streams.normalize import normalize_ar
from streams.settings import PROJECT_ROOT

GTD_CSV = Path("gtd_acled_drone") / "Acled_GTD_Drone_Database_20260509.csv"
ARABIC = PROJECT_ROOT / "tests" / "data" / "eval" / "anercorp_incidents.jsonl"


def corpus(limit: int | None) -> list[bytes]:
    """Raw article messages: the seeds, then one article per GTD/ACLED summary."""
    raw = [p.read_bytes() for p in sorted((PROJECT_ROOT / "seeds").glob("*.json"))]
    csv_path = default_data_dir() / GTD_CSV
    if csv_path.exists():
        for row in read_gtd_acled(csv_path):
            if not row.get("summary"):
                continue
            year, month, day = (row.get(k) or "1" for k in ("year", "month", "day"))
            published = f"{int(year):04d}-{int(month):02d}-{max(1, int(day)):02d}T00:00:00Z"
            article = {
                "id": str(row.get("eventid")),
                "body": row["summary"],
                "published_at": published,
                "language": "en",
            }
            raw.append(orjson.dumps(article))
    return raw[:limit] if limit else raw


def arabic_corpus() -> list[bytes]:
    """The labelled Arabic sentences, one article each."""
    if not ARABIC.exists():
        return []
    lines = [orjson.loads(line) for line in ARABIC.read_bytes().splitlines() if line.strip()]
    return [
        orjson.dumps({"id": line["id"], "body": line["text"], "language": "ar"}) for line in lines
    ]


def rate(messages: list[bytes], work: Callable[[bytes], object], rounds: int) -> float:
    """Best-of-``rounds`` articles per second of ``work`` over ``messages``."""
    results: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        for message in messages:
            work(message)
        results.append(len(messages) / (time.perf_counter() - started))
    return max(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    messages = corpus(args.limit)
    started = time.perf_counter()
    extractor = get_extractor()
    load_seconds = time.perf_counter() - started
    found: list[int] = []

    def full(message: bytes) -> object:
        article = parse_article(message, max_bytes=1_000_000)
        incidents = extractor.extract(article)
        found.append(len(incidents))
        return incidents

    def floor(message: bytes) -> object:
        return normalize_ar(orjson.loads(message)["body"])

    full(messages[0])  # warm caches (date and number lexicons load on first use)
    found.clear()
    extract_rate = rate(messages, full, args.rounds)
    floor_rate = rate(messages, floor, args.rounds)
    arabic = arabic_corpus()
    arabic_rate = rate(arabic, full, args.rounds) if arabic else None
    sizes = [len(orjson.loads(m)["body"]) for m in messages]
    per_round = found[: len(messages)]
    print(f"articles: {len(messages)} (median body {statistics.median(sizes):.0f} chars)")
    print(f"extractor load: {load_seconds:.2f} s")
    print(f"incidents per round: {sum(per_round)}")
    print(f"extract: {extract_rate:,.0f} articles/s per core ({1000 / extract_rate:.2f} ms each)")
    print(f"floor (orjson decode + one scan): {floor_rate:,.0f} articles/s per core")
    if arabic_rate is not None:
        print(f"extract, Arabic sentences ({len(arabic)}): {arabic_rate:,.0f} articles/s per core")


if __name__ == "__main__":
    main()
