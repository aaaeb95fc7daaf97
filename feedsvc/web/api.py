"""The JSON API, bearer-token protected: manual refresh of one or all sources, config reload."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify

from feedsvc.errors import ConfigError
from feedsvc.model import RefreshResult
from feedsvc.refresh import instances
from feedsvc.refresh.runner import TooSoon
from feedsvc.web.auth import require_admin
from feedsvc.web.context import service

api = Blueprint("api", __name__, url_prefix="/api")


@api.post("/sources/<name>/refresh")
def refresh_source(name: str) -> tuple[Response, int]:
    """Refresh now. A call while a refresh of the source runs in this process waits for it and
    shares its result; 409 when another process holds the source; 429 sooner than the manual gap."""
    require_admin()
    answer = service().runner.manual(name)
    if answer is None:
        abort(404, description=f"no source named {name!r}")
    return _answer(answer)


@api.post("/refresh")
def refresh_all() -> tuple[Response, int]:
    """Refresh every source now (manual gap applies per source); 200 when none failed, else 502."""
    require_admin()
    answers = [_answer(answer) for answer in service().runner.manual_all()]
    bodies = [r.get_json() | {"status": code, "outcome": _OUTCOMES.get(code, "failed")} for r, code in answers]
    codes = [code for _, code in answers]
    summary = {
        "refreshed": codes.count(200),
        "failed": len([code for code in codes if code not in (200, 409, 429)]),
        "refused": codes.count(429) + codes.count(409),
    }
    # 200 only when every source was refreshed; a failure is a 502 (503: the database); a refusal
    # (too soon: 429, held by another process: 409) with no failure is that refusal's code
    status = 503 if 503 in codes else 502 if 502 in codes else 429 if 429 in codes else 409 if 409 in codes else 200
    response = jsonify({"sources": bodies, **summary})
    waits = [int(r.headers["Retry-After"]) for r, code in answers if code == 429]
    if status == 429 and waits:
        response.headers["Retry-After"] = str(max(waits))
    return response, status


_OUTCOMES = {200: "refreshed", 502: "failed", 503: "failed", 429: "too-soon", 409: "busy"}


@api.post("/reload")
def reload_config() -> tuple[Response, int]:
    """Re-read the config file: sources are added, changed and removed without a restart."""
    require_admin()
    reloader = service().reloader
    if reloader is None:
        return jsonify({"error": "this process was started without a config file to reload"}), 501
    try:
        report = reloader.reload()
    except ConfigError as exc:
        return jsonify({"error": f"config not reloaded: {exc}"}), 400
    return jsonify(
        {
            "added": report.added,
            "changed": report.changed,
            "removed": report.removed,
            "needs_restart": report.needs_restart,
        }
    ), 200


def _answer(answer: RefreshResult | TooSoon) -> tuple[Response, int]:
    body: dict[str, Any]
    if isinstance(answer, TooSoon):
        body = {
            "source": answer.source,
            "error": f"refreshed less than the manual refresh gap ago: retry in {answer.retry_after} s",
        }
        response = jsonify(body)
        response.headers["Retry-After"] = str(answer.retry_after)
        return response, 429
    body = {
        "source": answer.source,
        "new": answer.new,
        "updated": answer.changed,
        "seen": answer.seen,
        "not_modified": answer.not_modified,
        "error": answer.error,
    }
    if answer.full_text is not None:  # sources with full_text: what this refresh's article fetches did
        report = answer.full_text
        body["full_text"] = {
            "ok": report.ok,
            "failed": report.failed,
            "errors": list(report.errors),
            "left": report.left,
        }
    if answer.error_kind == "store":  # the database refuses writes (disk full, unreachable): not "busy"
        return jsonify(body), 503
    if answer.busy:
        body["held_by"] = _holder(answer.held_by)
        return jsonify(body), 409
    return jsonify(body), 200 if answer.ok else 502


def _holder(owner: str | None) -> dict[str, Any] | None:
    """Who holds a source a manual refresh found busy: the lease owner and the instance it names."""
    if owner is None:
        return None
    who = instances.holder(owner)
    return {
        "owner": owner,
        "instance": who.id if who else None,
        "host": who.host if who else None,
        "pid": who.pid if who else None,
    }


@api.errorhandler(401)
@api.errorhandler(403)
@api.errorhandler(404)
def json_error(error: Exception) -> tuple[Response, int]:
    code = getattr(error, "code", 500)
    response = jsonify({"error": getattr(error, "description", str(error))})
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="feedsvc"'
    return response, code
