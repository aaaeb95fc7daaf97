"""The full-text step of a refresh (``full_text = true``): entries' own pages -> their main text.

    fill(store, source, clock, gate) -> FullTextReport

``refresh.run`` calls it after the listing's refresh was stored (or the site answered 304 Not
Modified), still under the lease. For each entry that wants its text (``Store.wanting_content``:
among the newest entries, never tried first, newest first), at most ``full_text_per_refresh``:

    same_site -> gate.turn (host gap) -> fetch.article -> extract.article.main_text -> store.set_content

A link on another site is never fetched (recorded as skipped). A failure (404, timeout, too large,
no main text) is recorded on its entry, which keeps its teaser, and counted in the report; the
entry is tried again by later refreshes until ``CONTENT_ATTEMPTS`` tries. An article whose text was
taken is never fetched again. Nothing raises: the refresh stands whatever the articles do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from urllib.parse import urlsplit

from feedsvc import fetch
from feedsvc.config import Source
from feedsvc.errors import FeedsvcError, StoreError
from feedsvc.extract import article
from feedsvc.model import FullTextReport
from feedsvc.refresh.politeness import HostGate, SharedHostGate
from feedsvc.store import Store
from feedsvc.store.store import CONTENT_WINDOW

log = logging.getLogger("feedsvc.refresh.full_text")

BUDGET_TIMEOUTS = 3  # one refresh starts no article after this many of the source's timeouts (the rest wait
MIN_BUDGET = 30.0  # for the next refreshes), nor after fewer seconds than this
OFF_SITE = "the link is on another site than the source's"


def fill(
    store: Store, source: Source, clock: Callable[[], datetime], gate: HostGate | SharedHostGate | None = None
) -> FullTextReport:
    """Fetch and store the full text of up to ``source.full_text_per_refresh`` entries; never raises."""
    if source.is_local or source.full_text_per_refresh <= 0:
        return FullTextReport()
    deadline = time.monotonic() + max(MIN_BUDGET, BUDGET_TIMEOUTS * source.timeout)
    try:
        candidates = store.wanting_content(source.name, CONTENT_WINDOW)
    except StoreError as exc:
        log.warning("full text source=%s: cannot read the entries that want it: %s", source.name, exc)
        return FullTextReport()
    ok = fetched = 0
    errors: list[str] = []
    for index, wanted in enumerate(candidates):
        try:
            if not same_site(wanted.link, source.url):
                store.content_failed(source.name, wanted.identity, OFF_SITE, clock(), skipped=True)
                continue
            if fetched == source.full_text_per_refresh or time.monotonic() > deadline:
                left = sum(1 for later in candidates[index:] if same_site(later.link, source.url))
                return _report(source, ok, errors, left)
            fetched += 1
            turn = gate.turn(wanted.link) if gate is not None else None  # the host's turn, ended once answered
            with turn or nullcontext():
                answered = None if turn is None else turn.release
                problem = _take(store, source, wanted.identity, wanted.link, clock(), answered)
        except StoreError as exc:  # the database refuses writes: stop here, the next refresh goes on
            log.warning("full text source=%s stopped: %s", source.name, exc)
            break
        if problem is None:
            ok += 1
        else:
            errors.append(f"{wanted.link}: {problem}")
    return _report(source, ok, errors, 0)


def _take(
    store: Store, source: Source, identity: str, link: str, now: datetime, answered: Callable[[], None] | None
) -> str | None:
    """Fetch, extract and store one article; the reason it failed (recorded on the entry), or None."""
    try:
        page = fetch.article(source, link, now, answered)
        content = article.main_text(page.text, page.url)
    except FeedsvcError as exc:
        reason = _reason(str(exc), link)
    except Exception as exc:  # a bug, or the extractor choking on a page: that article fails, not the refresh
        log.exception("full text source=%s: %s failed unexpectedly", source.name, link)
        reason = f"internal error: {type(exc).__name__}: {exc}"
    else:
        store.set_content(source.name, identity, content, now)
        return None
    store.content_failed(source.name, identity, reason, now)
    return reason


def same_site(link: str, source_url: str) -> bool:
    """True when ``link`` is an http(s) URL on the source's own site: the same host name, letter case
    and a leading ``www.`` aside (any scheme and port: the address checks still apply)."""
    try:
        parts, home = urlsplit(link), urlsplit(source_url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or not home.hostname:
        return False
    return parts.hostname.removeprefix("www.") == home.hostname.removeprefix("www.")


def _reason(message: str, link: str) -> str:
    """An error message without the article's URL in front (the status shows the link beside it)."""
    return message.removeprefix(f"{link}: ")


def _report(source: Source, ok: int, errors: list[str], left: int) -> FullTextReport:
    report = FullTextReport(ok=ok, failed=len(errors), errors=tuple(errors), left=left)
    if ok or errors or left:
        log.info("full text source=%s ok=%d failed=%d left=%d", source.name, ok, len(errors), left)
    return report
