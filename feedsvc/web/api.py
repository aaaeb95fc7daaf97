"""The JSON API: manual refresh of a source, bearer-token protected."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, jsonify, request

from feedsvc import refresh
from feedsvc.config import Settings
from feedsvc.store import Store

api = Blueprint("api", __name__, url_prefix="/api")


@api.post("/sources/<name>/refresh")
def refresh_source(name: str) -> tuple[Response, int]:
    settings: Settings = current_app.config["FEEDSVC_SETTINGS"]
    _authorize(settings)
    source = settings.source(name)
    if source is None:
        abort(404, description=f"no source named {name!r}")
    store: Store = current_app.config["FEEDSVC_STORE"]
    result = refresh.run(store, source, datetime.now(UTC), notify=current_app.config.get("FEEDSVC_NOTIFY"))
    body = {
        "source": name,
        "new": result.new,
        "updated": result.changed,
        "seen": result.seen,
        "not_modified": result.not_modified,
        "error": result.error,
    }
    if result.busy:
        return jsonify(body), 409
    return jsonify(body), 200 if result.ok else 502


def _authorize(settings: Settings) -> None:
    expected = settings.refresh_token
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if expected is None:
        abort(401, description=f"manual refresh is disabled: set the {settings.refresh_token_env} environment variable")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        abort(401, description="a valid 'Authorization: Bearer <token>' header is required")


@api.errorhandler(401)
@api.errorhandler(404)
def json_error(error: Exception) -> tuple[Response, int]:
    code = getattr(error, "code", 500)
    response = jsonify({"error": getattr(error, "description", str(error))})
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="feedsvc"'
    return response, code
