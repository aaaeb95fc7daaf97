"""A minimum gap between requests to one host: within this process, and across instances.

``HostGate`` spaces the requests of this process. ``SharedHostGate`` spaces every instance's:
each request reserves its slot in the store (``Store.claim_host_slot``: the host's row in
``hosts``, locked for one short transaction) and sleeps until it. In front of it, one thread per
host and process asks the store at a time, so the threads of one process queue here instead of
on the row. When the store cannot be reached, the in-process gate alone spaces this process's
requests (a warning at most once a minute): a refresh never waits for the database forever.
Both have ``wait(url)``, the one call every request makes before it goes out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from feedsvc.errors import StoreError
from feedsvc.store import Store

log = logging.getLogger("feedsvc.refresh.politeness")

WARN_EVERY = 60.0  # seconds between two warnings that the store cannot space requests


def host_of(url: str) -> str:
    """The gate's key for ``url``: its lower-case hostname (any scheme or port)."""
    return (urlsplit(url).hostname or "").lower()


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

    def booked(self, host: str, after: float) -> None:
        """Note a request to ``host`` sent ``after`` seconds from now by another gate: ours keeps the gap to it."""
        with self._lock:
            self._next_free[host] = max(self._next_free.get(host, 0.0), self._clock() + after + self.gap)


class SharedHostGate:
    """``wait(url)`` returns at the host's next slot reserved in the store: ``gap`` apart across instances."""

    def __init__(
        self,
        store: Store,
        gap: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.local = HostGate(gap, clock=clock, sleep=sleep)
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
        """Block until the host of ``url`` may be asked again by any instance; return the seconds waited."""
        gap = self.gap
        if gap <= 0:
            return 0.0
        host = host_of(url)
        with self._queue(host):
            try:
                slot = self.store.claim_host_slot(host, timedelta(seconds=gap))
            except StoreError as exc:
                self._warn(exc)
                return self.local.wait(url)
            self.local.booked(host, slot.wait)
            if slot.wait > 0:
                self._sleep(slot.wait)
            return slot.wait

    def _queue(self, host: str) -> threading.Lock:
        with self._lock:
            return self._queues.setdefault(host, threading.Lock())

    def _warn(self, exc: StoreError) -> None:
        now = self._clock()
        if self._warned_at is None or now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            log.warning("host gap kept by this process only (other instances' requests unknown): %s", exc)
