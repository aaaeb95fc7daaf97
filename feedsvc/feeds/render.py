"""One feed, rendered: the store's entries in a format, with the bytes' validators.

    render(settings, store, name, format, limit) -> Rendered     name: a source, or "all"
    version(settings, store, name) -> tuple                      changes whenever the bytes may

Shared by the web cache (``web/cache.py``) and the static publisher (``static.py``), so both
serve exactly the same bytes. No Flask here.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from feedsvc import filters
from feedsvc.config import Settings, Source
from feedsvc.feeds import formats, jsonfeed
from feedsvc.model import Entry
from feedsvc.store import Store

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_AGE_CAP = 3600  # seconds: a reader need not wait longer than this to ask again


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


class UnknownFeed(LookupError):
    """No such feed: an unknown source, or ``all`` in another format than Atom."""


def render(settings: Settings, store: Store, name: str, format: Format, limit: int = DEFAULT_LIMIT) -> Rendered:
    """The feed ``name`` in ``format`` with its newest ``limit`` entries."""
    if name == formats.ALL:
        if format is not Format.ATOM:
            raise UnknownFeed(f"the combined feed is Atom only: /feeds/{formats.ALL}.atom")
        items = newest_of_all(settings, store, limit)
        body = formats.combined(items, settings.base_url, settings.tag_authority, hub=settings.hub)
        entries = [entry for _, entry in items]
        max_age = min((_max_age(s) for s in settings.sources), default=MAX_AGE_CAP // 2)
    else:
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
    )


def version(settings: Settings, store: Store, name: str) -> tuple[int, ...]:
    """A cheap key (one query) that changes whenever the feed ``name`` would render differently."""
    if name == formats.ALL:
        names = [s.name for s in settings.sources]
        return tuple(store.versions(names).values())
    _source(settings, name)
    return (store.version(name),)


def newest_of_all(settings: Settings, store: Store, limit: int) -> list[tuple[Source, Entry]]:
    """The newest ``limit`` entries over every source, in the store's own order, ties by source;
    with their full text where the source has ``full_text`` on (read for the chosen entries only)."""
    items = [(source, entry) for source in settings.sources for entry in shown(store, source, limit)]
    items.sort(key=lambda item: item[1].identity)
    items.sort(key=lambda item: item[0].name)
    items.sort(key=lambda item: (item[1].published or item[1].first_seen, item[1].first_seen), reverse=True)
    chosen = items[:limit]
    contents: dict[str, dict[str, str]] = {}
    for source in {source.name: source for source, _ in chosen}.values():
        if source.full_text:
            identities = [entry.identity for owner, entry in chosen if owner.name == source.name]
            contents[source.name] = store.contents(source.name, identities)
    return [
        (source, replace(entry, content=contents.get(source.name, {}).get(entry.identity))) for source, entry in chosen
    ]


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
