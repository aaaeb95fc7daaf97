"""Entries -> Atom 1.0 (RFC 4287) and RSS 2.0 bytes, built with feedgen.

    atom(source, entries, base_url, tag_authority, icon=, hub=) -> bytes
    combined(items, base_url, tag_authority, hub=)             -> bytes  all sources, atom:source per entry
    rss(source, entries, base_url, tag_authority, icon=, hub=)  -> bytes

(JSON Feed: ``feedsvc.feeds.jsonfeed``.)

Pure: no clock, no I/O. The same inputs always give the same bytes, so a feed whose
entries did not change is byte-identical (the feed's ``updated`` is the newest entry's,
never "now"). Entries are rendered in exactly the order given; the caller passes them
newest first.

Ids are ``tag:`` URIs (RFC 4151) that never change once an entry exists:

    feed    tag:{authority},2026:feedsvc/{source}
    entry   tag:{authority},{first_seen:%Y-%m-%d}:{source}/{identity}

Every text field is stripped of characters that XML 1.0 cannot carry before it reaches
lxml, which would otherwise raise on the first NUL or vertical tab a page contains;
HTML summaries are cleaned by ``sanitize.html`` (nh3), titles are always plain text. An
entry's full text (``full_text``) is cleaned the same way and goes into Atom ``content`` and
RSS ``content:encoded``, beside the summary.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from feedsvc import __version__, urls
from feedsvc.config import RESERVED_NAME, Source
from feedsvc.feeds.sanitize import html as clean_html
from feedsvc.feeds.sanitize import plain, xml_text
from feedsvc.model import Entry

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # ``updated`` of a feed without entries
ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"
JSON_FEED_TYPE = "application/feed+json"
UNTITLED = "(untitled)"
ALL = RESERVED_NAME  # the combined feed's name in URLs: /feeds/all.atom
ALL_TITLE = "feedsvc: all feeds"
ATOM_NS = "http://www.w3.org/2005/Atom"
# RFC 3066 language tag, as atom.rng's atomLanguageTag pattern.
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
# Left as they are in the specific part of an entry id; everything else is %-encoded
# (RFC 4151: specific = *( pchar / "/" / "?" )).
_ID_SAFE = "/?:@!$&'()*+,;=-._~"


def atom(
    source: Source,
    entries: Sequence[Entry],
    base_url: str,
    tag_authority: str,
    icon: str | None = None,
    hub: str | None = None,
) -> bytes:
    """Render one source's entries as an Atom feed: UTF-8 bytes with an XML declaration."""
    base_url = base_url.rstrip("/")
    fg = FeedGenerator()
    fg.id(feed_id(source.name, tag_authority))
    title = _feed_title(source)
    fg.title(title)
    # Not now: unchanged entries must give unchanged bytes (and ETags, and caches).
    fg.updated(max((_utc(e.updated, e, "updated") for e in entries), default=EPOCH))
    # Atom wants an author on every entry or on the feed; the site speaks for its posts.
    fg.author(name=title)
    fg.link(href=feed_url(base_url, source.name, "atom"), rel="self", type=ATOM_TYPE)
    fg.link(href=home_page(source, base_url), rel="alternate")
    if hub_url := urls.link(hub):
        fg.link(href=hub_url, rel="hub")
    if page := urls.link(source.public_url):  # never a local path, a secret source's URL or a password
        fg.subtitle(f"Posts listed on {page}")
    icon = urls.link(icon)
    if icon:
        fg.icon(icon)
        fg.logo(icon)
    language = _language(source.language)
    if language:
        fg.language(language)  # feedgen's only way to set xml:lang on <feed>
    fg.generator("feedsvc", version=__version__, uri=f"{base_url}/")
    for entry in entries:
        # feedgen prepends by default, which would reverse the caller's order.
        fg.add_entry(_entry(source, entry, tag_authority, base_url), order="append")
    return fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def combined(items: Sequence[tuple[Source, Entry]], base_url: str, tag_authority: str, hub: str | None = None) -> bytes:
    """All sources in one Atom feed, in the order given; each entry names its feed in ``atom:source``."""
    base_url = base_url.rstrip("/")
    fg = FeedGenerator()
    fg.id(feed_id(ALL, tag_authority))
    fg.title(ALL_TITLE)
    fg.updated(max((_utc(e.updated, e, "updated") for _, e in items), default=EPOCH))
    fg.author(name="feedsvc")  # entries without an author of their own: each names its site in atom:source
    fg.link(href=feed_url(base_url, ALL, "atom"), rel="self", type=ATOM_TYPE)
    fg.link(href=f"{base_url}/", rel="alternate")
    if hub_url := urls.link(hub):
        fg.link(href=hub_url, rel="hub")
    fg.generator("feedsvc", version=__version__, uri=f"{base_url}/")
    for source, entry in items:
        fe = _entry(source, entry, tag_authority, base_url)
        fe.origin = _Origin(
            id=feed_id(source.name, tag_authority),
            title=_feed_title(source),
            self_href=feed_url(base_url, source.name, "atom"),
            alternate_href=home_page(source, base_url),
        )
        fg.add_entry(fe, order="append")
    return fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def rss(
    source: Source,
    entries: Sequence[Entry],
    base_url: str,
    tag_authority: str,
    icon: str | None = None,
    hub: str | None = None,
) -> bytes:
    """Render one source's entries as RSS 2.0: UTF-8 bytes with an XML declaration.

    RSS readers treat ``description`` as HTML, so a text summary is escaped for them once
    more: a plain-text ``<script>`` stays text. Guids are the Atom entry ids.
    """
    base_url = base_url.rstrip("/")
    fg = _RSSGenerator(hub=urls.link(hub))
    fg.load_extension("dc", atom=False, rss=True)
    title = _feed_title(source)
    fg.title(title)
    fg.link(href=feed_url(base_url, source.name, "rss"), rel="self", type=RSS_TYPE)
    fg.link(href=home_page(source, base_url), rel="alternate")  # feedgen's RSS <link> is the last one set
    page = urls.link(source.public_url)
    fg.description(f"Posts listed on {page}" if page else title)
    fg.updated(max((_utc(e.updated, e, "updated") for e in entries), default=EPOCH))  # lastBuildDate
    language = _language(source.language)
    if language:
        fg.language(language)
    fg.generator(f"feedsvc {__version__}")
    icon = urls.link(icon)
    if icon:
        fg.image(url=icon, title=title, link=home_page(source, base_url))
    for entry in entries:
        fe = fg.add_entry(order="append")
        fe.guid(entry_id(source, entry, tag_authority), permalink=False)
        fe.title(plain(entry.title) or UNTITLED)  # plain text, as readers take an RSS title
        fe.link(href=entry_link(source, entry, base_url))
        description = summary_html(entry)
        if description:
            fe.description(description)
        if full := content_html(entry):
            fe.content(full)  # content:encoded beside the teaser in description (description if there is none)
        if entry.published is not None:
            fe.published(published(source, entry))
        author = plain(entry.author or "")
        if author:
            fe.dc.dc_creator(author)
        for category in categories(entry):
            fe.category(term=category)
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def feed_id(name: str, tag_authority: str) -> str:
    """The permanent id of a feed (``name`` is a source's name, or ``all``)."""
    return f"tag:{tag_authority},2026:feedsvc/{name}"


