"""Which link of each record is its title: the link at the same place in most records.

Records of one list are built alike, so the title link sits at the same path in each (a
column, as in a table). Of the paths that hold a link in most records, the title's is the one
whose texts differ from record to record (a constant text is a "Share" or "Comments" button)
and that are neither linked dates nor teasers ("more", "excerpt" classes): the widest inside a
heading, else the first one wide enough for a title (a title comes before a linked teaser or
byline), else the widest (a title is longer than an author name or a tag).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from selectolax.lexbor import LexborNode

from feedsvc.extract.records import Record, classes, width

Path = tuple[str, ...]
MOST = 0.5  # a column holds a link in at least this share of the records
DISTINCT = 0.7  # and its texts are mostly distinct
MIN_WIDTH = 12  # the first column at least this wide on average holds the title
SAMPLE = 30
_TEASER = re.compile(r"(?<![a-z])(?:more|excerpt|summary|teaser|intro|desc)", re.IGNORECASE)
_DATE_LIKE = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|\b(?:19|20)\d{2}\b.*\d{1,2}:\d{2}|\d+\s*(?:min|hour|day)s?\s+ago"
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def title_links(records: Sequence[Record]) -> list[LexborNode | None]:
    """Per record, its link in the title column; None for all when no column stands out."""
    columns: dict[Path, list[tuple[int, LexborNode]]] = {}
    places: dict[Path, list[int]] = {}
    for number, record in enumerate(records):
        seen: set[Path] = set()
        place = 0
        for row, node in enumerate(record):
            for link in _links(node):
                path = (str(row), *_path(link, node))
                place += 1
                if path not in seen:
                    seen.add(path)
                    columns.setdefault(path, []).append((number, link))
                    places.setdefault(path, []).append(place)
    widths: dict[Path, float] = {}
    for path, links in columns.items():
        if len(links) < MOST * len(records) or len(links) < 2:
            continue
        texts = [_text(link) for _, link in links]
        if len(set(texts)) < DISTINCT * len(texts) or _TEASER.search(" ".join(path)):
            continue
        if sum(1 for text in texts[:SAMPLE] if _DATE_LIKE.search(text)) >= len(texts[:SAMPLE]) / 2:
            continue  # a linked date ("Posted on March 3, 2016"), not the title
        widths[path] = sum(width(text) for text in texts) / len(texts)
    if not widths:
        return [None] * len(records)
    headed = [path for path in widths if any(tag.partition(".")[0] in _HEADINGS for tag in path)]
    wide = [path for path in widths if widths[path] >= MIN_WIDTH]
    if headed:
        best = max(headed, key=lambda path: widths[path])
    elif wide:  # a title comes before a linked teaser or byline: the first wide column
        best = min(wide, key=lambda path: sum(places[path]) / len(places[path]))
    else:
        best = max(widths, key=lambda path: widths[path])
    chosen = dict(columns[best])
    return [chosen.get(number) for number in range(len(records))]


def _links(node: LexborNode) -> list[LexborNode]:
    found = [a for a in node.css("a[href]") if _text(a)]
    return found


def _path(link: LexborNode, root: LexborNode) -> Path:
    path: list[str] = []
    node: LexborNode | None = link
    while node is not None and node.mem_id != root.mem_id:
        path.append(".".join([node.tag or "", *sorted(classes(node))]))
        node = node.parent
    return tuple(reversed(path))


def _text(node: LexborNode) -> str:
    return node.text(deep=True, separator=" ", strip=True)
