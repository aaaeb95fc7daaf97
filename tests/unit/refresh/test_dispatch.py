"""The dispatcher with real threads: each "refresh" blocks on an event the test sets, so what runs
at once is observed, never timed. A fake clock decides when a running refresh counts as slow."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from feedsvc.config import Source
from feedsvc.refresh.dispatch import Dispatcher, host_of

WAIT = 10.0  # seconds a condition may take to come true before the test fails


@dataclass
class Refreshes:
    """The ``run`` a dispatcher calls: records starts, holds each run until released."""

    started: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    gates: dict[str, threading.Event] = field(default_factory=dict)

    def gate(self, name: str) -> threading.Event:
        with self.changed:
            return self.gates.setdefault(name, threading.Event())

    def __call__(self, name: str) -> None:
        with self.changed:
            self.started.append(name)
            self.changed.notify_all()
        self.gate(name).wait(WAIT)
        with self.changed:
            self.finished.append(name)
            self.changed.notify_all()

    def release(self, *names: str) -> None:
        for name in names:
            self.gate(name).set()

    def wait_for(self, what: str, condition: object) -> None:
        with self.changed:
            assert self.changed.wait_for(condition, WAIT), f"timed out waiting for {what}"  # type: ignore[arg-type]

    def running(self) -> set[str]:
        with self.changed:
            return set(self.started) - set(self.finished)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def refreshes() -> Iterator[Refreshes]:
    made = Refreshes()
    yield made
    for gate in list(made.gates.values()):
        gate.set()  # no thread outlives the test waiting


def test_one_host_runs_one_refresh_at_a_time_in_order_while_other_hosts_run(refreshes: Refreshes) -> None:
    dispatcher = Dispatcher(refreshes, workers=4, clock=Clock())
    try:
        assert dispatcher.offer([("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("c1", "c")]) == 5
        refreshes.wait_for("a1, b1 and c1 to run", lambda: set(refreshes.started) == {"a1", "b1", "c1"})
        refreshes.release("b1", "c1")
        refreshes.wait_for("b1 and c1 to finish", lambda: {"b1", "c1"} <= set(refreshes.finished))
        assert refreshes.running() == {"a1"} and dispatcher.queued() == 2  # a2 waits for a1, not for a worker
        refreshes.release("a1")
        refreshes.wait_for("a2 to start", lambda: "a2" in refreshes.started)
        assert refreshes.running() == {"a2"}
        refreshes.release("a2", "a3")
        refreshes.wait_for("a3 to finish", lambda: "a3" in refreshes.finished)
        assert [name for name in refreshes.started if name.startswith("a")] == ["a1", "a2", "a3"]
    finally:
        dispatcher.close()


def test_at_most_workers_run_at_once_and_the_rest_wait_their_turn(refreshes: Refreshes) -> None:
    dispatcher = Dispatcher(refreshes, workers=2, clock=Clock())
    try:
        dispatcher.offer([(f"s{n}", f"host{n}") for n in range(5)])
        refreshes.wait_for("two refreshes", lambda: len(refreshes.started) == 2)
        assert refreshes.running() == {"s0", "s1"} and dispatcher.queued() == 3
        refreshes.release("s0")
        refreshes.wait_for("the next one", lambda: len(refreshes.started) == 3)
        assert refreshes.running() == {"s1", "s2"}  # still two: the next in line took s0's place
        refreshes.release(*(f"s{n}" for n in range(5)))
        refreshes.wait_for("all five", lambda: len(refreshes.finished) == 5)
        assert refreshes.started == ["s0", "s1", "s2", "s3", "s4"]
    finally:
        dispatcher.close()


def test_a_source_queued_or_running_is_not_queued_again(refreshes: Refreshes) -> None:
    dispatcher = Dispatcher(refreshes, workers=1, clock=Clock())
    try:
        assert dispatcher.offer([("a", "h"), ("a", "h"), ("b", "h")]) == 2
        refreshes.wait_for("a to run", lambda: refreshes.started == ["a"])
        assert dispatcher.offer([("a", "h"), ("b", "h")]) == 0  # a runs, b waits: neither twice
        refreshes.release("a", "b")
        refreshes.wait_for("b to finish", lambda: refreshes.finished == ["a", "b"])
        assert dispatcher.offer([("a", "h")]) == 1  # done: it may be queued again
        refreshes.wait_for("a's second run", lambda: refreshes.started == ["a", "b", "a"])
    finally:
        dispatcher.close()


def test_slow_refreshes_step_aside_so_healthy_hosts_keep_running(refreshes: Refreshes) -> None:
    clock = Clock()
    dispatcher = Dispatcher(refreshes, workers=2, slow_after=10, slow_slots=3, clock=clock)
    try:
        dispatcher.offer([(f"slow{n}", f"slow-host{n}") for n in range(5)])
        refreshes.wait_for("two slow ones", lambda: len(refreshes.started) == 2)
        dispatcher.offer([("fast", "fast-host")])
        assert refreshes.running() == {"slow0", "slow1"}  # both workers busy, not yet slow

        clock.now = 11  # both have run longer than slow_after: they step aside
        dispatcher.wake()
        refreshes.wait_for("two more", lambda: len(refreshes.started) == 4)
        assert refreshes.started[2:] == ["slow2", "slow3"]
        clock.now = 22  # four slow now, one past the three slots: it takes a worker's place again
        dispatcher.wake()
        refreshes.wait_for("one more", lambda: len(refreshes.started) == 5)
        assert refreshes.started[4] == "slow4"
        assert len(refreshes.running()) == 5 == dispatcher.workers + dispatcher.slow_slots
        refreshes.release("slow0")
        refreshes.wait_for("the fast one", lambda: "fast" in refreshes.started)
        assert len(refreshes.running()) == 5  # never more than workers + slow_slots
    finally:
        dispatcher.close()


def test_close_drops_the_queue_and_lets_running_refreshes_finish(refreshes: Refreshes) -> None:
    dispatcher = Dispatcher(refreshes, workers=1, clock=Clock())
    dispatcher.offer([("a", "h1"), ("b", "h2"), ("c", "h3")])
    refreshes.wait_for("a to run", lambda: refreshes.started == ["a"])
    dispatcher.close()
    assert dispatcher.queued() == 0 and dispatcher.running() == ["a"]
    assert dispatcher.offer([("d", "h4")]) == 0
    refreshes.release("a", "b", "c", "d")
    refreshes.wait_for("a to finish", lambda: refreshes.finished == ["a"])
    assert dispatcher.offer([("b", "h2")]) == 0
    assert refreshes.started == ["a"]  # b, c and d never ran


def test_a_failing_run_frees_its_place(refreshes: Refreshes) -> None:
    calls: list[str] = []
    done = threading.Event()

    def run(name: str) -> None:
        calls.append(name)
        if name == "bad":
            raise RuntimeError("a bug")
        done.set()

    dispatcher = Dispatcher(run, workers=1, clock=Clock())
    try:
        dispatcher.offer([("bad", "h"), ("good", "h")])
        assert done.wait(WAIT)
        assert calls == ["bad", "good"]
    finally:
        dispatcher.close()


def test_sources_queue_by_host_name_and_local_files_each_alone() -> None:
    def source(name: str, url: str) -> Source:
        return Source(name=name, title=name, url=url)

    assert host_of(source("a", "https://Blog.Example.org/list?page=1")) == "blog.example.org"
    assert host_of(source("b", "http://blog.example.org:8080/")) == "blog.example.org"  # as the host gap counts
    assert host_of(source("c", "/srv/pages/one.html")) != host_of(source("d", "/srv/pages/one.html"))
