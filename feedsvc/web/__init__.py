"""The Flask app: feeds, the refresh API and a small index page.

``create_app`` wires the settings and the store into the app and starts no threads:
the scheduler is the CLI's business.
"""

from __future__ import annotations

from flask import Flask

from feedsvc import publish
from feedsvc.config import Settings
from feedsvc.store import Store
from feedsvc.web.api import api
from feedsvc.web.cache import FeedCache
from feedsvc.web.feeds import feeds
from feedsvc.web.pages import pages


def create_app(settings: Settings, store: Store) -> Flask:
    app = Flask(__name__)
    app.config["FEEDSVC_SETTINGS"] = settings
    app.config["FEEDSVC_STORE"] = store
    app.config["FEEDSVC_FEED_CACHE"] = FeedCache(store, settings)
    app.config["FEEDSVC_NOTIFY"] = publish.after_refresh(settings, store)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.register_blueprint(feeds)
    app.register_blueprint(api)
    app.register_blueprint(pages)
    return app
