"""Admin access: every write, from the browser or the API, needs the admin token.

- The token is the ``refresh_token_env`` environment variable's value when it is set; otherwise
  ``<data_dir>/admin-token``, generated at the first start (0600) and named in the start-up log
  (the token itself is never logged).
- API clients send ``Authorization: Bearer <token>``.
- A browser enters the token once (``/admin/login``); it is kept as a flag in Flask's signed
  session cookie (``HttpOnly``, ``SameSite=Strict``, ``Secure`` behind https), whose key is derived
  from the token, so changing the token signs every browser out. Forms carry a CSRF token (the
  ``csrf_token`` field; ``X-CSRF-Token`` for the page's own fetches), checked on every write.
- Reading feeds and pages stays public.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask, Request, abort, jsonify, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from feedsvc.config import Settings
from feedsvc.errors import ConfigError
from feedsvc.web.context import service

log = logging.getLogger("feedsvc.auth")

TOKEN_FILE = "admin-token"
SESSION_DAYS = 30
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def token_path(settings: Settings) -> Path:
    return settings.data_dir / TOKEN_FILE


def ensure_token(settings: Settings) -> str:
    """The admin token: from the environment, else the data directory's file, made (0600) when missing."""
    if settings.refresh_token:
        log.info("admin token: from the %s environment variable", settings.refresh_token_env)
        return settings.refresh_token
    path = token_path(settings)
    try:
        token = path.read_text(encoding="utf-8").strip()
        if token:
            log.info("admin token: in %s (set %s to use another)", path.resolve(), settings.refresh_token_env)
            return token
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the admin token ({exc.strerror}); fix its permissions") from None
    token = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(token + "\n")
        os.chmod(path, 0o600)
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot write the admin token ({exc.strerror}); make {path.parent} writable "
            f"or set {settings.refresh_token_env}"
        ) from None
    log.info(
        "admin token: generated into %s (readable by this user only; set %s to use another)",
        path.resolve(),
        settings.refresh_token_env,
    )
    return token


class AdminToken:
    """The app's view of the token; read lazily, so an app that is never written to makes no file."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._token: str | None = None

    @property
    def token(self) -> str:
        return self.ensure()

    def ensure(self) -> str:
        """The token, made (and its file named in the log) the first time it is needed."""
        if self._token is None:
            self._token = ensure_token(self.settings)
        return self._token

    def matches(self, given: str) -> bool:
        return bool(given) and hmac.compare_digest(given.strip().encode(), self.token.encode())


def init_app(app: Flask, admin: AdminToken) -> None:
    """The session cookie's settings and its signing key (derived from ``admin``'s token)."""
    settings = admin.settings
    app.config.update(
        SESSION_COOKIE_NAME="feedsvc_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(days=SESSION_DAYS),
    )
    app.session_interface = _Sessions(admin)


class _Sessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, keyed by the admin token; a request without a cookie reads no token."""

    def __init__(self, admin: AdminToken) -> None:
        self._admin = admin

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = hmac.new(self._admin.token.encode(), b"feedsvc session cookie", hashlib.sha256).hexdigest()
        return URLSafeTimedSerializer(
            key,
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
        )

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _admin() -> AdminToken:
    return service().admin


def _throttled() -> None:
    """429 while this client address has sent too many wrong tokens (``web/throttle.py``)."""
    wait = service().token_throttle.blocked(request.remote_addr or "unknown", time.monotonic())
    if wait:
        response = jsonify({"error": f"too many wrong tokens from this address: retry in {wait} s"})
        response.headers["Retry-After"] = str(wait)
        response.status_code = 429
        abort(response)


def _failed() -> None:
    service().token_throttle.failed(request.remote_addr or "unknown", time.monotonic())


def bearer_ok() -> bool:
    """True for a right bearer token; a wrong one counts against the client's address."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    _throttled()
    if _admin().matches(given):
        return True
    _failed()
    return False


def signed_in() -> bool:
    return bool(session.get("admin"))


def sign_in(given: str) -> bool:
    _throttled()
    if not _admin().matches(given):
        _failed()
        return False
    session.clear()
    session.permanent = True
    session["admin"] = True
    session["csrf"] = secrets.token_urlsafe(24)
    return True


def sign_out() -> None:
    session.clear()


def csrf_token() -> str:
    """This browser's CSRF token (made on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def csrf_ok() -> bool:
    expected = session.get("csrf")
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    return bool(expected) and hmac.compare_digest(str(given).encode(), str(expected).encode())


def require_admin(json: bool = True) -> None:
    """401 unless the request carries the bearer token, or a signed-in session plus its CSRF token."""
    if bearer_ok():
        return
    if signed_in():
        if csrf_ok():
            return
        abort(403, description="the form's CSRF token is missing or stale: reload the page and try again")
    where = where_is_token()
    abort(401, description=f"the admin token is required: 'Authorization: Bearer <token>' ({where})")


def where_is_token() -> str:
    settings = _admin().settings
    if settings.refresh_token:
        return f"the value of {settings.refresh_token_env}"
    return f"in {token_path(settings)} on the server"
