"""``[service] server = "granian"``: the web app under granian (a Rust HTTP server) instead of waitress.

granian runs the WSGI app in a worker process it spawns (one, with ``threads`` blocking threads);
the worker builds its own app and store from the same config file (``$FEEDSVC_CONFIG``). The
scheduler stays in the main process, so a scheduled refresh reaches the worker's feed cache through
the store's version, within ``web.cache.REVALIDATE_AFTER``; a manual refresh (handled by the worker)
shows at once.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from flask import Flask

from feedsvc.config import Settings

CONFIG_ENV = "FEEDSVC_CONFIG"


def app() -> Flask:
    """The app factory granian's worker calls: the config named by ``$FEEDSVC_CONFIG``."""
    from feedsvc import config
    from feedsvc.store import Store
    from feedsvc.user_sources import Catalog
    from feedsvc.web import create_app

    settings = config.load(os.environ[CONFIG_ENV])
    store = Store(settings.database_url)
    catalog = Catalog(settings, store)  # issue 14: the database's sources too, followed as they change
    web = create_app(catalog.effective(), store, catalog=catalog)
    catalog.watch()
    return web


def serve(settings: Settings, config_path: str | os.PathLike[str]) -> None:
    """Serve until SIGTERM or SIGINT (granian handles both and stops its worker)."""
    from granian import Granian
    from granian.constants import Interfaces

    os.environ[CONFIG_ENV] = str(Path(config_path).resolve())
    # a spawned worker, not a fork of this process and its scheduler threads
    multiprocessing.set_start_method("spawn", force=True)
    Granian(
        f"{__name__}:app",
        factory=True,
        address=settings.bind_host,
        port=settings.bind_port,
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=settings.threads,
        websockets=False,
    ).serve()
