"""Rendered feed bytes, kept until the source's entries change (its store version).

A request costs a dictionary lookup: the store's version is asked again only when this process
changed entries (``Store.changes`` moved) or ``REVALIDATE_AFTER`` seconds have passed, which bounds
how long a change made by another process (``feedsvc refresh``) takes to show.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from werkzeug.http import http_date

from feedsvc import feeds
from feedsvc.config import Settings, Source
from feedsvc.store import Store

FEED_LIMIT = 50
REVALIDATE_AFTER = 1.0  # seconds


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    body: bytes
    etag: str
    updated: datetime | None
    last_modified: str | None = None  # ``updated`` as an HTTP date, formatted once


@dataclass(frozen=True, slots=True)
class _Cached:
    version: int  # the source's store version the feed was rendered at
    changes: int  # Store.changes when the version was last checked
    checked: float  # time.monotonic() of that check
    feed: RenderedFeed


class FeedCache:
    """One rendered Atom document per source, re-rendered only when the store version moves."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._lock = threading.Lock()
        self._rendered: dict[str, _Cached] = {}

    def atom(self, source: Source) -> RenderedFeed:
        changes = self._store.changes  # read before the version: a later apply is caught next time
        now = time.monotonic()
        cached = self._rendered.get(source.name)
        if cached is not None and cached.changes == changes and now - cached.checked < REVALIDATE_AFTER:
            return cached.feed
        version = self._store.version(source.name)
        if cached is not None and cached.version == version:
            feed = cached.feed
        else:
            entries = self._store.entries(source.name, limit=FEED_LIMIT)
            body = feeds.atom(source, entries, self._settings.base_url, self._settings.tag_authority)
            updated = max((e.updated for e in entries), default=None)
            feed = RenderedFeed(
                body=body,
                etag=hashlib.sha256(body).hexdigest()[:32],
                updated=updated,
                last_modified=None if updated is None else http_date(updated),
            )
        with self._lock:
            self._rendered[source.name] = _Cached(version, changes, now, feed)
        return feed
