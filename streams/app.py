"""The whole flow, top to bottom: the Faust app, its topics, tables and agents."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, cast

import faust
import mode
from aiokafka.partitioner import DefaultPartitioner

from streams.changelog import CommitTable, write_changelogs
from streams.faustfix import (
    CommitBarrier,
    PromptTableManager,
    QuietWorker,
    install_prometheus,
    patch_atomic_commits,
    patch_fetch_wait,
    patch_recovery_offsets,
    patch_topic_tracking,
    transactional_id,
)
from streams.heap import SettledHeap
from streams.ingest import Forgetting, RejectedInput, dead_letter, parse_article
from streams.metrics import Metrics
from streams.offload import Extracted, ExtractionPool
from streams.pipeline import KeyIndex, Pipeline, Stores
from streams.records import Alert, Article, DeadLetter, Incident, RegionWork
from streams.settings import Settings, faust_broker_credentials, var_dir
from streams.sink import SinkLedger, identity
from streams.windows import LateIncident

logger = logging.getLogger(__name__)
settings = Settings.from_env()
metrics = Metrics.create()
faust_dir = var_dir() / "faust"
faust_dir.mkdir(parents=True, exist_ok=True)  # Faust makes only the last level

app = faust.App(
    settings.app_id,
    broker=[f"kafka://{server}" for server in settings.bootstrap.split(",")],
    broker_credentials=faust_broker_credentials(),
    store="memory://",  # rebuilt from the changelog topics at start
    datadir=str(faust_dir / settings.app_id),  # not in the working directory
    topic_partitions=settings.partitions,
    topic_replication_factor=settings.replication_factor,
    web_port=settings.web_port,
    web_host="127.0.0.1",
    consumer_auto_offset_reset="earliest",
    processing_guarantee=settings.processing_guarantee,
    broker_session_timeout=settings.session_timeout_s,
    broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
    broker_commit_interval=settings.commit_interval_s,
    # Sends of the next 20 ms share one produce request: at 150 articles/s a worker sends
    # about 2,000 records a second, and one request (and socket write) each cost the event
    # loop more than the wait.
    producer_linger=0.02,
    # A send waits while its partition's batch is full until the batch has gone out, and
    # the batch goes only when the request before it is answered: at aiokafka's 16 KB, three
    # cluster records (about 5 KB each) filled a batch and the agent stood still, CPU to
    # spare (120 articles/s: 93 -> 126 reports corroborated a second with the linger above).
    producer_max_batch_size=512 * 1024,
    table_cleanup_interval=3600.0,  # windows are our own (streams/windows.py), not Faust's
    # No standby replicas: Faust 0.15.3 keeps the transactional producer of a partition that
    # moves to another worker when it stays here as a standby; the new owner fences it, and
    # when the partition comes back (the other worker died) the fenced producer is reused and
    # the worker crashes (ProducerFenced). A takeover replays the changelog instead.
    table_standby_replicas=0,
    Worker=QuietWorker,
    TableManager=PromptTableManager,
    Table=CommitTable,  # changelogs written at each commit, batched (see streams.changelog)
)


install_prometheus(app, metrics.registry)
patch_recovery_offsets()
patch_fetch_wait(settings.fetch_wait_s)
patch_topic_tracking()
# A commit holds whole events only: each agent consumes through ``barrier.run``.
barrier = CommitBarrier()
patch_atomic_commits(
    barrier,
    on_pause=metrics.commit_pause_seconds.observe,
    held=partial(write_changelogs, app),
    on_phase=lambda phase, seconds: metrics.commit_phase_seconds.labels(phase).observe(seconds),
)

# --- Topics ---------------------------------------------------------------------------------
# internal=True makes Faust declare (create) the topics it consumes at start, with our
# partitions: a consumer subscribed to a topic that does not exist yet would ignore it. The
# output topics are created by ``prepare_outputs`` below.
# Raw bytes in: validation is ours, so anything unreadable reaches the DLQ with its reason.
articles_topic = app.topic(
    settings.topics.articles,
    key_type=bytes,
    value_type=bytes,
    value_serializer="raw",
    internal=True,
)
dlq_topic = app.topic(settings.topics.dlq, key_type=str, value_type=DeadLetter, internal=True)
# Extracted reports re-keyed by region, so one region's state lives in one partition.
reports_topic = app.topic(
    settings.topics.reports, key_type=str, value_type=RegionWork, internal=True
)
incidents_topic = app.topic(
    settings.topics.incidents, key_type=str, value_type=Incident, internal=True
)
late_topic = app.topic(settings.topics.late, key_type=str, value_type=LateIncident, internal=True)
alerts_topic = app.topic(settings.topics.alerts, key_type=str, value_type=Alert, internal=True)
severity_topics = {
    s: app.topic(settings.topics.alerts_for(s), key_type=str, value_type=Alert, internal=True)
    for s in ("high", "medium", "low")
}
# What the worker publishes (created, and read by the sink ledger, in ``prepare_outputs``).
OUTPUTS = [dlq_topic, incidents_topic, late_topic, alerts_topic, *severity_topics.values()]

# --- Tables (changelog-backed: a restarted worker resumes with the same state) -------------
article_seen = app.Table("article_seen", default=None, key_type=str, value_type=str)
region_state = app.Table("region_state", default=None, key_type=str)
# The agents use them through views: plain dict reads, writes marked for the commit.
seen_ids = cast(CommitTable, article_seen).view()
state = cast(CommitTable, region_state).view()
# Swept inside the article stream: a forgotten id's tombstone commits with the offsets.
article_memory = Forgetting(seen_ids, timedelta(hours=settings.dedup_hours))

# Ticks list keyspaces of the state through this index (see KeyIndex).
state_keys = KeyIndex(state)
pipeline = Pipeline(stores=Stores.shared(state, state_keys), topics=settings.topics)
# Extraction runs in a child process: the event loop here keeps corroboration and Kafka I/O.
extraction = ExtractionPool(on_death=metrics.extraction_restarts.inc, ahead=settings.extract_ahead)
# Output topics are written outside Faust's transactions: de-duplicate by record identity.
sink_ledger = SinkLedger()
# The tables grow for days: the collector leaves what has lived a while alone.
heap = SettledHeap(settings.gc_full_seconds, on_full=metrics.gc_full_seconds.observe)


@app.service
class ExtractionProcess(mode.Service):
    """The extraction child starts with the worker (extractor loaded) and stops with it."""

    async def on_start(self) -> None:
        """Start the child before the first article."""
        await extraction.start()

    async def on_stop(self) -> None:
        """Stop the child."""
        extraction.close()


# --- Agents -----------------------------------------------------------------------------------
@app.agent(articles_topic)
async def extract_incidents(stream: faust.StreamT[Any]) -> None:
    """Validate each article (bad input -> DLQ), skip repeats, extract incidents, key by region."""
    await barrier.run_ahead(stream, begin_article, on_article, settings.extract_ahead)


@app.agent(reports_topic)
async def corroborate_and_alert(stream: faust.StreamT[Any]) -> None:
    """Merge reports into clusters, fold clusters into event-time windows, evaluate alert rules."""
    await barrier.run(stream, on_report)


# An article read ahead: rejected, or parsed with its extraction under way (None: a repeat).
Begun = RejectedInput | tuple[Article, "asyncio.Task[Extracted] | None"]


def begin_article(event: faust.types.EventT) -> Begun:
    """Validate an article and start its extraction in the child, before its turn comes."""
    produced_at = datetime.fromtimestamp(event.message.timestamp, UTC)
    try:
        article = parse_article(
            event.value, max_bytes=settings.max_article_bytes, produced_at=produced_at
        )
    except RejectedInput as error:
        return error
    if seen_ids.get(article.id) is not None:
        return article, None
    return article, asyncio.ensure_future(extract_or_reject(article))


async def on_article(event: faust.types.EventT, begun: Begun) -> None:
    """One article: to the DLQ with its reason, or its incidents onto ``incidents.reports``."""
    msg = event.message
    key = msg.key.decode("utf-8", "replace") if isinstance(msg.key, bytes) else None
    if isinstance(begun, RejectedInput):
        await reject(event, key, begun)
        return
    article, extracting = begun
    metrics.articles_consumed.inc()
    if extracting is None or seen_ids.get(article.id) is not None:
        # Seen before; or read ahead together with its first copy, which has just been handled.
        if extracting is not None:
            extracting.cancel()
            extracting.add_done_callback(_retrieve)
        metrics.articles_duplicate.inc()
        return
    try:
        incidents, seconds = await extracting
    except RejectedInput as error:
        await reject(event, key, error)
        return
    metrics.extraction_seconds.observe(seconds)
    produced_at = datetime.fromtimestamp(msg.timestamp, UTC)
    seen_ids[article.id] = produced_at.isoformat()
    article_memory.sweep(produced_at)
    for incident in incidents:
        metrics.count_incident(incident)
        await forward(event, pipeline.region_key(incident), RegionWork(report=incident))


async def on_report(event: faust.types.EventT) -> None:
    """One report (or clock tick) of a region: its cluster, late record and alerts published."""
    work = cast(RegionWork, event.value)
    if work.tick is not None:
        # Close windows on wall-clock time too, so a quiet region's window still closes.
        alerts = pipeline.on_tick(work.tick, owns=partial(owns, event.message.partition))
        await publish_alerts(alerts, None)
        metrics.table_keys.labels(table="region_state").set(len(state))
        return
    report = work.report
    if report is None:
        return
    for cluster in pipeline.on_incident(report):
        await publish_cluster(cluster, report.produced_at)
        alerts, late = pipeline.on_cluster(cluster)
        for record in late:
            metrics.late_incidents.labels(window="expired").inc()
            await emit(late_topic, record.region, record, pipeline.payload(record))
        await publish_alerts(alerts, report.produced_at)


@app.on_partitions_assigned.connect
async def on_assignment(
    sender: Any, /, *assigned: Any, signal: mode.BaseSignalT[Any], **kwargs: Any
) -> None:
    """Before any event of these partitions: output topics ready and read, state re-listed.

    On every assignment, not only at start: partitions taken over from a dead worker are
    re-processed from its last commit, and what it published since is on the topics only.
    The outputs are read in the background, so the rebalance is not held up; ``emit`` waits.
    """
    sink_ledger.ready.clear()  # now, before any event of the new assignment is processed
    # The table now recovers (and drops) keys behind the pipeline's back; events wait for it.
    state_keys.forget()
    pipeline.forget()
    app.add_future(prepare_outputs())


async def prepare_outputs() -> None:
    """Create the output topics if they are missing, then seed the sink ledger from them.

    Faust declares only the topics it consumes. An output topic left to the broker's
    auto-creation got the broker's partition count, and a first send to it could wait in the
    producer's metadata loop for good: after a restart, every publish hung behind one.
    """
    for topic in OUTPUTS:
        try:
            await topic.maybe_declare()
        except Exception as exc:  # e.g. not allowed on a shared cluster: the ledger still runs
            logger.warning("could not create %s: %r", topic.get_topic_name(), exc)
    await sink_ledger.reseed(settings.bootstrap, [t.get_topic_name() for t in OUTPUTS])


@app.timer(interval=settings.tick_seconds)
async def send_ticks() -> None:
    """Table writes need a stream event, so the clock speaks through every reports partition."""
    tick = RegionWork(tick=datetime.now(UTC))
    for partition in range(settings.partitions):
        if app.in_transaction:
            # Outside any stream event: no transaction to join, and a repeated tick is harmless.
            await _send_report("tick", tick, partition, transactional_id=None)
        else:
            await reports_topic.send(key="tick", value=tick, partition=partition)


@app.timer(interval=settings.tick_seconds)
async def settle_heap() -> None:
    """What is alive now leaves the garbage collector's regular rounds (see SettledHeap)."""
    heap.settle()


