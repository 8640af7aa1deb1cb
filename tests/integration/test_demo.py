"""The README's main command on the real broker: seeds pushed, alerts printed, a clean stop."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_prints_the_seed_alerts_and_a_sigterm_stops_its_worker(
    worker_factory: Callable[..., Any],
) -> None:
    env = worker_factory().env  # a namespace, port and state folder of this test's own
    demo = subprocess.Popen(
        [sys.executable, "-m", "streams", "demo", "--seeds", str(ROOT / "seeds")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert demo.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(demo.stdout), daemon=True)
    reader.start()
    metrics = f"http://127.0.0.1:{env['INCIDENT_WEB_PORT']}/metrics"
    try:
        deadline = time.monotonic() + 180
        while not any(line.startswith("serving metrics") for line in lines):
            assert demo.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.5)
        text = "".join(lines)
        assert "[HIGH] diplomatic_mission_attacked" in text
        assert "incident_monitor_articles_consumed_total 2.0" in text
        with urllib.request.urlopen(metrics, timeout=5) as resp:
            assert resp.status == 200

        demo.send_signal(signal.SIGTERM)  # as a process manager or `timeout` stops it
        assert demo.wait(timeout=60) == 0
    finally:
        # Also when an assertion failed: the demo stops its worker, which must not outlive
        # the test (it would take the machine's CPU from the tests after it).
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
            try:
                demo.wait(timeout=60)
            except subprocess.TimeoutExpired:
                demo.kill()
        reader.join(timeout=10)
        demo.stdout.close()
    # The worker went with it: nothing answers on its port any more.
    try:
        urllib.request.urlopen(metrics, timeout=5)
    except OSError:
        pass
    else:
        raise AssertionError("the demo's worker still serves /metrics after the demo stopped")
