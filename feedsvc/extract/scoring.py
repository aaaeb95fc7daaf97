"""How likely a group of repeated records is the page's post list: a score and the reasons for it.

The base is the main-content mass the group holds: its linked records times the square root
of their average text. Then factors: up for article-like records (``<article>``, post/entry
classes, a heading, a date shown in most records); down for records that are whole layout
columns (many links each), lists of bare or one-word links (tag clouds, label and archive
widgets, menus, pagers, author lists), and anything inside navigation, headers, footers,
sidebars or widgets.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

from feedsvc.extract import blocks, dates
from feedsvc.extract.page import Page
from feedsvc.extract.records import Group, Key, Record, classes, width

SAMPLE = 30
LINK_SAMPLE = 100
MAX_LINKS = 8  # a post holds few links (title, author, category, comments); a layout block many
LONG_LINK = 24  # a link text this wide reads as a title; a record holding many such links holds a list
MAX_TITLE_LINKS = 3
HOLDS_MOST = 0.4
MIN_TITLE = 12  # width of a typical post title at least (CJK characters count twice)
_FURNITURE_TAGS = frozenset({"nav", "header", "footer", "aside", "menu", "select"})
_FURNITURE = re.compile(
    r"(?<![a-z])(?:nav|navbar|menu|footer|sidebar|side-bar|widget|comment|reply|tag|cloud|popular|hot|related|"
    r"recommend|breadcrumb|pagination|pager|page-numbers|paging|share|social|friend|links|blogroll|categor|toc|"
    r"online|stats|legend|login|banner|masthead)",
    re.IGNORECASE,
)
_NOT_A_POST = re.compile(  # a record's own class that says it is no post (a list's own classes vary more)
    r"(?<![a-z])(?:nav|menu|widget|comment|reply|breadcrumb|pagination|pager|page-numbers|paging|share|social|tag|"
    r"cloud|footer|sidebar)",
    re.IGNORECASE,
)
_POST = re.compile(r"(?<![a-z])(?:post|entry|hentry|article|story|type-post)(?![a-z])", re.IGNORECASE)
_MAIN_AREA = re.compile(  # one id or class token: main, content, site-main, main-content, content-area...
    r"(?:site-|page-)?(?:main|content|primary)(?:[-_]?(?:content|area|column|col|wrap|wrapper|inner|main))?",
    re.IGNORECASE,
)
_MAIN_LIST = re.compile(r"(?<![a-z])(?:blog|posts|main|content)(?![a-z])", re.IGNORECASE)
_ARTICLE_LIKE = re.compile(r"post|entry|article|story|thread|topic|news|item|card|blog|list|teaser", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A group of records that may be the post list, how likely it is and why."""

    records: tuple[Record, ...]
    score: float
    key: Key
    tag_path: tuple[str, ...]
    path: str
    order: int
    furniture: bool
    parent_key: Key = ("", frozenset())
    factors: tuple[str, ...] = field(default=())


def score(group: Group, page: Page, order: int = 0) -> Candidate | None:
    """The group as a candidate list; None when its records lack links or text."""
    shown = [record for record in group.records if any(_text(node) for node in record)]
    # the statistics of a long list are those of its first records; a long list's links are counted
    # on its first LINK_SAMPLE records too
    looked = shown[:LINK_SAMPLE]
    linked_looked = [record for record in looked if has_link(record, page)]
    count = round(len(linked_looked) * len(shown) / len(looked)) if looked else 0
    if len(linked_looked) < 2 or len(linked_looked) < 0.6 * len(looked):
        return None
    sample = linked_looked[:SAMPLE]
    texts = [" ".join(_text(node) for node in record) for record in sample]
    average = sum(min(len(text), 600) for text in texts) / len(texts)
    if average < 4:
        return None
    factors: list[str] = [f"{count} records x sqrt(avg text {average:.0f})"]
    value = count * math.sqrt(average)

    def factor(times: float, reason: str) -> None:
        nonlocal value
        value *= times
        factors.append(f"x{times:g} {reason}")

    first = linked_looked[0][0]
    if first.tag == "article" or first.css_first("article") is not None:
        factor(2.5, "article element")
    if _ARTICLE_LIKE.search(_names(first)):
        factor(1.5, "post-like class")
    if sum(1 for record in sample if any(n.css_first(blocks.HEADINGS) for n in record)) >= len(sample) / 2:
        factor(1.5, "headings")
    dated = sum(1 for text in texts if dates.find(text, page.now, page.zone, page.languages) is not None)
    if dated >= len(sample) / 2:
        factor(2.0, "dates shown")
    alike_records = alike(sample)
    anchors = [a for record in sample for node in record for a in node.css("a[href]")]
    links = len(anchors) / len(sample)
    titles = sum(1 for a in anchors if width(_text(a)) >= LONG_LINK) / len(sample)
    if links > MAX_LINKS and titles > MAX_TITLE_LINKS and not alike_records:
        factor(0.1, f"{links:.0f} links, {titles:.0f} with long texts, per record: a layout block")
    if count == 2:
        factor(0.5, "only two records")
    link_width = statistics.median(width(_main_link_text(record)) for record in sample)
    if first.tag == "a" or average < 12:
        factor(0.3, "bare links")
    elif link_width < MIN_TITLE:
        factor(0.3, f"short link texts ({link_width:.0f})")
    own = _names(first)
    furniture = is_furniture(group.parent, page) or bool(_NOT_A_POST.search(own) and not _POST.search(own))
    if furniture:
        factor(0.05, "navigation, sidebar or widget")
    elif _in_main(group.parent):
        factor(2.0, "inside the page's main content")
    return Candidate(
        records=tuple(shown),
        score=value,
        key=group.key,
        tag_path=_tag_path(group.parent),
        path=_describe(group),
        order=order,
        furniture=furniture,
        parent_key=(group.parent.tag or "", frozenset(classes(group.parent))),
        factors=tuple(factors),
    )


