"""A snapshot as lines of text, the one shape every layout reads.

Plain text is split as it stands. HTML is rendered the way a browser's text rendering
breaks it: every block element (and ``<br>``) starts a new line, inline text is joined,
whitespace is folded, scripts and the like are dropped. Each line keeps the absolute URL
of the first link whose text is on it, so a post's title line carries the post's link.
Empty lines of HTML are not kept: they carry no structure the layouts use.

HTML is parsed with lxml (libxml2), not an HTML5 tree builder: its run time stays linear
however deeply a broken page nests, where HTML5 scope checks turn quadratic in depth.
It stops reading below 2048 levels of nesting, far deeper than any real page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from feedsvc.errors import ExtractError
from feedsvc.model import Snapshot
from feedsvc.urls import absolute

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# Elements a browser lays out as blocks (HTML Living Standard, "Rendering"), plus table rows.
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog",
        "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "listing", "main", "menu", "nav", "ol",
        "p", "plaintext", "pre", "search", "section", "summary", "table", "tbody", "tfoot", "thead", "tr",
        "ul", "xmp",
    }
)  # fmt: skip
_CELLS = frozenset({"td", "th"})
INVISIBLE_TAGS = frozenset(  # elements whose content a reader never sees as text: the one list of them
    {"script", "style", "noscript", "template", "iframe", "object", "embed", "canvas", "svg", "math"}
)
_HIDDEN = INVISIBLE_TAGS | {"head"}
_PREFORMATTED = frozenset({"pre", "listing", "plaintext", "textarea", "xmp"})
_SPACE = re.compile(r"[ \t\n\r\f\xa0]+")  # HTML's whitespace, and nbsp (copied text has spaces); U+3000 is text
_NEWLINE = re.compile(r"\r\n|\r|\n")
_BOM = "\ufeff"
_READ_MORE = re.compile(r"点击阅读全文[.…»>\s]*")
_FOOTER = re.compile(r"最近评论[:\uff1a]?")  # optional ASCII or full-width colon


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a snapshot's text; ``href`` is the absolute URL of its first link."""

    text: str
    href: str | None = None


def fold(text: str) -> str:
    """Text stripped, every run of whitespace made one space: how titles and names are kept."""
    return " ".join(text.split())


def is_read_more(text: str) -> bool:
    """``点击阅读全文...``: the link that ends a post's excerpt on the listing."""
    return _READ_MORE.fullmatch(text.strip()) is not None


def is_footer(text: str) -> bool:
    """``最近评论`` (recent comments): where the listing ends and the sidebar begins."""
    return _FOOTER.fullmatch(text.strip()) is not None


def lines(snapshot: Snapshot) -> list[Line]:
    """The snapshot's text, line by line: rendered for HTML, as is for plain text."""
    media_type = snapshot.media_type.partition(";")[0].strip().lower()
    if media_type in HTML_TYPES:
        return html_lines(snapshot.text, snapshot.url)
    return text_lines(snapshot.text)


def text_lines(text: str) -> list[Line]:
    """One Line per line of plain text (``\\n``, ``\\r\\n`` or ``\\r``); a final newline ends, not starts, a line."""
    text = text.removeprefix(_BOM)
    if not text:
        return []
    parts = _NEWLINE.split(text)
    if parts[-1] == "":
        parts.pop()
    return [Line(part) for part in parts]


def html_lines(markup: str, url: str) -> list[Line]:
    """Render HTML to non-empty lines; links are made absolute against ``url`` and ``<base href>``."""
    # Bytes with an explicit encoding: the text is already decoded, whatever its <meta charset> says.
    data = markup.removeprefix(_BOM).encode("utf-8", errors="replace")
    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = etree.fromstring(data, parser) if data.strip() else None
    except etree.LxmlError as exc:
        raise ExtractError(f"unreadable HTML: {exc}") from None
    if root is None:
        return []
    bases = root.xpath("//base[@href]/@href")
    base = (absolute(url, str(bases[0])) if bases else None) or url
    return _Renderer(base).render(root)


class _Renderer:
    """Collects text into lines while the tree is walked once, start and end tags in order."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.lines: list[Line] = []
        self._parts: list[str] = []
        self._href: str | None = None
        self._anchors: list[str | None] = []  # raw href of each open <a>, resolved when a line takes it
        self._resolved: dict[str, str | None] = {}
        self._preformatted = 0

    def render(self, root: etree._Element) -> list[Line]:
        walker = etree.iterwalk(root, events=("start", "end"))
        for event, element in walker:
            tag = element.tag if isinstance(element.tag, str) else ""
            if event == "start":
                if tag in _HIDDEN:
                    walker.skip_subtree()
                else:
                    self._start(tag, element)
            else:
                if tag not in _HIDDEN:
                    self._end(tag)
                self._text(element.tail)
        self._newline()
        return self.lines

    def _start(self, tag: str, element: etree._Element) -> None:
        if tag in _BLOCKS or tag == "br":
            self._newline()
        elif tag in _CELLS:
            self._parts.append(" ")
        if tag == "a":
            self._anchors.append(element.get("href"))
        if tag in _PREFORMATTED:
            self._preformatted += 1
        self._text(element.text)

    def _end(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._newline()
        if tag == "a" and self._anchors:
            self._anchors.pop()
        if tag in _PREFORMATTED:
            self._preformatted -= 1

    def _newline(self) -> None:
        """End the current line; keep it when it holds any text."""
        text = _SPACE.sub(" ", "".join(self._parts)).strip(" ")
        if text:
            self.lines.append(Line(text, self._href))
        self._parts.clear()
        self._href = None

    def _text(self, text: str | None) -> None:
        if not text:
            return
        pieces = _NEWLINE.split(text) if self._preformatted else [text]
        for index, piece in enumerate(pieces):
            if index:
                self._newline()
            if not piece:
                continue
            self._parts.append(piece)
            if self._href is None and self._anchors and not _SPACE.fullmatch(piece):
                self._href = self._link(self._anchors[-1])  # stays None past a javascript: link

    def _link(self, href: str | None) -> str | None:
        """``href`` made absolute, once per distinct value: pages repeat links, and urljoin is slow."""
        if href is None:
            return None
        if href not in self._resolved:
            self._resolved[href] = absolute(self.base, href)
        return self._resolved[href]


