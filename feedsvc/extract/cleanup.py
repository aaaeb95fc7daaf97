"""The posts read from the chosen list, tidied: what a list shows for some of its records only.

a date heading its group      a post without a date takes the date above its group ("Monday, March 4")
a date met only in prose      dropped when few posts of the list show a date (a teaser that mentions a day)
odd records out               a pager or header row: built unlike most, lacking the link or the date
                              most have, without a title-long title
doubles                       the same link and title read twice are one post
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from selectolax.lexbor import LexborNode

from feedsvc.extract import dates, records, scoring
from feedsvc.extract.page import Page
from feedsvc.extract.records import Record
from feedsvc.model import Post

OUTLIER_SHARE = 0.5  # a field most posts show
PROSE_SHARE = 0.5
GROUP_LEVELS = 2  # a group's date heading sits beside the records' parent or grandparent
MAX_HEADING_DATE = 48
SHORT_CONTEXT = 40  # characters around a date in the element that shows it apart from running text


def tidy(read: list[tuple[Record, Post]], page: Page) -> list[Post]:
    """The posts of ``read`` (each with the record it was read from), tidied as above, in order."""
    return _distinct(_without_outliers(_without_prose_dates(_group_dates(read, page))))


def _group_dates(read: list[tuple[Record, Post]], page: Page) -> list[tuple[Record, Post]]:
    """A post without a date of its own takes the date heading its group ("Monday, March 4, 2024"
    above the day's posts; a date-archive's day headers)."""
    out = []
    for record, post in read:
        if post.date is None and (found := _heading_date(record[0], page)) is not None:
            post = replace(post, date=found.date, date_shown=found.text, date_relative=found.how == "relative")
        out.append((record, post))
    return out


def _heading_date(node: LexborNode, page: Page) -> dates.ShownDate | None:
    container = node.parent
    for _ in range(GROUP_LEVELS):
        if container is None or container.tag == "body":
            return None
        sibling = container.prev
        while sibling is not None and not (sibling.is_element_node and sibling.text(strip=True)):
            sibling = sibling.prev
        if sibling is not None:
            text = sibling.text(deep=True, separator=" ", strip=True)
            if len(text) <= MAX_HEADING_DATE and sibling.css_first("a[href]") is None:
                found = dates.find(text, page.now, page.zone, page.languages)
                if found is not None and len(found.text) >= len(text) / 2:
                    return found
        container = container.parent
    return None


def _without_prose_dates(read: list[tuple[Record, Post]]) -> list[tuple[Record, Post]]:
    """When few posts of a list show a date, a date met only inside running text (a teaser that
    mentions a day) is not the post's date: the list shows none."""
    dated = sum(1 for _, post in read if post.date is not None)
    if len(read) < 3 or dated >= PROSE_SHARE * len(read):
        return read
    return [(record, post if _shown_apart(record, post) else _undated(post)) for record, post in read]


def _shown_apart(record: Record, post: Post) -> bool:
    if post.date is None or not post.date_shown:
        return True
    limit = len(post.date_shown) + SHORT_CONTEXT
    return any(
        post.date_shown in text and len(text) <= limit
        for node in record
        for element in node.css("*")
        if (text := element.text(deep=True, separator=" ", strip=True))
    )


def _undated(post: Post) -> Post:
    return replace(post, date=None, date_shown=None, date_relative=False)


def _without_outliers(read: list[tuple[Record, Post]]) -> list[Post]:
    """The posts, less the odd records out: built unlike most (a pager row, a header row), lacking
    the link or the date most have, and without a title-long title. An item that lacks a field
    but has a real title keeps its place (an item without a link, a post without a date)."""
    if len(read) < 3:
        return [post for _, post in read]
    shapes = Counter(_shape(record) for record, _ in read)
    usual = shapes.most_common(1)[0][0]
    dated = sum(1 for _, post in read if post.date is not None) >= OUTLIER_SHARE * len(read)
    linked = sum(1 for _, post in read if post.link is not None) >= OUTLIER_SHARE * len(read)
    return [
        post
        for record, post in read
        if _shape(record) == usual
        or scoring.title_like(post.title)
        or not ((dated and post.date is None) or (linked and post.link is None))
    ]


def _shape(record: Record) -> tuple[str, ...]:
    return tuple(
        " ".join(sorted(records.classes(child))) or child.tag or ""
        for node in record
        for child in node.iter()
        if child.is_element_node
    )


def _distinct(found: list[Post]) -> list[Post]:
    """Each post once: a record read twice (the same link and title) is one post."""
    seen: set[tuple[str | None, str]] = set()
    out = []
    for post in found:
        key = (post.link, post.title)
        if key not in seen:
            seen.add(key)
            out.append(post)
    return out
