"""GET /feeds/<name>.atom: cached bytes, strong ETag, Last-Modified, 304s."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from werkzeug.http import is_resource_modified, quote_etag

from feedsvc.config import Settings, Source
from feedsvc.web.cache import FeedCache, RenderedFeed

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
    return _conditional(rendered.body, _headers(rendered, source))


def _headers(rendered: RenderedFeed, source: Source) -> dict[str, str]:
    """The feed's caching headers, as plain strings: the hot path builds no header objects."""
    headers = {
        "ETag": quote_etag(rendered.etag),
        "Cache-Control": f"public, max-age={int(min(source.interval.total_seconds(), 3600) // 2)}",
    }
    if rendered.last_modified is not None:
        headers["Last-Modified"] = rendered.last_modified
    return headers


def _conditional(body: bytes, headers: dict[str, str]) -> Response:
    """200 with ``body``, or 304 when the request's If-None-Match / If-Modified-Since still hold."""
    environ = request.environ
    if environ.get("HTTP_IF_NONE_MATCH") == headers["ETag"]:  # what readers send back: no parsing needed
        return Response(status=304, headers=headers)
    if ("HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ) and not is_resource_modified(
        environ, etag=headers["ETag"], last_modified=headers.get("Last-Modified")
    ):
        return Response(status=304, headers=headers)
    return Response(body, content_type=ATOM, headers=headers)
