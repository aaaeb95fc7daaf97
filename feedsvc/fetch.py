"""Fetch a source's snapshot page: the only module that imports requests.

``get`` returns a decoded ``Snapshot``, or ``None`` when the site answered 304 Not
Modified to the remembered validators, and raises a ``FetchError`` otherwise.

A source with ``fetch = "browser"`` is rendered in headless Chromium (``browser.py``); every
request the page makes is still made here (``_browser_request``: checked and pinned per hop,
capped at ``max_bytes``), and the result is the same ``Snapshot``. Such a fetch sends no
validators (the page's scripts, not its HTML, decide what it shows), so it never answers 304.
"""

from __future__ import annotations

import codecs
import http.client
import os
import re
import socket
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from charset_normalizer import from_bytes
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    IncompleteRead,
    InvalidHeader,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from feedsvc import __version__, bounds, browser, outbound, urls
from feedsvc.config import Source
from feedsvc.errors import DecodeError, FetchError, FetchTimeout, HTTPStatusError, TooLarge
from feedsvc.model import Snapshot, Validators

USER_AGENT = f"feedsvc/{__version__} (+https://github.com/feedsvc/feedsvc)"
ACCEPT_ENCODING = "gzip, deflate, br"  # br needs the brotli package (a dependency)
RETRIES = 2  # more attempts after the first, for connection errors, 5xx and 429
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_BACKOFF = 0.25  # seconds; urllib3 waits 0, 0.5, 1, ... between attempts
MAX_INLINE_WAIT = 10.0  # longest Retry-After (or backoff) slept inside one refresh
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
# What browsers decode these labels as (WHATWG Encoding): supersets of the declared charset.
_BROWSER_ENCODINGS = {
    "gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs", "shiftjis": "cp932", "sjis": "cp932",
    "xsjis": "cp932", "windows31j": "cp932",
}  # fmt: skip
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]+")  # C0 controls but TAB, LF, FF, CR
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def get(
    source: Source,
    validators: Validators,
    now: datetime,
    *,
    policy: outbound.Policy | None = None,
    answered: Callable[[], None] | None = None,
) -> Snapshot | None:
    """The source's page now; ``None`` when unchanged since ``validators``.

    Every hop of the request is checked by ``outbound`` against ``policy``: by default the
    source's own (its configured host and port exempt); pass ``outbound.for_user_url()`` for a
    URL a user typed. Error messages never carry the URL's user name or password.
    The gap between requests to one host is kept by ``refresh.run`` (``politeness``): it takes
    the host's turn before calling, and ``answered`` ends it as soon as the first response's
    headers have arrived (the body may take longer).
    """
    if source.is_local:
        return _read_file(source, now)
    with _published_errors(source):
        if source.fetch == "browser":
            return _render(source, now, policy or _policy(source))
        return _download(source, validators, now, policy or _policy(source), source.url, answered)


def article(source: Source, url: str, now: datetime, answered: Callable[[], None] | None = None) -> Snapshot:
    """One of the source's article pages (``full_text``), fetched as the source's own page is: the
    same address checks (its own host exempt for a config file source), timeouts, retries,
    decoding and bounds; at most ``max_bytes`` and ``bounds.MAX_ARTICLE_BYTES``. Unconditional (an
    article whose text was taken is never fetched again); a page that is not HTML is a
    ``FetchError``. The host gap is the caller's (``answered`` as for ``get``).
    """
    limited = replace(source, max_bytes=min(source.max_bytes, bounds.MAX_ARTICLE_BYTES))
    with _published_errors(source):
        snapshot = _download(limited, Validators(), now, _policy(source), url, answered)
    if snapshot is None:
        raise FetchError(f"{url}: HTTP 304 Not Modified to a request that was not conditional")
    if snapshot.media_type != "text/html":
        raise FetchError(f"{url}: not an HTML page but {snapshot.media_type!r}")
    return snapshot


