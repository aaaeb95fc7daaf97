"""The scheduler's dispatcher: due sources in, refreshes out, one queue per host.

- **One FIFO queue per host**; hosts take turns, so a host with many due sources does not hold
  back the others, and a slow host holds back only its own queue.
- **Bounded in flight**: at most ``per_host`` refreshes of one host at once, and at most ``workers``
  overall among the refreshes running for less than ``slow_after`` seconds. A refresh running
  longer (a slow or trickling site, which the fetch's deadline ends in time) steps aside: it no
  longer takes a worker's place, up to ``slow_slots`` such refreshes; beyond that they count again.
  So slow sites never hold the workers healthy ones need, and no more than
  ``workers + slow_slots`` refreshes ever run at once.
- **No duplicates**: a source queued or running is not queued again.
- ``close`` drops the queued work; running refreshes finish (the service waits for them).

Each refresh runs on a thread of its own (daemon), started when it may run; while nothing is
queued or running, only the dispatching thread (started by the first offer) exists, asleep.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from feedsvc.config import Source

log = logging.getLogger("feedsvc.refresh.dispatch")

PER_HOST = 1  # refreshes of one host at once: one site, one request at a time
SLOW_AFTER = 10.0  # seconds: a refresh running longer steps aside from its worker's place
SLOW_SLOTS_PER_WORKER = 4  # slow refreshes that may step aside, per worker

Run = Callable[[str], object]


def host_of(source: Source) -> str:
    """The queue ``source`` waits in: its URL's host name (as the host gap counts it); a local file its own."""
    if source.is_local:
        return f"file:{source.name}"
    return (urlsplit(source.url).hostname or "").lower()


class Dispatcher:
    """Runs ``run(name)`` for each source offered, per-host FIFO, within the bounds above."""

    def __init__(
        self,
        run: Run,
        workers: int,
        *,
        per_host: int = PER_HOST,
        slow_after: float = SLOW_AFTER,
        slow_slots: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if workers < 1 or per_host < 1:
            raise ValueError(f"workers and per_host must be at least 1, got {workers} and {per_host}")
        self._run = run
        self.workers = workers
        self.per_host = per_host
        self.slow_after = slow_after
        self.slow_slots = workers * SLOW_SLOTS_PER_WORKER if slow_slots is None else slow_slots
        self._clock = clock
        self._cond = threading.Condition()
        self._queues: dict[str, deque[str]] = {}  # host -> its sources waiting, oldest first
        self._ready: deque[str] = deque()  # hosts with a source waiting and room to run it, in turn
        self._hosts: dict[str, str] = {}  # every source queued or running -> its host
        self._started: dict[str, float] = {}  # running source -> when it started (clock)
        self._busy: dict[str, int] = {}  # host -> its refreshes running
        self._closed = False
        self._loop: threading.Thread | None = None  # started by the first offer

    def offer(self, sources: Iterable[tuple[str, str]]) -> int:
        """Queue each (source name, host) not queued or running already; return how many were queued."""
        added = 0
        with self._cond:
            if self._closed:
                return 0
            for name, host in sources:
                if name in self._hosts:
                    continue
                self._hosts[name] = host
                queue = self._queues.get(host)
                if queue is None:
                    queue = self._queues[host] = deque()
                    if self._busy.get(host, 0) < self.per_host:
                        self._ready.append(host)
                queue.append(name)
                added += 1
            if added:
                self._cond.notify_all()
                if self._loop is None:
                    self._loop = threading.Thread(target=self._dispatch, name="feedsvc-dispatch", daemon=True)
                    self._loop.start()
        return added

    def queued(self) -> int:
        """How many sources wait in the queues."""
        with self._cond:
            return len(self._hosts) - len(self._started)

    def running(self) -> list[str]:
        """The sources whose refresh runs now."""
        with self._cond:
            return sorted(self._started)

    def wake(self) -> None:
        """Look again at what may run (after the clock moved: a refresh may have turned slow)."""
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        """Drop every queued source and start nothing more; running refreshes go on to their end."""
        with self._cond:
            self._closed = True
            for queue in self._queues.values():
                for name in queue:
                    del self._hosts[name]
            self._queues.clear()
            self._ready.clear()
            self._cond.notify_all()

    # -- the dispatching thread and the refresh threads -------------------------------------------

    def _dispatch(self) -> None:
        with self._cond:
            while not self._closed:
                while self._ready and self._room() > 0:
                    self._start_next()
                self._cond.wait(self._recheck_in())

    def _room(self) -> int:
        """Refreshes that may start now: ``workers`` minus the ones not yet slow, minus the slow beyond their slots."""
        now = self._clock()
        young = sum(1 for started in self._started.values() if now - started < self.slow_after)
        slow = len(self._started) - young
        return self.workers - young - max(0, slow - self.slow_slots)

    def _recheck_in(self) -> float | None:
        """Seconds until a running refresh turns slow and may free a place for waiting work; None: wait for news."""
        if not self._ready or not self._started:
            return None
        now = self._clock()
        turning = [started + self.slow_after - now for started in self._started.values()]
        ahead = [seconds for seconds in turning if seconds > 0]
        return max(0.01, min(ahead)) if ahead else None

    def _start_next(self) -> None:
        host = self._ready.popleft()
        queue = self._queues[host]
        name = queue.popleft()
        if not queue:
            del self._queues[host]
        busy = self._busy[host] = self._busy.get(host, 0) + 1
        if host in self._queues and busy < self.per_host:
            self._ready.append(host)  # its next source may run beside this one, after the other hosts' turns
        self._started[name] = self._clock()
        thread = threading.Thread(target=self._work, args=(name, host), name=f"feedsvc-refresh-{name}", daemon=True)
        thread.start()

    def _work(self, name: str, host: str) -> None:
        try:
            self._run(name)
        except Exception:  # the runner records failures as data; anything else is a bug to log, not a dead thread
            log.exception("the scheduled refresh of %s failed unexpectedly", name)
        finally:
            with self._cond:
                del self._started[name]
                del self._hosts[name]
                busy = self._busy.pop(host)
                if busy > 1:
                    self._busy[host] = busy - 1
                if busy == self.per_host and host in self._queues:
                    self._ready.append(host)  # it had no room; now it has
                self._cond.notify_all()
