"""The site's icon or logo, as a page names it. Pure: no I/O; reads the page extraction parsed.

    find(page) -> absolute http(s) URL | None

Preference: ``apple-touch-icon`` (square and large, what readers show best), then
``<link rel="icon">`` / ``shortcut icon`` (the largest ``sizes`` first), then ``og:image``.
Relative URLs are resolved against the page (and its ``<base href>``) as post links are; anything
that is not http(s) afterwards (``javascript:``, ``data:``, a local file) is ignored.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from feedsvc.extract.page import Page

MAX_URL = 2048
_TOUCH = {"apple-touch-icon", "apple-touch-icon-precomposed"}
_OG_IMAGE = ("og:image", "og:image:url")


def find(page: Page) -> str | None:
    """The best icon URL the HTML ``page`` names, absolute, or None."""
    if not page.is_html:
        return None
    touch: list[str] = []
    icons: list[tuple[int, str]] = []
    for link in page.tree.css("link[rel][href]"):
        rels = {rel.lower() for rel in (link.attributes.get("rel") or "").split()}
        href = (link.attributes.get("href") or "").strip()
        if not href:
            continue
        if rels & _TOUCH:
            touch.append(href)
        elif "icon" in rels:
            icons.append((_size(link.attributes.get("sizes") or ""), href))
    og = [
        (meta.attributes.get("content") or "").strip()
        for meta in page.tree.css("meta[content]")
        if (meta.attributes.get("property") or meta.attributes.get("name") or "").lower() in _OG_IMAGE
    ]
    candidates = [*touch, *(href for _, href in sorted(icons, key=lambda icon: -icon[0])), *og]
    for href in candidates:
        url = page.link(href)
        if url is not None and _usable(url):
            return url
    return None


def _usable(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL:
        return False
    return not any(ch.isspace() or ord(ch) < 32 for ch in url)


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
