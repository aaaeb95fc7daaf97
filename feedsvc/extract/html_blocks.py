"""The ``html_blocks`` detector: the page's repeated post list, found without selectors.

Every element's children are grouped by their tag and classes; a group of at least
``MIN_POSTS`` siblings that each hold a link with text is a candidate list. Candidates are
scored by how many posts and how much text they hold, more for article-like blocks (a
heading, a date, ``<article>``, ``post``/``entry`` classes), much less inside navigation,
headers, footers, sidebars, tag clouds, pagers and comment lists. The best group's blocks
are read as posts (blocks.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from selectolax.lexbor import LexborNode

from feedsvc.extract import blocks, shown_dates
from feedsvc.extract.page import Page
from feedsvc.model import Post

MIN_POSTS = 2
DATED_SHARE = 0.75
SAMPLE = 30
INNER_SHARE = 0.25
MAX_LINKS = 8  # a post block holds few links (title, author, category, comments); a layout block many
_FURNITURE_TAGS = frozenset({"nav", "header", "footer", "aside", "menu", "select"})
_FURNITURE = re.compile(
    r"(?<![a-z])(?:nav|menu|footer|sidebar|side-bar|widget|comment|reply|tag|cloud|popular|hot|related|recommend|"
    r"breadcrumb|pagination|pager|page-numbers|paging|share|social|friend|links|blogroll|categor|toc)",
    re.IGNORECASE,
)
_MAIN_LIST = re.compile(r"(?<![a-z])(?:blog|posts|main|content)(?![a-z])", re.IGNORECASE)
_ARTICLE_LIKE = re.compile(r"post|entry|article|story|thread|news|item|card|blog|list", re.IGNORECASE)
_CANDIDATE_TAGS = frozenset({"article", "tr", "tbody", "li", "section", "div", "dl", "dd", "dt", "a", "p", "h2", "h3"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """A group of sibling blocks that may be the post list, and how likely it is."""

    members: tuple[LexborNode, ...]
    score: float


def posts(page: Page) -> list[Post]:
    """The posts of the best-scoring repeated block group; [] when the page has none."""
    best = candidate(page)
    if best is None:
        return []
    found = [post for member in best.members if (post := blocks.post(member, page)) is not None]
    dated = [post for post in found if post.date is not None]
    if len(dated) >= DATED_SHARE * len(found):
        return dated  # when nearly every block shows a date, one without is a pager or a header row
    return found


def candidate(page: Page) -> Candidate | None:
    """The sibling group most likely to be the page's post list.

    A group whose blocks hold another good candidate (page columns holding the list) gives way
    to that inner group: a post list is the innermost repetition.
    """
    if page.body is None:
        return None
    candidates: list[Candidate] = []
    for parent in page.body.traverse():
        if not parent.is_element_node:
            continue
        for members in _groups(parent):
            scored = _score(parent, members, page) if len(members) >= MIN_POSTS else None
            if scored is not None:
                candidates.append(scored)
    if not candidates:
        return None
    best = max(candidates, key=lambda c: c.score)
    while (inner := _inner(best, candidates)) is not None:
        best = inner
    return best


def _inner(outer: Candidate, candidates: list[Candidate]) -> Candidate | None:
    """The best candidate nested inside ``outer``'s blocks that scores at least INNER_SHARE of it."""
    blocks_of_outer = {member.mem_id for member in outer.members}
    nested = [
        c
        for c in candidates
        if c is not outer and c.score >= INNER_SHARE * outer.score and _inside_any(c.members[0], blocks_of_outer)
    ]
    return max(nested, key=lambda c: c.score, default=None)


def _inside_any(node: LexborNode, ancestors: set[int]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id in ancestors:
            return True
        parent = parent.parent
    return False


def _groups(parent: LexborNode) -> list[list[LexborNode]]:
    """``parent``'s children grouped by tag and the classes most siblings of that tag share.

    Classes that vary from post to post (``category-news``, ``post-412``) do not split a group.
    """
    by_tag: dict[str, list[LexborNode]] = {}
    for child in parent.iter():
        if child.is_element_node and child.tag in _CANDIDATE_TAGS:
            by_tag.setdefault(child.tag or "", []).append(child)
    groups: list[list[LexborNode]] = []
    for tag, children in by_tag.items():
        if len(children) < MIN_POSTS:
            continue
        counts = Counter(c for child in children for c in set(_classes(child)))
        shared = {c for c, n in counts.items() if n >= 0.7 * len(children)}
        keyed: dict[tuple[str, frozenset[str]], list[LexborNode]] = {}
        for child in children:
            keyed.setdefault((tag, frozenset(_classes(child)) & shared), []).append(child)
        groups.extend(keyed.values())
    return groups


def _classes(node: LexborNode) -> list[str]:
    return (node.attributes.get("class") or "").split()


def _score(parent: LexborNode, members: list[LexborNode], page: Page) -> Candidate | None:
    linked = [m for m in members if _has_link(m, page)]
    if len(linked) < MIN_POSTS or len(linked) < 0.6 * len(members):
        return None
    sample = linked[:SAMPLE]  # the statistics of a long list are those of its first blocks
    texts = [member.text(deep=True, separator=" ", strip=True) for member in sample]
    average = sum(min(len(text), 600) for text in texts) / len(texts)
    if average < 4:
        return None
    score = len(linked) * math.sqrt(average)
    first = linked[0]
    if first.tag == "article" or first.css_first("article") is not None:
        score *= 2.5
    if _ARTICLE_LIKE.search(_names(first)):
        score *= 1.5
    if sum(1 for m in sample if m.css_first(blocks.HEADINGS) is not None) >= len(sample) / 2:
        score *= 1.5
    dated = sum(1 for text in texts if shown_dates.find(text, page.now, page.zone) is not None)
    if dated >= len(sample) / 2:
        score *= 2.0
    links = sum(len(member.css("a[href]")) for member in sample) / len(sample)
    if links > MAX_LINKS:
        score *= 0.1  # a layout container holding the whole list, not one post
    if len(linked) == MIN_POSTS:
        score *= 0.5
    if first.tag == "a" or average < 12:
        score *= 0.3  # bare link lists: tag clouds, pagers, menus
    if _is_furniture(parent) or _FURNITURE.search(_names(first)):
        score *= 0.05
    return Candidate(tuple(linked), score)


def _has_link(member: LexborNode, page: Page) -> bool:
    """The member holds (or is) a link to somewhere: not ``javascript:``, not empty."""
    return any(page.link(a.attributes.get("href")) is not None for a in member.css("a[href]"))


def _is_furniture(node: LexborNode | None) -> bool:
    """Inside navigation, a sidebar, a footer...; a ``widget Blog`` (Blogger's main list) is not furniture."""
    while node is not None and node.tag not in ("body", "html"):
        names = _names(node)
        if node.tag in _FURNITURE_TAGS or (_FURNITURE.search(names) and not _MAIN_LIST.search(names)):
            return True
        node = node.parent
    return False


def _names(node: LexborNode) -> str:
    return f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''} {node.attributes.get('role') or ''}"
