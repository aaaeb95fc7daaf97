"""A minimum gap between requests to one host: within this process, and across instances.

``HostGate`` spaces the requests of this process: each caller reserves the next free slot.

``SharedHostGate`` spaces every instance's, by passing each host's *turn* through the store
(the host's row in ``hosts``, see ``Store.take_host_turn``). A request takes the turn, waits for
its slot, goes out, and gives the turn back once the site has answered; the next request, from
any instance, may go out ``gap`` after that. Counting from the answer rather than from a slot
planned in advance keeps the gap whatever delays a request between its slot and the site (a
busy process, a slow connect): the requests of three instances are never closer than ``gap``.
In front of the store, one caller per host and process asks at a time, so the threads of one
process queue here instead of on the row. When the store cannot be reached, the in-process
gate spaces this process's requests (a warning at most once a minute): a refresh never waits
for the database forever.

Both gates have ``wait(url)`` (returns at the slot; the turn ends at once) and ``turn(url)``,
a context manager whose ``release()`` (or exit) ends the turn once the request was answered.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from types import TracebackType
from urllib.parse import urlsplit

from feedsvc.errors import StoreError
from feedsvc.refresh.instances import ME, Liveness
from feedsvc.store import Store

log = logging.getLogger("feedsvc.refresh.politeness")

WARN_EVERY = 60.0  # seconds between two warnings that the store cannot space requests
POLL = 0.02  # seconds between two asks for a turn another instance holds past its slot
JUDGE_AFTER = 1.0  # seconds a turn is held past its slot before its holder is judged (alive or dead)
HOLD = timedelta(seconds=30)  # a turn not ended this long after its slot (its holder died) may be taken


def host_of(url: str) -> str:
    """The gate's key for ``url``: its lower-case hostname (any scheme or port)."""
    return (urlsplit(url).hostname or "").lower()


class Turn:
    """One request's turn at a host: entered, it has waited for its slot; ``release`` (or exit) ends it."""

    def __init__(self, take: Callable[[], float], end: Callable[[], None]) -> None:
        self._take = take
        self._end: Callable[[], None] | None = end
        self.waited = 0.0

    def __enter__(self) -> Turn:
        self.waited = self._take()
        return self

    def release(self) -> None:
        """End the turn (once; later calls do nothing): the next request may go out a gap from now."""
        end, self._end = self._end, None
        if end is not None:
            end()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


class HostGate:
    """``wait(url)`` returns once ``gap`` seconds have passed since the previous request to the host.

    Callers take turns: each gets the next free slot of its host, so N sources on one host are
    spread ``gap`` apart however many workers run them.
    """

    def __init__(
        self,
        gap: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.gap = gap
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free: dict[str, float] = {}

    def wait(self, url: str) -> float:
        """Block until the host of ``url`` may be asked again; return the seconds waited."""
        host = host_of(url)
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_free.get(host, now))
            self._next_free[host] = slot + self.gap
        waited = slot - now
        if waited > 0:
            self._sleep(waited)
        return waited

    def turn(self, url: str) -> Turn:
        """``wait(url)`` as a turn; ending it pushes the host's next slot to a gap from then."""
        return Turn(lambda: self.wait(url), lambda: self.ended(host_of(url)))

    def ended(self, host: str) -> None:
        """A request to ``host`` was just answered (here or, seen through the store, elsewhere): keep the gap to it."""
        with self._lock:
            self._next_free[host] = max(self._next_free.get(host, 0.0), self._clock() + self.gap)


class SharedHostGate:
    """Requests to one host ``gap`` apart across every instance sharing ``store``: see the module docstring."""

    def __init__(
        self,
        store: Store,
        gap: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        liveness: Liveness | None = None,
    ) -> None:
        self.store = store
        self.liveness = liveness  # judges a holder that keeps a turn long past its slot
        self.local = HostGate(gap, clock=clock, sleep=sleep)
        self.holder = f"{ME.owner}:{uuid.uuid4().hex[:6]}"  # this gate's name on the turns it takes
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._queues: dict[str, threading.Lock] = {}  # host -> the lock its askers of this process queue on
        self._warned_at: float | None = None

    @property
    def gap(self) -> float:
        return self.local.gap

    @gap.setter
    def gap(self, seconds: float) -> None:
        self.local.gap = seconds

    def wait(self, url: str) -> float:
        """Block until the host of ``url`` may be asked again by any instance; return the seconds waited.

        The turn ends at once: for a caller that cannot say when its request was answered."""
        with self.turn(url) as turn:
            return turn.waited

    def turn(self, url: str) -> Turn:
        """The host's turn for one request: entering waits for it; release it once the site answered."""
        host, gap = host_of(url), self.gap
        if gap <= 0:
            return Turn(lambda: 0.0, lambda: None)
        queue = self._queue(host)
        shared = True

        def take() -> float:
            nonlocal shared
            queue.acquire()
            try:
                return self._take(host)
            except StoreError as exc:
                self._warn(exc)
                shared = False
                return self.local.wait(url)
            except BaseException:
                queue.release()
                raise

        def end() -> None:
            try:
                if shared:
                    self.store.end_host_turn(host, self.holder, timedelta(seconds=gap))
            except StoreError as exc:  # the turn runs out by itself (HOLD after its slot)
                self._warn(exc)
            finally:
                self.local.ended(host)
                queue.release()

        return Turn(take, end)

    def _take(self, host: str) -> float:
        """Ask until the turn is ours, then wait for its slot; return the seconds waited in all.

        A turn held past its slot is asked for again every ``POLL``, less often the longer it lasts
        (at most a second apart); held longer than ``JUDGE_AFTER``, its holder is judged at each ask
        (``instances.Liveness``), and a dead one's turn is taken at once instead of after ``HOLD``."""
        waited, dead = 0.0, None
        while True:
            answer = self.store.take_host_turn(host, self.holder, HOLD + timedelta(seconds=self.gap), dead=dead)
            if answer.taken:
                pause = answer.wait
            else:
                overdue = (answer.now - answer.at).total_seconds()
                if answer.holder is not None and self._dead(answer.holder, overdue):
                    dead = answer.holder
                    continue
                pause = max(answer.wait, min(max(POLL, overdue / 10), 1.0))
            if pause > 0:
                self._sleep(pause)
                waited += pause
            if answer.taken:
                return waited

    def _dead(self, holder: str, overdue: float) -> bool:
        liveness = self.liveness
        if liveness is None or overdue <= min(JUDGE_AFTER, liveness.bound.total_seconds()):
            return False
        if liveness.alive(holder):
            return False
        log.warning("took the turn at a host from %s, an instance that is gone", holder)
        return True

    def _queue(self, host: str) -> threading.Lock:
        with self._lock:
            return self._queues.setdefault(host, threading.Lock())

    def _warn(self, exc: StoreError) -> None:
        now = self._clock()
        if self._warned_at is None or now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            log.warning("host gap kept by this process only (other instances' requests unknown): %s", exc)
