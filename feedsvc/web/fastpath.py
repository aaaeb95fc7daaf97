"""``GET``/``HEAD /feeds/<name>.<ext>`` from prebuilt bytes and headers: a plain WSGI callable in front of Flask.

    app.wsgi_app = FastFeeds(app.wsgi_app, cache, store.watch(), settings=..., counter=...)

A request is a dictionary lookup by (path, query string) and a generation compare; no store
query and no Flask dispatch. What a feed looks like is prepared once per rendering (a *slot*):
the identity and gzip bodies, each with its complete header list (ETag, Last-Modified,
Cache-Control, Vary, Content-Encoding, Content-Type, CORS) and its 304 header list, as Flask's
``feeds`` view would answer (``web/feed_views.py``, whose answers the tests compare byte for byte).

A slot stays good while the store's watch (``store/watch.py``) answers the same generation and
the settings are the same object; otherwise the next request revalidates it through the feed
cache (one version query; a re-render only when the feed's version moved). So this process's
refreshes show at once, other processes' within the watch's delay (PostgreSQL: at the NOTIFY;
SQLite: a few milliseconds), and a config reload at the next request.

Everything else falls through to Flask, unchanged: other paths and methods, unknown feeds (404),
a ``?limit=`` that is not a plain whole number (400) or any other query string, and requests
with ``If-Match`` or ``Range`` (Werkzeug's rules for those are kept by not copying them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Protocol

from werkzeug.http import http_date, parse_accept_header, parse_date, parse_etags

from feedsvc.config import Settings
from feedsvc.feeds.render import DEFAULT_LIMIT, MAX_LIMIT, Format, Rendered, UnknownFeed
from feedsvc.store.watch import Watch
from feedsvc.web.cache import FeedCache

PREFIX = "/feeds/"
MAX_SLOT_BYTES = 64 * 1024 * 1024  # bodies the slots keep alive, in all; the oldest go first beyond it
MAX_ACCEPT_ENCODINGS = 256  # distinct Accept-Encoding values remembered (clients send a handful)
OK = "200 OK"
NOT_MODIFIED = "304 NOT MODIFIED"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
Headers = list[tuple[str, str]]


class Counter(Protocol):
    def inc(self, amount: float = 1) -> None: ...


# given a feed name: its counters for 200 and 304 answers, or None when the name is not counted
CounterFor = Callable[[str], tuple[Counter, Counter] | None]


@dataclass(frozen=True, slots=True)
class Representation:
    """One representation of a rendering (identity or gzip): its body and both answers' headers."""

    body: bytes
    etag: str  # unquoted
    quoted_etag: str
    ok_headers: Headers  # without Date
    not_modified_headers: Headers  # without Date


@dataclass(frozen=True, slots=True)
class Slot:
    """A feed as the fast path answers it, valid for one generation and one settings object."""

    generation: int
    settings: Settings
    rendered: Rendered
    plain: Representation
    packed: Representation
    last_modified: str | None  # the header's text
    last_modified_at: Any  # the same, parsed back (seconds): what If-Modified-Since is compared with
    counters: tuple[Counter, Counter] | None  # 200, 304

    @property
    def size(self) -> int:
        return len(self.plain.body) + len(self.packed.body)


class FastFeeds:
    """WSGI middleware: feed requests from slots, everything else to ``app``."""

    def __init__(
        self,
        app: WSGIApp,
        cache: FeedCache,
        watch: Watch,
        settings: Callable[[], Settings],
        counter: CounterFor | None = None,
        max_bytes: int = MAX_SLOT_BYTES,
    ) -> None:
        self.app = app
        self._cache = cache
        self._watch = watch
        self._settings = settings
        self._counter = counter
        self._max_bytes = max_bytes
        self._slots: dict[tuple[str, str], Slot] = {}
        self._filling: dict[tuple[str, str], threading.Lock] = {}  # one filler per key at a time
        self._bytes = 0
        self._lock = threading.Lock()
        self._gzip: dict[str, bool] = {}
        self._date_second = -1
        self._date: tuple[str, str] = ("Date", "")
        self.served = 0  # answered here (not by Flask): for tests and the bench; approximate under threads

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD")
        if (method != "GET" and method != "HEAD") or "HTTP_IF_MATCH" in environ or "HTTP_RANGE" in environ:
            return self.app(environ, start_response)
        key = (path, environ.get("QUERY_STRING", ""))
        generation = self._watch.generation()
        settings = self._settings()
        slot = self._slots.get(key)
        if slot is None or slot.generation != generation or slot.settings is not settings:
            slot = self._fill(key, generation, settings, slot)
            if slot is None:
                return self.app(environ, start_response)
        accepted = environ.get("HTTP_ACCEPT_ENCODING")
        if accepted is None:
            chosen = slot.plain
        else:
            gzip = self._gzip.get(accepted)
            if gzip is None:
                gzip = self._accepts_gzip(accepted)
            chosen = slot.packed if gzip else slot.plain
        self.served += 1
        if _unmodified(environ, slot, chosen):
            if slot.counters is not None:
                slot.counters[1].inc()
            start_response(NOT_MODIFIED, [*chosen.not_modified_headers, self._now()])
            return []
        if slot.counters is not None:
            slot.counters[0].inc()
        start_response(OK, [*chosen.ok_headers, self._now()])
        return [] if method == "HEAD" else [chosen.body]

    # -- slots ---------------------------------------------------------------------------------

    def _fill(self, key: tuple[str, str], generation: int, settings: Settings, old: Slot | None) -> Slot | None:
        """The slot for ``key`` now, or None when Flask must answer (unknown feed, odd query).

        One thread fills a key at a time: after a change, the requests that arrive while the feed is
        rendered again wait for that rendering instead of each rendering it too."""
        parsed = _parse(*key)
        if parsed is None:
            return None
        filling = self._filling.get(key)
        if filling is None:
            filling = self._filling.setdefault(key, threading.Lock())
        with filling:
            current = self._slots.get(key)
            if current is not None and current.generation == generation and current.settings is settings:
                return current  # another thread filled it while this one waited
            slot = self._render(key, parsed, generation, settings, current or old)
        if slot is None:  # no such feed (any more): keep nothing for it (a client may try any number of names)
            with self._lock:
                self._filling.pop(key, None)
                gone = self._slots.pop(key, None)
                if gone is not None:
                    self._bytes -= gone.size
        return slot

    def _render(
        self,
        key: tuple[str, str],
        parsed: tuple[str, Format, int],
        generation: int,
        settings: Settings,
        old: Slot | None,
    ) -> Slot | None:
        name, format, limit = parsed
        try:
            rendered = self._cache.feed(name, format, limit)  # under the settings in force
        except UnknownFeed:
            return None
        if old is not None and old.rendered is rendered and old.settings is settings:
            slot = _revalidated(old, generation)
        else:
            counters = self._counter(name) if self._counter is not None else None
            slot = _slot(rendered, format, generation, settings, counters)
        with self._lock:
            replaced = self._slots.pop(key, None)
            if replaced is not None:
                self._bytes -= replaced.size
            self._slots[key] = slot
            self._bytes += slot.size
            while len(self._slots) > 1 and self._bytes > self._max_bytes:
                oldest = next(iter(self._slots))
                self._bytes -= self._slots.pop(oldest).size
                self._filling.pop(oldest, None)
        return slot

    def _accepts_gzip(self, accepted: str) -> bool:
        gzip = parse_accept_header(accepted)["gzip"] > 0  # as Flask's request.accept_encodings
        if len(self._gzip) < MAX_ACCEPT_ENCODINGS:
            self._gzip[accepted] = gzip
        return gzip

    def _now(self) -> tuple[str, str]:
        second = int(time.time())
        if second != self._date_second:
            self._date = ("Date", formatdate(second, usegmt=True))
            self._date_second = second
        return self._date


