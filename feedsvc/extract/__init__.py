"""Snapshot -> posts: ``extract.posts(snapshot, layout, selectors=..., zone=...)``. Pure: no I/O, no clock.

Every layout reads a ``Page`` (page.py: the snapshot's lines, or its parsed HTML, made on demand):

    byline, day_month     text layouts, read from the page rendered to lines (lines.py)
    selectors             CSS selectors from the source's config (selectors.py)
    json_ld               posts the page declares in JSON-LD (json_ld.py)
    app_state             posts in the JSON state the page embeds for its scripts (app_state.py)
    h_entry               microformats2 h-entry (h_entry.py)
    html_blocks           the repeated post list, found by structure (html_blocks.py)

``layout="auto"`` uses the selectors when the source has them; otherwise it reads the page
with the text layout whose post heads the page shows most often and, on an HTML page, with the
structured data (JSON-LD, embedded state, h-entry: the most complete of them, the first in that
order on a tie) before the markup's repeated blocks (these instead when they hold over three times
as many posts: a listing whose JSON-LD declares only one article; or, against a list read from
embedded state, when it holds under half of their links, a widget's list, not the page's, or when
they are more complete), and keeps the reading that gives more posts a link and a date (the text
layout on a tie).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from feedsvc.errors import ExtractError
from feedsvc.extract import app_state, byline, day_month, h_entry, html_blocks, icon, json_ld, shell
from feedsvc.extract import selectors as selector_layout
from feedsvc.extract.lines import Line
from feedsvc.extract.page import Page
from feedsvc.extract.selectors import Selectors
from feedsvc.model import Post, Snapshot

Layout = Callable[[Page], list[Post]]

TEXT_LAYOUTS: dict[str, Callable[[Sequence[Line]], list[Post]]] = {"byline": byline.posts, "day_month": day_month.posts}
HTML_DETECTORS: dict[str, Layout] = {
    "json_ld": json_ld.posts,
    "app_state": app_state.posts,
    "h_entry": h_entry.posts,
    "html_blocks": html_blocks.posts,
}
LAYOUTS: dict[str, Layout] = {
    "byline": lambda page: byline.posts(page.lines),
    "day_month": lambda page: day_month.posts(page.lines),
    "selectors": selector_layout.posts,
    **HTML_DETECTORS,
}
_MARKS: dict[str, Callable[[Sequence[Line]], int]] = {"byline": byline.count, "day_month": day_month.count}
_UTC = ZoneInfo("UTC")
MANY_MORE = 3  # the repeated blocks replace a structured reading that finds under a third of their posts
STRUCTURED_STANDS = 10  # a structured reading of this many posts stands without that check


@dataclass(frozen=True, slots=True)
class Extraction:
    """What a page yields and how: the layout or detector that read it, and the feed it announces."""

    posts: list[Post]
    layout: str
    feed_url: str | None = None  # the page's own <link rel=alternate> feed, when it has one
    icon: str | None = None  # the site's icon or logo, as an HTML page names it (icon.py)
    is_html: bool = False  # the page was HTML: ``icon`` is what it names (None: it names none)


def posts(
    snapshot: Snapshot, layout: str = "auto", *, selectors: Selectors | None = None, zone: ZoneInfo = _UTC
) -> list[Post]:
    """The posts ``snapshot`` shows, in page order; ExtractError when it shows none."""
    return extract(snapshot, layout, selectors=selectors, zone=zone).posts


def extract(
    snapshot: Snapshot, layout: str = "auto", *, selectors: Selectors | None = None, zone: ZoneInfo = _UTC
) -> Extraction:
    """``posts`` with the name of the layout that found them (what ``feedsvc preview`` shows).

    When a page shows no posts and is a script app's empty shell (``shell.py``), the error says
    to render it in the browser (or, when it was, to wait for its list)."""
    if layout != "auto" and layout not in LAYOUTS:
        raise ExtractError(f"unknown layout {layout!r}: expected one of auto, {', '.join(LAYOUTS)}")
    page = Page(snapshot, zone, selectors)
    feed_url = page.feed_url
    try:
        if layout == "auto":
            name, found = _auto(page)
        else:
            name, found = layout, LAYOUTS[layout](page)
        if not found:
            raise ExtractError(f"no posts found: page does not match the {name} layout")
    except ExtractError as exc:
        if page.is_html and shell.is_app_shell(page):
            raise ExtractError(f"{exc}; {shell.RENDERED_HINT if snapshot.rendered else shell.HINT}") from None
        raise
    return Extraction(found, name, feed_url, icon.find(page), page.is_html)


def _auto(page: Page) -> tuple[str, list[Post]]:
    if page.selectors is not None:
        return "selectors", LAYOUTS["selectors"](page)
    candidates: list[tuple[str, list[Post]]] = []
    text_layout = _most_marked(page.lines)
    if text_layout is not None:
        candidates.append((text_layout, TEXT_LAYOUTS[text_layout](page.lines)))
    if page.is_html:
        detected = _html_reading(page)
        if detected is not None:
            candidates.append(detected)
    candidates = [(name, found) for name, found in candidates if found]
    if candidates:
        # on an HTML page a text layout can match by accident (a "1 Mar" alone on a line):
        # keep the reading that gives more posts their link and date; the text layout on a tie
        return max(candidates, key=lambda candidate: _completeness(candidate[1]))
    raise ExtractError(
        f"no posts found: page matches none of the layouts {', '.join(_MARKS)}, {', '.join(HTML_DETECTORS)}"
    )


def _html_reading(page: Page) -> tuple[str, list[Post]] | None:
    """The most complete structured reading (JSON-LD, embedded state, h-entry; the first on a tie),
    unless the repeated blocks hold many more (a listing whose JSON-LD declares only its featured article)."""
    structured = None
    for name, detector in HTML_DETECTORS.items():
        found = detector(page) if name != "html_blocks" else []
        if found and (structured is None or _completeness(found) > _completeness(structured[1])):
            structured = (name, found)
    if structured is not None and len(structured[1]) >= STRUCTURED_STANDS and structured[0] != "app_state":
        return structured
    blocks_found = html_blocks.posts(page)
    if blocks_found and (
        structured is None
        or len(blocks_found) > MANY_MORE * len(structured[1])
        or (
            structured[0] == "app_state"
            and (not _covers(structured[1], blocks_found) or _completeness(blocks_found) > _completeness(structured[1]))
        )
    ):
        return "html_blocks", blocks_found
    return structured


def _covers(state: Sequence[Post], shown: Sequence[Post]) -> bool:
    """The list read from embedded state is the one the markup shows: it holds at least half of the links
    of the markup's posts (compared without query, fragment and final slash). A list elsewhere in the
    state (a widget's "popular posts", a related-posts slider) does not replace the page's own listing."""
    links = {_bare(post.link) for post in state if post.link}
    shown_links = [_bare(post.link) for post in shown if post.link]
    return 2 * sum(link in links for link in shown_links) >= len(shown_links)


def _bare(link: str) -> str:
    return link.partition("#")[0].partition("?")[0].rstrip("/").removeprefix("https:").removeprefix("http:")


def explain(
    snapshot: Snapshot, layout: str = "auto", *, selectors: Selectors | None = None, zone: ZoneInfo = _UTC
) -> list[str]:
    """How auto mode reads ``snapshot``: each reading considered, the HTML candidate lists with their
    scores and factors, and why the winner won (what ``feedsvc preview --explain`` prints)."""
    page = Page(snapshot, zone, selectors)
    if layout != "auto" or page.selectors is not None:
        return [f"layout {layout if layout != 'auto' else 'selectors'} was asked for: nothing was detected"]
    lines = []
    text_layout = _most_marked(page.lines)
    readings: list[tuple[str, list[Post]]] = []
    if text_layout is not None:
        readings.append((text_layout, TEXT_LAYOUTS[text_layout](page.lines)))
    else:
        lines.append("text layouts: no byline or day_month post heads on the page")
    if page.is_html:
        for name, detector in HTML_DETECTORS.items():
            lines.append(f"{name}: {len(detector(page))} post(s)")
            if name == "html_blocks":
                lines.extend("  " + line for line in html_blocks.explain(page))
        if (reading := _html_reading(page)) is not None:
            readings.append(reading)
            lines.append(
                f"html reading: {reading[0]} (the most complete of JSON-LD, embedded state and h-entry, "
                f"unless the repeated blocks hold over {MANY_MORE}x its posts, or embedded state under half "
                "of their links)"
            )
    for name, found in readings:
        lines.append(
            f"reading {name}: {len(found)} post(s), completeness {_completeness(found)} (2 per link, 1 per date)"
        )
    if readings:
        best = max(readings, key=lambda reading: _completeness(reading[1]))
        lines.append(f"chosen: {best[0]} (the most complete reading; the text layout on a tie)")
    return lines


def _completeness(found: Sequence[Post]) -> int:
    return sum(2 * (post.link is not None) + (post.date is not None) for post in found)


def sniff(lines: Sequence[Line]) -> str:
    """The text layout whose post heads appear most often (byline on a tie); ExtractError when none appear."""
    name = _most_marked(lines)
    if name is None:
        raise ExtractError(f"no posts found: page matches neither the {' nor the '.join(_MARKS)} layout")
    return name


def _most_marked(lines: Sequence[Line]) -> str | None:
    counts = {name: marks(lines) for name, marks in _MARKS.items()}
    best = max(counts, key=lambda name: counts[name])  # first of equals: dict order breaks ties
    return best if counts[best] > 0 else None
