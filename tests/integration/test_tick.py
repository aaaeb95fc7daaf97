"""The scheduler's one job: a tick offers the configured due sources to the dispatcher, by host,
and plans itself for the earliest ``next_due`` ahead (within MIN_TICK..MAX_TICK). Real store
(SQLite file), runner, APScheduler (started paused: the test calls the tick itself)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from feedsvc.config import Current, Settings, Source
from feedsvc.refresh import schedule
from feedsvc.refresh.dispatch import Dispatcher
from feedsvc.refresh.runner import Runner
from feedsvc.store import Store

SOURCES = (
    Source(name="a", title="a", url="http://one.example/a"),
    Source(name="b", title="b", url="http://two.example/b"),
)


class Offered:
    """A dispatcher's ``run`` that only notes the names it is given."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.changed = threading.Condition()

    def __call__(self, name: str) -> None:
        with self.changed:
            self.names.append(name)
            self.changed.notify_all()

    def wait_for(self, count: int) -> list[str]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.names) >= count, 10)
            return sorted(self.names)


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[Store, Runner, Dispatcher, BackgroundScheduler, Offered]]:
    store = Store(f"sqlite:///{tmp_path / 'feedsvc.db'}")
    runner = Runner(Current(Settings(sources=SOURCES)), store)
    offered = Offered()
    dispatcher = Dispatcher(offered, workers=2)
    jobs = schedule.build(runner, dispatcher, first_run_in=timedelta(hours=1))
    jobs.start(paused=True)
    try:
        yield store, runner, dispatcher, jobs, offered
    finally:
        jobs.shutdown(wait=False)
        dispatcher.close()
        store.close()


def test_a_tick_offers_the_due_configured_sources_and_sleeps_until_the_next_is_due(
    parts: tuple[Store, Runner, Dispatcher, BackgroundScheduler, Offered],
) -> None:
    store, runner, dispatcher, jobs, offered = parts
    now = datetime.now(UTC)
    soon = now + timedelta(seconds=12)
    store.schedule({"a": now - timedelta(minutes=1), "b": soon, "gone": now - timedelta(hours=1)})

    schedule.tick(jobs, runner, dispatcher)

    assert offered.wait_for(1) == ["a"]  # "gone" is due but configured no more: not refreshed
    assert schedule.next_tick(jobs) == soon


def test_with_nothing_ahead_the_tick_sleeps_at_most_max_tick_and_a_sync_wakes_it(
    parts: tuple[Store, Runner, Dispatcher, BackgroundScheduler, Offered],
) -> None:
    _, runner, dispatcher, jobs, offered = parts
    before = datetime.now(UTC)
    schedule.tick(jobs, runner, dispatcher)
    planned = schedule.next_tick(jobs)
    assert planned is not None and before + schedule.MAX_TICK <= planned <= datetime.now(UTC) + schedule.MAX_TICK
    assert offered.names == []

    scheduled, unscheduled = schedule.sync(jobs, runner, runner.settings)  # as at start or after a reload
    assert (scheduled, unscheduled) == (["a", "b"], [])  # never refreshed: due at once
    woken = schedule.next_tick(jobs)
    assert woken is not None and woken <= datetime.now(UTC)
    schedule.tick(jobs, runner, dispatcher)
    assert offered.wait_for(2) == ["a", "b"]


def test_a_sync_of_some_sources_touches_only_those(
    parts: tuple[Store, Runner, Dispatcher, BackgroundScheduler, Offered],
) -> None:
    """A reload syncs only the sources it added, changed or removed: the others keep their next_due."""
    store, runner, _, jobs, _ = parts
    later = datetime.now(UTC) + timedelta(hours=3)
    store.schedule({"a": later, "b": later, "gone": later})

    scheduled, unscheduled = schedule.sync(jobs, runner, runner.settings, only={"b", "gone"})

    assert (scheduled, unscheduled) == (["b"], ["gone"])  # b: never attempted, due now; gone: not configured
    due = {state.name: state.next_due for state in store.timings()}
    assert due["a"] == later and due["gone"] is None and due["b"] is not None and due["b"] < later
    assert [state.name for state in store.timings({"a", "missing"})] == ["a"]
