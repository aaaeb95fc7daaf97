"""Entries -> JSON Feed 1.1 (https://jsonfeed.org/version/1.1) bytes. feedgen has no JSON Feed.

    json_feed(source, entries, base_url, tag_authority, icon=, hub=) -> bytes

Pure and deterministic like ``feeds.atom``: the same entries give the same bytes. Item ids
are the Atom entry ids, so a reader switching formats sees the same posts. Text summaries
go out as ``content_text``; HTML summaries, cleaned by ``sanitize.html``, as ``content_html``.
An entry with its full text (``full_text``) has that, cleaned, as ``content_html``, and its
teaser as the plain-text ``summary``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from feedsvc.config import Source
from feedsvc.feeds.formats import (
    UNTITLED,
    categories,
    content_html,
    entry_id,
    entry_link,
    feed_url,
    home_page,
    published,
)
from feedsvc.feeds.sanitize import html, plain, text_of_html, xml_text
from feedsvc.model import Entry
from feedsvc.urls import link

VERSION = "https://jsonfeed.org/version/1.1"


def json_feed(
    source: Source,
    entries: Sequence[Entry],
    base_url: str,
    tag_authority: str,
    icon: str | None = None,
    hub: str | None = None,
) -> bytes:
    """Render one source's entries as a JSON Feed 1.1 document (UTF-8)."""
    title = plain(source.title) or source.name
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": title,
        "home_page_url": home_page(source, base_url),
        "feed_url": feed_url(base_url, source.name, "json"),
    }
    page = link(source.public_url)
    if page:  # never a local path, a secret source's URL or a password
        feed["description"] = f"Posts listed on {page}"
    icon = link(icon)
    if icon:
        feed["icon"] = feed["favicon"] = icon
    feed["authors"] = [{"name": title}]
    language = plain(source.language).replace("_", "-")
    if language:
        feed["language"] = language
    if link(hub):
        feed["hubs"] = [{"type": "WebSub", "url": link(hub)}]
    feed["items"] = [_item(source, entry, tag_authority, base_url) for entry in entries]
    return json.dumps(feed, ensure_ascii=False, indent=1).encode("utf-8")


def _item(source: Source, entry: Entry, tag_authority: str, base_url: str) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry_id(source, entry, tag_authority)}
    item["url"] = entry_link(source, entry, base_url)  # the page it was listed on when it has no link
    item["title"] = plain(entry.title) or UNTITLED
    full = content_html(entry)
    if full:
        teaser = text_of_html(entry.summary) if entry.summary_html else plain(entry.summary)
        if teaser:
            item["summary"] = teaser
        item["content_html"] = full
    elif entry.summary_html:
        item["content_html"] = html(entry.summary)
    else:
        item["content_text"] = xml_text(entry.summary)
    if entry.published is not None:
        item["date_published"] = _rfc3339(published(source, entry))
    item["date_modified"] = _rfc3339(entry.updated)
    author = plain(entry.author or "")
    if author:
        item["authors"] = [{"name": author}]
    tags = categories(entry)
    if tags:
        item["tags"] = tags
    return item


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: feeds need aware datetimes")
    if moment.utcoffset():  # a source's own zone (published): kept, with its offset
        return moment.replace(microsecond=0).isoformat()
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
