"""One refresh of one source: the only place the steps meet.

    store.claim -> fetch.get -> extract.posts -> guard.problem -> differ.diff -> store.apply

Called by the scheduler job, the refresh endpoint and ``feedsvc refresh`` alike.
Failures become data (``RefreshResult.error`` and the source's status); nothing raises.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from feedsvc import backoff, differ, extract, fetch, guard
from feedsvc.config import Source
from feedsvc.errors import FeedsvcError, LayoutChanged
from feedsvc.model import Diff, RefreshResult, SourceStatus, Validators
from feedsvc.politeness import HostGate
from feedsvc.store import Store

log = logging.getLogger("feedsvc.refresh")

# This process's name in leases: two processes (or instances) never refresh one source at once.
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


Observer = Callable[[RefreshResult, float], None]
"""Told of every refresh that ran, with its duration in seconds (metrics)."""


def run(
    store: Store,
    source: Source,
    now: datetime,
    owner: str = OWNER,
    *,
    scheduled: bool = False,
    gate: HostGate | None = None,
    max_backoff: timedelta = backoff.DEFAULT_CAP,
    observe: Observer | None = None,
) -> RefreshResult:
    """Refresh ``source`` once, as of ``now``; never raises for a bad page or a dead site.

    A ``scheduled`` run of a failing source waits for its backoff (``backoff.next_allowed``)
    and returns a ``deferred_until`` result without reaching the site; a manual one does not wait.
    """
    if scheduled:
        state = store.state(source.name)
        allowed = backoff.next_allowed(state, source.interval, max_backoff)
        if allowed is not None and now < allowed:
            log.debug("refresh source=%s outcome=deferred until=%s", source.name, allowed.isoformat())
            return RefreshResult(source.name, deferred_until=allowed)
    lease = timedelta(seconds=source.timeout * 3 + 60)
    if not store.claim(source.name, owner, now, lease):
        return RefreshResult(
            source.name, busy=True, error="a refresh of this source is already running", error_kind="busy"
        )
    started = time.perf_counter()
    try:
        result = _refresh(store, source, now, gate)
    finally:
        store.release(source.name, owner)
    duration = time.perf_counter() - started
    log.info(
        "refresh source=%s outcome=%s new=%d changed=%d seen=%d duration_ms=%.1f%s",
        source.name,
        result.outcome,
        result.new,
        result.changed,
        result.seen,
        duration * 1000,
        f" error={result.error!r}" if result.error else "",
    )
    if observe is not None:
        observe(result, duration)
    return result


def _refresh(store: Store, source: Source, now: datetime, gate: HostGate | None) -> RefreshResult:
    seen: int | None = None
    try:
        snapshot = fetch.get(source, store.validators(source.name), now, gate)
        if snapshot is None:
            store.apply(source.name, Diff(), SourceStatus(now, ok=True), keep=source.keep)
            return RefreshResult(source.name, not_modified=True)
        posts = extract.posts(snapshot, source.layout)
        seen = len(posts)
        problem = guard.problem(seen, store.state(source.name).recent_posts)
        if problem is not None:
            raise LayoutChanged(problem)
        diff = differ.diff(store.known(source.name), posts, seen_at=now, zone=source.zone, source=source.name)
        validators = Validators(snapshot.etag, snapshot.last_modified)
        status = SourceStatus(now, ok=True, posts_on_page=diff.seen, validators=validators)
        store.apply(source.name, diff, status, keep=source.keep)
        return RefreshResult(source.name, new=len(diff.new), changed=len(diff.changed), seen=diff.seen)
    except FeedsvcError as exc:
        retry_after = getattr(exc, "retry_after", None)
        until = now + timedelta(seconds=retry_after) if retry_after else None
        return _failed(store, source, now, str(exc), exc.kind, seen, until)
    except Exception as exc:  # a bug must not stop the scheduler: record it and go on
        log.exception("refresh of %s failed unexpectedly", source.name)
        return _failed(store, source, now, f"internal error: {type(exc).__name__}: {exc}", "internal", None, None)


def _failed(
    store: Store,
    source: Source,
    now: datetime,
    error: str,
    kind: str,
    seen: int | None,
    retry_after: datetime | None,
) -> RefreshResult:
    status = SourceStatus(now, ok=False, error=error, posts_on_page=seen, retry_after=retry_after)
    try:
        store.apply(source.name, Diff(), status, keep=source.keep)
    except FeedsvcError:
        log.exception("cannot record the failed refresh of %s", source.name)
    return RefreshResult(source.name, seen=seen or 0, error=error, error_kind=kind)