def _policy(source: Source) -> outbound.Policy:
    """Where the source's requests may go: a config file source's own host and port are exempt;
    a source typed by a user (kept in the database) gets no exemption."""
    if source.user_added:
        return outbound.Policy(allow_private=source.allow_private_addresses)
    return outbound.for_source(source.url, source.allow_private_addresses)


@contextmanager
def _published_errors(source: Source) -> Iterator[None]:
    """FetchErrors as the status may publish them: no password, and no URL at all for a secret source."""
    try:
        yield
    except FetchError as exc:
        if exc.args and isinstance(exc.args[0], str):
            exc.args = (_scrubbed(exc.args[0], source), *exc.args[1:])
        raise


def _scrubbed(message: str, source: Source) -> str:
    """``message`` with the source's URL as it may be published: no password; for a secret source, no URL."""
    shown = source.public_url or f"source {source.name} (url secret)"
    for form in sorted({source.url, urls.redact(source.url)}, key=len, reverse=True):
        message = message.replace(form, shown)
    if source.secret:
        parts = urlsplit(source.url)
        for secret in (parts.query, parts.username, parts.password):
            if secret:
                message = message.replace(secret, "…")
    return message


def _read_file(source: Source, now: datetime) -> Snapshot:
    """A local file: a regular file only (no FIFO, device or directory), under ``local_root`` when set,
    read up to ``max_bytes + 1`` bytes within the source's timeout."""
    path = Path(source.url)
    try:
        resolved = path.resolve(strict=True)
        if source.local_root is not None and not resolved.is_relative_to(source.local_root):
            raise FetchError(f"{path}: outside local_root {source.local_root}: refusing to read it")
        # O_NONBLOCK: opening a FIFO with no writer must not hang; the fstat below refuses it anyway
        fd = os.open(resolved, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise FetchError(f"{path}: not a regular file ({_file_kind(info.st_mode)}): refusing to read it")
            if info.st_size > source.max_bytes:
                raise TooLarge(f"{path}: {info.st_size} bytes, more than the {source.max_bytes} allowed")
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb", buffering=0) as file:
            body = _read_file_capped(file, path, source)
    except OSError as exc:
        raise FetchError(f"{path}: cannot read: {exc.strerror or exc}") from None
    media_type = "text/html" if path.suffix.lower() in (".html", ".htm") or _looks_like_html(body) else "text/plain"
    text, warning = _bounded(decode(body, None), media_type)
    return Snapshot(url=path.as_uri(), text=text, media_type=media_type, fetched_at=now, warning=warning)


def _read_file_capped(file: BinaryIO, path: Path, source: Source) -> bytes:
    deadline = time.monotonic() + source.timeout
    chunks: list[bytes] = []
    total = 0
    while chunk := file.read(min(_CHUNK, source.max_bytes + 1 - total)):
        total += len(chunk)
        chunks.append(chunk)
        if total > source.max_bytes:
            raise TooLarge(f"{path}: more than the {source.max_bytes} bytes allowed")
        if time.monotonic() > deadline:
            raise FetchTimeout(f"{path}: not read within {source.timeout:g} s")
    return b"".join(chunks)


def _file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a plain file"


class _Retry(Retry):
    """urllib3's Retry, except that a Retry-After longer than ``MAX_INLINE_WAIT`` ends the attempt.

    The refresh then fails with the site's Retry-After recorded, and the per-source backoff
    honours it, instead of a worker sleeping for an hour.
    """

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > MAX_INLINE_WAIT:
                raise MaxRetryError(_pool, url or "", ResponseError(f"Retry-After {wait:g} s"))  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _retry() -> Retry:
    """Retries of connection errors, 5xx and 429 with backoff, honouring Retry-After (redirects are ours)."""
    return _Retry(
        total=RETRIES + 1,
        connect=RETRIES,
        read=1,
        status=RETRIES,
        other=0,
        redirect=False,  # _download follows redirects itself, checking each hop's address
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=RETRY_BACKOFF,
        backoff_max=MAX_INLINE_WAIT,
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer comes back; its status becomes an HTTPStatusError
    )


REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _download(
    source: Source,
    validators: Validators,
    now: datetime,
    policy: outbound.Policy,
    start: str,
    answered: Callable[[], None] | None = None,
) -> Snapshot | None:
    """``start`` (the source's page, or one of its articles) with the source's limits; ``answered``
    is called once the first response's headers have arrived."""
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    deadline = time.monotonic() + source.timeout * (RETRIES + 2)
    url = start
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            addresses = outbound.check(url, policy)  # every hop: the addresses checked are the ones connected to
            with (
                outbound.pinned_session(addresses, _retry()) as session,
                session.get(
                    url,
                    headers=headers,
                    timeout=(min(10.0, source.timeout), source.timeout),
                    stream=True,
                    allow_redirects=False,
                ) as response,
            ):
                if answered is not None:
                    answered()
                    answered = None
                location = response.headers.get("Location")
                if response.status_code in REDIRECTS and location:
                    try:
                        url = urljoin(url, location.strip())
                    except ValueError:
                        raise FetchError(f"{start}: HTTP {response.status_code} to a malformed Location") from None
                    continue
                if response.status_code == 304:
                    return None
                if response.status_code >= 400:
                    raise _status_error(start, response)
                if response.status_code >= 300:
                    raise FetchError(f"{start}: HTTP {response.status_code} redirect without a usable Location")
                body = _read_capped(response, source.max_bytes, start, deadline)
                if not body.strip():
                    raise FetchError(f"{start}: the site answered {response.status_code} with an empty page")
                content_type = response.headers.get("Content-Type", "")
                final_url = url
                etag = response.headers.get("ETag")
                last_modified = response.headers.get("Last-Modified")
                break
        else:
            raise FetchError(f"{start}: more than {MAX_REDIRECTS} redirects (a redirect loop?)")
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise _plain(source, exc, start) from None
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    if media not in ("text/html", "application/xhtml+xml", "text/plain", ""):
        raise FetchError(f"{start}: not a page but {media!r}")
    charset = _param(params, "charset")
    text = decode(body, charset)
    is_html = media in ("text/html", "application/xhtml+xml") or (media == "" and _looks_like_html(body))
    text, warning = _bounded(text, "text/html" if is_html else "text/plain")
    return Snapshot(
        url=final_url,
        text=text,
        media_type="text/html" if is_html else "text/plain",
        fetched_at=now,
        etag=etag,
        last_modified=last_modified,
        warning=warning,
    )


def _render(source: Source, now: datetime, policy: outbound.Policy) -> Snapshot:
    """The page as the process's headless Chromium renders it (``browser.py``), every request made
    by ``_browser_request``; an error status of the page itself raises as an HTTP fetch's does."""
    deadline = time.monotonic() + source.timeout

    def fetch_one(request: browser.Request) -> browser.Answer:
        return _browser_request(request, source, policy, deadline)

    rendered = browser.shared().render(
        source.url,
        fetch_one,
        timeout=source.timeout,
        max_bytes=source.max_bytes,
        user_agent=USER_AGENT,
        wait_for=source.wait_for,
    )
    if rendered.status >= 400:
        raise _error_status(source.url, rendered.status, rendered.reason, rendered.headers.get("retry-after"), 1)
    text, warning = _bounded(rendered.html, "text/html")
    return Snapshot(
        url=rendered.url, text=text, media_type="text/html", fetched_at=now, warning=warning, rendered=True
    )


_NOT_PASSED = frozenset({"host", "connection", "keep-alive", "content-length", "accept-encoding", "transfer-encoding"})
_NOT_RETURNED = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"})


def _browser_request(
    request: browser.Request, source: Source, policy: outbound.Policy, deadline: float
) -> browser.Answer:
    """One request of a page in the browser, made as a refresh makes its own: every hop checked and
    pinned (``outbound``), the body capped at ``max_bytes``, all within the render's time. A main
    document's redirect is handed back (the browser navigates to it, so its hops come here too);
    other requests' redirects are followed here."""
    headers = {key: value for key, value in request.headers.items() if key.lower() not in _NOT_PASSED}
    headers["Accept-Encoding"] = ACCEPT_ENCODING
    url, method, body = request.url, request.method, request.body
    shown = source.url if request.document else urls.redact(url)
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            addresses = outbound.check(url, policy)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchTimeout(f"{shown}: no answer within {source.timeout:g} s")
            with (
                outbound.pinned_session(addresses) as session,
                session.request(
                    method,
                    url,
                    headers=headers,
                    data=body,
                    timeout=(min(10.0, remaining), remaining),
                    stream=True,
                    allow_redirects=False,
                ) as response,
            ):
                location = response.headers.get("Location")
                answer_headers = {
                    key.lower(): value for key, value in response.headers.items() if key.lower() not in _NOT_RETURNED
                }
                if response.status_code in REDIRECTS and location:
                    try:
                        target = urljoin(url, location.strip())
                    except ValueError:
                        raise FetchError(f"{shown}: HTTP {response.status_code} to a malformed Location") from None
                    if request.document:
                        return browser.Answer(response.status_code, response.reason or "", answer_headers, b"", target)
                    if response.status_code in (301, 302, 303) and method not in ("GET", "HEAD"):
                        method, body = "GET", None
                    url = target
                    continue
                if request.document and response.status_code >= 400:
                    return browser.Answer(response.status_code, response.reason or "", answer_headers)
                if request.document:
                    media = response.headers.get("Content-Type", "").partition(";")[0].strip().lower()
                    if media == "text/plain":
                        raise FetchError(f'{shown}: a plain-text page needs no browser: use fetch = "http"')
                    if media not in ("text/html", "application/xhtml+xml", ""):
                        raise FetchError(f"{shown}: not a page but {media!r}")
                content = _read_capped(response, source.max_bytes, shown, deadline)
                if request.document and not content.strip():
                    raise FetchError(f"{shown}: the site answered {response.status_code} with an empty page")
                return browser.Answer(response.status_code, response.reason or "", answer_headers, content)
        raise FetchError(f"{shown}: more than {MAX_REDIRECTS} redirects (a redirect loop?)")
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise _plain(replace(source, url=shown), exc) from None


def _status_error(url: str, response: requests.Response) -> HTTPStatusError:
    retries = getattr(response.raw, "retries", None)
    attempts = len(retries.history) + 1 if isinstance(retries, Retry) else 1
    return _error_status(url, response.status_code, response.reason, response.headers.get("Retry-After"), attempts)


def _error_status(
    url: str, status: int, reason: str | None, retry_after_header: str | None, attempts: int
) -> HTTPStatusError:
    retry_after = _retry_after(retry_after_header)
    words = f"{url}: HTTP {status} {reason or ''}".rstrip()
    if attempts > 1:
        words += f" ({attempts} attempts)"
    if retry_after is not None:
        words += f"; the site asks to wait {retry_after:g} s (Retry-After)"
    return HTTPStatusError(words, status, retry_after)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(Retry().parse_retry_after(value)))
    except (InvalidHeader, ValueError, TypeError):
        return None


