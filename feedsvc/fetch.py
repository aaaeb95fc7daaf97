"""Fetch a source's snapshot page: the only module that imports requests.

``get`` returns a decoded ``Snapshot``, or ``None`` when the site answered 304 Not
Modified to the remembered validators, and raises a ``FetchError`` otherwise.
"""

from __future__ import annotations

import codecs
import re
from datetime import datetime
from pathlib import Path

import requests
from charset_normalizer import from_bytes

from feedsvc import __version__
from feedsvc.config import Source
from feedsvc.errors import DecodeError, FetchError, FetchTimeout, HTTPStatusError, TooLarge
from feedsvc.model import Snapshot, Validators

USER_AGENT = f"feedsvc/{__version__} (+https://github.com/feedsvc/feedsvc)"
_CHUNK = 64 * 1024
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
# What browsers decode these labels as (WHATWG Encoding): supersets of the declared charset.
_BROWSER_ENCODINGS = {
    "gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs", "shiftjis": "cp932", "sjis": "cp932",
    "xsjis": "cp932", "windows31j": "cp932",
}  # fmt: skip
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def get(source: Source, validators: Validators, now: datetime) -> Snapshot | None:
    """The source's page now; ``None`` when unchanged since ``validators``."""
    if source.is_local:
        return _read_file(source, now)
    return _download(source, validators, now)


def _read_file(source: Source, now: datetime) -> Snapshot:
    path = Path(source.url)
    try:
        size = path.stat().st_size
        if size > source.max_bytes:
            raise TooLarge(f"{path}: {size} bytes, more than the {source.max_bytes} allowed")
        body = path.read_bytes()
    except OSError as exc:
        raise FetchError(f"{path}: cannot read: {exc.strerror or exc}") from None
    media_type = "text/html" if path.suffix.lower() in (".html", ".htm") or _looks_like_html(body) else "text/plain"
    return Snapshot(url=path.as_uri(), text=decode(body, None), media_type=media_type, fetched_at=now)


def _download(source: Source, validators: Validators, now: datetime) -> Snapshot | None:
    headers = {"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5"}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    try:
        with requests.get(
            source.url, headers=headers, timeout=(min(10.0, source.timeout), source.timeout), stream=True
        ) as response:
            if response.status_code == 304:
                return None
            if response.status_code >= 400:
                raise HTTPStatusError(
                    f"{source.url}: HTTP {response.status_code} {response.reason or ''}".rstrip(),
                    response.status_code,
                )
            body = _read_capped(response, source.max_bytes, source.url)
            content_type = response.headers.get("Content-Type", "")
            final_url = response.url
            etag = response.headers.get("ETag")
            last_modified = response.headers.get("Last-Modified")
    except requests.Timeout:
        raise FetchTimeout(f"{source.url}: no answer within {source.timeout:g} s") from None
    except requests.TooManyRedirects:
        raise FetchError(f"{source.url}: too many redirects") from None
    except requests.RequestException as exc:
        raise FetchError(f"{source.url}: {type(exc).__name__}: {exc}") from None
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    if media not in ("text/html", "application/xhtml+xml", "text/plain", ""):
        raise FetchError(f"{source.url}: not a page but {media!r}")
    charset = _param(params, "charset")
    text = decode(body, charset)
    is_html = media in ("text/html", "application/xhtml+xml") or (media == "" and _looks_like_html(body))
    return Snapshot(
        url=final_url,
        text=text,
        media_type="text/html" if is_html else "text/plain",
        fetched_at=now,
        etag=etag,
        last_modified=last_modified,
    )


def _read_capped(response: requests.Response, max_bytes: int, url: str) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"{url}: {declared} bytes declared, more than the {max_bytes} allowed")
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_content(_CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise TooLarge(f"{url}: more than the {max_bytes} bytes allowed")
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
            return _strict(body, encoding)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(body).best()
    if best is None or best.encoding is None:
        raise DecodeError("page is not text in any encoding feedsvc can detect")
    return _strict(body, best.encoding)


def _strict(body: bytes, encoding: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DecodeError(f"page declares unknown charset {encoding!r}") from None
    encoding = _BROWSER_ENCODINGS.get(encoding.lower().replace("-", "").replace("_", ""), encoding)
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DecodeError(f"page is not valid {encoding} (byte {exc.start}): refusing to guess") from None


def _param(params: str, name: str) -> str | None:
    for part in params.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value.strip().strip("\"'") or None
    return None


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head
