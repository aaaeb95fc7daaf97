"""Who may refresh what, when, in this process: the one object the scheduler's dispatcher and the API go through.

- Reads the settings in force from ``config.Current`` (a reload swaps them).
- **One refresh per source at a time**: a call that arrives while a manual refresh of the same
  source runs in this process waits for it and shares its result; a manual call that finds a
  scheduled run waits for it and then refreshes (the scheduled run may have fetched the page
  before the call). Across processes the store's lease decides: a refresh held by another process
  answers ``busy``, the API's 409.
- **Manual refreshes** of one source are at least ``manual_refresh_gap`` apart; a call sooner
  gets ``TooSoon`` with the seconds to wait (the API's 429 and ``Retry-After``).
- Scheduled runs honour the per-source failure backoff; every request honours the host gap, kept
  across the instances sharing the store (``politeness.SharedHostGate``).
- A claim that finds the source leased by a dead instance frees the lease and takes the source
  (``instances.Liveness``): a dead instance blocks no refresh longer than the heartbeat bound.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait as wait_all
from dataclasses import dataclass
from datetime import UTC, datetime

from feedsvc import fetch, refresh
from feedsvc.config import Current, Settings, Source
from feedsvc.metrics import Metrics
from feedsvc.model import Outcome, RefreshResult
from feedsvc.refresh.instances import Liveness
from feedsvc.refresh.politeness import SharedHostGate
from feedsvc.store import Store

log = logging.getLogger("feedsvc.refresh.runner")


@dataclass(frozen=True, slots=True)
class TooSoon:
    """A manual refresh refused: the previous one of this source was less than the gap ago."""

    source: str
    retry_after: int  # whole seconds, for the Retry-After header


class Runner:
    def __init__(
        self,
        current: Current,
        store: Store,
        metrics: Metrics | None = None,
        notify: refresh.Notify | None = None,
        clock: refresh.Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.current = current
        self.store = store
        self.metrics = metrics or Metrics()
        self._notify = notify
        self._clock = clock
        self.liveness = Liveness(store, current.settings.heartbeat)
        self.gate = SharedHostGate(store, current.settings.host_gap.total_seconds(), liveness=self.liveness)
        current.on_swap(self._follow)
        self._lock = threading.Lock()
        self._running: dict[str, Future[RefreshResult]] = {}
        self._kinds: dict[str, bool] = {}  # source -> whether its running refresh is a scheduled one
        self._last_manual: dict[str, float] = {}
        self._closed = False

    @property
    def settings(self) -> Settings:
        return self.current.settings

    def _follow(self, settings: Settings) -> None:
        self.gate.gap = settings.host_gap.total_seconds()
        self.liveness.heartbeat = settings.heartbeat

    def close(self) -> None:
        """Start no scheduled run from now on (the service is stopping): a source the dispatcher
        hands over after that does nothing, rather than run after the store closed."""
        with self._lock:
            self._closed = True

    def scheduled(self, name: str) -> RefreshResult | None:
        """The scheduler's run of source ``name`` (None when it is no longer configured, or after ``close``)."""
        source = self.settings.source(name)
        if source is None or self._closed:
            return None
        return self._shared(source, scheduled=True)

    def manual(self, name: str) -> RefreshResult | TooSoon | None:
        """An operator's refresh of ``name``: no backoff, but at most one per ``manual_refresh_gap``."""
        source = self.settings.source(name)
        if source is None:
            return None
        gap = self.settings.manual_refresh_gap.total_seconds()
        with self._lock:
            if name not in self._running:
                now = time.monotonic()
                last = self._last_manual.get(name)
                if last is not None and now - last < gap:
                    return TooSoon(name, max(1, math.ceil(gap - (now - last))))
                self._last_manual[name] = now
        return self._shared(source, scheduled=False)

    def refresh_now(self, source: Source) -> RefreshResult:
        """A refresh of ``source`` now, for ``feedsvc refresh``: no manual gap, but the host gap holds."""
        return self._shared(source, scheduled=False)

    def manual_all(self) -> list[RefreshResult | TooSoon]:
        """A manual refresh of every source, ``workers`` at a time, in config order."""
        names = [source.name for source in self.settings.sources]
        with ThreadPoolExecutor(max_workers=self.settings.workers) as pool:
            answers = list(pool.map(self.manual, names))
        return [answer for answer in answers if answer is not None]

    def running(self) -> list[str]:
        with self._lock:
            return sorted(self._running)

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for running refreshes; True when none is left."""
        with self._lock:
            pending = list(self._running.values())
        _, not_done = wait_all(pending, timeout=timeout)
        return not not_done

    def _shared(self, source: Source, scheduled: bool) -> RefreshResult:
        """Run a refresh of ``source``, or share the one running in this process.

        Calls share a running refresh of their own kind or a manual one; a manual call that finds
        a scheduled run (which may have fetched the page before the call) waits for it, then runs.
        """
        while True:
            with self._lock:
                running = self._running.get(source.name)
                if running is None:
                    mine: Future[RefreshResult] = Future()
                    self._running[source.name] = mine
                    self._kinds[source.name] = scheduled
                    break
                shares = scheduled or not self._kinds[source.name]
            result = self._join(source, running)
            if shares and (scheduled or result.outcome is not Outcome.DEFERRED):
                return result
        try:
            result = self._run(source, scheduled)
            mine.set_result(result)
            return result
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        finally:
            with self._lock:
                del self._running[source.name]
                del self._kinds[source.name]

    def _join(self, source: Source, running: Future[RefreshResult]) -> RefreshResult:
        bound = source.timeout * (fetch.RETRIES + 3) + fetch.MAX_INLINE_WAIT * fetch.RETRIES + 60
        try:
            return running.result(timeout=bound)
        except FutureTimeout:
            error = "a refresh of this source is still running"
            return RefreshResult(source.name, Outcome.BUSY, error=error, error_kind="busy")

    def _run(self, source: Source, scheduled: bool) -> RefreshResult:
        policy = refresh.Policy(
            scheduled=scheduled,
            gate=self.gate,
            liveness=self.liveness,
            max_backoff=self.settings.max_backoff,
            observe=self.metrics.observe,
            notify=self._notify,
        )
        result = refresh.run(self.store, source, self._clock, policy)
        if result.outcome in (Outcome.DEFERRED, Outcome.BUSY):
            self.metrics.observe(result)
        return result
