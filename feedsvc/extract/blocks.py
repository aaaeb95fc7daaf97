"""One post from one HTML block (an ``<article>``, a ``<li>``, a table row): title, link, date, author, summary.

Each field comes from a CSS selector when the source gives one, else from what such blocks
usually hold: the title is the heading's link (else the block's most telling link), the date a
``<time datetime>`` or the first date in the block's text, the author a ``rel=author`` /
``.author`` element, the categories ``rel=tag`` / ``.tags a`` links, the summary an excerpt
element or the block's paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from selectolax.lexbor import LexborNode

from feedsvc.extract import dates, titles
from feedsvc.extract.day_month import derived_title
from feedsvc.extract.lines import fold
from feedsvc.extract.page import Page
from feedsvc.model import Post

HEADINGS = "h1, h2, h3, h4, h5, h6"
TITLE_LINKS = f"{', '.join(f'{h} a[href]' for h in HEADINGS.split(', '))}, a[href][rel=bookmark], .title a[href]"
_TITLES = (
    f"{HEADINGS}, [itemprop~=headline], [itemprop~=name], .title, .entry-title, .post-title, .p-name, "
    "[class$=-title], [class$=_title]"
)
_AUTHORS = (
    "[rel~=author], [itemprop~=author], .p-author, .author, .post-author, .byline a, .by a, .username, "
    "a[href*='/author/'], a[href*='/authors/'], a[href*='space-uid-']"
)
_CATEGORIES = (
    "a[rel~=tag], a[rel~=category], .p-category, .tags a, .tag-links a, .cat-links a, .categories a, "
    ".post-categories a, .post-tags a, [itemprop~=keywords] a"
)
_SUMMARIES = (
    ".p-summary, .summary, .excerpt, .entry-summary, .post-excerpt, .post-summary, .entry-content, "
    ".post-content, .e-content, [itemprop~=description], [itemprop~=articleBody], .content, .desc, .description, "
    "[class*=excerpt], [class*=summary], [class*=intro], [class*=digest], [class*=abstract], [class*=desc], "
    ".teaser, [class$=-teaser], [class$=__teaser], .lead, [class$=-lead], [class$=__lead]"
)
_META_CLASS = re.compile(r"(?<![a-z])(?:meta|byline|info|date|time|tags?|categor)", re.IGNORECASE)
_MOST_OF_TITLE = 0.4
_LABEL = re.compile(r".{0,16}[:\uff1a]|")  # "Title:", "Summary:", or nothing
_DATE_PLACES = "[class*=date], [class*=time], [class*=posted], [class*=publish], [class*=meta], [class*=byline]"
_META_TAGS = frozenset({"footer", "time"})
_BYLINE_PREFIX = re.compile(r"^(?:(?:posted|written|published)\s+)?by\s+|^(?:作者|发布者|发表者)\s*[:\uff1a]?\s*", re.I)
_PHRASES = r"阅读剩余部分|read more|continue reading|阅读全文|点击阅读全文|继续阅读|阅读更多|查看全文"
_DASHES = "-\u2013\u2014"  # hyphen, en and em dash
_TRAILER = f"[{_DASHES}.\u2026\u00bb>\u203a\\s]*$"  # dots, ellipsis, guillemet, angle quote
_READ_MORE = re.compile(f"[{_DASHES}\\s]*(?:{_PHRASES}|more)" + _TRAILER, re.IGNORECASE)  # a whole read-more link
_READ_MORE_TAIL = re.compile(f"\\s*(?:{_PHRASES})" + _TRAILER, re.IGNORECASE)  # one that ends an excerpt
_READ_MORE_START = re.compile(
    r"(?:read more|continue reading|keep reading|阅读全文|继续阅读|阅读更多|查看全文)\b", re.I
)
_PARAGRAPHS = "p, blockquote, li"


@dataclass(frozen=True, slots=True)
class Fields:
    """CSS selectors for one post's parts, relative to its item element; None: found by the usual cues."""

    title: str | None = None
    link: str | None = None
    date: str | None = None
    summary: str | None = None
    author: str | None = None
    categories: str | None = None


