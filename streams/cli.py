"""The ``incident-monitor`` command line: worker, broker, push, tail, extract, replay, eval."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import orjson

from streams.settings import PROJECT_ROOT, Settings


def _eprint(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def cmd_worker(args: argparse.Namespace) -> int:
    """Run a Faust worker on the flow in streams/app.py."""
    if args.web_port is not None:
        os.environ["INCIDENT_WEB_PORT"] = str(args.web_port)
    from streams.app import app

    sys.argv = ["incident-monitor", "worker", "--loglevel", args.loglevel]
    app.main()
    return 0  # pragma: no cover - app.main() exits


def cmd_broker(args: argparse.Namespace) -> int:
    """Start, stop or inspect the local single-node Kafka."""
    from streams import broker

    cfg = broker.BrokerConfig.from_env()
    if os.environ.get("KAFKA_BOOTSTRAP"):
        _eprint(f"note: KAFKA_BOOTSTRAP={os.environ['KAFKA_BOOTSTRAP']} is set; commands use it")
    try:
        if args.action == "start":
            status = broker.start(cfg)
        elif args.action == "stop":
            status = broker.stop(cfg)
        else:
            status = broker.status(cfg)
    except broker.BrokerError as exc:
        _eprint(f"error: {exc}")
        return 2
    print(status.describe())
    return 0 if (status.running or args.action == "stop") else 1


def cmd_push(args: argparse.Namespace) -> int:
    """Push articles from files, folders, JSON Lines or stdin onto the articles topic."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from streams.io import KafkaUnreachable, make_producer, push_messages, read_messages

    settings = Settings.from_env()
    topic = args.topic or settings.topics.articles
    try:
        messages = list(read_messages(args.paths))
    except FileNotFoundError as exc:
        _eprint(f"error: {exc}")
        return 2
    try:
        producer = make_producer(settings.bootstrap)
    except KafkaUnreachable as exc:
        _eprint(f"error: {exc}")
        return 2
    sent = 0
    with Progress(
        TextColumn("pushing to {task.fields[topic]}"),
        BarColumn(),
        MofNCompleteColumn(),
        disable=args.quiet,
        transient=False,
    ) as progress:
        task = progress.add_task("push", total=len(messages), topic=topic)
        for sent in push_messages(producer, topic, messages):
            progress.update(task, completed=sent)
    producer.close()
    if not args.quiet:
        _eprint(f"pushed {sent} message(s) to {topic} at {settings.bootstrap}")
    return 0


def cmd_tail(args: argparse.Namespace) -> int:
    """Follow a topic and print its records."""
    from streams.console import describe
    from streams.io import KafkaUnreachable, follow

    settings = Settings.from_env()
    shown = 0
    try:
        for rec in follow(
            settings.bootstrap,
            args.topic,
            from_beginning=args.from_beginning,
            exit_at_end=args.exit_at_end,
            idle_timeout_s=args.idle_timeout,
        ):
            if args.json:
                print(rec.value.decode("utf-8", "replace"), flush=True)
            else:
                print(describe(rec.topic, rec.value), flush=True)
            shown += 1
            if args.max is not None and shown >= args.max:
                break
    except KafkaUnreachable as exc:
        _eprint(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        pass
    return 0


def _read_lines(path: str) -> Iterator[bytes]:
    if path == "-":
        yield from sys.stdin.buffer
    else:
        with open(path, "rb") as fh:
            yield from fh


def cmd_extract(args: argparse.Namespace) -> int:
    """Offline extraction: JSON Lines articles in, JSON Lines incidents out, no Kafka."""
    from streams.extract.engine import get_extractor
    from streams.ingest import RejectedInput, parse_article

    settings = Settings.from_env()
    extractor = get_extractor()
    out: TextIO = sys.stdout
    rejected = 0
    for n, line in enumerate(_read_lines(args.file), start=1):
        if not line.strip():
            continue
        try:
            article = parse_article(line.strip(), max_bytes=settings.max_article_bytes)
        except RejectedInput as exc:
            rejected += 1
            _eprint(f"line {n}: rejected: {exc}")
            continue
        for incident in extractor.extract(article, now=datetime.now(UTC)):
            out.write(incident.dumps().decode("utf-8") + "\n")
    out.flush()
    if rejected:
        _eprint(f"{rejected} line(s) rejected")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Run the whole flow in process over articles in event order and print what it publishes."""
    from streams.console import describe
    from streams.replay import replay_paths

    for topic, key, value in replay_paths(args.paths):
        payload = value.dumps()
        if args.json:
            line = {"topic": topic, "key": key, "value": orjson.loads(payload)}
            print(orjson.dumps(line).decode("utf-8"), flush=True)
        elif topic.startswith("alerts.") or topic == "incidents" or args.all:
            print(f"{topic:<16} {describe(topic, payload)}", flush=True)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Score extraction against the labelled development data and the seed fixture."""
    from streams.evaluate import default_data_dir, default_fixtures_dir, format_report, run_eval

    data = Path(args.data) if args.data else default_data_dir()
    report = run_eval(data, default_fixtures_dir(), limit=args.limit)
    if args.json:
        print(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode("utf-8"))
    else:
        print(format_report(report))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Start the broker and a worker, push the seeds, print alerts, serve metrics."""
    from streams.demo import run_demo

    return run_demo(seeds=Path(args.seeds), keep_running=not args.once, wait_s=args.wait)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every subcommand sets ``func``."""
    parser = argparse.ArgumentParser(
        prog="incident-monitor",
        description="Streaming incident monitoring for Arabic and English news on Kafka.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("worker", help="run a Faust worker")
    p.add_argument("--loglevel", "-l", default="info")
    p.add_argument("--web-port", type=int, default=None, help="port of /metrics (default 6066)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("broker", help="the local single-node Kafka: start|stop|status")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.set_defaults(func=cmd_broker)

    p = sub.add_parser("push", help="push articles (files, folders, JSON Lines, - for stdin)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--topic", default=None, help="default: the articles topic")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_push)

    p = sub.add_parser("tail", help="follow a topic and print its records")
    p.add_argument("topic", nargs="?", default="alerts")
    p.add_argument("--json", action="store_true", help="print raw JSON values, one per line")
    p.add_argument("--from-beginning", action="store_true")
    p.add_argument("--exit-at-end", action="store_true", help="stop at the end of the topic")
    p.add_argument("--max", type=int, default=None, help="stop after this many records")
    p.add_argument("--idle-timeout", type=float, default=None, help="stop after N idle seconds")
    p.set_defaults(func=cmd_tail)

    p = sub.add_parser("extract", help="offline: JSON Lines articles in, incidents out")
    p.add_argument("file", nargs="?", default="-")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("replay", help="offline run of the whole flow, printing what is published")
    p.add_argument("paths", nargs="+")
    p.add_argument("--json", action="store_true", help='one {"topic","key","value"} per line')
    p.add_argument("--all", action="store_true", help="also print incidents.late records")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("eval", help="score extraction on the labelled development data")
    p.add_argument("--data", default=None, help="eval data folder (default ../shared/eval/data)")
    p.add_argument("--limit", type=int, default=None, help="rows per dataset, for a quick run")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("demo", help="broker + worker + push seeds + print alerts + serve metrics")
    p.add_argument("--seeds", default=str(PROJECT_ROOT / "seeds"))
    p.add_argument("--once", action="store_true", help="stop everything after the alerts")
    p.add_argument("--wait", type=float, default=60.0, help="seconds to wait for alerts")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``incident-monitor`` and ``python -m streams``."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code
