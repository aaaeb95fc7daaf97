"""Repeated sibling records under one element: the raw material of the ``html_blocks`` detector.

An element's children are keyed by their tag and the classes most siblings of that tag share
(classes that vary from post to post, ``post-412``, do not split a key). Children of one key
are the records of a group. When each of them is followed by the same few siblings of other
keys (a title row then a meta row; ``dt`` then ``dd``; ``h2``, body, footer), a record is the
first row and the rows that follow it up to the next one: one post spread over sibling rows.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

from selectolax.lexbor import LexborNode

Record = tuple[LexborNode, ...]
Key = tuple[str, frozenset[str]]

MIN_RECORDS = 2
SHARED = 0.7  # a class most siblings of a tag carry is part of their key
REGULAR = 0.7  # share of the gaps between records that must look alike for rows to join
MAX_ROWS = 4  # a post spans at most this many sibling rows
HEAD_TAGS = frozenset(
    {"article", "tr", "tbody", "table", "li", "ul", "ol", "section", "div", "dl", "dd", "dt", "a", "p"}
    | {"h2", "h3", "h4", "font"}
)


@dataclass(frozen=True, slots=True)
class Group:
    """Sibling records of one key under ``parent``."""

    parent: LexborNode
    key: Key
    records: tuple[Record, ...]

    @property
    def rows(self) -> int:
        return max(len(record) for record in self.records)


def groups(parent: LexborNode) -> list[Group]:
    """The groups of ``parent``'s children; rows that are another group's tail are not groups."""
    children = [child for child in parent.iter() if child.is_element_node]
    if len(children) < MIN_RECORDS:
        return []
    tags = [child.tag or "" for child in children]
    if len(set(tags)) == len(tags) or not any(tag in HEAD_TAGS for tag in tags):
        return []  # no tag twice, or none that can head a record
    keys = _keys(children, tags)
    where: dict[Key, list[int]] = {}
    for index, key in enumerate(keys):
        where.setdefault(key, []).append(index)
    found: list[Group] = []
    tails: set[Key] = set()
    for key, indices in sorted(where.items(), key=lambda item: item[1][0]):
        if len(indices) < MIN_RECORDS or key[0] not in HEAD_TAGS or key in tails:
            continue
        pattern = _gap_pattern(keys, indices)
        if any(not len(indices) - 1 <= len(where[tail]) <= len(indices) for tail in pattern):
            pattern = ()  # tail rows come once per record: not a few records before a longer list
        if pattern:
            tails.update(pattern)
            records = tuple(_record(children, keys, start, stop, pattern) for start, stop in _spans(indices, keys))
        else:
            records = _striped_rows([children[index] for index in indices])
        found.append(Group(parent, key, records))
    return [group for group in found if group.key not in tails]


def _keys(children: list[LexborNode], tags: list[str]) -> list[Key]:
    names = [frozenset(classes(child)) for child in children]
    by_tag: dict[str, list[frozenset[str]]] = {}
    for tag, own in zip(tags, names, strict=True):
        by_tag.setdefault(tag, []).append(own)
    shared: dict[str, frozenset[str]] = {}
    for tag, same in by_tag.items():
        if len(same) == 1:
            shared[tag] = same[0]
            continue
        counts = Counter(c for own in same for c in own)
        shared[tag] = frozenset(c for c, n in counts.items() if n >= SHARED * len(same))
    return [(tag, own & shared[tag]) for tag, own in zip(tags, names, strict=True)]


def _gap_pattern(keys: list[Key], indices: list[int]) -> tuple[Key, ...]:
    """The keys of the rows that follow each record, when nearly every record is followed alike."""
    gaps = [tuple(keys[a + 1 : b]) for a, b in pairwise(indices)]
    if not gaps:
        return ()
    common, count = Counter(gaps).most_common(1)[0]
    if not common or len(common) >= MAX_ROWS or count < REGULAR * len(gaps):
        return ()
    return common


def _spans(indices: list[int], keys: list[Key]) -> list[tuple[int, int]]:
    return list(zip(indices, [*indices[1:], len(keys)], strict=True))


def _record(children: list[LexborNode], keys: list[Key], start: int, stop: int, pattern: tuple[Key, ...]) -> Record:
    rows = [children[start]]
    for offset, key in enumerate(pattern, start=1):
        index = start + offset
        if index >= stop or keys[index] != key:
            break
        rows.append(children[index])
    return tuple(rows)


def _striped_rows(members: list[LexborNode]) -> tuple[Record, ...]:
    """Members of one key as records; several when their full classes repeat with a period.

    ``tr.story, tr, tr.spacer, tr.story, ...``: a record is a ``tr.story`` and the rows up to
    the next one, when those rows are built differently from it (a meta row has other cells
    than a title row; two stripes ``tr.odd, tr.even`` of a table are built alike and stay apart).
    """
    fine = [frozenset(classes(member)) for member in members]
    heads = [index for index, key in enumerate(fine) if key == fine[0]]
    if len(heads) < MIN_RECORDS or len(heads) == len(members):
        return tuple((member,) for member in members)
    gaps = [tuple(fine[a + 1 : b]) for a, b in pairwise(heads)]
    common, count = Counter(gaps).most_common(1)[0]
    shape = _shape(members[0])
    if (
        not common
        or len(common) >= MAX_ROWS
        or count < REGULAR * len(gaps)
        or all(_shape(members[index]) == shape for index in range(1, 1 + len(common)) if index < len(members))
    ):
        return tuple((member,) for member in members)
    stops = [*heads[1:], min(len(members), heads[-1] + 1 + len(common))]
    return tuple(tuple(members[start:stop]) for start, stop in zip(heads, stops, strict=True))


def _shape(node: LexborNode) -> tuple[str, ...]:
    return tuple(child.tag or "" for child in node.iter() if child.is_element_node)


def classes(node: LexborNode) -> list[str]:
    return (node.attributes.get("class") or "").split()


_WIDE = re.compile("[\u2e80-\U0010ffff]")


def width(text: str) -> int:
    """Columns ``text`` takes: CJK characters count twice."""
    return len(text) + len(_WIDE.findall(text))