def title_like(text: str) -> bool:
    """Wide enough to be a post's title (not a pager's "Next", a count, a user name)."""
    return (width(text) >= MIN_TITLE and len(text.split()) >= 2) or width(text) >= 2 * MIN_TITLE


def lone_post(node: LexborNode, page: Page) -> bool:
    """A single block that reads as a post: a title-long link, no class saying it is a pager or a widget."""
    own = _names(node)
    if _NOT_A_POST.search(own) and not _POST.search(own):
        return False
    return has_link((node,), page) and width(_main_link_text((node,))) >= MIN_TITLE


def alike(records: Sequence[Record]) -> bool:
    """The records are built alike and each has a title-long link: posts, not the parts of one."""
    sample = records[:SAMPLE]
    shapes = Counter(_shape(record) for record in sample)
    titled = sum(1 for record in sample if width(_main_link_text(record)) >= MIN_TITLE)
    return shapes.most_common(1)[0][1] >= 0.6 * len(sample) and titled >= 0.8 * len(sample)


def _shape(record: Record) -> tuple[str, ...]:
    """The record's rows by tag, their children by tag and classes (a row's own classes vary by post)."""
    return tuple(
        f"{node.tag}>{child.tag}.{'.'.join(sorted(classes(child)))}" for node in record for child in node.iter()
    )


def has_link(record: Record, page: Page) -> bool:
    """The record holds (or is) a link to somewhere: not ``javascript:``, not empty."""
    return any(page.link(a.attributes.get("href")) is not None for node in record for a in node.css("a[href]"))


def _main_link_text(record: Record) -> str:
    return max((_text(a) for node in record for a in node.css("a[href]")), key=width, default="")


def is_furniture(node: LexborNode | None, page: Page) -> bool:
    """Inside navigation, a sidebar, a footer...; a ``widget Blog`` (a blog's main list) is not furniture."""
    while node is not None and node.tag not in ("body", "html"):
        names = _names(node)
        if node.tag in _FURNITURE_TAGS and not _holds_most(node, page):
            return True
        if _FURNITURE.search(names) and not _MAIN_LIST.search(names):
            return True
        node = node.parent
    return False


def _in_main(node: LexborNode | None) -> bool:
    """Inside ``<main>``, ``role=main`` or an element named main, content or primary."""
    while node is not None and node.tag not in ("body", "html"):
        if node.tag == "main" or node.attributes.get("role") == "main":
            return True
        tokens = f"{node.attributes.get('id') or ''} {node.attributes.get('class') or ''}".split()
        if any(_MAIN_AREA.fullmatch(token) for token in tokens):
            return True
        node = node.parent
    return False


def _holds_most(node: LexborNode, page: Page) -> bool:
    """A ``<header>`` (or ``<nav>``...) that holds much of the page's text is the page, not its furniture."""
    return len(_text(node)) > HOLDS_MOST * page.text_size


def _tag_path(node: LexborNode | None) -> tuple[str, ...]:
    path = []
    while node is not None and node.tag not in ("body", "html"):
        path.append(node.tag or "")
        node = node.parent
    return tuple(path)


def _describe(group: Group) -> str:
    tag, names = group.key
    parent = group.parent
    ident = parent.attributes.get("id")
    names_of_parent = (parent.attributes.get("class") or "").split()[:2]
    where = f"{parent.tag}#{ident}" if ident else ".".join([parent.tag or "", *names_of_parent])
    rows = f" (+{group.rows - 1} row(s) each)" if group.rows > 1 else ""
    return f"{where} > {'.'.join([tag, *sorted(names)])}{rows}"


def _names(node: LexborNode) -> str:
    return f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''} {node.attributes.get('role') or ''}"


def _text(node: LexborNode) -> str:
    return node.text(deep=True, separator=" ", strip=True)