def feed_url(base_url: str, name: str, extension: str) -> str:
    """Where the service serves a feed: ``{base_url}/feeds/{name}.{extension}``."""
    return f"{base_url.rstrip('/')}/feeds/{name}.{extension}"


def home_page(source: Source, base_url: str) -> str:
    """The page a feed stands for: the source's URL, or the service for a local file (never its path)."""
    return urls.link(source.public_url) or f"{base_url.rstrip('/')}/"


def entry_id(source: Source, entry: Entry, tag_authority: str) -> str:
    """The entry's permanent Atom id: its source, identity and the day it was first seen."""
    day = _utc(entry.first_seen, entry, "first_seen")
    identity = quote(xml_text(entry.identity), safe=_ID_SAFE)
    return f"tag:{tag_authority},{day:%Y-%m-%d}:{source.name}/{identity}"


def entry_link(source: Source, entry: Entry, base_url: str) -> str:
    """The entry's own link, else the page it was listed on (never its ``tag:`` id)."""
    return urls.link(entry.link) or home_page(source, base_url.rstrip("/"))


def published(source: Source, entry: Entry) -> datetime:
    """When the entry was published, in the source's zone: a date the page showed without a time is
    its local midnight, and with the zone's offset (``2023-12-07T00:00:00+08:00``) no reader shows
    the day before. The same instant as the UTC it is stored in."""
    assert entry.published is not None
    return _utc(entry.published, entry, "published").astimezone(source.zone)


def summary_html(entry: Entry) -> str:
    """The entry's summary as a safe HTML fragment, whether the page gave text or HTML."""
    if entry.summary_html:
        return clean_html(entry.summary)
    return html.escape(xml_text(entry.summary), quote=False)


