"""Gazetteer figures: load time (cold, cached), memory, find() speed, accuracy on eval data."""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from streams.geo import Gazetteer, ResolvedPlace, _key_en
from streams.settings import PROJECT_ROOT

# The development eval data lives in shared/ beside the repository; INCIDENT_EVAL_DATA overrides.
EVAL_DATA = Path(os.environ.get("INCIDENT_EVAL_DATA", PROJECT_ROOT.parent / "shared/eval/data"))
GTD_FILE = "gtd_acled_drone/Acled_GTD_Drone_Database_20260509.csv"
ANER_FILE = "anercorp/ANERCorp"
_UNKNOWN = {"", "n/a", "unknown", "na"}


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def gtd_rows(path: Path) -> Iterator[dict[str, str]]:
    """GTD/ACLED rows: first line ``sep=;``, then a header, ``;``-separated."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        fh.readline()
        yield from csv.DictReader(fh, delimiter=";")


@dataclass
class GtdScores:
    """How often the best place of a summary matches the row's admin1 region and city."""

    rows: int = 0
    admin1_total: int = 0
    admin1_hits: int = 0
    admin1_unmapped: int = 0  # provstate not found in the gazetteer's admin1 names
    place_total: int = 0
    place_hits: int = 0
    misses: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def admin1_accuracy(self) -> float:
        return self.admin1_hits / self.admin1_total if self.admin1_total else 0.0

    @property
    def place_accuracy(self) -> float:
        return self.place_hits / self.place_total if self.place_total else 0.0


def best_places(resolved: list[ResolvedPlace]) -> tuple[ResolvedPlace | None, ResolvedPlace | None]:
    """The region-bearing and the place-level picks of ``locate`` (first of each kind)."""
    region = next((r for r in resolved if r.location.precision != "country"), None)
    place = next(
        (r for r in resolved if r.location.precision in ("landmark", "district", "city")), None
    )
    return region, place


def score_gtd(gaz: Gazetteer, path: Path) -> GtdScores:
    """Run ``locate`` over every summary and compare with ``provstate`` and ``city``."""
    scores = GtdScores()
    for row in gtd_rows(path):
        summary = row.get("summary") or ""
        if summary.strip().lower() in _UNKNOWN:
            continue
        scores.rows += 1
        cc = gaz.country_code_for(row["country_txt"])
        context = gaz.context(summary, "en")
        resolved = gaz.locate(summary, "en", context)
        region, place = best_places(resolved)
        prov = row["provstate"].strip()
        if prov.lower() not in _UNKNOWN:
            gold = gaz.region_id_for(prov, cc)
            if gold is None:
                scores.admin1_unmapped += 1
            else:
                scores.admin1_total += 1
                got = region.location.region_id if region else None
                if got == gold:
                    scores.admin1_hits += 1
                else:
                    scores.misses.append(("admin1", prov, str(got), summary[:160]))
        city = row["city"].strip()
        if city.lower() not in _UNKNOWN:
            scores.place_total += 1
            if place is not None and _same_place(gaz, city, cc, place):
                scores.place_hits += 1
            else:
                got = place.location.canonical if place else "-"
                scores.misses.append(("place", city, got, summary[:160]))
    return scores


def _same_place(gaz: Gazetteer, city: str, cc: str | None, got: ResolvedPlace) -> bool:
    gold = _key_en(re.sub(r"\s*\(.*?\)", "", city))
    if gold in (_key_en(got.location.canonical), _key_en(got.mention.text)):
        return True
    # The gold name may be another spelling of the same place: resolve it on its own.
    for mention in gaz.find(city, "en"):
        if any(c.id == got.place.id for c in mention.candidates):
            return True
    return bool(cc) and gold.endswith(_key_en(got.mention.text)) and got.place.country_code == cc


@dataclass
class NerScores:
    """Token-level precision/recall of Arabic place mentions against ANERCorp B-LOC/I-LOC."""

    tokens: int = 0
    gold: int = 0
    found: int = 0
    correct: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 0.0


