"""The ``html_blocks`` detector: the page's repeated post list, found without selectors.

Every element's children are grouped into repeated records (records.py: one sibling per
record, or several rows per record). A group of at least ``MIN_POSTS`` records that hold a
link with text is a candidate list, scored (scoring.py) by the text it holds, more for
article-like records (a heading, a date, ``<article>``), much less for navigation, sidebars,
widgets, tag clouds and lists of one-word links. The winner gives way to a good list nested in
its records (a post list is the innermost repetition); then the groups elsewhere on the page
built the same way join it (one list split by year, topic or section, stickies above the rest),
and so do lone siblings of the same kind (a featured post), in page order. Its records are read
as posts (blocks.py; the title from the list's title column, columns.py) and tidied (cleanup.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

from feedsvc.extract import blocks, cleanup, columns, records, scoring
from feedsvc.extract.page import Page
from feedsvc.extract.records import Record
from feedsvc.extract.scoring import Candidate
from feedsvc.model import Post

MIN_POSTS = records.MIN_RECORDS
INNER_SHARE = 0.25
OVERLAP = 0.5
_SIMPLE_CLASS = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_STRAY_TAGS = frozenset({"article", "li", "div", "section"})
JOIN_SHARE = 0.2  # a group built like the winner joins it when its records score at least this share of the winner's


@dataclass(frozen=True, slots=True)
class Choice:
    """The list the detector reads, and the candidates it weighed (for ``feedsvc preview --explain``)."""

    winner: Candidate | None
    joined: tuple[Candidate, ...]
    considered: tuple[Candidate, ...]
    why: str
    strays: tuple[Record, ...] = ()
    positions: dict[int, int] = field(default_factory=dict)  # page order, when several groups make the list

    @property
    def records(self) -> list[Record]:
        if self.winner is None:
            return []
        every = [record for group in (self.winner, *self.joined) for record in group.records] + list(self.strays)
        if not self.positions:
            return every
        return sorted(every, key=lambda record: self.positions.get(record[0].mem_id, 0))


def posts(page: Page) -> list[Post]:
    """The posts of the best-scoring repeated record group (and its split parts); [] when the page has none."""
    chosen = choose(page).records
    titles = columns.title_links(chosen) if not _headed(chosen) else [None] * len(chosen)
    read = [
        (record, post)
        for record, title in zip(chosen, titles, strict=True)
        if (post := blocks.post(record, page, title=title)) is not None
    ]
    return cleanup.tidy(read, page)


def choose(page: Page) -> Choice:
    """The group most likely to be the page's post list, the groups that continue it, and why."""
    candidates = sorted(_candidates(page), key=lambda c: -c.score)
    if not candidates:
        return Choice(None, (), (), "no repeated block with links")
    best = candidates[0]
    why = f"highest score {best.score:.0f}"
    while (inner := _inner(best, candidates)) is not None:
        why = f"nested in {best.path} (score {best.score:.0f}), a list of its own at {inner.score:.0f}"
        best = inner
    joined = tuple(_continuations(best, candidates))
    if joined:
        why += f"; {len(joined)} more group(s) built the same way join it"
    strays = tuple(_strays(best, joined, page))
    if strays:
        why += f"; {len(strays)} lone sibling(s) of the same kind (a featured post) join it"
    positions: dict[int, int] = {}
    if (joined or strays) and page.body is not None:
        positions = {node.mem_id: index for index, node in enumerate(page.body.traverse())}
    return Choice(best, joined, tuple(candidates), why, strays, positions)


def _strays(best: Candidate, joined: tuple[Candidate, ...], page: Page) -> Iterator[Record]:
    """Single siblings of the list's records built like them (a featured post set apart by a class)."""
    if best.records[0][0].tag not in _STRAY_TAGS or any(len(record) > 1 for record in best.records):
        return
    taken = {record[0].mem_id for group in (best, *joined) for record in group.records}
    parents = [group.records[0][0].parent for group in (best, *joined)]
    tag, names = best.parent_key
    if names and all(_SIMPLE_CLASS.fullmatch(name) for name in names) and page.body is not None:
        # lists of the same kind elsewhere holding a single item (a pinned post in its own block)
        for other in page.body.css(".".join([tag, *sorted(names)])):
            items = [child for child in other.iter() if child.is_element_node]
            if len(items) == 1 and not scoring.is_furniture(other, page):
                parents.append(other)
    seen: set[int] = set()
    for parent in parents:
        if parent is None or parent.mem_id in seen:
            continue
        seen.add(parent.mem_id)
        for child in parent.iter():
            if child.mem_id in taken or not child.is_element_node:
                continue
            key = (child.tag or "", frozenset(records.classes(child)))
            if _same_kind(key, best.key) and best.key[1] and scoring.lone_post(child, page):
                yield (child,)


