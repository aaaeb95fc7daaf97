"""One refresh of one source: the only place the steps meet.

    store.claim -> fetch.get -> extract.posts -> differ.diff -> store.apply

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

from feedsvc import differ, extract, fetch, icon
from feedsvc.config import Source
from feedsvc.errors import FeedsvcError
from feedsvc.model import Diff, RefreshResult, SourceStatus, Validators
from feedsvc.store import Store

log = logging.getLogger("feedsvc.refresh")

# This process's name in leases: two processes (or instances) never refresh one source at once.
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run(
    store: Store,
    source: Source,
    now: datetime,
    owner: str = OWNER,
    notify: Callable[[Source, RefreshResult], None] | None = None,
) -> RefreshResult:
    """Refresh ``source`` once, as of ``now``; never raises for a bad page or a dead site.

    ``notify`` (``publish.after_refresh``) runs when entries were added or changed, still under
    the lease (so two publications of one source never interleave); what it raises is logged.
    """
    lease = timedelta(seconds=source.timeout * 3 + 60)
    if not store.claim(source.name, owner, now, lease):
        return RefreshResult(source.name, busy=True, error="a refresh of this source is already running")
    started = time.perf_counter()
    try:
        result = _refresh(store, source, now)
        if notify is not None and (result.new or result.changed):
            _notify(notify, source, result)
    finally:
        store.release(source.name, owner)
    log.info(
        "refresh source=%s outcome=%s new=%d changed=%d seen=%d duration_ms=%.1f%s",
        source.name,
        "not-modified" if result.not_modified else ("ok" if result.ok else "error"),
        result.new,
        result.changed,
        result.seen,
        (time.perf_counter() - started) * 1000,
        f" error={result.error!r}" if result.error else "",
    )
    return result


def _refresh(store: Store, source: Source, now: datetime) -> RefreshResult:
    try:
        snapshot = fetch.get(source, store.validators(source.name), now)
        if snapshot is None:
            store.apply(source.name, Diff(), SourceStatus(now, ok=True), keep=source.keep)
            return RefreshResult(source.name, not_modified=True)
        posts = extract.posts(snapshot, source.layout)
        if snapshot.media_type == "text/html":
            store.set_icon(source.name, icon.find(snapshot.text, snapshot.url))
        diff = differ.diff(store.known(source.name), posts, seen_at=now, zone=source.zone, source=source.name)
        validators = Validators(snapshot.etag, snapshot.last_modified)
        status = SourceStatus(now, ok=True, posts_on_page=diff.seen, validators=validators)
        store.apply(source.name, diff, status, keep=source.keep)
        return RefreshResult(source.name, new=len(diff.new), changed=len(diff.changed), seen=diff.seen)
    except FeedsvcError as exc:
        return _failed(store, source, now, str(exc))
    except Exception as exc:  # a bug must not stop the scheduler: record it and go on
        log.exception("refresh of %s failed unexpectedly", source.name)
        return _failed(store, source, now, f"internal error: {type(exc).__name__}: {exc}")


def _notify(notify: Callable[[Source, RefreshResult], None], source: Source, result: RefreshResult) -> None:
    try:
        notify(source, result)
    except Exception:  # publishing is a courtesy: the refresh itself succeeded
        log.exception("publishing the refresh of %s failed", source.name)


def _failed(store: Store, source: Source, now: datetime, error: str) -> RefreshResult:
    try:
        store.apply(source.name, Diff(), SourceStatus(now, ok=False, error=error), keep=source.keep)
    except FeedsvcError:
        log.exception("cannot record the failed refresh of %s", source.name)
    return RefreshResult(source.name, error=error)
