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
from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request

from feedsvc.metrics import CONTENT_TYPE
from feedsvc.refresh import status as describe
from feedsvc.refresh.runner import Refresher

status = Blueprint("status", __name__)
_STATES = {STATE_RUNNING: "running", STATE_PAUSED: "paused"}


def _refresher() -> Refresher:
    refresher: Refresher = current_app.config["FEEDSVC_REFRESHER"]
    return refresher


def _jobs() -> BaseScheduler | None:
    jobs: BaseScheduler | None = current_app.config.get("FEEDSVC_SCHEDULER")
    return jobs


def _ticks() -> dict[str, datetime | None]:
    jobs = _jobs()
    if jobs is None:
        return {}
    return {job.id: getattr(job, "next_run_time", None) for job in jobs.get_jobs()}


def _described(names: list[str] | None = None) -> list[dict[str, Any]]:
    refresher = _refresher()
    settings = refresher.settings
    sources = [s for s in settings.sources if names is None or s.name in names]
    states = refresher.store.states([s.name for s in sources])
    ticks, running, now = _ticks(), set(refresher.running()), datetime.now(UTC)
    return [
        describe.describe(source, state, ticks.get(source.name), settings.max_backoff, now, source.name in running)
        for source, state in zip(sources, states, strict=True)
    ]


@status.get("/api/sources")
def sources() -> Response:
    return jsonify({"sources": _described()})


@status.get("/api/sources/<name>")
def source(name: str) -> Response:
    if _refresher().settings.source(name) is None:
        abort(404, description=f"no source named {name!r}")
    return jsonify(_described([name])[0])


@status.get("/metrics")
def metrics() -> Response:
    refresher = _refresher()
    states = refresher.store.states([s.name for s in refresher.settings.sources])
    return Response(refresher.metrics.exposition(states), content_type=CONTENT_TYPE)


@status.get("/readyz")
def readyz() -> tuple[Response, int]:
    database = _refresher().store.ping()
    jobs = _jobs()
    scheduler = "absent" if jobs is None else _STATES.get(jobs.state, "stopped")
    ready = database and scheduler != "stopped"
    body = {"ready": ready, "database": "ok" if database else "unreachable", "scheduler": scheduler}
    return jsonify(body), 200 if ready else 503


@status.after_app_request
def count_feed_requests(response: Response) -> Response:
    if request.endpoint == "feeds.feed" and request.view_args:
        name = str(request.view_args.get("name", ""))
        refresher: Refresher | None = current_app.config.get("FEEDSVC_REFRESHER")
        if refresher is not None and refresher.settings.source(name) is not None:
            refresher.metrics.feed_request(name, response.status_code)
    return response


@status.errorhandler(404)
def not_found(error: Exception) -> tuple[Response, int]:
    return jsonify({"error": getattr(error, "description", str(error))}), 404


def init_app(app: Flask, refresher: Refresher) -> None:
    app.config["FEEDSVC_REFRESHER"] = refresher
    app.register_blueprint(status)
