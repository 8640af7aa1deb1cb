"""Start-up figures: worker launch -> /metrics -> first article processed; extractor load; memory.

Run: ``python bench/bench_startup.py [--repeat 3] [--no-cold]``.

Worker: an article is already waiting on a fresh ``articles`` topic when the worker is
launched (``python -m streams worker``, own topic prefix and app id, on a local broker of its
own unless ``KAFKA_BOOTSTRAP`` is set); the figures are the seconds from launch until
``/metrics`` answers, until the article is consumed (``incident_monitor_articles_consumed_total``
reaches 1: the group is joined, tables recovered, the agent running) and until its incident
is published; and the worker's resident memory (VmRSS) at those moments.

Extractor: in a new interpreter, the time to import and load ``get_extractor()`` (lexicons
and the gazetteer) with the compiled gazetteer cache (the normal case) and cold (an empty
cache folder: the index is built from GeoNames and written), the first extraction (date and
number lexicons load on first use), and the resident memory after load.

Targets to read the figures against: start-up <= 3 s, <= 400 MB resident.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import (  # a sibling script, not a package
    ROOT,
    WorkerProcess,
    kafka_cluster,
    parse_metrics,
    proc_memory_mb,
)

# Runs in a fresh interpreter: prints one JSON line of figures.
LOAD_CODE = """
import json, time
t0 = time.perf_counter()
from streams.extract.engine import get_extractor
from streams.ingest import parse_article
t1 = time.perf_counter()
extractor = get_extractor()
t2 = time.perf_counter()
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
loaded_rss = rss()
article = parse_article(open(SEED, "rb").read(), max_bytes=1_000_000)
t3 = time.perf_counter()
found = extractor.extract(article)
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "first_extract": t4 - t3,
                  "incidents": len(found), "rss_loaded": loaded_rss, "rss_after": rss()}))
"""


def extractor_load(cache_dir: Path | None) -> dict[str, float]:
    """Figures of a fresh interpreter loading the extractor (``cache_dir``: its cache folder)."""
    seed = sorted((ROOT / "seeds").glob("*.json"))[-1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if cache_dir is not None:
        env["INCIDENT_CACHE_DIR"] = str(cache_dir)
    code = f"SEED = {str(seed)!r}\n" + LOAD_CODE
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    figures: dict[str, float] = orjson.loads(done.stdout.strip().splitlines()[-1])
    figures["process"] = time.perf_counter() - began
    return figures


def worker_start(bootstrap: str, folder: Path) -> dict[str, float]:
    """Launch a worker with one article waiting; seconds and MB at each milestone."""
    from kafka import KafkaProducer

    from streams.broker import client_security_kwargs

    worker = WorkerProcess(bootstrap, folder)
    seed = sorted((ROOT / "seeds").glob("*.json"))[-1]
    article = orjson.loads(seed.read_bytes())
    article["id"] = f"startup-{worker.prefix}"
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), **client_security_kwargs())
    producer.send(
        worker.prefix + "articles", key=article["id"].encode(), value=orjson.dumps(article)
    )
    producer.flush()
    producer.close()
    figures: dict[str, float] = {}
    worker.start()
    try:
        figures["metrics"] = worker.wait_metrics(timeout_s=120, poll_s=0.02)
        assert worker.proc is not None
        figures["rss_metrics"] = proc_memory_mb(worker.proc.pid)[0]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "incident" not in figures:
            try:
                scrape = parse_metrics(worker.target(None).scrape())
            except OSError:
                scrape = None
            elapsed = time.monotonic() - worker.started_at
            if scrape is not None:
                if "consumed" not in figures and scrape.processed >= 1:
                    figures["consumed"] = elapsed
                    figures["rss_consumed"] = proc_memory_mb(worker.proc.pid)[0]
                if scrape.get("incident_monitor_clusters_published_total") >= 1:
                    figures["incident"] = elapsed
            time.sleep(0.05)
        time.sleep(5)  # settle: what the worker holds once running
        figures["rss_settled"], figures["rss_peak"] = proc_memory_mb(worker.proc.pid)
    finally:
        worker.stop()
    return figures


def spread(values: list[float], unit: str, scale: float = 1.0, digits: int = 2) -> str:
    """``median (min-max)`` of the values."""
    vals = [v * scale for v in values]
    if not vals:
        return "n/a"
    med = statistics.median(vals)
    if len(vals) == 1:
        return f"{med:.{digits}f} {unit}"
    return f"{med:.{digits}f} {unit} (min {min(vals):.{digits}f}, max {max(vals):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    load1, load5, _ = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores; the worker and the broker share them "
        f"(load average now {load1:.1f}, 5 min {load5:.1f}); median (min, max) of "
        f"{args.repeat} runs"
    )

    extractor_load(None)  # make sure the compiled gazetteer cache exists
    cached = [extractor_load(None) for _ in range(args.repeat)]
    print("\nextractor, compiled gazetteer cache (a new interpreter each time):")
    print(f"  import streams.extract:  {spread([c['import'] for c in cached], 's')}")
    print(f"  load (get_extractor()):  {spread([c['load'] for c in cached], 's')}")
    print(f"  first extraction (seed): {spread([c['first_extract'] for c in cached], 's')}")
    print(f"  whole process:           {spread([c['process'] for c in cached], 's')}")
    print(f"  RSS after load:          {spread([c['rss_loaded'] for c in cached], 'MB', 1, 0)}")
    print(f"  RSS after first extract: {spread([c['rss_after'] for c in cached], 'MB', 1, 0)}")
    if args.cold:
        with tempfile.TemporaryDirectory(prefix="bench-cold-cache-") as empty:
            cold = extractor_load(Path(empty))
        print("extractor, cold (empty cache folder: gazetteer index built from GeoNames, written):")
        print(f"  load (get_extractor()):  {cold['load']:.2f} s")
        print(f"  RSS after load:          {cold['rss_loaded']:.0f} MB")

    with kafka_cluster() as (bootstrap, _pid), tempfile.TemporaryDirectory() as tmp:
        runs = []
        for n in range(args.repeat):
            folder = Path(tmp) / f"worker{n}"
            folder.mkdir()
            runs.append(worker_start(bootstrap, folder))

    def col(name: str) -> list[float]:
        return [r[name] for r in runs if name in r]

    print("\nworker start-up (an article already waiting), seconds from launch:")
    print(f"  /metrics answering:         {spread(col('metrics'), 's')}")
    print(f"  first article consumed:     {spread(col('consumed'), 's')}")
    print(f"  its incident published:     {spread(col('incident'), 's')}")
    print("worker resident memory:")
    print(f"  at /metrics answering:      {spread(col('rss_metrics'), 'MB', 1, 0)}")
    print(f"  after the first article:    {spread(col('rss_consumed'), 'MB', 1, 0)}")
    print(f"  settled (5 s later):        {spread(col('rss_settled'), 'MB', 1, 0)}")
    print(f"  peak (VmHWM):               {spread(col('rss_peak'), 'MB', 1, 0)}")
    print(
        "targets: start-up <= 3 s (launch -> first article consumed), <= 400 MB resident "
        "(the load bench prints the peak under sustained load)"
    )


if __name__ == "__main__":
    main()
