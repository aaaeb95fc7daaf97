"""URLs, decided in one place each. Pure: no I/O.

    absolute(base, href)   a link as a page writes it, made absolute (None: empty, script or data)
    link(url)              the one check for every link out: an absolute http(s) URL, or None
    redact(url)            without user name and password: what messages and pages may show
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urljoin, urlsplit, urlunsplit

SCHEMES = ("http", "https")  # the only schemes feedsvc fetches or publishes
_UNSAFE_SCHEMES = ("javascript:", "data:", "vbscript:")
_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers drop these from URLs before parsing them
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})  # controls, format, separators, surrogates
_NONCHARACTERS = re.compile("[\ufffe\uffff]")


def absolute(base: str, href: str | None) -> str | None:
    """``href`` resolved against ``base``; None for empty, script, data or malformed URLs."""
    if href is None:
        return None
    href = _URL_NOISE.sub("", href).strip()
    if not href or href.lower().startswith(_UNSAFE_SCHEMES):
        return None
    try:
        return urljoin(base, href)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None


def link(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL with a host, else None: the one check for every link out.

    Decided after removing what browsers and readers ignore in a URL (control and format
    characters anywhere, white space at the ends), so ``" \\x01javascript:alert(7)"`` is seen as the
    ``javascript:`` URL it is. What is returned is that cleaned URL (inner spaces escaped),
    so what was checked is what is published.
    """
    if not url:
        return None
    cleaned = "".join(ch for ch in url if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES).strip()
    cleaned = _NONCHARACTERS.sub("", cleaned)
    try:
        parts = urlsplit(cleaned)
        _ = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        return None
    return urlunsplit(parts._replace(scheme=parts.scheme.lower())).replace(" ", "%20")


def redact(url: str) -> str:
    """``url`` without user name and password: what may appear in messages and pages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed url>"
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
