"""Extraction in a child process, so the worker's event loop keeps the Kafka and state work."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool, _SafeQueue
from datetime import datetime
from multiprocessing.context import BaseContext

from streams.extract.engine import get_extractor
from streams.ingest import RejectedInput
from streams.records import Article, Incident
from streams.settings import Settings

logger = logging.getLogger(__name__)

Extract = Callable[[Article, datetime], list[Incident]]
Extracted = tuple[list[Incident], float]  # the incidents, and the seconds extraction took

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def extract_article(article: Article, now: datetime) -> list[Incident]:
    """The process-wide extractor on one article (what the child runs)."""
    return get_extractor().extract(article, now=now)


def _timed(extract: Extract, article: Article, now: datetime) -> Extracted:
    started = time.perf_counter()
    incidents = extract(article, now)
    return incidents, time.perf_counter() - started


def _child_init() -> None:
    # Ctrl-C reaches the whole process group: the worker shuts down, and stops its child
    # itself. A worker killed outright (SIGKILL) cannot: the kernel then kills the child.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    get_extractor()  # loaded before the first article, not while it waits


class _AheadPool(ProcessPoolExecutor):
    """One child that holds up to ``ahead`` calls, not CPython's one beyond its workers.

    With one call queued, the child went idle after each article until the parent's manager
    thread had handed it the next; that thread waits for the interpreter lock, which the
    event loop holds for milliseconds at a time under load.
    """

    def __init__(
        self, ahead: int, mp_context: BaseContext, initializer: Callable[[], None]
    ) -> None:
        super().__init__(1, mp_context=mp_context, initializer=initializer)
        # As CPython's own __init__ builds it (3.11 to 3.13), only longer; the child starts
        # at the first submit, after this.
        self._call_queue = _SafeQueue(
            max_size=1 + ahead,
            ctx=mp_context,
            pending_work_items=self._pending_work_items,
            shutdown_lock=self._shutdown_lock,
            thread_wakeup=self._executor_manager_thread_wakeup,
        )
        self._call_queue._ignore_epipe = True  # type: ignore[attr-defined]  # as CPython's


class ExtractionPool:
    """One child process that extracts articles, one at a time, in the order asked.

    Extraction is pure CPU work and most of a worker's: in the worker's process it held the
    event loop (and the interpreter lock) half the time at load, and corroboration, commits
    and Kafka I/O waited. In a child it runs on another core while the loop goes on.

    A child that dies (killed, out of memory, a crash in native code) is replaced and the
    articles it held are tried again one at a time; an article on which the new child dies
    too is rejected, so one article cannot stop the worker or take others down with it.
    """

    def __init__(
        self,
        extract: Extract = extract_article,
        on_death: Callable[[], None] | None = None,
        ahead: int = Settings.extract_ahead,
    ) -> None:
        """``extract``: a module-level function (the child imports it by name).

        ``on_death``: called once each time a child dies (a metric counts them).
        """
        self._extract = extract
        self._ahead = ahead
        self._on_death = on_death
        self._executor: ProcessPoolExecutor | None = None
        # When a child dies, every article it held fails; each is tried again, alone, so a
        # child dying now names its article and the innocent ones are not rejected with it.
        self._retrying = 0
        self._calm = asyncio.Event()
        self._calm.set()
        self._alone = asyncio.Lock()

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn, not fork: the worker has threads (Kafka consumer, executors) by now.
            context = multiprocessing.get_context("spawn")
            self._executor = _AheadPool(self._ahead, context, _child_init)
        return self._executor

    async def start(self) -> None:
        """Start the child and load its extractor now, not on the first article."""
        await asyncio.wrap_future(self._pool().submit(int))

    async def extract(self, article: Article, now: datetime) -> Extracted:
        """``extract(article, now)`` in the child, and the seconds it took there.

        The extractor's own errors propagate.
        """
        while self._retrying:
            await self._calm.wait()
        try:
            return await self._submit(article, now)
        except BrokenProcessPool:
            logger.warning("extraction: the child process died; %r is tried again", article.id)
        self._retrying += 1
        self._calm.clear()
        try:
            async with self._alone:
                try:
                    return await self._submit(article, now)
                except BrokenProcessPool:
                    raise RejectedInput(
                        "extraction_crashed", "the extraction process died on this article twice"
                    ) from None
        finally:
            self._retrying -= 1
            if not self._retrying:
                self._calm.set()

    async def _submit(self, article: Article, now: datetime) -> Extracted:
        executor = self._pool()
        try:
            return await asyncio.wrap_future(executor.submit(_timed, self._extract, article, now))
        except BrokenProcessPool:
            if executor is self._executor:  # the next article gets a new child
                self._executor = None
                executor.shutdown(wait=False)
                if self._on_death is not None:
                    self._on_death()
            raise

    def close(self) -> None:
        """Stop the child (a new one starts on the next article)."""
        if self._executor is not None:
            executor, self._executor = self._executor, None
            executor.shutdown(wait=False, cancel_futures=True)
