"""The admin pages: sign in with the admin token, add a site with a live preview, edit,
delete, refresh now. Server-rendered forms (each with a CSRF token); the preview is the page's
only script (static/admin.js), which asks ``POST /api/preview`` as the user types.

    GET  /admin/login                     the token form        POST: sign in (session cookie)
    POST /admin/logout
    GET  /admin/sources/new               the add-a-site page   POST /admin/sources: save
    GET  /admin/sources/<name>/edit       the same page, filled POST /admin/sources/<name>: save
    POST /admin/sources/<name>/delete
    POST /admin/sources/<name>/refresh    refresh now, back to the index with the outcome
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from apscheduler.schedulers.base import BaseScheduler
from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from feedsvc.config import FETCHES, LAYOUTS, Source
from feedsvc.config import _format as config_format
from feedsvc.errors import ConfigError, UnknownSource
from feedsvc.extract.selectors import FIELDS as SELECTOR_FIELDS
from feedsvc.model import SourceState
from feedsvc.refresh import schedule
from feedsvc.refresh import status as describe
from feedsvc.refresh.runner import Runner, TooSoon
from feedsvc.user_sources import FIELDS, Catalog
from feedsvc.web import auth
from feedsvc.web.context import service

admin = Blueprint("admin", __name__, url_prefix="/admin")
FORM_FIELDS = ("name", "title", "url", "layout", "interval", "timezone", "language", "fetch", "wait_for")
FILTER_FIELDS = ("include", "exclude")  # one pattern a line in the form
_ZONES: list[str] = []


# -- what this blueprint uses of the app: one place to adapt when the app's shape changes ---------


def _catalog() -> Catalog:
    return service().catalog


def _refresher() -> Runner:
    return service().runner


def _jobs() -> BaseScheduler | None:
    return service().jobs


@admin.app_context_processor
def helpers() -> dict[str, object]:
    return {
        "signed_in": auth.signed_in,
        "csrf_token": auth.csrf_token,
        "editable": lambda name: _catalog().file_settings.source(name) is None,
        "flashes": lambda: get_flashed_messages(with_categories=True),
        "next_run": _next_run,
    }


def _next_run(source: Source, state: SourceState) -> datetime | None:
    """When the scheduler of this process will next refresh ``source`` (None without a scheduler)."""
    tick = schedule.next_tick(_jobs())
    return describe.next_run(source, state, tick, _catalog().file_settings.max_backoff)


@admin.get("/login")
def login_form() -> str:
    return render_template("login.html", next=_next(), error=None)


@admin.post("/login")
def login() -> BaseResponse | tuple[str, int]:
    if not auth.csrf_ok():
        return render_template("login.html", next=_next(), error="The form was stale: try again."), 403
    if not auth.sign_in(request.form.get("token", "")):
        where = auth.where_is_token()
        return render_template("login.html", next=_next(), error=f"Wrong token. It is {where}."), 401
    return redirect(_next())


@admin.post("/logout")
def logout() -> BaseResponse:
    auth.require_admin()
    auth.sign_out()
    return redirect(url_for("pages.index"))


@admin.get("/sources/new")
def new_source() -> BaseResponse | str:
    if not auth.signed_in():
        return redirect(url_for("admin.login_form", next=request.full_path))
    return _form({"layout": "auto", "interval": "1h", "timezone": "UTC"}, None, None)


@admin.post("/sources")
def create_source() -> BaseResponse | tuple[str, int]:
    auth.require_admin()
    table = _submitted()
    try:
        source = _catalog().create(table)
    except ConfigError as exc:
        return _form(table, None, str(exc)), 400
    flash(f"Added {source.name}: its first refresh runs in a moment.", "ok")
    return redirect(url_for("pages.source", name=source.name))


@admin.get("/sources/<name>/edit")
def edit_source(name: str) -> BaseResponse | str:
    if not auth.signed_in():
        return redirect(url_for("admin.login_form", next=request.full_path))
    try:
        table = _catalog().definition(name)
    except UnknownSource:
        abort(404, description=f"no source named {name!r} in the database (the config file's cannot be edited here)")
    return _form(table, name, None)


@admin.post("/sources/<name>")
def update_source(name: str) -> BaseResponse | tuple[str, int]:
    auth.require_admin()
    table = _submitted()
    try:
        _catalog().update(name, table)  # settings the form lacks (max_bytes, …) stay as they are
    except UnknownSource:
        abort(404, description=f"no source named {name!r} in the database")
    except ConfigError as exc:
        return _form(table, name, str(exc)), 400
    flash(f"Saved {name}.", "ok")
    return redirect(url_for("pages.source", name=name))


@admin.post("/sources/<name>/delete")
def delete_source(name: str) -> BaseResponse:
    auth.require_admin()
    try:
        _catalog().delete(name)
    except UnknownSource:
        abort(404, description=f"no source named {name!r} in the database")
    except ConfigError as exc:
        abort(409, description=str(exc))
    flash(f"Deleted {name}.", "ok")
    return redirect(url_for("pages.index"))


@admin.post("/sources/<name>/refresh")
def refresh_source(name: str) -> BaseResponse:
    auth.require_admin()
    answer = _refresher().manual(name)
    if answer is None:
        abort(404, description=f"no source named {name!r}")
    if isinstance(answer, TooSoon):
        flash(f"{name}: refreshed a moment ago; try again in {answer.retry_after} s.", "error")
    elif answer.busy:
        holder = f" ({answer.held_by})" if answer.held_by else ""
        flash(f"{name}: another instance is refreshing it right now{holder}.", "error")
    elif not answer.ok:
        flash(f"{name}: refresh failed: {answer.error}", "error")
    elif answer.not_modified:
        flash(f"{name}: not modified since the last fetch.", "ok")
    else:
        flash(f"{name}: {answer.new} new, {answer.changed} updated, {answer.seen} on the page.", "ok")
    return redirect(url_for("pages.index") + f"#source-{name}")


def _form(table: dict[str, Any], editing: str | None, error: str | None) -> str:
    if not _ZONES:
        _ZONES.extend(sorted(available_timezones()))
    settings = _catalog().file_settings
    values = {key: table.get(key, "") for key in FORM_FIELDS}
    values["layout"] = values["layout"] or "auto"
    values["fetch"] = values["fetch"] or "http"
    values["full_text"] = bool(table.get("full_text"))
    for which in FILTER_FIELDS:
        patterns = table.get(which) or []
        values[which] = "\n".join([patterns] if isinstance(patterns, str) else patterns)
    selectors = table.get("selectors") or {}
    return render_template(
        "add_source.html",
        values=values,
        selectors={key: selectors.get(key, "") for key in SELECTOR_FIELDS},
        selector_fields=SELECTOR_FIELDS,
        layouts=LAYOUTS,
        fetches=FETCHES,
        zones=_ZONES,
        editing=editing,
        error=error,
        min_interval=config_format(settings.min_interval),
    )


def _submitted() -> dict[str, Any]:
    """The form as a ``[[sources]]`` table; empty fields mean the default."""
    table: dict[str, Any] = {key: request.form.get(key, "") for key in FORM_FIELDS if key in FIELDS}
    for which in FILTER_FIELDS:
        table[which] = [line.strip() for line in request.form.get(which, "").splitlines() if line.strip()]
    table["selectors"] = {key: request.form.get(f"selectors.{key}", "") for key in SELECTOR_FIELDS}
    # an unticked box sends nothing; None is the default (off), and removes the setting when editing
    table["full_text"] = True if request.form.get("full_text") == "true" else None
    return table


def _next() -> str:
    """Where to go after signing in: a path on this site only."""
    wanted = request.values.get("next") or url_for("pages.index")
    parts = urlsplit(wanted)
    if parts.scheme or parts.netloc or not wanted.startswith("/") or wanted.startswith("//"):
        return url_for("pages.index")
    return wanted.rstrip("?")


def init_app(app: Flask) -> None:
    """Register the admin pages and the sources API (both reach the service through ``web.context``)."""
    from feedsvc.web.sources_api import sources_api

    app.register_blueprint(admin)
    app.register_blueprint(sources_api)


@admin.errorhandler(401)
@admin.errorhandler(403)
@admin.errorhandler(404)
@admin.errorhandler(409)
def html_error(error: Exception) -> tuple[str, int]:
    code = int(getattr(error, "code", 500))
    title = {401: "Sign in first", 403: "Forbidden", 404: "Not found", 409: "Not allowed"}.get(code, "Error")
    return render_template("message.html", title=title, message=getattr(error, "description", str(error))), code
