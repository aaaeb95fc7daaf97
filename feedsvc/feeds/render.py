"""One feed, rendered: the store's entries in a format, with the bytes' validators.

    render(settings, store, name, format, limit) -> Rendered     name: a source, or "all"
    version(settings, store, name, rendered) -> tuple            changes whenever the bytes may

The combined feed (``all``) reads the newest entries of every source in one query (``Store.newest_of_all``),
not one per source: the newest ``limit`` + ``SCAN_MARGIN`` rows, and more (in growing batches) only
when filters, or sources no longer configured, hide so many of them that fewer than ``limit`` are left.
Its version is those rows as they are now (one query, bounded by the oldest of them): a refresh
that adds or changes entries older than the rendered window leaves it as it is.

Shared by the web cache (``web/cache.py``) and the static publisher (``static.py``), so both
serve exactly the same bytes. No Flask here.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from feedsvc import filters
from feedsvc.config import Settings, Source
from feedsvc.feeds import formats, jsonfeed
from feedsvc.model import Entry
from feedsvc.store import Store

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_AGE_CAP = 3600  # seconds: a reader need not wait longer than this to ask again
SCAN_MARGIN = 50  # rows of the combined feed's query beyond its limit: for entries filters hide
MAX_SCANNED = 20_000  # rows the combined feed reads at most, however many of them filters hide


class Format(StrEnum):
    """A feed format, named by its URL extension."""

    ATOM = "atom"
    RSS = "rss"
    JSON = "json"

    @property
    def media_type(self) -> str:
        types = {Format.ATOM: formats.ATOM_TYPE, Format.RSS: formats.RSS_TYPE, Format.JSON: formats.JSON_FEED_TYPE}
        return f"{types[self]}; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Rendered:
    """A feed's bytes, ready to serve: identity and gzip bodies, strong ETag, validators."""

    body: bytes
    gzipped: bytes
    etag: str  # of ``body``; the gzip representation's is ``etag + "-gz"``
    updated: datetime | None  # newest entry's ``updated``: the Last-Modified
    max_age: int  # seconds, for Cache-Control
    window: Window | None = None  # the combined feed: the rows it was built from


@dataclass(frozen=True, slots=True)
class Window:
    """The rows the combined feed was built from: the store's newest ``len(rows)`` entries, in its order."""

    rows: tuple[Entry, ...]
    exhausted: bool  # the store had no more: an entry added anywhere may show

    def now(self, store: Store) -> tuple[Entry, ...]:
        """The same range of the store as it is now (one query): equal to ``rows`` while nothing in it changed.

        Bounded by the oldest row's ``sort_at``: entries older than the window cannot enter it unless
        rows of it went (and then the answer is shorter, so unequal). When the store was exhausted,
        one row more is asked for, so an entry added below the last row shows too.
        """
        if self.exhausted or not self.rows:
            return tuple(store.newest_of_all(len(self.rows) + 1))
        return tuple(store.newest_of_all(len(self.rows), since=_sort_at(self.rows[-1])))


class UnknownFeed(LookupError):
    """No such feed: an unknown source, or ``all`` in another format than Atom."""


