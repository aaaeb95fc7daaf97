"""Rendered feed bytes, kept until the feed's entries change (its store version).

One cheap query per request (``render.version``); a feed is rendered again only when the
version moved since it was cached. Keyed by feed name, format and limit; the least recently
used renderings beyond ``MAX_CACHED`` are dropped.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from feedsvc import render
from feedsvc.config import Settings, Source
from feedsvc.render import DEFAULT_LIMIT, Format, Rendered
from feedsvc.store import Store

FEED_LIMIT = DEFAULT_LIMIT
MAX_CACHED = 512

RenderedFeed = Rendered  # the name this module used to export

_Key = tuple[str, Format, int]


class FeedCache:
    """Rendered feeds, re-rendered only when their store version moves."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._lock = threading.Lock()
        self._rendered: OrderedDict[_Key, tuple[tuple[int, ...], Rendered]] = OrderedDict()
        self.renders = 0  # how many times a feed was rendered: for tests and the bench

    def feed(self, name: str, format: Format = Format.ATOM, limit: int = DEFAULT_LIMIT) -> Rendered:
        """The feed ``name`` (a source or ``all``); raises ``render.UnknownFeed``."""
        key = (name, format, limit)
        version = render.version(self._settings, self._store, name)
        with self._lock:
            cached = self._rendered.get(key)
            if cached is not None and cached[0] == version:
                self._rendered.move_to_end(key)
                return cached[1]
        rendered = render.render(self._settings, self._store, name, format, limit)
        with self._lock:
            self.renders += 1
            self._rendered[key] = (version, rendered)
            self._rendered.move_to_end(key)
            while len(self._rendered) > MAX_CACHED:
                self._rendered.popitem(last=False)
        return rendered

    def atom(self, source: Source) -> Rendered:
        return self.feed(source.name, Format.ATOM)