def _plain(source: Source, exc: Exception, url: str) -> FetchError:
    """The error in plain words, of the right kind, from the root cause requests wraps."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain and len(chain) < 12:
        chain.append(cause)
        cause = getattr(cause, "reason", None) or cause.__cause__ or cause.__context__ or _first_arg(cause)
    for kind, words in _CAUSES:
        if any(isinstance(c, kind) for c in chain):
            return FetchError(f"{url}: {words}")
    timeouts = (requests.Timeout, ReadTimeoutError, ConnectTimeoutError, TimeoutError)
    if any(isinstance(c, timeouts) and not isinstance(c, NewConnectionError) for c in chain):
        return FetchTimeout(f"{url}: no answer within {source.timeout:g} s")
    return FetchError(f"{url}: {type(exc).__name__}: {exc}")


def _first_arg(exc: BaseException) -> BaseException | None:
    """The first exception among ``exc.args`` (urllib3's ProtocolError carries its cause there)."""
    return next((arg for arg in exc.args if isinstance(arg, BaseException)), None)


_CAUSES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    (ConnectionRefusedError, "connection refused: the site is down or not listening"),
    (ConnectionResetError, "the site reset the connection"),
    (socket.gaierror, "host name not found (DNS)"),
    ((IncompleteRead, http.client.IncompleteRead), "the connection closed before the whole page arrived"),
    (ProtocolError, "the connection broke off while the page was sent"),
    (NameResolutionError, "host name not found (DNS)"),
    (requests.exceptions.SSLError, "TLS/SSL error"),
    (NewConnectionError, "cannot connect to the site"),
)


