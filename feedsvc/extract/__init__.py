"""Snapshot -> posts: ``extract.posts(snapshot, layout)``. Pure: no I/O, no clock.

A snapshot is first turned into lines (``lines.py``: HTML rendered as a browser would
break it), then read by one layout module. ``layout="auto"`` picks the layout whose
post heads the page shows most often.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from feedsvc.errors import ExtractError
from feedsvc.extract import byline, day_month
from feedsvc.extract.lines import Line
from feedsvc.extract.lines import lines as page_lines  # keeps ``feedsvc.extract.lines`` the module
from feedsvc.model import Post, Snapshot

Layout = Callable[[Sequence[Line]], list[Post]]

LAYOUTS: dict[str, Layout] = {"byline": byline.posts, "day_month": day_month.posts}
_MARKS: dict[str, Callable[[Sequence[Line]], int]] = {"byline": byline.count, "day_month": day_month.count}


def posts(snapshot: Snapshot, layout: str = "auto") -> list[Post]:
    """The posts ``snapshot`` shows, in page order; ExtractError when it shows none."""
    if layout != "auto" and layout not in LAYOUTS:
        raise ExtractError(f"unknown layout {layout!r}: expected one of auto, {', '.join(LAYOUTS)}")
    page = page_lines(snapshot)
    name = sniff(page) if layout == "auto" else layout
    found = LAYOUTS[name](page)
    if not found:
        raise ExtractError(f"no posts found: page does not match the {name} layout")
    return found


def sniff(lines: Sequence[Line]) -> str:
    """The layout whose post heads appear most often (byline on a tie); ExtractError when none appear."""
    counts = {name: marks(lines) for name, marks in _MARKS.items()}
    best = max(counts, key=lambda name: counts[name])  # first of equals: dict order breaks ties
    if counts[best] == 0:
        raise ExtractError(f"no posts found: page matches neither the {' nor the '.join(LAYOUTS)} layout")
    return best
