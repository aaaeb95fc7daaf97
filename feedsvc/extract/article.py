"""An article page -> its main text as an HTML fragment (``full_text``). Pure: no I/O, no clock.

    main_text(page_html, url) -> str      the post's own text, links made absolute; ``NoMainText`` if none

The reading is trafilatura's (https://trafilatura.readthedocs.io/), a library made for this job:
boilerplate (navigation, sidebars, comments, footers) is left out, paragraphs, headings, lists,
quotes, code and tables are kept, with their links; images are left out. Precision is favoured
over recall: a feed's content had better miss a paragraph than carry the site's menu.

The fragment is not yet safe to serve: the feeds clean it with ``feeds/sanitize.html`` (nh3), as
they clean HTML summaries, when they render it. It is cut at ``MAX_CHARS``.
"""

from __future__ import annotations

import re

import trafilatura
from lxml import etree
from lxml import html as lxml_html

from feedsvc.errors import NoMainText

# lxml refuses a str that declares its encoding (XHTML pages do): the text is decoded already
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
MAX_CHARS = 200_000  # longest main text kept (about 30,000 words); what a reader can take in one entry


def main_text(page_html: str, url: str) -> str:
    """The main text of the article page ``page_html`` (fetched from ``url``) as an HTML fragment.

    Links are made absolute here, against ``url`` and the page's ``<base href>``: trafilatura itself
    resolves a relative link against the site's root, which is wrong for ``../notes.html``.
    """
    try:
        page = lxml_html.document_fromstring(_XML_DECLARATION.sub("", page_html, count=1))
    except (etree.ParserError, ValueError):
        raise NoMainText(f"{url}: no main text found on the page (not readable as HTML)") from None
    page.make_links_absolute(url, resolve_base_href=True, handle_failures="discard")
    extracted = trafilatura.extract(
        page,
        url=url,
        output_format="html",
        include_links=True,
        include_images=False,
        include_comments=False,
        include_tables=True,
        favor_precision=True,
        with_metadata=False,
        deduplicate=False,
    )
    fragment = _body(extracted or "")
    if not fragment:
        raise NoMainText(f"{url}: no main text found on the page")
    return fragment[:MAX_CHARS]


def _body(document: str) -> str:
    """What trafilatura's ``<html><body>…</body></html>`` holds, as a fragment; empty when it holds no text."""
    if not document.strip():
        return ""
    try:
        root = lxml_html.document_fromstring(document)
    except (etree.ParserError, ValueError):
        return ""
    body = root.find("body")
    if body is None or not body.text_content().strip():
        return ""
    parts = [body.text.strip()] if body.text and body.text.strip() else []
    parts += [etree.tostring(child, encoding="unicode", method="html").strip() for child in body]
    return "\n".join(parts)