def _candidates(page: Page) -> Iterator[Candidate]:
    if page.body is None:
        return
    for order, parent in enumerate(page.body.traverse()):
        if not parent.is_element_node:
            continue
        for group in records.groups(parent):
            scored = scoring.score(group, page, order)
            if scored is not None:
                yield scored


def _inner(outer: Candidate, candidates: list[Candidate]) -> Candidate | None:
    """The best candidate nested inside ``outer``'s records that scores at least INNER_SHARE of it.

    When lists of one kind sit in at least half of the outer records (the same parts inside every
    post, or the posts of every grid row), they count together, and they win only when their records
    are alike posts: else the outer records are the posts.
    """
    rows = {node.mem_id: index for index, record in enumerate(outer.records) for node in record}
    nested: list[tuple[Candidate, int]] = []
    for c in candidates:
        if c is not outer and (holder := _holder(c.records[0][0], rows)) is not None:
            nested.append((c, holder))
    totals: dict[tuple[object, ...], float] = {}
    joined: dict[tuple[object, ...], list[Record]] = {}
    holders: dict[tuple[object, ...], set[int]] = {}
    for c, holder in nested:
        kind = (c.key, c.tag_path)
        totals[kind] = totals.get(kind, 0.0) + c.score
        joined.setdefault(kind, []).extend(c.records)
        holders.setdefault(kind, set()).add(holder)
    for inner, _ in sorted(nested, key=lambda pair: -pair[0].score):
        kind = (inner.key, inner.tag_path)
        repeats = len(holders[kind]) >= max(2, len(outer.records) / 2)
        mass = totals[kind] if repeats else inner.score
        if mass < INNER_SHARE * outer.score:
            continue
        if repeats and not scoring.alike(joined[kind]):
            continue  # the same parts inside every outer record: the outer records are the posts
        return inner
    return None


def _holder(node: LexborNode, rows: dict[int, int]) -> int | None:
    """The index of the outer record ``node`` sits in, if any."""
    parent = node.parent
    while parent is not None:
        if parent.mem_id in rows:
            return rows[parent.mem_id]
        parent = parent.parent
    return None


def _continuations(best: Candidate, candidates: list[Candidate]) -> Iterator[Candidate]:
    """Groups built like ``best`` (same record key, same path of tags) elsewhere on the page."""
    taken = {node.mem_id for record in best.records for node in record}
    per_record = best.score / len(best.records)
    for other in candidates:
        if other is best or not _same_kind(other.key, best.key) or not _same_place(other, best):
            continue
        if other.score < JOIN_SHARE * per_record * len(other.records) or other.furniture:
            continue
        first = other.records[0][0]
        if _inside_any(first, taken) or any(_inside_any(node, {first.mem_id}) for node in (best.records[0][0],)):
            continue
        taken.update(node.mem_id for record in other.records for node in record)
        yield other


def _same_place(one: Candidate, other: Candidate) -> bool:
    """The same path of tags up to the body, or parents of one kind (``ul.notes``) a wrapper or two apart."""
    if one.tag_path == other.tag_path:
        return True
    near = abs(len(one.tag_path) - len(other.tag_path)) <= 2
    return bool(one.parent_key[1]) and one.parent_key == other.parent_key and near


def _same_kind(one: records.Key, other: records.Key) -> bool:
    """Same tag, and the classes of one include the other's (``threadbit`` and ``threadbit sticky``) or
    mostly overlap (``post hentry category-news`` and ``post hentry has-thumbnail``)."""
    if one[0] != other[0]:
        return False
    if one[1] == other[1]:
        return True
    if not one[1] or not other[1]:
        return False  # a bare tag is no kin of a classed one
    if one[1] <= other[1] or other[1] <= one[1]:
        return True
    return len(one[1] & other[1]) >= OVERLAP * min(len(one[1]), len(other[1]))


def _inside_any(node: LexborNode, ancestors: set[int]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id in ancestors:
            return True
        parent = parent.parent
    return False


def explain(page: Page, limit: int = 8) -> list[str]:
    """The candidates weighed, best first, with their scores and factors, and why the winner won."""
    choice = choose(page)
    lines = [f"chosen: {choice.winner.path if choice.winner else '-'}: {choice.why}"]
    joined = {id(c) for c in choice.joined}
    for c in choice.considered[:limit]:
        mark = "*" if c is choice.winner else "+" if id(c) in joined else " "
        lines.append(f"{mark} {c.score:9.1f}  {c.path}  [{len(c.records)} records]  {'; '.join(c.factors)}")
    return lines


def _headed(chosen: list[Record]) -> bool:
    """Most records title themselves with a heading's link: no title column needed."""
    sample = chosen[: scoring.SAMPLE]
    headed = sum(1 for record in sample if record[0].css_first(blocks.TITLE_LINKS) is not None)
    return headed >= 0.9 * len(sample)