def post(
    record: LexborNode | Sequence[LexborNode], page: Page, fields: Fields = Fields(), title: LexborNode | None = None
) -> Post | None:
    """The post ``record`` shows; None when it has neither a title nor a link.

    A record is one block, or several sibling rows that make one post (a title row and a meta
    row, a ``dt`` and its ``dd``): the title comes from the first row that has one, the other
    fields from the first row that shows them.
    """
    rows = [record] if isinstance(record, LexborNode) else list(record)
    block = rows[0]
    title_node = next((node for row in rows if (node := _title_node(row, fields.title)) is not None), None)
    if title_node is None and not fields.title:
        title_node = title or next((node for row in rows if (node := _longest_link(row)) is not None), None)
    title = "" if title_node is None else fold(_text(title_node)) if fields.title else titles.clean(title_node)
    link = _link(block, title_node, fields.link, page)
    date_text, date = next(
        (found for row in rows if (found := _date(row, fields.date, page, exclude=title))[1] is not None), (None, None)
    )
    summary = next((text for row in rows if (text := _summary(row, fields.summary, title_node))), "")
    if date_text and summary == date_text:
        summary = ""  # a paragraph that only shows the date is no summary
    if not title and link is None:
        return None
    author = next((name for row in rows if (name := _author(row, fields.author))), None)
    return Post(
        title=title or (derived_title(summary.partition("\n")[0]) if summary else link or ""),
        summary=summary,
        date=date.date if date is not None else None,
        author=author,
        link=link,
        categories=tuple(dict.fromkeys(c for row in rows for c in _categories(row, fields.categories))),
        title_derived=not title,
        date_shown=date_text,
        date_relative=date is not None and date.how == "relative",
    )


def _title_node(block: LexborNode, selector: str | None) -> LexborNode | None:
    """The title element the block marks: the selector's, else a heading's link, a heading or a
    title element. Else (in ``post``) the link in the list's title column (columns.py), else the
    longest link not in the meta."""
    if selector:
        return block.css_first(selector)
    for query in (TITLE_LINKS, _TITLES):
        node = block.css_first(query)
        if node is not None and _text(node):
            return _link_inside(node) if query is _TITLES else node
    return None


def _link_inside(node: LexborNode) -> LexborNode:
    """A title element holding its post's link and more ("Title Started by: ann") is titled by the link."""
    whole = fold(_text(node))
    link = next((a for a in inside(node, "a[href]") if _text(a)), None)
    if link is None or _READ_MORE.match(text := fold(_text(link))):
        return node
    return link if whole.startswith(text) or len(text) >= _MOST_OF_TITLE * len(whole) else node


def _longest_link(block: LexborNode) -> LexborNode | None:
    links = [a for a in block.css("a[href]") if _text(a) and not _READ_MORE.match(_text(a)) and not _in_meta(a)]
    if block.tag == "a" and block.attributes.get("href"):
        links.insert(0, block)
    return max(links, key=lambda a: len(_text(a)), default=None)


def _link(block: LexborNode, title: LexborNode | None, selector: str | None, page: Page) -> str | None:
    if selector:
        node = block.css_first(selector)
        return page.link(_href(node)) if node is not None else None
    for node in (title, block):
        href = _href(node) if node is not None else None
        if href:
            return page.link(href)
    return None


def _href(node: LexborNode) -> str | None:
    """The node's own href, else its first link's, else its enclosing link's."""
    if node.attributes.get("href"):
        return node.attributes["href"]
    inner = node.css_first("a[href]")
    if inner is not None:
        return inner.attributes.get("href")
    parent = node.parent
    while parent is not None and parent.tag not in ("article", "li", "tr", "body"):
        if parent.tag == "a" and parent.attributes.get("href"):
            return parent.attributes["href"]
        parent = parent.parent
    return None


