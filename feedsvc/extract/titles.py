"""A post's title from its title element: the visible words, without a label glued in front.

``<a><span class="label">Live</span> Storm hits the coast</a>`` -> ``Storm hits the coast``: a
short leading element marked as a label or badge (by its class, or by brackets around it)
is not part of the title when real words follow it.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from feedsvc.extract.lines import fold

MAX_LABEL = 12  # characters: a label is a word or two
_LABEL_CLASS = re.compile(
    r"(?<![a-z])(?:label|badge|tag|kicker|flag|prefix|sticky|pinned|icon|marker|category|cat|type|topic|overline|"
    r"eyebrow|dachzeile|new|hot|live)(?![a-z])",
    re.IGNORECASE,
)
_BRACKETED = re.compile("^[\\[\u3010\u3014(\uff08\u300c\u300e].{1,12}[\\]\u3011\u3015)\uff09\u300d\u300f]$")


def clean(node: LexborNode) -> str:
    """The folded text of ``node``, a leading label element dropped when more words follow it."""
    text = fold(_text(node))
    label = _leading_label(node)
    if label is not None:
        rest = text[len(label) :].lstrip(" :|-\u2013\u2014\u00b7\u2022/")
        if len(rest) > len(label):
            return rest
    return text


def _leading_label(node: LexborNode) -> str | None:
    first = node.child
    while first is not None and not first.is_element_node and not (first.text_content or "").strip():
        first = first.next
    if first is None or not first.is_element_node:
        return None  # words typed into the title itself ("【活动】...") stay: they are the title
    label = fold(_text(first))
    if not label or len(label) > MAX_LABEL or first.css_first("a[href], h1, h2, h3, h4, h5, h6") is not None:
        return None
    names = f"{first.attributes.get('class') or ''} {first.attributes.get('id') or ''}"
    if _LABEL_CLASS.search(names) or _BRACKETED.match(label) or first.tag in ("img",):
        return label
    return None


def _text(node: LexborNode) -> str:
    return node.text(deep=True, separator=" ", strip=True)
