"""Clock ticks against the size of the state: milliseconds per tick as the keys grow.

Run: ``python bench/bench_tick.py [--articles 5000 20000]``. For each size, that many articles
of ``bench_load``'s generator (200 a second of stream time) are extracted and corroborated
offline into one shared store, as a worker's ``region_state`` table holds them; then the
clock ticks every 5 s of wall time, as in the worker, and each tick (close the windows due,
expire old state) is timed. Printed: the keys per keyspace and the first tick and the median
of the next ones. A tick holds the worker's event loop, so its time is latency for every
article waiting behind it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from bench_pipeline import reports

from streams.pipeline import Pipeline


def filled(articles: int) -> tuple[Pipeline, dict[str, object], datetime]:
    """A pipeline whose one store holds the state of ``articles`` generated articles."""
    store: dict[str, object] = {}
    pipeline = Pipeline(store=store)
    start = datetime.now(UTC)
    for _, incident in reports(articles, seed=3, start=start):
        for cluster in pipeline.on_incident(incident):
            pipeline.on_cluster(cluster)
    return pipeline, store, start + timedelta(seconds=articles / 200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--ticks", type=int, default=6)
    args = parser.parse_args()
    for articles in args.articles:
        pipeline, store, now = filled(articles)
        spaces = Counter(key.split(":", 1)[0] for key in store)
        times = []
        for n in range(args.ticks):
            started = time.perf_counter()
            pipeline.on_tick(now + timedelta(seconds=5 * n), owns=lambda region: True)
            times.append(1000 * (time.perf_counter() - started))
        held = ", ".join(f"{name} {count}" for name, count in spaces.most_common())
        print(f"{articles} articles: {len(store)} keys ({held})")
        print(f"  tick: first {times[0]:.1f} ms, then median {statistics.median(times[1:]):.1f} ms")


if __name__ == "__main__":
    main()
