"""Time per kB of ingest and extraction on pathological bodies at 10 kB, 100 kB and 1 MB.

Run: ``python bench/bench_linear.py [--sizes 10,100,1000] [--timeout 60] [--only NAME ...]``.
Linear work keeps the milliseconds per kB flat as the body grows, so the last column (ms/kB at
the largest size over ms/kB at the smallest) stays near 1; a ratio near the size ratio (10,
100) is quadratic. Each measurement runs in a forked child with a time limit, so a
super-linear case is reported as over the limit instead of hanging the bench, and its larger
sizes are skipped. Ingest (``parse_article`` on the JSON message) is measured up to the byte
limit; extraction on the body as an Article, past it too (the extractor's own contract).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

import orjson

from streams.extract.engine import get_extractor
from streams.ingest import RejectedInput, parse_article
from streams.records import Article

# The brief's repetitions, then shapes real copy takes at scale (no full stop for a long
# stretch, one incident sentence repeated, abbreviations, "said," between clauses).
UNITS = {
    "arabic_comma": "،",
    "a_space": "a ",
    "digit_one": "1",
    "sarukh": "صاروخ ",
    "mixed_digits": "14 ١٤ ۱۴ ",
    "lorem_no_stop": "the committee discussed the budget and the weather and ",
    "arabic_no_stop": "ناقش المجلس الميزانية والطقس و",
    "qal_comma": "قال، ",
    "us_abbreviations": "U.S. ",
    "incident_no_stop": "rockets killed 3 in Baghdad and ",
    "arabic_incident_no_stop": "قصف أربيل بـ14 صاروخاً و",
    "incident_sentences": "Rockets hit Baghdad on Monday. ",
    "arabic_incident_sentences": "قصف أربيل بـ14 صاروخاً. ",
}
LIMIT = 1_000_000


def body_of(unit: str, size: int) -> str:
    """``unit`` repeated to ``size`` bytes of UTF-8 (whole characters)."""
    body = unit * (size // len(unit.encode()) + 1)
    return body[: len(body) * size // len(body.encode())]


def _ingest(body: str) -> None:
    # "no_text" is a verdict too: the time to reach it is what is measured.
    with contextlib.suppress(RejectedInput):
        parse_article(orjson.dumps({"id": "bench", "body": body}), max_bytes=LIMIT + 100)


def _extract(body: str) -> None:
    get_extractor().extract(Article(id="bench", body=body))


def _child(work: Callable[[str], None], body: str, conn: Connection) -> None:
    work(body[:200])  # warm up: first-touch costs in the fresh child are not the body's
    started = time.perf_counter()
    work(body)
    conn.send(time.perf_counter() - started)


def measure(work: Callable[[str], None], body: str, timeout_s: float) -> float | None:
    """Seconds ``work(body)`` takes in a forked child, or None past ``timeout_s``."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(work, body, send), daemon=True)
    child.start()
    try:
        return float(receive.recv()) if receive.poll(timeout_s) else None
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        receive.close()
        send.close()


def run(
    label: str,
    work: Callable[[str], None],
    sizes: list[int],
    timeout_s: float,
    names: list[str],
) -> None:
    head = "".join(f"{size // 1000:>9} kB" for size in sizes)
    print(f"\n{label}: ms per kB\n{'body':<26}{head}  ratio")
    for name in names:
        cells: list[str] = []
        per_kb: list[float] = []
        for size in sizes:
            if len(cells) > len(per_kb):
                cells.append(f"{'-':>12}")  # skipped: a smaller size was already over the limit
                continue
            seconds = measure(work, body_of(UNITS[name], size), timeout_s)
            if seconds is None:
                cells.append(f"{'>' + str(int(timeout_s)) + ' s':>12}")
                continue
            per_kb.append(seconds * 1000 / (size / 1000))
            cells.append(f"{per_kb[-1]:>12.3f}")
        over = len(per_kb) < len(sizes)
        ratio = f"{per_kb[-1] / per_kb[0]:5.1f}" if len(per_kb) > 1 else f"{'-':>5}"
        verdict = "over the time limit" if over else ""
        print(f"{name:<26}{''.join(cells)}  {ratio} {verdict}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="body sizes in kB")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per measurement")
    parser.add_argument("--only", nargs="*", choices=sorted(UNITS), help="these bodies only")
    args = parser.parse_args()
    sizes = [int(float(s) * 1000) for s in args.sizes.split(",")]
    names = args.only or list(UNITS)
    get_extractor()  # loaded once, before the children fork
    run("ingest (parse_article)", _ingest, [s for s in sizes if s <= LIMIT], args.timeout, names)
    run("extract", _extract, sizes, args.timeout, names)


if __name__ == "__main__":
    main()
