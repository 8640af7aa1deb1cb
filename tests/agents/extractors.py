"""Extraction functions for the agent tests, importable by name in the extraction child."""

from __future__ import annotations

import os
from datetime import datetime

from streams.offload import extract_article
from streams.records import Article, Incident


def fragile(article: Article, now: datetime) -> list[Incident]:
    """The extractor, failing on the article whose id is ``poison``."""
    if article.id == "poison":
        raise ValueError("cannot read this one")
    return extract_article(article, now)


def crashing(article: Article, now: datetime) -> list[Incident]:
    """The extractor, whose process dies on the article whose id is ``crash``."""
    if article.id == "crash":
        os._exit(70)  # as a segfault or the OOM killer would end it: no exception, no cleanup
    return extract_article(article, now)