def region_partition(region: str) -> int:
    """The ``incidents.reports`` partition of ``region`` (the producer's default partitioner)."""
    partitions = list(range(settings.partitions))
    return int(DefaultPartitioner()(region.encode("utf-8"), partitions, partitions))


def owns(partition: int, region: str) -> bool:
    """Whether ``region``'s reports land on ``partition``."""
    return region_partition(region) == partition


async def forward(event: faust.types.EventT, region: str, work: RegionWork) -> None:
    """A report onto its region's partition, inside the transaction of the article's partition.

    Faust's ``TransactionManager.send`` names the transaction after the *destination*
    partition, and a worker holds producers only for the partitions assigned to it: with two
    workers, a report for a region whose partition the other worker holds crashed the agent
    ("No transaction producer found"). The report belongs to the transaction that commits the
    article's offset (Kafka Streams' rule for repartition topics), so that is the one used.
    """
    if not app.in_transaction:
        await reports_topic.send(key=region, value=work)
        return
    msg = event.message
    tid = transactional_id(app, msg.topic, msg.partition)
    await _send_report(region, work, region_partition(region), transactional_id=tid)


async def _send_report(
    key: str, work: RegionWork, partition: int, *, transactional_id: str | None
) -> None:
    key_bytes, _ = reports_topic.prepare_key(key, None)
    value_bytes, _ = reports_topic.prepare_value(work, None)
    sent = await app.consumer.transactions.producer.send(
        reports_topic.get_topic_name(),
        key_bytes,
        value_bytes,
        partition,
        None,
        None,
        transactional_id=transactional_id,
    )
    # A report's delivery is awaited by its transaction's commit, which fails (and the worker
    # with it) when a send did; a lost tick is replaced by the next. The error is only
    # retrieved here, so that asyncio does not report it a second time.
    asyncio.ensure_future(sent).add_done_callback(_retrieve)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