def _parse(path: str, query: str) -> tuple[str, Format, int] | None:
    """``/feeds/<name>.<ext>`` and an empty or ``limit=N`` query, as the Flask route reads them."""
    rest = path[len(PREFIX) :]
    if "/" in rest:
        return None
    name, dot, extension = rest.rpartition(".")
    if not dot or not name:
        return None
    try:
        format = Format(extension)
    except ValueError:
        return None
    if not rest.isascii():  # Werkzeug decodes the WSGI (latin-1) path as UTF-8
        name = name.encode("latin-1").decode("utf-8", "replace")
    if query == "":
        return name, format, DEFAULT_LIMIT
    field, equals, raw = query.partition("=")
    # the view's rule (feed_views._limit): 1 to 9 ASCII digits, at least 1; anything else is Flask's to answer
    if field != "limit" or not equals or not 0 < len(raw) <= 9 or not raw.isascii() or not raw.isdigit():
        return None  # Flask answers: 400, or whatever the other query says
    if int(raw) < 1:
        return None
    return name, format, min(int(raw), MAX_LIMIT)


def _slot(
    rendered: Rendered, format: Format, generation: int, settings: Settings, counters: tuple[Counter, Counter] | None
) -> Slot:
    last_modified = http_date(rendered.updated) if rendered.updated is not None else None
    common: Headers = [("Vary", "Accept-Encoding")]
    tail: Headers = [("Cache-Control", f"public, max-age={rendered.max_age}"), ("Access-Control-Allow-Origin", "*")]

    def representation(body: bytes, etag: str, encoding: str | None) -> Representation:
        quoted = f'"{etag}"'
        ok: Headers = [("Content-Type", format.media_type), ("Content-Length", str(len(body)))]
        if encoding is not None:
            ok.append(("Content-Encoding", encoding))
        ok += [*common, ("ETag", quoted)]
        if last_modified is not None:
            ok.append(("Last-Modified", last_modified))
        ok += tail
        return Representation(body, etag, quoted, ok, [*common, ("ETag", quoted), *tail])

    return Slot(
        generation=generation,
        settings=settings,
        rendered=rendered,
        plain=representation(rendered.body, rendered.etag, None),
        packed=representation(rendered.gzipped, rendered.etag + "-gz", "gzip"),
        last_modified=last_modified,
        last_modified_at=parse_date(last_modified) if last_modified is not None else None,
        counters=counters,
    )


def _revalidated(old: Slot, generation: int) -> Slot:
    return Slot(
        generation,
        old.settings,
        old.rendered,
        old.plain,
        old.packed,
        old.last_modified,
        old.last_modified_at,
        old.counters,
    )


def _unmodified(environ: Environ, slot: Slot, chosen: Representation) -> bool:
    """Werkzeug's ``is_resource_modified`` for GET/HEAD without Range or If-Match, negated."""
    unmodified = False
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since and slot.last_modified is not None:
        if since == slot.last_modified:
            unmodified = True
        else:
            parsed = parse_date(since)
            unmodified = parsed is not None and slot.last_modified_at <= parsed
    match = environ.get("HTTP_IF_NONE_MATCH")
    if match:
        if match == chosen.quoted_etag:
            return True
        tags = parse_etags(match)
        if tags:
            unmodified = tags.contains_weak(chosen.etag)
    return unmodified
