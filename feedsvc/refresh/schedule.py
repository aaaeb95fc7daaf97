"""The background scheduler: one job per source whose body is just a scheduled refresh.

Each job checks its source every tenth of its interval (between 0.5 s and a minute) and refreshes
it when it is due (``refresh.run(scheduled=True)``: not backing off, and attempted by no instance
sharing the database within its interval), so instances sharing one database refresh each source
once per interval in total, and one that dies is replaced within its lease plus one check.
Jobs go through the ``Runner`` (one run per source at a time, failure backoff, host gap).
A bounded pool of ``workers`` threads runs them; jitter spreads sources on the same interval;
``coalesce`` turns the checks missed while the machine slept into one.
``sync`` adds, reschedules and removes jobs when the config is reloaded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from feedsvc.config import Settings, Source
from feedsvc.refresh.runner import Runner

MAX_JITTER = timedelta(minutes=5)
MIN_CHECK = timedelta(seconds=0.5)
MAX_CHECK = timedelta(minutes=1)


def build(runner: Runner, first_run_in: timedelta = timedelta(seconds=1)) -> BackgroundScheduler:
    """A scheduler (not started) refreshing every source on its interval, the first time soon."""
    settings = runner.settings
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(settings.workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )
    first = datetime.now(UTC) + first_run_in
    for source in settings.sources:
        _add(scheduler, runner, source, first)
    return scheduler


def sync(scheduler: BaseScheduler, runner: Runner, settings: Settings) -> tuple[list[str], list[str]]:
    """Make the jobs match ``settings``: add new sources (run soon), reschedule changed intervals,
    remove dropped sources. Returns (added, removed) source names."""
    wanted = {source.name: source for source in settings.sources}
    jobs = {job.id: job for job in scheduler.get_jobs()}
    removed = sorted(set(jobs) - set(wanted))
    for name in removed:
        scheduler.remove_job(name)
    added = sorted(set(wanted) - set(jobs))
    soon = datetime.now(UTC) + timedelta(seconds=1)
    for name in added:
        _add(scheduler, runner, wanted[name], soon)
    for name in set(wanted) & set(jobs):
        trigger = jobs[name].trigger
        if isinstance(trigger, IntervalTrigger) and trigger.interval != check_every(wanted[name]):
            scheduler.reschedule_job(name, trigger=_trigger(wanted[name]))
    return added, removed


def check_every(source: Source) -> timedelta:
    """How often the job asks whether ``source`` is due: a tenth of its interval, between 0.5 s and a minute."""
    return max(MIN_CHECK, min(source.interval / 10, MAX_CHECK))


def _trigger(source: Source) -> IntervalTrigger:
    every = check_every(source)
    jitter = min(every / 2, MAX_JITTER)
    return IntervalTrigger(seconds=every.total_seconds(), jitter=jitter.total_seconds(), timezone=UTC)


def _add(scheduler: BaseScheduler, runner: Runner, source: Source, first: datetime) -> None:
    scheduler.add_job(
        _job,
        _trigger(source),
        args=(runner, source.name),
        id=source.name,
        name=f"refresh {source.name}",
        next_run_time=first,
        replace_existing=True,
    )


def _job(runner: Runner, name: str) -> None:
    runner.scheduled(name)
