"""Every feed as an OPML 2.0 subscription list (http://opml.org/spec2.opml), for one-click import.

opml(sources, base_url, extension="atom") -> bytes
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from feedsvc.config import Source
from feedsvc.feeds.formats import feed_url, home_page
from feedsvc.feeds.sanitize import plain

TITLE = "feedsvc feeds"


def opml(sources: Sequence[Source], base_url: str, extension: str = "atom") -> bytes:
    """One ``<outline type="rss">`` per source, pointing at its feed in the given format."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = TITLE
    body = etree.SubElement(root, "body")
    for source in sources:
        title = plain(source.title) or source.name
        etree.SubElement(
            body,
            "outline",
            type="rss",
            text=title,
            title=title,
            xmlUrl=feed_url(base_url, source.name, extension),
            htmlUrl=home_page(source, base_url),
        )
    return etree.tostring(root, pretty_print=True, encoding="UTF-8", xml_declaration=True)
