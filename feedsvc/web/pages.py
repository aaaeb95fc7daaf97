"""The HTML pages and the OPML export: plain server-rendered pages, no JavaScript.

GET /                  a page of sources (?limit=, ?after=, ?state=: web/listing.py): status, last
                       refresh, entry count, subscribe links; above it, how many are ok, failing, never refreshed
GET /sources/<name>    one source: its facts, last error and recent entries
GET /opml              every feed as OPML 2.0 (``?format=rss|json`` for those formats)
GET /healthz           liveness
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, render_template, request

from feedsvc import __version__, filters
from feedsvc.config import Settings
from feedsvc.feeds import formats, render
from feedsvc.feeds import opml as opml_document
from feedsvc.feeds.render import Format
from feedsvc.feeds.sanitize import plain, text_of_html
from feedsvc.metrics import census
from feedsvc.model import Entry, FullTextState
from feedsvc.refresh import instances
from feedsvc.store import Store
from feedsvc.urls import link
from feedsvc.web import listing
from feedsvc.web.context import service

pages = Blueprint("pages", __name__)

RECENT = 30  # entries shown on a source's page
SUMMARY_CHARS = 280
OPML_TYPE = "text/x-opml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class EntryView:
    """What a page shows of an entry: plain text only, and a link only when it is http(s)."""

    title: str
    link: str | None
    date: datetime  # published, else first seen: in the source's time zone
    author: str | None
    categories: tuple[str, ...]
    summary: str


@pages.app_context_processor
def helpers() -> dict[str, object]:
    settings = service().settings
    return {
        "feed_url": lambda name, extension: formats.feed_url(settings.base_url, name, extension),
        "version": __version__,
    }


@pages.get("/")
def index() -> str:
    settings, store = _settings_and_store()
    try:
        wanted = listing.query(request.args)
    except listing.BadRequest as exc:
        abort(400, description=str(exc))
    outcomes = store.outcomes()
    found = listing.page(listing.matching(settings.sources, wanted.state, outcomes), wanted)
    states = store.states([s.name for s in found.sources])
    return render_template(
        "index.html",
        rows=list(zip(found.sources, states, strict=True)),
        total=found.total,
        counts=census((s.name for s in settings.sources), outcomes),
        shown_state=wanted.state,
        next_page=None if found.next_after is None else listing.link("/", wanted, found.next_after),
        previous_page=None if found.previous_after is None else listing.link("/", wanted, found.previous_after),
        by_state=lambda state: listing.link("/", listing.Query(wanted.limit, None, state), None),
    )


@pages.get("/sources/<name>")
def source(name: str) -> str:
    settings, store = _settings_and_store()
    found = settings.source(name)
    if found is None:
        abort(404, description=f"no source named {name!r}")
    state = store.state(name)
    known = store.instances() if state.lease is not None else {}
    return render_template(
        "source.html",
        source=found,
        state=state,
        lease=instances.describe(state.lease, known, service().runner.liveness, datetime.now(UTC)),
        entries=[_view(entry, found.zone) for entry in render.shown(store, found, RECENT)],
        hidden=filters.hidden(found.include, found.exclude, store.entries(name, limit=found.keep))
        if found.include or found.exclude
        else {},
        page_url=_http(found.public_url),
        interval=_duration(found.interval),
        full_text=_full_text(store, name) if found.full_text else None,
    )


@pages.get("/opml")
def opml() -> Response:
    settings, _ = _settings_and_store()
    try:
        format = Format(request.args.get("format", Format.ATOM.value))
    except ValueError:
        abort(400, description="format: expected atom, rss or json")
    body = opml_document.opml(settings.sources, settings.base_url, format.value)
    response = Response(body, content_type=OPML_TYPE)
    response.headers["Content-Disposition"] = 'inline; filename="feedsvc.feeds.opml"'
    return response


@pages.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _settings_and_store() -> tuple[Settings, Store]:
    running = service()
    return running.settings, running.store


def _view(entry: Entry, zone: ZoneInfo) -> EntryView:
    summary = text_of_html(entry.summary) if entry.summary_html else plain(entry.summary)
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1].rstrip() + "…"
    return EntryView(
        title=plain(entry.title) or formats.UNTITLED,
        link=_http(entry.link),
        date=(entry.published or entry.first_seen).astimezone(zone),
        author=plain(entry.author or "") or None,
        categories=tuple(formats.categories(entry)),
        summary=summary,
    )


def _full_text(store: Store, name: str) -> FullTextState:
    """The source's full-text state as the page shows it: plain titles, links only when http(s)."""
    state = store.full_text_state(name)
    failures = tuple(
        replace(failure, title=plain(failure.title) or formats.UNTITLED, link=_http(failure.link) or "")
        for failure in state.last_failures
    )
    return replace(state, last_failures=failures)


def _http(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL (never ``javascript:``, never a local path): ``urls.link``."""
    return link(url)


def _duration(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
