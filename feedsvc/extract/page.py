"""One snapshot as the layouts read it: its text lines, or its parsed HTML tree, made once on demand.

Every layout takes a ``Page``: the text layouts read ``page.lines``; the HTML ones read
``page.tree`` (selectolax's Lexbor parser, scripts and styles removed), ``page.json_ld``
(the page's ``application/ld+json`` blocks, kept before the scripts go), ``page.scripts`` (the
other inline scripts, kept the same way, for the state they embed) and ``page.base``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser, LexborNode

from feedsvc.extract import dates
from feedsvc.extract.lines import HTML_TYPES, INVISIBLE_TAGS, Line
from feedsvc.extract.lines import lines as page_lines
from feedsvc.model import Snapshot
from feedsvc.urls import absolute

_FEED_TYPES = ("application/atom+xml", "application/rss+xml", "application/feed+json")


@dataclass(frozen=True, slots=True)
class Script:
    """An inline ``<script>`` as the page wrote it: its ``type`` (lower case, "" when absent), ``id`` and text."""

    type: str
    id: str
    text: str


class Page:
    """A snapshot plus what reading it needs: the source's zone and, when configured, CSS selectors."""

    def __init__(self, snapshot: Snapshot, zone: ZoneInfo, selectors: object | None = None) -> None:
        self.snapshot = snapshot
        self.zone = zone
        self.selectors = selectors
        self._links: dict[str, str | None] = {}

    @property
    def now(self) -> datetime:
        """The fetch time: what relative dates (``3天前``) count back from."""
        return self.snapshot.fetched_at

    @property
    def is_html(self) -> bool:
        return self.snapshot.media_type.partition(";")[0].strip().lower() in HTML_TYPES

    @cached_property
    def lines(self) -> list[Line]:
        return page_lines(self.snapshot)

    @cached_property
    def _parsed(self) -> tuple[LexborHTMLParser, list[str], list[Script], int]:
        tree = LexborHTMLParser(self.snapshot.text.removeprefix("\ufeff"))
        json_ld = [node.text(deep=True) for node in tree.css('script[type="application/ld+json"]')]
        script_count = len(tree.css("script")) - len(json_ld)
        scripts = [
            Script((node.attributes.get("type") or "").strip().lower(), node.attributes.get("id") or "", text)
            for node in tree.css("script:not([src])")
            if node.attributes.get("type") != "application/ld+json" and (text := node.text(deep=True)).strip()
        ]
        tree.strip_tags(sorted(INVISIBLE_TAGS))
        return tree, json_ld, scripts, script_count

    @property
    def tree(self) -> LexborHTMLParser:
        return self._parsed[0]

    @property
    def json_ld(self) -> list[str]:
        return self._parsed[1]

    @property
    def scripts(self) -> list[Script]:
        """The inline scripts other than JSON-LD, in page order (empty on a text page)."""
        return self._parsed[2] if self.is_html else []

    @property
    def script_count(self) -> int:
        """How many scripts the page runs (``<script>`` elements but JSON-LD data), counted before they go."""
        return self._parsed[3]

    @cached_property
    def body(self) -> LexborNode | None:
        return self.tree.body if self.is_html else None

    @cached_property
    def base(self) -> str:
        """The URL links are resolved against: ``<base href>`` (itself resolved) or the page's URL."""
        node = self.tree.css_first("base[href]") if self.is_html else None
        href = node.attributes.get("href") if node is not None else None
        return absolute(self.snapshot.url, href) or self.snapshot.url

    def link(self, href: str | None) -> str | None:
        """``href`` made absolute against the page; None for empty or script links. Pages repeat links: cached."""
        if href is None:
            return None
        if href not in self._links:
            self._links[href] = absolute(self.base, href)
        return self._links[href]

    @cached_property
    def text_size(self) -> int:
        """Characters of visible text in the body: what a part of the page is measured against."""
        return len(self.body.text(deep=True, separator=" ", strip=True)) if self.body is not None else 0

    @cached_property
    def languages(self) -> tuple[str, ...]:
        """The language the page declares (``<html lang>``, else ``content-language``), as dates.py reads it;
        for a page that declares none, the languages its script suggests."""
        if not self.is_html:
            return ()
        node = self.tree.css_first("html[lang]")
        tag = node.attributes.get("lang") if node is not None else None
        if not tag:
            meta = self.tree.css_first("meta[http-equiv][content]")
            if meta is not None and (meta.attributes.get("http-equiv") or "").lower() == "content-language":
                tag = meta.attributes.get("content")
        if tag:
            return dates.languages_of(tag)
        body = self.body
        return dates.languages_of_text(body.text(deep=True, separator=" ") if body is not None else "")

    @cached_property
    def feed_url(self) -> str | None:
        """The feed the page itself announces with ``<link rel=alternate>``, if any."""
        if not self.is_html:
            return None
        for node in self.tree.css("link[rel][href]"):
            rel = (node.attributes.get("rel") or "").lower().split()
            kind = (node.attributes.get("type") or "").lower()
            if "alternate" in rel and kind.startswith(_FEED_TYPES):
                return self.link(node.attributes.get("href"))
        return None
