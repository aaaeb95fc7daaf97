"""The Flask app: feeds, the refresh API and a small index page.

``create_app`` wires the settings and the store into the app and starts no threads:
the scheduler is the CLI's business.
"""

from __future__ import annotations

from flask import Flask

from feedsvc.config import Settings
from feedsvc.refresh.runner import Refresher
from feedsvc.store import Store
from feedsvc.user_sources import Catalog
from feedsvc.web.admin import init_app as init_admin
from feedsvc.web.api import api
from feedsvc.web.auth import init_app as init_auth
from feedsvc.web.cache import FeedCache
from feedsvc.web.feed_views import feeds
from feedsvc.web.pages import pages
from feedsvc.web.status_views import init_app as init_status


def create_app(
    settings: Settings, store: Store, refresher: Refresher | None = None, catalog: Catalog | None = None
) -> Flask:
    app = Flask(__name__)
    app.config["FEEDSVC_SETTINGS"] = settings
    app.config["FEEDSVC_STORE"] = store
    app.config["FEEDSVC_FEED_CACHE"] = FeedCache(store, settings)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.register_blueprint(feeds)
    app.register_blueprint(api)
    app.register_blueprint(pages)
    refresher = refresher or Refresher(settings, store)
    init_status(app, refresher)
    # issue 14: admin token and session, the admin pages, the sources API (database-held sources)
    init_auth(app, settings)
    init_admin(app, catalog or Catalog(settings, store), refresher)
    return app
