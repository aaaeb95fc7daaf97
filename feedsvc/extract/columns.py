"""Which link of each record is its title: the link at the same place in most records.

Records of one list are built alike, so the title link sits at the same path in each (a
column, as in a table). Of the paths that hold a link in most records, the title's is the one
whose texts differ from record to record (a constant text is a "Share" or "Comments" button)
and are the widest on average (a title is longer than an author name or a tag), best inside a
heading.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from selectolax.lexbor import LexborNode

from feedsvc.extract.records import Record, classes

_WIDE = re.compile("[\u2e80-\U0010ffff]")
Path = tuple[str, ...]
MOST = 0.5  # a column holds a link in at least this share of the records
DISTINCT = 0.7  # and its texts are mostly distinct
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def title_links(records: Sequence[Record]) -> list[LexborNode | None]:
    """Per record, its link in the title column; None for all when no column stands out."""
    columns: dict[Path, list[tuple[int, LexborNode]]] = {}
    for number, record in enumerate(records):
        seen: set[Path] = set()
        for row, node in enumerate(record):
            for link in _links(node):
                path = (str(row), *_path(link, node))
                if path not in seen:
                    seen.add(path)
                    columns.setdefault(path, []).append((number, link))
    best: tuple[float, Path] | None = None
    for path, links in columns.items():
        if len(links) < MOST * len(records) or len(links) < 2:
            continue
        texts = [_text(link) for _, link in links]
        if len(set(texts)) < DISTINCT * len(texts):
            continue
        width = sum(_width(text) for text in texts) / len(texts)
        if any(tag.partition(".")[0] in _HEADINGS for tag in path):
            width *= 2
        if best is None or width > best[0]:
            best = (width, path)
    if best is None:
        return [None] * len(records)
    chosen = dict(columns[best[1]])
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


def _width(text: str) -> int:
    """Columns ``text`` takes: CJK characters count twice."""
    return len(text) + len(_WIDE.findall(text))


def _text(node: LexborNode) -> str:
    return node.text(deep=True, separator=" ", strip=True)
