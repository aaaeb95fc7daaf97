"""The JSON API for sources kept in the database; every call needs the admin token.

    POST   /api/preview                   what a source would yield now: posts, layout, candidates
    POST   /api/sources                   add a source (its [[sources]] table as JSON): 201
    GET    /api/sources/<name>/definition its table and where it is defined (config or database)
    PATCH  /api/sources/<name>            change settings of a database source (null: back to default)
    PUT    /api/sources/<name>            replace a database source's whole table
    DELETE /api/sources/<name>            remove a database source: 204

``GET /api/sources`` and ``GET /api/sources/<name>`` (status, public) are in status.py.
Errors: 400 (the message names the setting), 401 (no valid token), 403 (stale CSRF token),
404, 409 (the name is taken, or defined in the config file, which the API cannot change).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request

from feedsvc import config
from feedsvc.errors import ConfigError, NameTaken, UnknownSource
from feedsvc.user_sources import Catalog, clean, table_of
from feedsvc.web import live_preview
from feedsvc.web.api import json_error
from feedsvc.web.auth import bearer_ok, require_admin, signed_in
from feedsvc.web.context import service

sources_api = Blueprint("sources_api", __name__, url_prefix="/api")
PREVIEW_NAME = "preview"


def catalog() -> Catalog:
    return service().catalog


@sources_api.post("/preview")
def preview() -> tuple[Response, int]:
    require_admin()
    table = _body()
    table = clean({**table, "name": table.get("name") or PREVIEW_NAME})
    try:
        source = config.parse_source(table, catalog().file_settings, key="source")
    except ConfigError as exc:
        return jsonify({"error": f"invalid: {exc}", "posts": [], "candidates": [], "layout": None}), 400
    settings = catalog().file_settings
    return jsonify(live_preview.run(source, datetime.now(UTC), settings.allow_private_addresses)), 200


@sources_api.post("/sources")
def create() -> tuple[Response, int]:
    require_admin()
    source = catalog().create(_body())
    return jsonify({"name": source.name, "origin": "database", "definition": table_of(source)}), 201


@sources_api.get("/sources/<name>/definition")
def definition(name: str) -> Response:
    found = catalog().effective().source(name)
    origin = catalog().origin(name)
    if found is None or origin is None:
        abort(404, description=f"no source named {name!r}")
    definition = table_of(found)
    if not (signed_in() or bearer_ok()):  # readers see what the pages show: no secret URL, path or password
        definition["url"] = found.public_url
    return jsonify({"name": name, "origin": origin, "definition": definition})


@sources_api.patch("/sources/<name>")
def patch(name: str) -> Response:
    require_admin()
    source = catalog().update(name, _body())
    return jsonify({"name": source.name, "origin": "database", "definition": table_of(source)})


@sources_api.put("/sources/<name>")
def put(name: str) -> Response:
    require_admin()
    source = catalog().update(name, _body(), whole=True)
    return jsonify({"name": source.name, "origin": "database", "definition": table_of(source)})


@sources_api.delete("/sources/<name>")
def delete(name: str) -> tuple[str, int]:
    require_admin()
    catalog().delete(name)
    return "", 204


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="expected a JSON object (Content-Type: application/json)")
    return body


@sources_api.errorhandler(ConfigError)
def invalid(error: ConfigError) -> tuple[Response, int]:
    return jsonify({"error": str(error)}), 409 if isinstance(error, NameTaken) else 400


@sources_api.errorhandler(UnknownSource)
def unknown(error: UnknownSource) -> tuple[Response, int]:
    return jsonify({"error": str(error)}), 404


for _code in (400, 401, 403, 404):
    sources_api.register_error_handler(_code, json_error)  # the API's JSON errors (web/api.py)
