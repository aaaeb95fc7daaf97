"""Entries -> Atom 1.0 (RFC 4287) bytes, built with feedgen.

    atom(source, entries, base_url, tag_authority) -> bytes

Pure: no clock, no I/O. The same inputs always give the same bytes, so a feed whose
entries did not change is byte-identical (the feed's ``updated`` is the newest entry's,
never "now"). Entries are rendered in exactly the order given; the caller passes them
newest first.

Ids are ``tag:`` URIs (RFC 4151) that never change once an entry exists:

    feed    tag:{authority},2026:feedsvc/{source}
    entry   tag:{authority},{first_seen:%Y-%m-%d}:{source}/{identity}

Every text field is stripped of characters that XML 1.0 cannot carry before it reaches
lxml, which would otherwise raise on the first NUL or vertical tab a page contains.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from feedsvc import __version__
from feedsvc.config import Source
from feedsvc.model import Entry

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # ``updated`` of a feed without entries
ATOM_TYPE = "application/atom+xml"
UNTITLED = "(untitled)"

# Not a Char in XML 1.0 (section 2.2): C0 controls except TAB, LF, CR; surrogates
# (in a Python str every surrogate code point is a lone one); U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# RFC 3066 language tag, as atom.rng's atomLanguageTag pattern.
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
# Left as they are in the specific part of an entry id; everything else is %-encoded
# (RFC 4151: specific = *( pchar / "/" / "?" )).
_ID_SAFE = "/?:@!$&'()*+,;=-._~"


def atom(source: Source, entries: Sequence[Entry], base_url: str, tag_authority: str) -> bytes:
    """Render one source's entries as an Atom feed: UTF-8 bytes with an XML declaration."""
    base_url = base_url.rstrip("/")
    fg = FeedGenerator()
    fg.id(f"tag:{tag_authority},2026:feedsvc/{source.name}")
    title = xml_text(source.title).strip() or source.name
    fg.title(title)
    # Not now: unchanged entries must give unchanged bytes (and ETags, and caches).
    fg.updated(max((_utc(e.updated, e, "updated") for e in entries), default=EPOCH))
    # Atom wants an author on every entry or on the feed; the site speaks for its posts.
    fg.author(name=title)
    fg.link(href=f"{base_url}/feeds/{source.name}.atom", rel="self", type=ATOM_TYPE)
    fg.link(href=xml_text(source.url) if not source.is_local else f"{base_url}/", rel="alternate")
    if not source.is_local:  # never publish a local file path
        fg.subtitle(f"Posts listed on {xml_text(source.url)}")
    language = _language(source.language)
    if language:
        fg.language(language)  # feedgen's only way to set xml:lang on <feed>
    fg.generator("feedsvc", version=__version__, uri=f"{base_url}/")
    for entry in entries:
        # feedgen prepends by default, which would reverse the caller's order.
        fg.add_entry(_entry(source, entry, tag_authority), order="append")
    return fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def entry_id(source: Source, entry: Entry, tag_authority: str) -> str:
    """The entry's permanent Atom id: its source, identity and the day it was first seen."""
    day = _utc(entry.first_seen, entry, "first_seen")
    identity = quote(xml_text(entry.identity), safe=_ID_SAFE)
    return f"tag:{tag_authority},{day:%Y-%m-%d}:{source.name}/{identity}"


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot represent."""
    return _NOT_XML.sub("", text)


class _FeedEntry(FeedEntry):
    """feedgen 1.0's FeedEntry, with the attributes of entry links actually written.

    ``FeedEntry.atom_entry`` rebinds its loop variable to the new <link> element before
    copying ``rel``/``type``/... from it, so every entry link comes out bare. Put them back.
    """

    def atom_entry(self, extensions: bool = True) -> etree._Element:
        element: etree._Element = super().atom_entry(extensions=extensions)
        for link, data in zip(element.iterchildren("link"), self.link() or [], strict=True):
            for name in ("rel", "type", "hreflang", "title", "length"):
                if data.get(name):
                    link.set(name, str(data[name]))
        return element


def _entry(source: Source, entry: Entry, tag_authority: str) -> FeedEntry:
    fe = _FeedEntry()
    fe.id(entry_id(source, entry, tag_authority))
    fe.title(xml_text(entry.title).strip() or UNTITLED)  # feedgen refuses an empty title
    fe.updated(_utc(entry.updated, entry, "updated"))
    if entry.published is not None:
        fe.published(_utc(entry.published, entry, "published"))
    author = xml_text(entry.author or "").strip()
    if author:
        fe.author(name=author)
    summary = xml_text(entry.summary)
    link = xml_text(entry.link or "").strip()
    if link:
        fe.link(href=link, rel="alternate")
        if summary:
            fe.summary(summary, type="text")
    else:
        # RFC 4287 4.1.1: an entry without an alternate link must have content (feedgen
        # raises otherwise); posts on feedless pages often have no link. The text goes
        # there once, not also as a summary.
        fe.content(summary, type="text")
    return fe


def _utc(moment: datetime, entry: Entry, what: str) -> datetime:
    """``moment`` in UTC to the second, so equal instants always render the same."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"entry {entry.source}/{entry.identity}: {what} has no time zone ({moment.isoformat()})")
    return moment.astimezone(UTC).replace(microsecond=0)


def _language(language: str) -> str | None:
    """An xml:lang value for ``language`` (``zh_CN`` -> ``zh-CN``), or None if it is not a tag."""
    tag = xml_text(language).strip().replace("_", "-")
    return tag if _LANGUAGE.match(tag) else None