def _date(
    block: LexborNode, selector: str | None, page: Page, exclude: str
) -> tuple[str | None, dates.ShownDate | None]:
    nodes = block.css(selector) if selector else block.css("[datetime], [itemprop~=datePublished], .dt-published")
    for node in nodes:
        for text in (node.attributes.get("datetime"), node.attributes.get("content"), node.attributes.get("title")):
            if text and (found := dates.parse(text, page.now, page.zone, page.languages)) is not None:
                return fold(_text(node)) or text, found
        found = dates.find(_text(node), page.now, page.zone, page.languages)
        if found is not None:
            return found.text, found
    if selector:
        return None, None
    for node in block.css(_DATE_PLACES):  # a date in the post's meta line beats one quoted in its text
        if not _text(node) or inside(node, "p, li, blockquote, article, section"):
            continue
        found = dates.find(_text(node), page.now, page.zone, page.languages)
        if found is not None:
            return found.text, found
    text = _text(block)
    if exclude:
        text = text.replace(exclude, " ", 1)
    found = dates.find(text, page.now, page.zone, page.languages)
    return (found.text, found) if found is not None else (None, None)


def _author(block: LexborNode, selector: str | None) -> str | None:
    node = block.css_first(selector or _AUTHORS)
    if node is None:
        return None
    name = _BYLINE_PREFIX.sub("", fold(_text(node))).strip()
    return name or None


def _categories(block: LexborNode, selector: str | None) -> tuple[str, ...]:
    """The post's categories or tags, each once, in page order."""
    names = (fold(_text(node)).lstrip("#") for node in block.css(selector or _CATEGORIES))
    return tuple(dict.fromkeys(name for name in names if name))


def _summary(block: LexborNode, selector: str | None, title: LexborNode | None) -> str:
    if selector:
        node = block.css_first(selector)
    else:  # the first summary element that is no label ("Title:") and not part of the title
        node = next(
            (n for n in block.css(_SUMMARIES) if not _LABEL.fullmatch(fold(_text(n))) and not _contains(n, title)), None
        )
    if node is None and selector:
        return ""
    if node is None:
        paragraphs = [p for p in block.css("p") if not _in_meta(p) and not _contains(p, title)]
        return "\n".join(text for p in paragraphs if (text := _clean(p)))
    parts = [p for p in inside(node, _PARAGRAPHS) if not inside(p, _PARAGRAPHS)]
    if not parts:
        return _clean(node)
    return "\n".join(text for p in parts if (text := _clean(p)))


def _clean(node: LexborNode) -> str:
    text = fold(_text(node))
    if _READ_MORE.match(text) or _is_more_link(node, text):
        return ""
    return _READ_MORE_TAIL.sub("", text)


def _is_more_link(node: LexborNode, text: str) -> bool:
    """A paragraph that is nothing but a link starting ``Continue reading <title>``."""
    links = inside(node, "a[href]") if node.tag != "a" else [node]
    return len(links) == 1 and fold(_text(links[0])) == text and _READ_MORE_START.match(text) is not None


def _in_meta(node: LexborNode) -> bool:
    parent = node.parent
    for _ in range(4):
        if parent is None:
            return False
        if parent.tag in _META_TAGS or _META_CLASS.search(parent.attributes.get("class") or ""):
            return True
        parent = parent.parent
    return False


def _contains(outer: LexborNode, inner: LexborNode | None) -> bool:
    while inner is not None:
        if inner.mem_id == outer.mem_id:
            return True
        inner = inner.parent
    return False


def inside(node: LexborNode, selector: str) -> list[LexborNode]:
    """The descendants of ``node`` that match ``selector`` (Lexbor's ``css`` also matches the node itself)."""
    return [match for match in node.css(selector) if match.mem_id != node.mem_id]


def _text(node: LexborNode) -> str:
    return node.text(deep=True, separator=" ", strip=True)
