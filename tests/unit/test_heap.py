"""The worker's heap: long-lived objects leave the collector's rounds, a full one comes later."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from streams.heap import SettledHeap


class Cycle:
    """An object in a reference cycle: only the garbage collector can free it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the test session gets the collector as it was


def test_a_settled_cycle_waits_for_the_full_collection_and_is_freed_then() -> None:
    now = [0.0]
    pauses: list[float] = []
    heap = SettledHeap(600.0, on_full=pauses.append, clock=lambda: now[0])
    cycle = Cycle()
    gone = weakref.ref(cycle)
    heap.settle()
    assert gc.get_freeze_count() > 0
    del cycle
    gc.collect()
    assert gone() is not None  # set aside: the regular rounds do not go through it
    now[0] = 599.0
    heap.settle()
    assert gone() is not None and not pauses
    now[0] = 600.0
    heap.settle()
    assert gone() is None  # the full collection freed it
    assert len(pauses) == 1 and pauses[0] >= 0.0


def test_garbage_made_since_the_last_settle_is_collected_as_usual() -> None:
    heap = SettledHeap(600.0, clock=lambda: 0.0)
    heap.settle()
    cycle = Cycle()
    gone = weakref.ref(cycle)
    del cycle
    gc.collect()
    assert gone() is None
