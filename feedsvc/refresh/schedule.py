"""The background scheduler: one job, the tick, that hands the due sources to the dispatcher.

Each source's row in the store carries ``next_due``, when it is due (refresh/backoff.py's rule:
an interval after the last attempt of any instance, later while it backs off; written by every
refresh). The tick asks the store once, on an index, which sources are due and not leased, offers
them to the ``Dispatcher`` (per-host queues, bounded in flight), and sleeps until the earliest
``next_due`` still ahead — at least ``MIN_TICK``, at most ``MAX_TICK`` (so a source another
instance released or added is seen within that). Nothing is done, and nothing logged, per source
that is not due. A scheduled refresh checks again that its source is due and claims it with one
conditional UPDATE, so instances sharing a database refresh each source once per interval in total.

``sync`` (at start, and after a reload or a change of the sources kept in the database) gives every
configured source its row and ``next_due`` (a source never refreshed is due at once), clears it for
sources no longer configured, and wakes the tick.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from feedsvc.config import Settings
from feedsvc.errors import StoreError
from feedsvc.refresh import backoff
from feedsvc.refresh.dispatch import Dispatcher, host_of
from feedsvc.refresh.runner import Runner

log = logging.getLogger("feedsvc.refresh.schedule")

TICK = "tick"  # the one job's id
MIN_TICK = timedelta(seconds=1)
MAX_TICK = timedelta(seconds=30)
DUE_PER_TICK = 10_000  # due sources fetched by one tick (the longest overdue first); the rest the next


def build(
    runner: Runner, dispatcher: Dispatcher, first_run_in: timedelta = timedelta(seconds=1)
) -> BackgroundScheduler:
    """A scheduler (not started) whose one job ticks first ``first_run_in`` from now, then as due times need."""
    scheduler = BackgroundScheduler(
        executors={"default": {"type": "threadpool", "max_workers": 1}},
        # a wake-up may come while a tick runs: no "maximum number of running instances" warning for it
        job_defaults={"coalesce": True, "max_instances": 2, "misfire_grace_time": None},
        timezone=UTC,
    )
    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=MAX_TICK.total_seconds(), timezone=UTC),
        args=(scheduler, runner, dispatcher),
        id=TICK,
        name="offer the due sources",
        next_run_time=datetime.now(UTC) + first_run_in,
    )
    return scheduler


def tick(scheduler: BaseScheduler, runner: Runner, dispatcher: Dispatcher) -> None:
    """Offer every configured source due now to the dispatcher; plan the next tick."""
    now = datetime.now(UTC)
    try:
        names = runner.store.due(now, DUE_PER_TICK)
        ahead = runner.store.next_due_after(now)
    except StoreError as exc:
        log.warning("cannot ask the store which sources are due: %s", exc)
        _plan(scheduler, now + MAX_TICK)
        return
    settings = runner.settings
    due = [(name, host_of(source)) for name in names if (source := settings.source(name)) is not None]
    dispatcher.offer(due)
    soonest = now + MIN_TICK if len(names) == DUE_PER_TICK else now + MAX_TICK  # more are due: look again soon
    _plan(scheduler, max(now + MIN_TICK, min(soonest, ahead or soonest)))


def sync(
    scheduler: BaseScheduler | None, runner: Runner, settings: Settings, only: Collection[str] | None = None
) -> tuple[list[str], list[str]]:
    """Give the configured sources their ``next_due`` and clear it for the others; wake the tick.
    ``only``: look at these sources alone (a reload's added, changed and removed ones).

    Returns (scheduled, unscheduled): the sources whose ``next_due`` was set, and cleared.
    """
    now = datetime.now(UTC)
    stored = {state.name: state for state in runner.store.timings(only)}
    changes: dict[str, datetime | None] = {}
    for source in settings.sources if only is None else filter(None, map(settings.source, only)):
        state = stored.get(source.name)
        if state is None:
            changes[source.name] = now  # never refreshed: due at once
            continue
        due = backoff.next_due(state, source.interval, settings.max_backoff)
        if due is None:  # never attempted: due now, or when it was put due already
            due = state.next_due if state.next_due is not None and state.next_due <= now else now
        if due != state.next_due:
            changes[source.name] = due
    configured = {source.name for source in settings.sources}
    for name, state in stored.items():
        if name not in configured and state.next_due is not None:
            changes[name] = None  # not configured here any more: its entries stay, it is not refreshed
    runner.store.schedule(changes)
    if scheduler is not None:
        wake(scheduler)
    scheduled = sorted(name for name, due in changes.items() if due is not None)
    return scheduled, sorted(name for name, due in changes.items() if due is None)


def wake(scheduler: BaseScheduler) -> None:
    """Tick now (new sources may be due at once)."""
    _plan(scheduler, datetime.now(UTC))


def next_tick(scheduler: BaseScheduler | None) -> datetime | None:
    """When the tick runs next; None without a scheduler (or one not ticking)."""
    if scheduler is None:
        return None
    job = scheduler.get_job(TICK)
    return getattr(job, "next_run_time", None) if job is not None else None


def _plan(scheduler: BaseScheduler, when: datetime) -> None:
    with contextlib.suppress(JobLookupError):  # the scheduler was shut down meanwhile: nothing to plan
        scheduler.modify_job(TICK, next_run_time=when)