async def reject(event: faust.types.EventT, key: str | None, error: RejectedInput) -> None:
    """The message, whole, to the dead-letter topic with its reason; the stream goes on."""
    metrics.articles_rejected.labels(reason=error.reason).inc()
    msg = event.message
    letter = dead_letter(
        event.value, error, key=key, topic=msg.topic, partition=msg.partition, offset=msg.offset
    )
    await emit(dlq_topic, key, letter)


async def extract_or_reject(article: Article) -> Extracted:
    """Extract; an extractor failure rejects the article (DLQ) instead of stopping the agent."""
    try:
        return await extraction.extract(article, datetime.now(UTC))
    except RejectedInput:
        metrics.extraction_errors.inc()
        raise
    except Exception as exc:  # the article is kept whole on the DLQ with the reason
        metrics.extraction_errors.inc()
        raise RejectedInput("extraction_error", f"{type(exc).__name__}: {exc}"[:500]) from exc


async def publish_cluster(cluster: Incident, produced_at: datetime | None) -> None:
    """A new or revised cluster on ``incidents``; subscribers replace by ``cluster_id``."""
    payload = pipeline.payload(cluster)
    if not await emit(incidents_topic, pipeline.region_key(cluster), cluster, payload):
        return
    metrics.clusters_published.inc()
    if produced_at is not None:
        metrics.article_to_incident_seconds.observe(_age(produced_at))


