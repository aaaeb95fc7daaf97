"""``[service] server = "granian"``: the web app under granian (a Rust HTTP server) instead of waitress.

granian serves WSGI from a worker process it spawns. That worker builds and runs the whole
``Service`` (store, runner, scheduler, reloader, app) from the same config file
(``$FEEDSVC_CONFIG``), exactly as ``feedsvc serve`` does under waitress, so metrics, ``next_run``,
``/readyz``, dead-lease recovery, reload and shutdown grace behave the same under both servers.
The main process only supervises: SIGTERM/SIGINT stop the worker, which then stops its service
within ``shutdown_grace``; SIGHUP is passed on to the worker, which reloads its config in place.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

from flask import Flask
from granian.constants import Interfaces
from granian.server.mp import MPServer, WorkerProcess

from feedsvc import logs
from feedsvc.config import Settings
from feedsvc.service import Service, reload_on_sighup, stop_or_exit
from feedsvc.web.context import EXTENSION

CONFIG_ENV = "FEEDSVC_CONFIG"
_PR_SET_PDEATHSIG = 1  # prctl(2)
SCHEDULED_ENV = "FEEDSVC_SCHEDULED"  # "0": web only (``serve --no-scheduler``)

_serve_wsgi = MPServer._spawn_wsgi_worker.__wrapped__  # granian's own WSGI worker body


def app() -> Flask:
    """The app factory granian's worker calls: the service the config names, started."""
    _stop_with_parent()
    logs.configure()
    service = Service.from_config(os.environ[CONFIG_ENV], scheduled=os.environ.get(SCHEDULED_ENV) != "0")
    signal.signal(signal.SIGHUP, reload_on_sighup(service))  # the worker's main thread: allowed here
    service.start()
    return service.app


def _stop_with_parent() -> None:
    """Linux: the worker is sent SIGTERM (a graceful stop) when the supervising process dies, even
    by SIGKILL, so no orphan goes on serving and refreshing beside the next start."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the supervisor's own shutdown still stops the worker
        return
    if os.getppid() == 1:  # the supervisor died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


@WorkerProcess.wrap_target
def _worker(worker_id: int, callback: Flask, *args: Any, **kwargs: Any) -> None:
    """granian's WSGI worker, then this worker's service stopped (running refreshes get their grace)."""
    try:
        _serve_wsgi(worker_id, callback, *args, **kwargs)
    finally:
        stop_or_exit(callback.extensions[EXTENSION])


class _Server(MPServer):
    worker_failed = False  # a worker ended with an error (its refreshes outlasted the grace)

    def signal_handler_reload(self, *args: Any, **kwargs: Any) -> None:
        """SIGHUP: the worker reloads its config in place (granian's own answer would respawn it)."""
        for worker in self.wrks:
            if worker.inner.pid is not None:
                os.kill(worker.inner.pid, signal.SIGHUP)

    def _stop_workers(self) -> None:
        workers = list(self.wrks)  # granian forgets its workers once they are stopped
        super()._stop_workers()
        # granian's watcher thread may have reaped a worker and not yet recorded its exit code
        deadline = time.monotonic() + 5
        while any(worker.inner.exitcode is None for worker in workers) and time.monotonic() < deadline:
            time.sleep(0.01)
        self.worker_failed = any(worker.inner.exitcode not in (0, None) for worker in workers)


def serve(settings: Settings, config_path: str | os.PathLike[str], scheduled: bool = True) -> int:
    """Serve until SIGTERM or SIGINT (granian handles both and stops its worker); the exit status:
    1 when the worker had to leave refreshes running, as ``feedsvc serve`` under waitress."""
    os.environ[CONFIG_ENV] = str(Path(config_path).resolve())
    os.environ[SCHEDULED_ENV] = "1" if scheduled else "0"
    # a spawned worker, not a fork of this process
    multiprocessing.set_start_method("spawn", force=True)
    server = _Server(
        f"{__name__}:app",
        factory=True,
        address=settings.bind_host,
        port=settings.bind_port,
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=settings.threads,
        websockets=False,
    )
    server.serve(spawn_target=_worker)
    return 1 if server.worker_failed else 0
