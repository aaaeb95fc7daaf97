"""GET /feeds/<name>.atom|.rss|.json and /feeds/all.atom: cached bytes, validators, 304s, gzip.

?limit=N          newest N entries (default 50, at most 500; more is cut to 500)
If-None-Match     strong ETag (the gzip representation has its own: "<etag>-gz")
If-Modified-Since against Last-Modified, the newest entry's update
Accept-Encoding   gzip, compressed once per rendering, not per request
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, request

from feedsvc.feeds.render import DEFAULT_LIMIT, MAX_LIMIT, Format, UnknownFeed
from feedsvc.web.context import service

feeds = Blueprint("feeds", __name__)
_DIGITS = re.compile(r"[0-9]{1,9}")

ATOM = Format.ATOM.media_type


@feeds.get("/feeds/<name>.<any(atom, rss, json):extension>")
def feed(name: str, extension: str) -> Response:
    limit = _limit(request.args.get("limit"))
    format = Format(extension)
    try:
        rendered = service().feed_cache.feed(name, format, limit)
    except UnknownFeed as exc:
        abort(404, description=str(exc))
    gzipped = _accepts_gzip()
    response = Response(rendered.gzipped if gzipped else rendered.body, content_type=format.media_type)
    if gzipped:
        response.content_encoding = "gzip"
    response.vary.add("Accept-Encoding")
    response.set_etag(rendered.etag + ("-gz" if gzipped else ""))
    if rendered.updated is not None:
        response.last_modified = rendered.updated
    response.cache_control.public = True
    response.cache_control.max_age = rendered.max_age
    response.headers["Access-Control-Allow-Origin"] = "*"  # web readers fetch feeds from the browser
    return response.make_conditional(request)


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not _DIGITS.fullmatch(raw) or int(raw) < 1:  # ASCII digits only: str.isdigit takes "²", int() does not
        abort(400, description=f"limit: expected a whole number from 1 to {MAX_LIMIT}, got {raw[:20]!r}")
    return min(int(raw), MAX_LIMIT)


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0
