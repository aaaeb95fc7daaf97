"""What the operator reads: source status as JSON, Prometheus metrics, liveness and readiness.

GET /api/sources            every source's status
GET /api/sources/<name>     one source's status
GET /metrics                Prometheus text exposition (this app's own registry)
GET /readyz                 200 when the database answers and the scheduler runs, else 503
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING, BaseScheduler
from flask import Blueprint, Response, abort, jsonify, request

from feedsvc import filters
from feedsvc.metrics import CONTENT_TYPE
from feedsvc.refresh import schedule
from feedsvc.refresh import status as describe
from feedsvc.web.context import service

status = Blueprint("status", __name__)
_STATES = {STATE_RUNNING: "running", STATE_PAUSED: "paused"}


def _jobs() -> BaseScheduler | None:
    return service().jobs


def _tick() -> datetime | None:
    return schedule.next_tick(_jobs())


def _described(names: list[str] | None = None) -> list[dict[str, Any]]:
    running_service = service()
    settings = running_service.settings
    sources = [s for s in settings.sources if names is None or s.name in names]
    states = running_service.store.states([s.name for s in sources])
    tick, running, now = _tick(), set(running_service.runner.running()), datetime.now(UTC)
    described = [
        describe.describe(source, state, tick, settings.max_backoff, now, source.name in running)
        for source, state in zip(sources, states, strict=True)
    ]
    if running_service.store.write_error is not None:  # a failure the database could not record: shown from memory
        for entry in described:
            entry |= {"healthy": False, "store_error": running_service.store.write_error}
    return described


@status.get("/api/sources")
def sources() -> Response:
    return jsonify({"sources": _described()})


@status.get("/api/sources/<name>")
def source(name: str) -> Response:
    found = service().settings.source(name)
    if found is None:
        abort(404, description=f"no source named {name!r}")
    described = _described([name])[0]
    if found.include or found.exclude:  # what each filter hides of the stored entries (one source: affordable)
        stored = service().store.entries(name, limit=found.keep)
        described["filters"] = {
            "include": list(found.include),
            "exclude": list(found.exclude),
            "hidden": filters.hidden(found.include, found.exclude, stored),
        }
    return jsonify(described)


@status.get("/metrics")
def metrics() -> Response:
    running_service = service()
    states = running_service.store.states([s.name for s in running_service.settings.sources])
    return Response(running_service.metrics.exposition(states), content_type=CONTENT_TYPE)


@status.get("/readyz")
def readyz() -> tuple[Response, int]:
    store = service().store
    database = store.ping()
    jobs = _jobs()
    scheduler = "absent" if jobs is None else _STATES.get(jobs.state, "stopped")
    ready = database and scheduler != "stopped"
    state = "ok" if database else "unreachable" if store.write_error is None else f"refuses writes: {store.write_error}"
    body = {"ready": ready, "database": state, "scheduler": scheduler}
    return jsonify(body), 200 if ready else 503


@status.after_app_request
def count_feed_requests(response: Response) -> Response:
    if request.endpoint == "feeds.feed" and request.view_args:
        name = str(request.view_args.get("name", ""))
        running_service = service()
        if running_service.settings.source(name) is not None:
            running_service.metrics.feed_request(name, response.status_code)
    return response


@status.errorhandler(404)
def not_found(error: Exception) -> tuple[Response, int]:
    return jsonify({"error": getattr(error, "description", str(error))}), 404
