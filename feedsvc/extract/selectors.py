"""The ``selectors`` layout: CSS selectors from the source's config say where posts and their parts are.

[sources.selectors]
item = "article.post"          required: one element per post
title = "h2 a"                 each of these is optional and relative to the item;
link = "h2 a"                  a missing one is found by the usual cues (see blocks.py)
date = "time"
summary = ".excerpt"
author = ".author"
categories = ".tags a"        one element per category or tag
"""

from __future__ import annotations

from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from feedsvc.errors import ExtractError
from feedsvc.extract import blocks
from feedsvc.extract.page import Page
from feedsvc.model import Post

FIELDS = ("item", "title", "link", "date", "summary", "author", "categories")


@dataclass(frozen=True, slots=True)
class Selectors:
    """A source's CSS selectors; ``item`` is required, the rest relative to it."""

    item: str
    title: str | None = None
    link: str | None = None
    date: str | None = None
    summary: str | None = None
    author: str | None = None
    categories: str | None = None

    @property
    def fields(self) -> blocks.Fields:
        return blocks.Fields(
            title=self.title,
            link=self.link,
            date=self.date,
            summary=self.summary,
            author=self.author,
            categories=self.categories,
        )


def invalid(selector: str) -> str | None:
    """Why ``selector`` is not a CSS selector Lexbor understands, or None when it is one."""
    if not selector.strip():
        return "empty selector"
    try:
        LexborHTMLParser("<p></p>").css(selector)
    except SelectolaxError as exc:
        return str(exc)
    return None


def posts(page: Page) -> list[Post]:
    """Every post the item selector picks out, in page order."""
    selectors = page.selectors
    if not isinstance(selectors, Selectors):
        raise ExtractError("layout 'selectors' needs a [sources.selectors] table with at least 'item'")
    if page.body is None:
        return []
    found = (blocks.post(item, page, selectors.fields) for item in page.body.css(selectors.item))
    return [post for post in found if post is not None]
