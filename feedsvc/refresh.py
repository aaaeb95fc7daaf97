"""One refresh of one source: the only place the steps meet.

    store.claim -> fetch.get -> extract.posts -> differ.diff -> store.apply
    (the claim is renewed by ``leases.kept`` until the refresh ends, then released)

Called by the scheduler job, the refresh endpoint and ``feedsvc refresh`` alike.
Failures become data (``RefreshResult.error`` and the source's status); nothing raises.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from feedsvc import differ, extract, fetch, icon, leases
from feedsvc.config import Source
from feedsvc.errors import FeedsvcError, StoreError
from feedsvc.model import Diff, RefreshResult, SourceStatus, Validators
from feedsvc.store import Store

log = logging.getLogger("feedsvc.refresh")

# This process's name in leases: two processes (or instances) never refresh one source at once.
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
_runs = itertools.count(1)

# Called after a refresh that added or changed entries, still under the lease (publish.after_refresh).
Notify = Callable[[Source, RefreshResult], None]


def _run_owner() -> str:
    """The lease owner of one run: the process's name and a run number, so that two runs in one
    process (the scheduler's and a manual one) exclude each other as runs in two instances do."""
    return f"{OWNER}:{next(_runs)}"


def run(
    store: Store, source: Source, now: datetime, owner: str | None = None, notify: Notify | None = None
) -> RefreshResult:
    """Refresh ``source`` once, as of ``now``, due or not; never raises for a bad page or a dead site.

    ``notify`` runs when entries were added or changed, still under the lease (so two
    publications of one source never interleave); what it raises is logged.
    """
    owner = owner or _run_owner()
    if not store.claim(source.name, owner, now, source.lease_length):
        return RefreshResult(source.name, busy=True, error="a refresh of this source is already running")
    return _run_claimed(store, source, now, owner, notify)


def run_if_due(
    store: Store, source: Source, now: datetime, owner: str | None = None, notify: Notify | None = None
) -> RefreshResult | None:
    """The scheduler's refresh: only if no instance attempted ``source`` within its interval and none holds it.

    ``None`` when there was nothing to do. However many instances share the database, each source
    is refreshed once per interval in total; an instance that dies mid-refresh holds the source
    only until its lease expires, then the next instance to check takes it over. A database that
    cannot be reached is logged and the source checked again next time: nothing reaches the scheduler.
    """
    owner = owner or _run_owner()
    try:
        claimed = store.claim(source.name, owner, now, source.lease_length, due_if_not_since=now - source.interval)
    except StoreError as exc:
        log.warning("cannot check whether %s is due: %s", source.name, exc)
        return None
    if not claimed:
        return None
    return _run_claimed(store, source, now, owner, notify)


def _run_claimed(store: Store, source: Source, now: datetime, owner: str, notify: Notify | None) -> RefreshResult:
    started = time.perf_counter()
    try:
        with leases.kept(store, source.name, owner, source.lease_length):
            result = _refresh(store, source, now)
            if notify is not None and (result.new or result.changed):
                _notify(notify, source, result)
    finally:
        _release(store, source.name, owner)
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


def _release(store: Store, source: str, owner: str) -> None:
    try:
        store.release(source, owner)
    except StoreError as exc:
        log.warning("cannot release the lease on %s (it expires by itself): %s", source, exc)


def _refresh(store: Store, source: Source, now: datetime) -> RefreshResult:
    try:
        snapshot = fetch.get(source, store.validators(source.name), now)
        if snapshot is None:
            store.apply(source.name, Diff(), SourceStatus(now, ok=True), keep=source.keep)
            return RefreshResult(source.name, not_modified=True)
        posts = extract.posts(snapshot, source.layout, selectors=source.selectors, zone=source.zone)
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


def _notify(notify: Notify, source: Source, result: RefreshResult) -> None:
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
