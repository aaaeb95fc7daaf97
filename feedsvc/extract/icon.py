"""The site's icon or logo, as a page names it. Pure: no I/O.

    find(html, page_url) -> absolute http(s) URL | None

Preference: ``apple-touch-icon`` (square and large, what readers show best), then
``<link rel="icon">`` / ``shortcut icon`` (the largest ``sizes`` first), then ``og:image``.
Relative URLs are resolved against the page (and its ``<base href>``); anything that is not
http(s) afterwards (``javascript:``, ``data:``, a local file) is ignored.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from lxml import etree, html

MAX_URL = 2048


def find(page: str, page_url: str) -> str | None:
    """The best icon URL ``page`` names, absolute, or None."""
    try:
        root = html.document_fromstring(page, parser=html.HTMLParser(no_network=True, recover=True))
    except (etree.ParserError, ValueError):
        return None
    base = urljoin(page_url, _first(root.xpath("//base/@href")) or "")
    touch: list[str] = []
    icons: list[tuple[int, str]] = []
    for link in root.iter("link"):
        rels = {r.lower() for r in (link.get("rel") or "").split()}
        href = (link.get("href") or "").strip()
        if not href:
            continue
        if rels & {"apple-touch-icon", "apple-touch-icon-precomposed"}:
            touch.append(href)
        elif "icon" in rels:
            icons.append((_size(link.get("sizes") or ""), href))
    og = [
        (meta.get("content") or "").strip()
        for meta in root.iter("meta")
        if (meta.get("property") or meta.get("name") or "").lower() in ("og:image", "og:image:url")
    ]
    candidates = [*touch, *(href for _, href in sorted(icons, key=lambda i: -i[0])), *og]
    for href in candidates:
        url = _absolute(base, href)
        if url is not None:
            return url
    return None


def _absolute(base: str, href: str) -> str | None:
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL:
        return None
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    return url


def _size(sizes: str) -> int:
    """The largest edge in a ``sizes`` attribute (``any`` counts as large), 0 if none."""
    best = 0
    for size in sizes.lower().split():
        if size == "any":
            return 10_000
        width, _, height = size.partition("x")
        if width.isdigit() and height.isdigit():
            best = max(best, int(width), int(height))
    return best


def _first(values: list[str]) -> str | None:
    return str(values[0]).strip() if values else None