async def publish_alerts(alerts: list[Alert], produced_at: datetime | None) -> None:
    """Every alert on ``alerts`` and on its severity topic; ``produced_at`` is the trigger's."""
    for alert in alerts:
        if produced_at is not None:
            alert.produced_at = produced_at
        payload = alert.dumps()
        # Each topic is checked on its own: a worker killed between the two sends published
        # the alert on one of them only, and its successor must complete the other.
        fresh = await emit(alerts_topic, alert.region, alert, payload)
        await emit(severity_topics[alert.severity], alert.region, alert, payload)
        if not fresh:
            continue
        metrics.count_alert(alert)
        if produced_at is not None:
            metrics.article_to_alert_seconds.observe(_age(produced_at))


async def emit(
    topic: faust.TopicT, key: str | None, value: faust.Record, payload: bytes | None = None
) -> bool:
    """Send unless this very record already went out on ``topic``; True when sent.

    ``payload``: ``value`` already serialised (those bytes are what is sent: one
    serialisation per record, not one per use).
    """
    data = value.dumps() if payload is None else payload
    name = topic.get_topic_name()
    await sink_ledger.ready.wait()
    # Identified by its fields: parsing the bytes back cost a cluster's whole size each time.
    if not sink_ledger.admit(name, identity(value.to_representation())):
        metrics.duplicates_suppressed.labels(topic=name).inc()
        return False
    # Straight to the producer, as Faust's ``Topic.send`` ends up doing for a topic outside
    # the transactions, less its per-record future, callbacks and sensors: about four outputs
    # an article, on the event loop.
    key_bytes, _ = topic.prepare_key(key, None)
    sent = await app.producer.send(name, key_bytes, data, None, None, None)
    asyncio.ensure_future(sent).add_done_callback(_count_failed_send)
    return True


def _count_failed_send(future: asyncio.Future[Any]) -> None:
    """A send that failed is logged and counted (``faust_total_error_messages_sent``)."""
    if future.cancelled() or future.exception() is None:
        return
    error = future.exception()
    logger.warning("an output record could not be sent: %r", error)
    app.monitor.on_send_error(app.producer, cast(BaseException, error), None)


def _age(produced_at: datetime) -> float:
    return max(0.0, (datetime.now(UTC) - produced_at).total_seconds())
