"""Rendered feed bytes, kept until the feed's entries change (its store version).

One cheap query per request (``render.version``); a feed is rendered again only when the
version moved since it was cached: for a source, when its entries changed; for ``all``, when
the rows of its rendered window did (a refresh touching only older entries leaves it alone).
Keyed by feed name, format and limit; the least recently
used renderings are dropped beyond ``MAX_CACHED`` of them or ``MAX_CACHED_BYTES`` in all, so
a client cycling through every ``?limit=`` cannot grow the process without bound.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from feedsvc.config import Current, Settings
from feedsvc.feeds import render
from feedsvc.feeds.render import DEFAULT_LIMIT, Format, Rendered
from feedsvc.store import Store

MAX_CACHED = 512
MAX_CACHED_BYTES = 64 * 1024 * 1024

_Key = tuple[str, Format, int]


class FeedCache:
    """Rendered feeds, re-rendered only when their store version moves."""

    def __init__(
        self, store: Store, current: Current, max_items: int = MAX_CACHED, max_bytes: int = MAX_CACHED_BYTES
    ) -> None:
        self._store = store
        self._current = current
        self._max_items = max_items
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        # per key: the store version and the settings it was rendered with, and the rendering
        self._rendered: OrderedDict[_Key, tuple[tuple[Any, ...], Settings, Rendered]] = OrderedDict()
        self._bytes = 0
        self.renders = 0  # how many times a feed was rendered: for tests and the bench

    def feed(self, name: str, format: Format = Format.ATOM, limit: int = DEFAULT_LIMIT) -> Rendered:
        """The feed ``name`` (a source or ``all``) under the settings in force; raises ``render.UnknownFeed``."""
        settings = self._current.settings
        key = (name, format, limit)
        with self._lock:
            cached = self._rendered.get(key)
        version = render.version(settings, self._store, name, None if cached is None else cached[2])
        if cached is not None and cached[0] == version and (cached[1] is settings or cached[1] == settings):
            with self._lock:
                if key in self._rendered:
                    self._rendered.move_to_end(key)
            return cached[2]
        rendered = render.render(settings, self._store, name, format, limit)
        built_from = render.version_of(rendered)  # all: the rows it was built from
        if built_from is not None:
            version = built_from
        with self._lock:
            self.renders += 1
            replaced = self._rendered.pop(key, None)
            if replaced is not None:
                self._bytes -= _size(replaced[2])
            self._rendered[key] = (version, settings, rendered)
            self._bytes += _size(rendered)
            while len(self._rendered) > 1 and (len(self._rendered) > self._max_items or self._bytes > self._max_bytes):
                _, (_, _, dropped) = self._rendered.popitem(last=False)
                self._bytes -= _size(dropped)
        return rendered

    @property
    def cached_bytes(self) -> int:
        """Bytes held by the cached renderings (bodies and their gzip)."""
        return self._bytes


def _size(rendered: Rendered) -> int:
    return len(rendered.body) + len(rendered.gzipped)
