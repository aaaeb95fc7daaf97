"""The Flask app: feeds, the refresh API and a small index page.

``create_app`` wires the settings and the store into the app and starts no threads of its own
(the store's change watch may: a PostgreSQL listener); the scheduler is the CLI's business.
Feed requests are answered in front of Flask by ``web/fastpath.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from feedsvc.config import Settings
from feedsvc.refresh.runner import Refresher
from feedsvc.store import Store
from feedsvc.web.api import api
from feedsvc.web.cache import FeedCache
from feedsvc.web.fastpath import Counter, FastFeeds
from feedsvc.web.feed_views import feeds
from feedsvc.web.pages import pages
from feedsvc.web.status_views import init_app as init_status


def create_app(settings: Settings, store: Store, refresher: Refresher | None = None) -> Flask:
    app = Flask(__name__)
    app.config["FEEDSVC_SETTINGS"] = settings
    app.config["FEEDSVC_STORE"] = store
    app.config["FEEDSVC_FEED_CACHE"] = cache = FeedCache(store, settings)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.register_blueprint(feeds)
    app.register_blueprint(api)
    app.register_blueprint(pages)
    init_status(app, refresher or Refresher(settings, store))
    # -- issue 13: the feed fast path in front of Flask ------------------------------------------
    app.wsgi_app = FastFeeds(  # type: ignore[method-assign]
        app.wsgi_app, cache, store.watch(), settings=lambda: app.config["FEEDSVC_SETTINGS"], counter=_counters(app)
    )
    return app


def _counters(app: Flask) -> Callable[[str], tuple[Counter, Counter] | None]:
    """The fast path's feed-request counters: those ``web/status_views.py`` counts for Flask's answers."""

    def counters(name: str) -> tuple[Counter, Counter] | None:
        refresher: Refresher | None = app.config.get("FEEDSVC_REFRESHER")
        if refresher is None or refresher.settings.source(name) is None:
            return None
        requests = refresher.metrics.feed_requests
        return requests.labels(name, "200"), requests.labels(name, "304")

    return counters
