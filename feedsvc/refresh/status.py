"""What the operator reads about a source: plain JSON-ready data. Pure: ``now`` is passed in.

``next_run`` is when the next refresh will reach the site: the source's ``next_due`` (an interval
after the last attempt, later while the source is backing off after failures or the site's
Retry-After), or the scheduler's next tick when the source is due already. ``lease`` names
who holds the source (``instances.describe``); ``refreshing`` is true while this process runs a
refresh of it or a live instance holds its lease.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from feedsvc.config import Source
from feedsvc.model import FullTextState, SourceState
from feedsvc.refresh import backoff, guard


def next_run(source: Source, state: SourceState, tick: datetime | None, max_backoff: timedelta) -> datetime | None:
    """When the next scheduled refresh will reach the site; None when this process schedules none.

    The source's ``next_due`` as the store records it (an interval after the last attempt of any
    instance, past any failure backoff), or the scheduler's next tick (``tick``) when that is later:
    a source already due runs at the next tick. A source without a recorded ``next_due`` (not
    scheduled yet) gets the due rule's answer.
    """
    if tick is None:
        return None
    due = state.next_due if state.next_due is not None else backoff.next_due(state, source.interval, max_backoff)
    return tick if due is None else max(tick, due)


def describe(
    source: Source,
    state: SourceState,
    tick: datetime | None,
    max_backoff: timedelta,
    now: datetime,
    running: bool = False,
    full_text: FullTextState | None = None,
    lease: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The source's status as JSON-ready data; with ``full_text`` (sources that have it on), its full-text counts."""
    allowed = backoff.next_allowed(state, source.interval, max_backoff)
    usual = guard.usual(state.recent_posts)
    return {
        "name": source.name,
        "title": source.title,
        "url": source.public_url,  # None for a local or secret source; never user name or password
        "origin": "database" if source.user_added else "config",  # where it is defined
        "interval_seconds": int(source.interval.total_seconds()),
        "healthy": state.last_error is None,
        "refreshing": running or (lease is not None and bool(lease["alive"])),
        "lease": lease,
        "last_attempt": _iso(state.last_attempt),
        "last_success": _iso(state.last_success),
        "last_error": state.last_error,
        "consecutive_failures": state.consecutive_failures,
        "backing_off_until": _iso(allowed) if allowed is not None and allowed > now else None,
        "next_run": _iso(next_run(source, state, tick, max_backoff)),
        "posts_on_page": state.posts_on_page,
        "usual_posts_on_page": usual,
        "entries_stored": state.entries_stored,
        "warning": state.warning,
    } | ({} if full_text is None else {"full_text": full_text_status(full_text)})


def full_text_status(state: FullTextState) -> dict[str, Any]:
    """The full-text counts, the latest failures (newest first) and one line saying both."""
    failures = [
        {"title": f.title, "link": f.link, "reason": f.reason, "tried_at": _iso(f.tried_at), "attempts": f.attempts}
        for f in state.last_failures
    ]
    return {
        "ok": state.ok,
        "failed": state.failed,
        "skipped": state.skipped,
        "last_failures": failures,
        "summary": full_text_summary(state),
    }


def full_text_summary(state: FullTextState) -> str:
    """``full text: 8 ok, 2 failed; latest failure: <link>: HTTP 404 Not Found`` (the latest failure named)."""
    words = f"full text: {state.ok} ok, {state.failed} failed"
    if state.skipped:
        words += f", {state.skipped} skipped (on another site)"
    if state.last_failures:
        latest = state.last_failures[0]
        words += f"; latest failure: {latest.link}: {latest.reason}"
    return words


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
