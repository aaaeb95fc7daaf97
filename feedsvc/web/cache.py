"""Rendered feed bytes, kept until the source's entries change (its store version)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime

from feedsvc import feeds
from feedsvc.config import Settings, Source
from feedsvc.store import Store

FEED_LIMIT = 50


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    body: bytes
    etag: str
    updated: datetime | None


class FeedCache:
    """One rendered Atom document per source, re-rendered only when the store version moves."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._lock = threading.Lock()
        self._rendered: dict[str, tuple[int, RenderedFeed]] = {}

    def atom(self, source: Source) -> RenderedFeed:
        version = self._store.version(source.name)
        cached = self._rendered.get(source.name)
        if cached is not None and cached[0] == version:
            return cached[1]
        entries = self._store.entries(source.name, limit=FEED_LIMIT)
        body = feeds.atom(source, entries, self._settings.base_url, self._settings.tag_authority)
        rendered = RenderedFeed(
            body=body,
            etag=hashlib.sha256(body).hexdigest()[:32],
            updated=max((e.updated for e in entries), default=None),
        )
        with self._lock:
            self._rendered[source.name] = (version, rendered)
        return rendered