def _read_capped(response: requests.Response, max_bytes: int, url: str, deadline: float) -> bytes:
    started = time.monotonic()
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"{url}: {declared} bytes declared, more than the {max_bytes} allowed")
    chunks: list[bytes] = []
    total = 0
    while chunk := response.raw.read1(_CHUNK, decode_content=True):  # what has arrived: a trickle can't hide
        total += len(chunk)
        if total > max_bytes:
            raise TooLarge(f"{url}: more than the {max_bytes} bytes allowed")
        if time.monotonic() > deadline:
            waited = time.monotonic() - started
            raise FetchTimeout(f"{url}: the page was still arriving after {waited:.1f} s (a trickle)")
        chunks.append(chunk)
    return b"".join(chunks)


def decode(body: bytes, declared: str | None) -> str:
    """Text of ``body``: BOM, then the declared charset, then ``<meta charset>``, then detection.

    Raises DecodeError rather than returning mojibake.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return _strict(body, encoding)
    meta = _META_CHARSET.search(body[:4096])
    for encoding in (declared, meta.group(1).decode("ascii") if meta else None):
        if encoding:
            try:
                return _strict(body, encoding)
            except DecodeError:
                # a charset that lies (UTF-8 bytes under <meta charset=gb2312>): browsers read UTF-8
                if not _is_utf8(body):
                    raise
                return body.decode("utf-8")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(body).best()
    if best is None or best.encoding is None:
        raise DecodeError("page is not text in any encoding feedsvc can detect")
    return _strict(body, best.encoding)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _strict(body: bytes, encoding: str) -> str:
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError):
        raise DecodeError(f"page declares unknown charset {encoding!r}") from None
    if not getattr(info, "_is_text_encoding", True):  # zlib, base64, rot13...: codecs, not charsets
        raise DecodeError(f"page declares charset {encoding!r}, which is not a text encoding")
    encoding = _BROWSER_ENCODINGS.get(encoding.lower().replace("-", "").replace("_", ""), encoding)
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DecodeError(f"page is not valid {encoding} (byte {exc.start}): refusing to guess") from None
    except LookupError:
        raise DecodeError(f"page declares charset {encoding!r}, which is not a text encoding") from None


def _bounded(text: str, media_type: str) -> tuple[str, str | None]:
    """The page without C0 control characters (invisible, XML-illegal; a layout would otherwise take
    some for white space and change a title's identity); an HTML page cut after ``bounds.MAX_TAGS``
    tags and nested no deeper than ``bounds.MAX_DEPTH`` levels (parsing cost bounded); and the
    warning to record when something was cut."""
    text = _CONTROLS.sub("", text)
    if media_type != "text/html":
        return text, None
    text, warning = bounds.truncated(text)
    flat = bounds.shallow(text)
    if flat is not text:
        deep = f"the page nests elements more than {bounds.MAX_DEPTH} levels deep: the deeper ones were flattened"
        warning = f"{warning}; {deep}" if warning else deep
    return flat, warning


def _param(params: str, name: str) -> str | None:
    for part in params.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value.strip().strip("\"'") or None
    return None


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head
