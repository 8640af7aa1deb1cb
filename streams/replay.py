"""Offline replay: the worker's stages in process over articles in event order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from faust import Record

from streams.extract.engine import get_extractor
from streams.ingest import RejectedInput, dead_letter, parse_article
from streams.io import read_messages
from streams.pipeline import Pipeline
from streams.records import Article
from streams.settings import Settings

_FOREVER = datetime.max.replace(tzinfo=UTC)


def replay_paths(
    paths: Iterable[str], *, pipeline: Pipeline | None = None
) -> Iterator[tuple[str, str | None, Record]]:
    """``(topic, key, value)`` for everything the worker would publish for these inputs.

    Bad records come out on the dead-letter topic first, as the worker would send them;
    valid articles then run in event order (``published_at``; undated ones last).
    """
    settings = Settings.from_env()
    articles: list[Article] = []
    for message in read_messages(paths):
        try:
            articles.append(parse_article(message.value, max_bytes=settings.max_article_bytes))
        except RejectedInput as error:
            key = message.key.decode("utf-8", "replace") if message.key else None
            yield settings.topics.dlq, key, dead_letter(message.value, error, key=key)
    articles.sort(key=lambda a: a.published_at or _FOREVER)
    extractor = get_extractor()
    flow = pipeline or Pipeline(topics=settings.topics)
    yield from flow.replay(articles, lambda article: extractor.extract(article))
