"""The ``json_ld`` detector: posts the page declares in ``<script type="application/ld+json">``.

Reads ``BlogPosting`` / ``Article`` / ``NewsArticle`` / ``SocialMediaPosting`` objects (and their
subtypes), a ``Blog``'s ``blogPost`` list and ``ItemList`` elements: a ``ListItem`` whose ``item`` is
an object, or a URL (titled by the ``ListItem``'s ``name``), or one with a ``url`` only (titled then by
the text of the page's links to it). ``@graph``, ``mainEntity`` and ``hasPart`` are followed; types
may be written ``schema:BlogPosting`` or as a URL; titles written as HTML are read as text; a broken
block is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from feedsvc.extract import dates, titles
from feedsvc.extract.lines import fold
from feedsvc.extract.page import Page
from feedsvc.model import Post

ARTICLE_TYPES = frozenset(
    {
        "BlogPosting", "Article", "NewsArticle", "SocialMediaPosting", "TechArticle", "Report", "LiveBlogPosting",
        "ScholarlyArticle", "DiscussionForumPosting", "AnalysisNewsArticle", "OpinionNewsArticle",
        "ReportageNewsArticle", "BackgroundNewsArticle", "ReviewNewsArticle", "AskPublicNewsArticle", "PodcastEpisode",
    }
)  # fmt: skip


def posts(page: Page) -> list[Post]:
    """The articles the page's JSON-LD lists, in the order it lists them (each link once)."""
    if not page.is_html:
        return []
    found: list[Post] = []
    links: set[str] = set()
    for block in page.json_ld:
        try:
            data = json.loads(block)
        except ValueError:
            continue
        for thing in _articles(data):
            post = _post(thing, page)
            if post is not None and (post.link is None or post.link not in links):
                found.append(post)
                links.add(post.link or "")
    return found


def _articles(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _articles(item)
        return
    if not isinstance(data, dict):
        return
    types = {_type_name(kind) for kind in _list(data.get("@type"))}
    if "@graph" in data:
        yield from _articles(data["@graph"])
    if types & ARTICLE_TYPES:
        yield data
    if "ItemList" in types:
        for element in _list(data.get("itemListElement")):
            item = element.get("item", element) if isinstance(element, dict) else element
            if isinstance(item, str):
                yield {"url": item, "name": element.get("name") if isinstance(element, dict) else None}
            elif isinstance(item, dict):
                yield {**({"url": element.get("url")} if isinstance(element, dict) else {}), **item}
    for key in ("blogPost", "blogPosts", "hasPart", "mainEntity"):
        if key in data and not isinstance(data[key], str):
            yield from _articles(data[key])


def _post(thing: dict[str, Any], page: Page) -> Post | None:
    link = page.link(_string(thing.get("url") or thing.get("@id") or thing.get("mainEntityOfPage")))
    title = titles.plain(_string(thing.get("headline") or thing.get("name")) or "")
    if not title and link is not None:
        title = _anchor_texts(page).get(link, "")
    if not title:
        return None
    shown = _string(thing.get("datePublished") or thing.get("dateCreated"))
    date = dates.parse(shown, page.now, page.zone, page.languages) if shown else None
    return Post(
        title=title,
        summary=titles.plain(_string(thing.get("description") or thing.get("abstract")) or ""),
        date=date.date if date is not None else None,
        author=_author(thing.get("author")),
        link=link,
        date_shown=shown if date is not None else None,
    )


def _anchor_texts(page: Page) -> dict[str, str]:
    texts: dict[str, str] = {}
    if page.body is not None:
        for anchor in page.body.css("a[href]"):
            link = page.link(anchor.attributes.get("href"))
            text = fold(anchor.text(deep=True, separator=" ", strip=True))
            if link is not None and len(text) > len(texts.get(link, "")):
                texts[link] = text
    return texts


def _author(value: Any) -> str | None:
    names = [_string(item.get("name") if isinstance(item, dict) else item) for item in _list(value)]
    joined = ", ".join(fold(name) for name in names if name)
    return joined or None


def _type_name(kind: Any) -> str:
    """``schema:BlogPosting`` and ``https://schema.org/BlogPosting`` -> ``BlogPosting``."""
    return kind.rpartition("/")[2].rpartition(":")[2] if isinstance(kind, str) else ""


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _string(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url") or value.get("name")
    return value.strip() if isinstance(value, str) and value.strip() else None
