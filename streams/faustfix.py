"""Workarounds for defects of Faust 0.15 met in this worker, each with its reason."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import faust
from faust.sensors.prometheus import PrometheusMonitor, setup_prometheus_sensors
from faust.tables.manager import TableManager
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP
from prometheus_client import CollectorRegistry


class QuietWorker(faust.Worker):
    """Faust's worker without its terminal spinner.

    To spin on every log message the spinner sets the root logger to DEBUG (whenever the log
    level is warn or above), so every debug call in Faust and aiokafka built and handled a
    record: 4 % of the worker's time under load, for a spinner nobody sees in a service.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spinner = None


class _Monitor(PrometheusMonitor):
    """Faust's Prometheus sensors less the per-key table counters.

    Corroboration reads and writes dozens of state keys per report, and a labelled counter
    increment on each took a tenth of the worker's time; ``table_keys`` says how big the
    state is, and the changelog topics' offsets how much is written.
    """

    def on_table_get(self, table: Any, key: Any) -> None:
        """Not counted."""

    def on_table_set(self, table: Any, key: Any, value: Any) -> None:
        """Not counted."""

    def on_table_del(self, table: Any, key: Any) -> None:
        """Not counted."""


class PromptTableManager(TableManager):
    """Faust's table manager without the one-second pause it takes before registering tables.

    Our tables are declared when ``streams.app`` is imported, long before the worker starts;
    the pause only delayed the group join, and so the first article, by a second.
    """

    async def on_start(self) -> None:
        """Register the changelog channels and start recovery, at once."""
        if not self.should_stop:
            await self._update_channels()
            await self.recovery.start()


def install_prometheus(app: faust.App, registry: CollectorRegistry) -> None:
    """Faust's sensors (``faust_*``) on ``registry`` and ``/metrics`` serving it."""
    setup_prometheus_sensors(app, registry=registry, name_prefix="faust")
    app.monitor = _Monitor(metrics=cast(PrometheusMonitor, app.monitor)._metrics)


async def _stable_end_offsets(
    thread: AIOKafkaConsumerThread, partitions: list[TP]
) -> Mapping[TP, int]:
    """End offsets for table recovery by a ListOffsets request (read_committed: the LSO).

    Under exactly_once Faust 0.15.3 reads aiokafka's ``last_stable_offset``, which stays None
    until the partition has been fetched: every changelog looked empty ("highwater -1"), so a
    restarted worker, or one taking over a dead worker's partitions, started with empty
    tables (robinhood/faust#658). Faust's recovery already steps over the commit markers.
    """
    return await thread._ensure_consumer().end_offsets(partitions)


def patch_recovery_offsets() -> None:
    """Table recovery reads the changelogs' end offsets from the broker (see above)."""
    AIOKafkaConsumerThread._highwaters = _stable_end_offsets  # type: ignore[method-assign,assignment]
