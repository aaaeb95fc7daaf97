"""GET /feeds/<name>.atom: cached bytes, strong ETag, Last-Modified, 304s."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from feedsvc.config import Settings
from feedsvc.web.cache import FeedCache

feeds = Blueprint("feeds", __name__)

ATOM = "application/atom+xml; charset=utf-8"


@feeds.get("/feeds/<name>.atom")
def atom(name: str) -> Response:
    settings: Settings = current_app.config["FEEDSVC_SETTINGS"]
    source = settings.source(name)
    if source is None:
        abort(404, description=f"no source named {name!r}")
    cache: FeedCache = current_app.config["FEEDSVC_FEED_CACHE"]
    rendered = cache.atom(source)
    response = Response(rendered.body, content_type=ATOM)
    response.set_etag(rendered.etag)
    if rendered.updated is not None:
        response.last_modified = rendered.updated
    response.cache_control.public = True
    response.cache_control.max_age = int(min(source.interval.total_seconds(), 3600) // 2)
    return response.make_conditional(request)