def content_html(entry: Entry) -> str:
    """The entry's full text (``full_text``) as a safe HTML fragment; empty when it has none."""
    return clean_html(entry.content) if entry.content else ""


def categories(entry: Entry) -> list[str]:
    """The entry's categories as plain text, without empties or repeats, in the page's order."""
    return list(dict.fromkeys(c for c in (plain(raw) for raw in entry.categories) if c))


class _Origin:
    """What ``atom:source`` says of an entry's feed in the combined feed."""

    def __init__(self, id: str, title: str, self_href: str, alternate_href: str) -> None:
        self.id, self.title, self.self_href, self.alternate_href = id, title, self_href, alternate_href


class _FeedEntry(FeedEntry):
    """feedgen 1.0's FeedEntry, with the attributes of entry links actually written.

    ``FeedEntry.atom_entry`` rebinds its loop variable to the new <link> element before
    copying ``rel``/``type``/... from it, so every entry link comes out bare. Put them back.
    It also writes ``atom:source`` (RFC 4287 4.2.11), which feedgen lacks, when ``origin`` is set.
    """

    origin: _Origin | None = None

    def atom_entry(self, extensions: bool = True) -> etree._Element:
        element: etree._Element = super().atom_entry(extensions=extensions)
        for link, data in zip(element.iterchildren("link"), self.link() or [], strict=True):
            for name in ("rel", "type", "hreflang", "title", "length"):
                if data.get(name):
                    link.set(name, str(data[name]))
        if self.origin is not None:
            origin = etree.SubElement(element, "source")
            etree.SubElement(origin, "id").text = self.origin.id
            etree.SubElement(origin, "title").text = self.origin.title
            etree.SubElement(origin, "link", href=self.origin.self_href, rel="self", type=ATOM_TYPE)
            etree.SubElement(origin, "link", href=self.origin.alternate_href, rel="alternate")
            etree.SubElement(etree.SubElement(origin, "author"), "name").text = self.origin.title
        return element


class _RSSGenerator(FeedGenerator):
    """feedgen's FeedGenerator, adding the WebSub ``<atom:link rel="hub">`` RSS readers look for."""

    def __init__(self, hub: str | None = None) -> None:
        super().__init__()
        self._hub = hub

    def _create_rss(self, extensions: bool = True) -> Any:
        feed, doc = super()._create_rss(extensions=extensions)
        if self._hub:
            channel = feed.find("channel")
            link = etree.Element(f"{{{ATOM_NS}}}link", href=self._hub, rel="hub")
            channel.insert(3, link)  # after title, link, description: before the items
        return feed, doc


def _entry(source: Source, entry: Entry, tag_authority: str, base_url: str) -> _FeedEntry:
    fe = _FeedEntry()
    fe.id(entry_id(source, entry, tag_authority))
    fe.title(xml_text(entry.title).strip() or UNTITLED)  # feedgen refuses an empty title
    fe.updated(_utc(entry.updated, entry, "updated"))
    if entry.published is not None:
        fe.published(published(source, entry))
    author = xml_text(entry.author or "").strip()
    if author:
        fe.author(name=author)
    for category in categories(entry):
        fe.category(term=category)
    summary, kind = (clean_html(entry.summary), "html") if entry.summary_html else (xml_text(entry.summary), "text")
    fe.link(href=entry_link(source, entry, base_url), rel="alternate")
    if urls.link(entry.link):
        if summary:
            fe.summary(summary, type=kind)
        if full := content_html(entry):  # the page's own text (full_text); the summary stays the teaser
            fe.content(full, type="html")
    else:
        # A post without a link of its own (text snapshots) links to the page it was listed on,
        # and its text, the whole post, goes once into content.
        fe.content(summary, type=kind)
    return fe


def _feed_title(source: Source) -> str:
    return xml_text(source.title).strip() or source.name


def _utc(moment: datetime, entry: Entry, what: str) -> datetime:
    """``moment`` in UTC to the second, so equal instants always render the same."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"entry {entry.source}/{entry.identity}: {what} has no time zone ({moment.isoformat()})")
    return moment.astimezone(UTC).replace(microsecond=0)


def _language(language: str) -> str | None:
    """An xml:lang value for ``language`` (``zh_CN`` -> ``zh-CN``), or None if it is not a tag."""
    tag = xml_text(language).strip().replace("_", "-")
    return tag if _LANGUAGE.match(tag) else None
