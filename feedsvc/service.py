"""One running feedsvc: the store, the runner, the scheduler, the reloader, the publish hook and
the web app, each built once, here. Every way of running feedsvc goes through a ``Service``:

    feedsvc serve (waitress)      Service(...).start(); waitress serves service.app; stop(grace)
    feedsvc serve (granian)       the same, inside granian's worker process (web/granian_server.py)
    feedsvc worker                Service(..., web=False): the scheduler alone
    feedsvc refresh               Service(..., scheduled=False): the runner, once per source
    tests                         Service(settings, store=...) with or without a scheduler

The settings in force live in one ``config.Current``; a reload (SIGHUP, ``POST /api/reload``)
swaps them there and syncs the schedule (each source's ``next_due`` in the store).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from feedsvc import browser, config, refresh
from feedsvc.config import Current, Settings, Source
from feedsvc.errors import ConfigError, FeedsvcError, StoreError
from feedsvc.feeds import publish, static
from feedsvc.metrics import Metrics
from feedsvc.refresh import recovery, schedule
from feedsvc.refresh.dispatch import Dispatcher
from feedsvc.refresh.heartbeat import Heartbeat
from feedsvc.refresh.reload import Reloader, Report, moved, touched
from feedsvc.refresh.runner import Runner
from feedsvc.store import Store
from feedsvc.user_sources import Catalog
from feedsvc.web import create_app
from feedsvc.web.auth import AdminToken
from feedsvc.web.cache import FeedCache
from feedsvc.web.throttle import Throttle

log = logging.getLogger("feedsvc")


class Service:
    """The parts of one feedsvc process, wired once; ``start()`` and ``stop(grace)`` run it."""

    def __init__(
        self,
        settings: Settings,
        *,
        config_path: str | os.PathLike[str] | None = None,
        store: Store | None = None,
        scheduled: bool = True,
        clock: refresh.Clock = lambda: datetime.now(UTC),
        first_run_in: timedelta = timedelta(seconds=1),
    ) -> None:
        self._owns_store = store is None
        self.store = store if store is not None else Store(settings.database_url)
        # the sources kept in the database join the config file's (which win a name)
        self.catalog = Catalog(settings, self.store)
        self.current = Current(self.catalog.effective())
        self.current.on_swap(lambda new: browser.shared().set_pages(new.browser_pages))
        browser.shared().set_pages(settings.browser_pages)  # Chromium itself starts at the first render
        self.catalog.on_change = self._sources_changed
        self.admin = AdminToken(settings)  # every write needs it (web/auth.py)
        self.metrics = Metrics(per_source=lambda: self.current.settings.metrics_per_source)
        self.runner = Runner(self.current, self.store, self.metrics, publish.notifier(self.current, self.store), clock)
        self.heartbeat = Heartbeat(
            self.store, lambda: self.settings.heartbeat, after_beat=self._free_dead_leases if scheduled else None
        )
        self.dispatcher: Dispatcher | None = None
        self.jobs: BackgroundScheduler | None = None
        if scheduled:
            self.dispatcher = Dispatcher(self.runner.scheduled, settings.workers)
            self.jobs = schedule.build(self.runner, self.dispatcher, first_run_in)
        self.reloader = (
            None
            if config_path is None
            else Reloader(config_path, self.current, self._reschedule, merge=self.catalog.with_file)
        )
        self.feed_cache = FeedCache(self.store, self.current)
        self.token_throttle = Throttle()  # wrong admin tokens, per client address

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], *, scheduled: bool = True) -> Service:
        """The service the config file at ``path`` describes; ConfigError when it is bad."""
        return cls(config.load(path), config_path=Path(path), scheduled=scheduled)

    @property
    def settings(self) -> Settings:
        return self.current.settings

    @cached_property
    def app(self) -> Flask:
        return create_app(self)

    def start(self) -> None:
        """Register this instance (and beat), free the leases dead instances left, write the static
        files, start the scheduler."""
        self.heartbeat.start()
        recovery.release_dead_leases(self.store, self.runner.liveness)
        static.write(self.settings, self.store, [source.name for source in self.settings.sources])
        self.admin.ensure()  # made at the first start; the log says where it is
        if self.jobs is not None:
            schedule.sync(None, self.runner, self.settings)  # every configured source has its next_due
            self.jobs.start()
        self.catalog.watch()  # sources another instance or `feedsvc sources import` changed

    def reload(self) -> Report:
        """Read the config file again (ConfigError and no change when it is bad)."""
        if self.reloader is None:
            raise ConfigError("this process was started without a config file to reload")
        return self.reloader.reload()

    def stop(self, grace: float | None = None) -> bool:
        """Stop scheduling; wait up to ``grace`` seconds (default ``shutdown_grace``) for running
        refreshes. True when none was left running; the store is closed only then (a refresh
        still running would fail on a closed store; its transaction rolls back when the process ends)."""
        if grace is None:
            grace = self.settings.shutdown_grace.total_seconds()
        log.info("stopping: waiting up to %g s for running refreshes", grace)
        self.catalog.stop()
        self.runner.close()
        if self.dispatcher is not None:
            self.dispatcher.close()  # queued sources are dropped; running ones finish
        if self.jobs is not None and self.jobs.running:
            self.jobs.shutdown(wait=False)
        idle = self.runner.wait_idle(grace)
        self.heartbeat.stop()  # its row goes: others free at once any lease a refresh still running leaves
        browser.close_shared()  # after the refreshes: a running render finishes (or fails) first
        if not idle:
            log.error("stopped with refreshes still running: %s", ", ".join(self.runner.running()))
        elif self._owns_store:
            self.store.close()
        return idle

    def _sources_changed(self, new: Settings) -> None:
        """A source was added, changed or removed in the database (here or elsewhere)."""
        old = self.current.settings
        self.current.swap(new)
        self._reschedule(old, new)

    def _free_dead_leases(self) -> None:
        """After each heartbeat: free the leases of instances found dead, and tick at once when some
        were (the tick offers only sources no lease holds)."""
        try:
            freed = recovery.release_dead_leases(self.store, self.runner.liveness)
        except StoreError as exc:  # the heartbeat's own warning already says the store is away
            log.debug("cannot look for dead instances' leases: %s", exc)
            return
        if freed and self.jobs is not None:
            schedule.wake(self.jobs)

    def _reschedule(self, old: Settings, new: Settings) -> None:
        """After a reload: the schedule follows the sources; a page that moved is read at once (in the
        background), not an interval after the last fetch of the old one. Web-only processes do neither."""
        if self.jobs is None:
            return
        try:
            only = None if old.max_backoff != new.max_backoff else touched(old, new)  # the cap moves every due time
            schedule.sync(self.jobs, self.runner, new, only)
        except FeedsvcError as exc:  # the store is down: the tick finds the sources once it is back
            log.error("cannot schedule the reloaded sources: %s", exc)
        sources = [source for name in moved(old, new) if (source := new.source(name)) is not None]
        if sources:
            threading.Thread(target=self._refresh_all, args=(sources,), name="feedsvc-moved", daemon=True).start()

    def _refresh_all(self, sources: list[Source]) -> None:
        for source in sources:
            self.runner.refresh_now(source)


def reload_on_sighup(service: Service) -> Callable[[int, FrameType | None], None]:
    """The SIGHUP handler: read the config again in a thread of its own (never on the thread the
    signal interrupted, which may be serving a request); a bad file is logged and changes nothing."""

    def reload() -> None:
        try:
            with _handing_over_often():
                service.reload()
        except FeedsvcError as exc:
            log.error("SIGHUP: config not reloaded: %s", exc)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=reload, name="feedsvc-reload", daemon=True).start()

    return on_signal


RELOAD_SWITCH_INTERVAL = 0.0005  # seconds: how often the GIL changes hands while a SIGHUP reload runs


@contextmanager
def _handing_over_often() -> Iterator[None]:
    """Parsing a large config is pure Python (10,000 sources: about half a second), and a request
    thread waiting for the GIL gets it only at the next forced switch, by default every 5 ms: at
    each of its socket reads and writes. Switching every 0.5 ms meanwhile keeps requests answered
    promptly (``python -m bench.scale reload``); the setting is restored once the reload ends."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, RELOAD_SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def stop_or_exit(service: Service) -> None:
    """Stop the service; when running refreshes outlast ``shutdown_grace``, exit 1 at once (their
    transactions roll back, their leases are freed at the next start)."""
    if not service.stop():
        logging.shutdown()
        os._exit(1)
    log.info("stopped")
