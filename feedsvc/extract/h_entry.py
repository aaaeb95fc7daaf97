"""The ``h_entry`` detector: posts marked up as microformats2 ``h-entry``.

``p-name`` is the title, ``u-url`` the link, ``dt-published`` the date (its ``datetime``
first), ``p-author`` / ``h-card`` the author, ``p-summary`` (else ``e-content``) the summary.
Missing properties fall back to the usual cues of an HTML block (blocks.py).
"""

from __future__ import annotations

from selectolax.lexbor import LexborNode

from feedsvc.extract import blocks
from feedsvc.extract.page import Page
from feedsvc.model import Post

_NAME, _URL, _DATE = ".p-name", ".u-url[href], a.u-url, .u-uid[href]", ".dt-published"
_AUTHOR, _SUMMARY = ".p-author .p-name, .p-author", ".p-summary, .e-content"


def posts(page: Page) -> list[Post]:
    """Every outermost ``h-entry`` on the page, in page order."""
    if page.body is None:
        return []
    found = []
    for entry in page.body.css(".h-entry"):
        if _nested(entry):
            continue
        fields = blocks.Fields(
            title=_NAME if entry.css_first(_NAME) else None,
            link=_URL if entry.css_first(_URL) else None,
            date=_DATE if entry.css_first(_DATE) else None,
            summary=_SUMMARY if entry.css_first(_SUMMARY) else None,
            author=_AUTHOR if entry.css_first(_AUTHOR) else None,
        )
        post = blocks.post(entry, page, fields)
        if post is not None:
            found.append(post)
    return found


def _nested(entry: LexborNode) -> bool:
    """Inside another h-entry (a quoted post, a comment): part of that entry, not a post of the list."""
    parent = entry.parent
    while parent is not None:
        if "h-entry" in (parent.attributes.get("class") or "").split():
            return True
        parent = parent.parent
    return False
