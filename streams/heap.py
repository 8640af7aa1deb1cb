"""The garbage collector in a worker whose state grows: what has lived a while is set aside."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


class SettledHeap:
    """Long-lived objects leave the collector's view; now and then a full collection.

    CPython's oldest generation is collected whenever it has grown by a quarter, and each of
    those collections goes through the whole heap: the worker's tables (hundreds of thousands
    of JSON dicts and lists) made them last 0.4-0.7 s and more as the state grew, the event
    loop standing still meanwhile. :meth:`settle`, called every few seconds, freezes what is
    alive (``gc.freeze``): collections then see only what was made since. Reference counting
    still frees frozen objects; only a reference cycle among them outlives its use, so every
    ``full_every`` seconds the heap is thawed and collected whole (one pause, not one per
    quarter of growth).
    """

    def __init__(
        self,
        full_every: float,
        on_full: Callable[[float], None] = lambda seconds: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.full_every = full_every
        self._on_full = on_full
        self._clock = clock
        self._last_full = clock()

    def settle(self) -> None:
        """Freeze what is alive; thaw and collect everything when a full collection is due."""
        now = self._clock()
        if now - self._last_full >= self.full_every:
            self._last_full = now
            started = time.perf_counter()
            gc.unfreeze()
            gc.collect()
            self._on_full(time.perf_counter() - started)
        gc.freeze()
