"""Corroborate, windows and alerts offline: milliseconds per report as the state grows.

Run: ``python bench/bench_pipeline.py [--articles 20000] [--chunk 5000]``. ``bench_load``'s
generator makes the articles (200 a second of stream time, seed articles ~5% of them); they are
extracted first (timed apart), then their reports go through one :class:`Pipeline` over one
shared store, as the worker's ``region_state`` table holds it, with the clock following the
stream and a tick every second of it (the heap settled at each, as the worker's). Printed: ms
per report for each chunk of reports (the state grows, and so do the clusters a seed article's
copies form), ms per report by the size of the cluster it lands in, the bytes published per
report, and a digest of every output record (an optimisation of these stages must leave it
unchanged). This is the event loop's own work per report in the worker, without Kafka or Faust.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from datetime import UTC, datetime, timedelta

from bench_load import ArticleFactory

from streams.heap import SettledHeap
from streams.ingest import parse_article
from streams.offload import extract_article
from streams.pipeline import Pipeline
from streams.records import Incident

# Cluster sizes (sources) the time per report is broken down by: the lower bound of each.
SIZES = {1: "1", 2: "2-9", 10: "10-99", 100: "100+"}


def reports(
    articles: int, *, seed: int = 7, start: datetime = datetime(2026, 1, 5, tzinfo=UTC)
) -> list[tuple[datetime, Incident]]:
    """The reports of ``articles`` generated articles (200 a second from ``start``), timed."""
    factory = ArticleFactory(seed=seed, tag="pipeline")
    found: list[tuple[datetime, Incident]] = []
    for n in range(articles):
        now = start + timedelta(seconds=n / 200)
        message = factory.next(now)
        if not message.valid:
            continue
        article = parse_article(message.value, max_bytes=1_000_000, produced_at=now)
        found.extend((now, incident) for incident in extract_article(article, now))
    return found


def size_label(sources: int) -> str:
    """The bucket of a cluster of ``sources`` reports."""
    return SIZES[max(bound for bound in SIZES if bound <= max(sources, 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--chunk", type=int, default=5000, help="reports per printed line")
    args = parser.parse_args()
    began = time.perf_counter()
    items = reports(args.articles)
    print(f"{args.articles} articles -> {len(items)} reports, extracted in "
          f"{time.perf_counter() - began:.0f} s")  # fmt: skip
    store: dict[str, object] = {}
    pipeline = Pipeline(store=store)
    digest = hashlib.sha256()
    published = 0
    by_size: dict[str, list[float]] = {label: [0, 0.0] for label in SIZES.values()}
    chunk_time = tick_time = 0.0
    last_tick: datetime | None = None
    heap = SettledHeap(600.0)  # as the worker's, settled at each tick
    for n, (now, incident) in enumerate(items, start=1):
        pipeline._stream_now = now  # the clock follows the stream, as in replay
        if last_tick is None or now - last_tick >= timedelta(seconds=1):
            started = time.perf_counter()
            for alert in pipeline.on_tick(now):
                digest.update(alert.dumps())
            heap.settle()
            tick_time += time.perf_counter() - started
            last_tick = now
        started = time.perf_counter()
        sources = 0
        outputs = []
        for cluster in pipeline.on_incident(incident):
            outputs.append(pipeline.payload(cluster))
            alerts, lates = pipeline.on_cluster(cluster)
            outputs.extend(pipeline.payload(late) for late in lates)
            outputs.extend(alert.dumps() for alert in alerts)
            sources = len(cluster.sources or [])
        spent = time.perf_counter() - started
        chunk_time += spent
        if sources:
            bucket = by_size[size_label(sources)]
            bucket[0] += 1
            bucket[1] += spent
            published += len(outputs[0])
        for output in outputs:
            digest.update(output)
        if n % args.chunk == 0 or n == len(items):
            size = (n - 1) % args.chunk + 1
            print(f"  reports {n:>6}: {1000 * chunk_time / size:.2f} ms a report, "
                  f"ticks {1000 * tick_time / size:.2f} ms a report")  # fmt: skip
            chunk_time = tick_time = 0.0
    print("by cluster size (sources): " + ", ".join(
        f"{label}: {int(count)} reports, {1000 * total / max(count, 1):.2f} ms"
        for label, (count, total) in by_size.items()
    ))  # fmt: skip
    clusters = [key for key in store if key.startswith("clusters:")]
    print(f"clusters {len(clusters)}, state keys {len(store)}, "
          f"bytes published on incidents per report {published // max(len(items), 1)}")  # fmt: skip
    print(f"outputs digest {digest.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
