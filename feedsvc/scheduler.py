"""The background scheduler: one job per source whose body is just ``refresh.run_if_due``.

The job checks a source every tenth of its interval (at most every minute) and refreshes it when
it is due, so instances sharing one database refresh each source once per interval in total.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from feedsvc import publish, refresh
from feedsvc.config import Settings, Source
from feedsvc.store import Store

WORKERS = 4
MAX_JITTER = timedelta(minutes=5)
MIN_CHECK = timedelta(seconds=0.5)
MAX_CHECK = timedelta(minutes=1)


def build(settings: Settings, store: Store, first_run_in: timedelta = timedelta(seconds=1)) -> BackgroundScheduler:
    """A scheduler (not started) refreshing every source on its interval, the first time soon."""
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(WORKERS)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )
    first = datetime.now(UTC) + first_run_in
    notify = publish.after_refresh(settings, store)
    for source in settings.sources:
        every = check_every(source)
        jitter = min(every / 2, MAX_JITTER)
        scheduler.add_job(
            _job,
            IntervalTrigger(seconds=every.total_seconds(), jitter=jitter.total_seconds(), timezone=UTC),
            args=(store, source, notify),
            id=source.name,
            name=f"refresh {source.name}",
            next_run_time=first,
        )
    return scheduler


def check_every(source: Source) -> timedelta:
    """How often the job asks whether ``source`` is due: a tenth of its interval, between 0.5 s and a minute."""
    return max(MIN_CHECK, min(source.interval / 10, MAX_CHECK))


def _job(store: Store, source: Source, notify: refresh.Notify | None = None) -> None:
    refresh.run_if_due(store, source, datetime.now(UTC), notify=notify)
