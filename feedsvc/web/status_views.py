"""What the operator reads: source status as JSON, Prometheus metrics, liveness and readiness.

GET /api/sources            a page of sources' status (?limit=, ?after=, ?state=: web/listing.py)
GET /api/sources/<name>     one source's status
GET /metrics                Prometheus text exposition (this app's own registries: metrics.py)
GET /readyz                 200 when the database answers and the scheduler runs, else 503
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING, BaseScheduler
from flask import Blueprint, Response, abort, jsonify, request

from feedsvc import filters
from feedsvc.config import Source
from feedsvc.metrics import CONTENT_TYPE, census
from feedsvc.refresh import instances, schedule
from feedsvc.refresh import status as describe
from feedsvc.web import listing
from feedsvc.web.context import service

status = Blueprint("status", __name__)
_STATES = {STATE_RUNNING: "running", STATE_PAUSED: "paused"}


def _jobs() -> BaseScheduler | None:
    return service().jobs


def _tick() -> datetime | None:
    return schedule.next_tick(_jobs())


def _described(sources: Sequence[Source]) -> list[dict[str, Any]]:
    """The status of ``sources``: a fixed number of queries, however many they are (plus the full-text
    counts of those with ``full_text`` on: a page holds at most ``listing`` limit sources)."""
    running_service = service()
    settings = running_service.settings
    states = running_service.store.states([s.name for s in sources])
    tick, running, now = _tick(), set(running_service.runner.running()), datetime.now(UTC)
    store = running_service.store
    known = running_service.store.instances() if any(state.lease for state in states) else {}
    liveness = running_service.runner.liveness
    described = [
        describe.describe(
            source,
            state,
            tick,
            settings.max_backoff,
            now,
            source.name in running,
            full_text=store.full_text_state(source.name) if source.full_text else None,
            lease=instances.describe(state.lease, known, liveness, now),
        )
        for source, state in zip(sources, states, strict=True)
    ]
    if running_service.store.write_error is not None:  # a failure the database could not record: shown from memory
        for entry in described:
            entry |= {"healthy": False, "store_error": running_service.store.write_error}
    return described


@status.get("/api/sources")
def sources() -> Response | tuple[Response, int]:
    try:
        wanted = listing.query(request.args)
    except listing.BadRequest as exc:
        return jsonify({"error": str(exc)}), 400
    running_service = service()
    outcomes = running_service.store.outcomes() if wanted.state is not None else None
    found = listing.page(listing.matching(running_service.settings.sources, wanted.state, outcomes), wanted)
    following = None if found.next_after is None else listing.link(request.path, wanted, found.next_after)
    body = {"sources": _described(found.sources), "total": found.total, "limit": wanted.limit, "next": following}
    response = jsonify(body)
    if following is not None:
        response.headers["Link"] = f'<{following}>; rel="next"'
    return response


@status.get("/api/sources/<name>")
def source(name: str) -> Response:
    found = service().settings.source(name)
    if found is None:
        abort(404, description=f"no source named {name!r}")
    described = _described([found])[0]
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
    store, settings = running_service.store, running_service.settings
    names = [source.name for source in settings.sources]
    counts = census(names, store.outcomes())
    states = store.states(names) if running_service.metrics.per_source() else ()
    body = running_service.metrics.exposition(counts, store.entries_total(), states)
    return Response(body, content_type=CONTENT_TYPE)


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