def render(settings: Settings, store: Store, name: str, format: Format, limit: int = DEFAULT_LIMIT) -> Rendered:
    """The feed ``name`` in ``format`` with its newest ``limit`` entries."""
    if name == formats.ALL:
        if format is not Format.ATOM:
            raise UnknownFeed(f"the combined feed is Atom only: /feeds/{formats.ALL}.atom")
        items, window = newest_of_all(settings, store, limit) if settings.sources else ([], None)
        body = formats.combined(items, settings.base_url, settings.tag_authority, hub=settings.hub)
        entries = [entry for _, entry in items]
        max_age = min((_max_age(s) for s in settings.sources), default=MAX_AGE_CAP // 2)
    else:
        window = None
        source = _source(settings, name)
        entries = shown(store, source, limit, with_content=source.full_text)  # off: the stored text is not served
        icon = store.icon(name)  # not store.state(): that also counts the source's entries
        args = (source, entries, settings.base_url, settings.tag_authority)
        if format is Format.ATOM:
            body = formats.atom(*args, icon=icon, hub=settings.hub)
        elif format is Format.RSS:
            body = formats.rss(*args, icon=icon, hub=settings.hub)
        else:
            body = jsonfeed.json_feed(*args, icon=icon, hub=settings.hub)
        max_age = _max_age(source)
    return Rendered(
        body=body,
        gzipped=gzip.compress(body, compresslevel=6, mtime=0),
        etag=hashlib.sha256(body).hexdigest()[:32],
        updated=max((e.updated for e in entries), default=None),
        max_age=max_age,
        window=window,
    )


def version(settings: Settings, store: Store, name: str, rendered: Rendered | None = None) -> tuple[Any, ...]:
    """A cheap key (one query) that changes whenever the feed ``name`` would render differently from
    ``rendered``, its latest rendering (if any). For a source: its store version. For ``all``: the rows
    of ``rendered``'s window as they are now; ``version_of(rendered)`` while none of them changed."""
    if name == formats.ALL:
        if rendered is None or rendered.window is None:
            return (None,)
        return rendered.window.now(store)
    _source(settings, name)
    return (store.version(name),)


def version_of(rendered: Rendered) -> tuple[Any, ...] | None:
    """The combined feed's version as it was rendered (its window's rows); None for a source's feed."""
    return None if rendered.window is None else rendered.window.rows


def newest_of_all(settings: Settings, store: Store, limit: int) -> tuple[list[tuple[Source, Entry]], Window]:
    """The newest ``limit`` entries over every configured source that its filters show, in the store's
    order (newest first, ties by source, then identity), and the window of rows they were read from.

    One query in the usual case; another, twice as large, each time filters (or entries of sources
    no longer configured) leave fewer than ``limit``, until the store has no more or ``MAX_SCANNED``
    rows were read.
    """
    rows: list[Entry] = []
    items: list[tuple[Source, Entry]] = []
    batch = limit + SCAN_MARGIN
    while True:
        got = store.newest_of_all(batch, offset=len(rows))
        rows += got
        for entry in got:
            source = settings.source(entry.source)
            if source is not None and (not (source.include or source.exclude) or _shows(source, entry)):
                items.append((source, entry))
        exhausted = len(got) < batch
        if len(items) >= limit or exhausted or len(rows) >= MAX_SCANNED:
            return _with_contents(store, items[:limit]), Window(tuple(rows), exhausted)
        batch = min(batch * 2, MAX_SCANNED - len(rows))


def _with_contents(store: Store, chosen: list[tuple[Source, Entry]]) -> list[tuple[Source, Entry]]:
    """``chosen`` with their full text where the source has ``full_text`` on (read for these entries only)."""
    contents: dict[str, dict[str, str]] = {}
    for source in {source.name: source for source, _ in chosen}.values():
        if source.full_text:
            identities = [entry.identity for owner, entry in chosen if owner.name == source.name]
            contents[source.name] = store.contents(source.name, identities)
    if not contents:
        return chosen
    return [
        (source, replace(entry, content=contents.get(source.name, {}).get(entry.identity))) for source, entry in chosen
    ]


def _sort_at(entry: Entry) -> datetime:
    return entry.published or entry.first_seen  # the store's sort_at


def _shows(source: Source, entry: Entry) -> bool:
    return bool(filters.kept(source.include, source.exclude, [entry]))


def shown(store: Store, source: Source, limit: int, with_content: bool = False) -> list[Entry]:
    """The newest ``limit`` entries of ``source`` that its filters let through (filters.py);
    ``with_content``: with their full text (read for the entries shown only)."""
    if not source.include and not source.exclude:
        return store.entries(source.name, limit=limit, with_content=with_content)
    kept = filters.kept(source.include, source.exclude, store.entries(source.name, limit=source.keep))[:limit]
    if not with_content:
        return kept
    contents = store.contents(source.name, [entry.identity for entry in kept])
    return [replace(entry, content=contents.get(entry.identity)) for entry in kept]


def _source(settings: Settings, name: str) -> Source:
    source = settings.source(name)
    if source is None:
        raise UnknownFeed(f"no source named {name!r}")
    return source


def _max_age(source: Source) -> int:
    return int(min(source.interval.total_seconds(), MAX_AGE_CAP) // 2)
