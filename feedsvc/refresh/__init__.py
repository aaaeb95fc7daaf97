"""One refresh of one source: the only place the steps meet.

    store.claim -> fetch.get -> extract.posts -> guard.problem -> differ.diff -> store.apply
                -> full_text.fill (sources with ``full_text``, after a stored refresh or a 304)
    (the claim is renewed by ``leases.kept`` until the refresh ends, then released)

Called through the ``Runner`` by the scheduler, the refresh endpoint and ``feedsvc refresh``
alike. Failures become data (``RefreshResult.error`` and the source's status); nothing raises.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from feedsvc import bounds, differ, extract, fetch
from feedsvc.config import Source
from feedsvc.errors import FeedsvcError, LayoutChanged, StoreError
from feedsvc.model import Diff, FullTextReport, Outcome, RefreshResult, SourceState, SourceStatus, Validators
from feedsvc.refresh import backoff, full_text, guard, leases
from feedsvc.refresh.instances import ME, Liveness
from feedsvc.refresh.politeness import HostGate, SharedHostGate
from feedsvc.store import Store

log = logging.getLogger("feedsvc.refresh")

# This process's name in leases, ``host:pid:id`` (refresh/instances.py): two processes (or
# instances) never refresh one source at once.
OWNER = ME.owner
_runs = itertools.count(1)

Notify = Callable[["Source", RefreshResult], None]
"""Told of a refresh that added or changed entries, still under the lease (static files, WebSub)."""

Observer = Callable[[RefreshResult, float], None]
"""Told of every refresh that ran, with its duration in seconds (metrics)."""

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Policy:
    """How one refresh is run: by whom, and what it keeps to and tells.

    ``scheduled``: the scheduler's run, which refreshes only a due source (see ``due``); a manual
    run refreshes now unless another run holds the source (busy).
    """

    scheduled: bool = False
    owner: str | None = None  # the lease owner; by default one of its own in this process
    gate: HostGate | SharedHostGate | None = None  # the per-host gap between requests
    liveness: Liveness | None = None  # frees a lease a dead instance holds; None: leases only expire
    max_backoff: timedelta = backoff.DEFAULT_CAP
    observe: Observer | None = None
    notify: Notify | None = None


MANUAL = Policy()


def run(store: Store, source: Source, now: datetime | Clock, policy: Policy = MANUAL) -> RefreshResult:
    """Refresh ``source`` once; never raises for a bad page or a dead site.

    ``now`` is a fixed time (tools, tests) or a clock: with a clock the refresh is dated when the
    request goes out, after waiting for the database and the host gap, so the next instance
    counts the interval from the fetch. With ``source.full_text``, the entries' own pages are then
    fetched for their text (``full_text.fill``, kept to ``policy.gate``). ``policy.notify`` runs
    when entries were added or changed or got their text, under the lease.
    """
    clock: Clock = now if callable(now) else (lambda: now)
    owner = policy.owner or f"{OWNER}:{next(_runs)}"  # two runs in one process exclude each other too
    started_at = clock()
    due_if_not_since = None
    if policy.scheduled:
        try:
            state = store.state(source.name, count_entries=False)
            allowed = backoff.next_allowed(state, source.interval, policy.max_backoff)
        except StoreError as exc:
            log.warning("cannot check whether %s is due: %s", source.name, exc)
            return RefreshResult(source.name, Outcome.NOT_DUE)
        if allowed is not None and started_at < allowed:
            log.debug("refresh source=%s outcome=deferred until=%s", source.name, allowed.isoformat())
            _keep_next_due(store, state, allowed)
            return RefreshResult(source.name, Outcome.DEFERRED, deferred_until=allowed)
        due_at = backoff.next_due(state, source.interval, policy.max_backoff)
        if due_at is not None and started_at < due_at:  # refreshed within its interval (by another instance?)
            _keep_next_due(store, state, due_at)
            return RefreshResult(source.name, Outcome.NOT_DUE)
        due_if_not_since = started_at - source.interval
    try:
        claimed = store.claim(source.name, owner, clock, source.lease_length, due_if_not_since=due_if_not_since)
        if not claimed and policy.liveness is not None and policy.liveness.free_if_dead(source.name):
            claimed = store.claim(source.name, owner, clock, source.lease_length, due_if_not_since=due_if_not_since)
    except StoreError as exc:
        log.warning("cannot claim %s: %s", source.name, exc)
        error = f"the store cannot be reached: {exc}"
        return RefreshResult(source.name, Outcome.BUSY, error=error, error_kind="store")
    if not claimed:
        if policy.scheduled:
            return RefreshResult(source.name, Outcome.NOT_DUE)
        return _busy(store, source.name)
    started = time.perf_counter()
    try:
        with leases.kept(store, source.name, owner, source.lease_length):
            # the host's turn, under the lease: the attempt is dated after the wait; ended once answered
            turn = policy.gate.turn(source.url) if policy.gate is not None and not source.is_local else None
            with turn or nullcontext():
                result = _refresh(
                    store, source, max(started_at, clock()), policy.max_backoff, None if turn is None else turn.release
                )
            if source.full_text and result.outcome in (Outcome.OK, Outcome.NOT_MODIFIED):
                result = replace(result, full_text=_full_text(store, source, clock, policy.gate))
            if policy.notify is not None and result.feed_changed:
                _notify(policy.notify, source, result)
    finally:
        _release(store, source.name, owner)
    duration = time.perf_counter() - started
    log.info(
        "refresh source=%s outcome=%s new=%d changed=%d seen=%d%s duration_ms=%.1f%s",
        source.name,
        result.label,
        result.new,
        result.changed,
        result.seen,
        _full_text_words(result),
        duration * 1000,
        f" error={result.error!r}" if result.error else "",
    )
    if policy.observe is not None:
        policy.observe(result, duration)
    return result


def _full_text_words(result: RefreshResult) -> str:
    """`` full_text_ok=N full_text_failed=M`` for the log line, when the full-text step ran."""
    report = result.full_text
    return "" if report is None else f" full_text_ok={report.ok} full_text_failed={report.failed}"


def run_if_due(store: Store, source: Source, now: datetime | Clock, owner: str | None = None) -> RefreshResult | None:
    """A scheduled ``run`` outside the runner (tools, tests): None when nothing was due."""
    result = run(store, source, now, Policy(scheduled=True, owner=owner))
    return None if result.outcome in (Outcome.NOT_DUE, Outcome.DEFERRED) else result


def _busy(store: Store, source: str) -> RefreshResult:
    """The answer to a manual refresh of a source another refresh holds: it names the holder."""
    error = "a refresh of this source is already running"
    try:
        lease = store.lease(source)
    except StoreError:
        lease = None
    if lease is not None:
        until = "" if lease.until is None else f" until {lease.until.isoformat(timespec='seconds')}"
        error += f" (leased by {lease.owner}{until})"
    return RefreshResult(
        source, Outcome.BUSY, error=error, error_kind="busy", held_by=None if lease is None else lease.owner
    )


def _release(store: Store, source: str, owner: str) -> None:
    try:
        store.release(source, owner)
    except StoreError as exc:
        log.warning("cannot release the lease on %s (it expires by itself): %s", source, exc)


def _keep_next_due(store: Store, state: SourceState, due_at: datetime) -> None:
    """Correct a source's stored ``next_due`` that the due rule puts later (the interval or the
    backoff changed since it was written), so the scheduler does not ask again before then."""
    if state.next_due == due_at:
        return
    try:
        store.schedule({state.name: due_at})
    except StoreError as exc:
        log.warning("cannot record when %s is due: %s", state.name, exc)


def _next_due(
    source: Source, now: datetime, cap: timedelta, failures: int = 0, retry_after: datetime | None = None
) -> datetime | None:
    """When the scheduler refreshes ``source`` next after an attempt at ``now`` (refresh/backoff.py's rule)."""
    after = SourceState(source.name, last_attempt=now, consecutive_failures=failures, retry_after_until=retry_after)
    return backoff.next_due(after, source.interval, cap)


def _refresh(
    store: Store, source: Source, now: datetime, cap: timedelta, answered: Callable[[], None] | None
) -> RefreshResult:
    seen: int | None = None
    try:
        try:
            snapshot = fetch.get(source, store.validators(source.name), now, answered=answered)
        finally:
            if answered is not None:  # a failed request ends the host's turn too
                answered()
        if snapshot is None:
            status = SourceStatus(now, ok=True, next_due=_next_due(source, now, cap))
            store.apply(source.name, Diff(), status, keep=source.keep)
            return RefreshResult(source.name, Outcome.NOT_MODIFIED)
        extraction = extract.extract(snapshot, source.layout, selectors=source.selectors, zone=source.zone)
        posts, warning = bounds.capped(extraction.posts)
        seen = len(posts)
        problem = guard.problem(seen, store.state(source.name, count_entries=False).recent_posts)
        if problem is not None:
            raise LayoutChanged(problem)
        known = store.known(source.name)
        diff = differ.diff(known, posts, seen_at=now, zone=source.zone, source=source.name)
        validators = Validators(snapshot.etag, snapshot.last_modified)
        warning = "; ".join(w for w in (snapshot.warning, warning) if w) or None
        status = SourceStatus(
            now,
            ok=True,
            posts_on_page=diff.seen,
            validators=validators,
            icon=extraction.icon,
            read_icon=extraction.is_html,
            warning=warning,
            next_due=_next_due(source, now, cap),
        )
        store.apply(source.name, diff, status, keep=source.keep)
        return RefreshResult(source.name, new=len(diff.new), changed=len(diff.changed), seen=diff.seen)
    except FeedsvcError as exc:
        retry_after = getattr(exc, "retry_after", None)
        until = now + timedelta(seconds=retry_after) if retry_after else None
        return _failed(store, source, now, str(exc), exc.kind, seen, until, cap)
    except Exception as exc:  # a bug must not stop the scheduler: record it and go on
        log.exception("refresh of %s failed unexpectedly", source.name)
        error = f"internal error: {type(exc).__name__}: {exc}"
        return _failed(store, source, now, error, "internal", None, None, cap)


def _full_text(store: Store, source: Source, clock: Clock, gate: HostGate | SharedHostGate | None) -> FullTextReport:
    try:
        return full_text.fill(store, source, clock, gate)
    except Exception:  # a bug in the extra step must not undo the refresh that was stored
        log.exception("the full-text step of %s failed unexpectedly", source.name)
        return FullTextReport()


def _notify(notify: Notify, source: Source, result: RefreshResult) -> None:
    try:
        notify(source, result)
    except Exception:  # publishing is a courtesy: the refresh itself succeeded
        log.exception("publishing the refresh of %s failed", source.name)


def _failed(
    store: Store,
    source: Source,
    now: datetime,
    error: str,
    kind: str,
    seen: int | None,
    retry_after: datetime | None,
    cap: timedelta,
) -> RefreshResult:
    try:
        failures = store.state(source.name, count_entries=False).consecutive_failures + 1
        next_due = _next_due(source, now, cap, failures, retry_after)
        status = SourceStatus(
            now, ok=False, error=error, posts_on_page=seen, retry_after=retry_after, next_due=next_due
        )
        store.apply(source.name, Diff(), status, keep=source.keep)
    except FeedsvcError:
        log.exception("cannot record the failed refresh of %s", source.name)
    return RefreshResult(source.name, Outcome.FAILED, seen=seen or 0, error=error, error_kind=kind)
