"""The Flask app: feeds, the refresh API, status and a small index page.

``create_app(service)`` builds the app around a ``Service`` (``feedsvc/service.py``), which holds
the store, the runner, the scheduler and the settings in force; the views reach it as
``app.extensions["feedsvc"]`` (``web.context.service()``). The app starts no threads of its own
(the store's change watch may: a PostgreSQL listener). Feed requests are answered in front of
Flask by ``web/fastpath.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask

from feedsvc.web.admin import init_app as init_admin
from feedsvc.web.api import api
from feedsvc.web.auth import init_app as init_auth
from feedsvc.web.context import EXTENSION
from feedsvc.web.fastpath import Counter, FastFeeds
from feedsvc.web.feed_views import feeds
from feedsvc.web.pages import pages
from feedsvc.web.status_views import status

if TYPE_CHECKING:
    from feedsvc.service import Service


def create_app(service: Service) -> Flask:
    app = Flask(__name__)
    app.extensions[EXTENSION] = service
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.register_blueprint(feeds)
    app.register_blueprint(api)
    app.register_blueprint(pages)
    app.register_blueprint(status)
    # -- the feed fast path in front of Flask ------------------------------------------
    current = service.current
    app.wsgi_app = FastFeeds(  # type: ignore[method-assign]
        app.wsgi_app,
        service.feed_cache,
        service.store.watch(),
        settings=lambda: current.settings,
        counter=_counters(service),
    )
    # the admin token's session cookie, the admin pages, the sources API
    init_auth(app, service.admin)
    init_admin(app)
    return app


def _counters(service: Service) -> Callable[[str], tuple[Counter, Counter] | None]:
    """The fast path's feed-request counters: those ``web/status_views.py`` counts for Flask's answers."""

    def counters(name: str) -> tuple[Counter, Counter] | None:
        if service.settings.source(name) is None:
            return None
        return service.metrics.feed_counters(name)

    return counters
