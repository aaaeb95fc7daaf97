"""Text and HTML made safe for every feed format and page. Pure functions.

    xml_text(text)      without the characters XML 1.0 cannot carry
    plain(text)         a one-line plain-text value (titles, authors, categories)
    html(fragment)      an HTML fragment cleaned by nh3: no scripts, no event handlers,
                        no ``javascript:`` URLs, links get ``rel="noopener noreferrer nofollow"``
    html_of_text(text)  plain text as an HTML fragment (escaped, paragraphs kept)

A hostile page can put anything in a post: these are applied to every value before it
reaches a serializer, so no feed is ever invalid XML or carries active content.

nh3's HTML5 parser takes time quadratic in the nesting depth (100 000 nested ``<div>`` elements would
take minutes), so HTML is first read by lxml (linear, and it stops at 255 levels) and anything
nested deeper than ``MAX_DEPTH`` is flattened to its text; inputs are cut at ``MAX_HTML_CHARS``.
"""

from __future__ import annotations

import html as _html
import re

import nh3
from lxml import etree
from lxml import html as lxml_html

from feedsvc import urls
from feedsvc.extract.lines import INVISIBLE_TAGS

# Not a Char in XML 1.0 (section 2.2): C0 controls except TAB, LF, CR; surrogates
# (in a Python str every surrogate code point is a lone one); U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Tags a feed reader may render; everything else is unwrapped (its text kept).
HTML_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "figcaption",
        "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
        "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr",
        "u", "ul",
    }
)  # fmt: skip
HTML_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}, "abbr": {"title"}}
_LINK_ATTRIBUTES = frozenset({"href", "src"})
# Removed together with their content: their text is code or markup, not prose.
_DROPPED_WITH_CONTENT = INVISIBLE_TAGS
# Elements whose end separates words when only the text is kept.
_BREAKS = frozenset({"br", "p", "div", "li", "dt", "dd", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
                     "blockquote", "pre", "figcaption", "hr"})  # fmt: skip
MAX_DEPTH = 48  # deeper HTML is flattened to text before nh3 sees it
MAX_HTML_CHARS = 500_000  # a summary longer than this is cut (nh3 closes what the cut leaves open)


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot represent."""
    return _NOT_XML.sub("", text)


def plain(text: str) -> str:
    """A one-line plain-text value: XML-safe, white space folded, ends stripped."""
    return " ".join(xml_text(text).split())


def html(fragment: str) -> str:
    """An HTML fragment with only harmless tags, attributes and URL schemes left."""
    cleaned = nh3.clean(
        _shallow(xml_text(fragment)[:MAX_HTML_CHARS]),
        tags=set(HTML_TAGS),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in HTML_ATTRIBUTES.items()},
        url_schemes=set(urls.SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_link_attribute,
    )
    return xml_text(cleaned).strip()


def _link_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3's hook: every ``href`` and ``src`` in HTML goes through ``link`` too."""
    if attribute in _LINK_ATTRIBUTES:
        return urls.link(value)
    return value


def html_of_text(text: str) -> str:
    """Plain text as an HTML fragment: escaped, blank-line paragraphs kept as ``<p>``."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", xml_text(text)) if p.strip()]
    return "".join(f"<p>{_html.escape(p, quote=False)}</p>" for p in paragraphs)


def text_of_html(fragment: str) -> str:
    """The text of an HTML fragment (no script or style text), for places that want plain text."""
    root = _parse(xml_text(fragment)[:MAX_HTML_CHARS])
    if root is None:
        return plain(fragment)
    for element in root.iter(*_DROPPED_WITH_CONTENT):
        element.drop_tree()
    for element in root.iter(*_BREAKS):
        element.tail = " " + (element.tail or "")
    return plain(root.text_content())


def _shallow(fragment: str) -> str:
    """``fragment``, or, if it nests deeper than MAX_DEPTH, a copy whose deeper parts are their text."""
    if fragment.count("<") <= MAX_DEPTH:  # too few tags to be that deep: the common case
        return fragment
    root = _parse(fragment)
    if root is None:
        return _html.escape(fragment, quote=False)
    deep: list[etree._Element] = []
    depth = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if event == "start" and depth == MAX_DEPTH + 1:
            deep.append(element)
    if not deep:
        return fragment
    for element in deep:
        text = element.text_content()
        for child in list(element):
            element.remove(child)
        element.text = text
    return etree.tostring(root, encoding="unicode", method="html")


def _parse(fragment: str) -> etree._Element | None:
    if not fragment.strip():
        return None
    try:
        return lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return None