def score_anercorp(gaz: Gazetteer, path: Path, limit: int | None = None) -> NerScores:
    """Rebuild sentences from ``token TAG`` lines and compare mention tokens with LOC tags."""
    scores = NerScores()
    tokens: list[tuple[str, bool]] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").rsplit(" ", 1)
            if len(parts) != 2:
                continue
            tokens.append((parts[0], parts[1].endswith("-LOC")))
    sentence: list[tuple[str, bool]] = []
    done = 0
    for token, is_loc in tokens:
        sentence.append((token, is_loc))
        if token in (".", "؟", "!") and len(sentence) > 1:
            _score_sentence(gaz, sentence, scores)
            sentence = []
            done += 1
            if limit and done >= limit:
                break
    if sentence:
        _score_sentence(gaz, sentence, scores)
    return scores


def _score_sentence(gaz: Gazetteer, sentence: list[tuple[str, bool]], scores: NerScores) -> None:
    text = ""
    spans: list[tuple[int, int, bool]] = []
    for token, is_loc in sentence:
        if text:
            text += " "
        spans.append((len(text), len(text) + len(token), is_loc))
        text += token
    predicted = [False] * len(spans)
    for mention in gaz.find(text, "ar"):
        for i, (start, end, _) in enumerate(spans):
            if start < mention.end and mention.start < end:
                predicted[i] = True
    for (_, _, is_loc), got in zip(spans, predicted, strict=True):
        scores.tokens += 1
        scores.gold += is_loc
        scores.found += got
        scores.correct += is_loc and got


def seed_sentences() -> list[tuple[str, str]]:
    """Sentences of the seed articles (Arabic), split on full stops."""
    out: list[tuple[str, str]] = []
    for path in sorted((PROJECT_ROOT / "seeds").glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))["body"]
        out.extend((s, "ar") for s in re.split(r"(?<=[.!؟])\s+", body) if s.strip())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", action="store_true", help="also time a build from scratch")
    parser.add_argument("--misses", type=int, default=0, help="print this many misses")
    parser.add_argument("--aner-limit", type=int, default=None, help="ANERCorp sentences")
    args = parser.parse_args(argv)

    if args.cold:
        # In a child process, so the build's memory does not blur this process's RSS figure.
        with tempfile.TemporaryDirectory() as tmp:
            code = "from streams.geo import Gazetteer; Gazetteer.load()"
            env = {**os.environ, "INCIDENT_CACHE_DIR": tmp}
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=PROJECT_ROOT)
            print(f"load cold (new process, build + cache): {time.perf_counter() - start:.1f} s")
    before = rss_mb()
    start = time.perf_counter()
    gaz = Gazetteer.load()
    print(f"load cached: {time.perf_counter() - start:.2f} s, RSS +{rss_mb() - before:.0f} MB")

    sentences = seed_sentences()
    gtd = EVAL_DATA / GTD_FILE
    if gtd.is_file():
        sentences += [(r["summary"], "en") for r in gtd_rows(gtd) if r.get("summary")][:500]
    timings: dict[str, list[float]] = {"ar": [], "en": []}
    for text, lang in sentences:
        start = time.perf_counter()
        gaz.find(text, lang)
        timings[lang].append(time.perf_counter() - start)
    for lang, values in timings.items():
        if values:
            print(
                f"find() {lang}: {len(values)} sentences, median "
                f"{statistics.median(values) * 1e3:.2f} ms, mean "
                f"{statistics.fmean(values) * 1e3:.2f} ms, max {max(values) * 1e3:.1f} ms"
            )

    if gtd.is_file():
        scores = score_gtd(gaz, gtd)
        print(
            f"GTD/ACLED ({scores.rows} summaries): admin1 {scores.admin1_accuracy:.3f} "
            f"({scores.admin1_hits}/{scores.admin1_total}, {scores.admin1_unmapped} provstate "
            f"names unmapped), place {scores.place_accuracy:.3f} "
            f"({scores.place_hits}/{scores.place_total})"
        )
        kinds = Counter(kind for kind, *_ in scores.misses)
        print(f"misses: {dict(kinds)}")
        for kind, gold, got, text in scores.misses[: args.misses]:
            print(f"  {kind}: gold {gold!r} got {got!r} | {text}")
    else:
        print(f"no GTD/ACLED file at {gtd}: accuracy skipped")
    aner = EVAL_DATA / ANER_FILE
    if aner.is_file():
        ner = score_anercorp(gaz, aner, args.aner_limit)
        print(
            f"ANERCorp LOC tokens: precision {ner.precision:.3f}, recall {ner.recall:.3f} "
            f"({ner.correct} correct, {ner.found} found, {ner.gold} gold, {ner.tokens} tokens)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
