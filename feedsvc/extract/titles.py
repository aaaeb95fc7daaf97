"""A post's title from its title element: the visible words, without a label glued in front.

``<a><span class="label">Live</span> Storm hits the coast</a>`` -> ``Storm hits the coast``: a
short leading element marked as a label or badge (by its class, or by brackets around it)
is not part of the title when real words follow it.

``plain(text)`` reads a title or summary that structured data (JSON-LD, embedded state) gives as
HTML: ``"Ten <em>tips</em> &amp; tricks"`` -> ``Ten tips & tricks``.
"""

from __future__ import annotations

import html
import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from feedsvc.extract.lines import INVISIBLE_TAGS, fold

MAX_LABEL = 12  # characters: a label is a word or two
_LABEL_CLASS = re.compile(
    r"(?<![a-z])(?:label|badge|tag|kicker|flag|prefix|sticky|pinned|icon|marker|category|cat|type|topic|overline|"
    r"eyebrow|dachzeile|new|hot|live)(?![a-z])",
    re.IGNORECASE,
)
_TITLE_CLASS = re.compile(r"(?<![a-z])(?:title|name|headline|heading|subject)(?![a-z])", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_HEADLINE_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_MARKUP = re.compile(r"<[A-Za-z/!]")  # "a < b" is text, "<em>" a tag
_BLOCK_TAG = re.compile(r"</?(?:p|div|br|li|ul|ol|h[1-6]|blockquote|tr|td|th|section|figure|figcaption)\b[^<>]*>", re.I)
_BRACKETED = re.compile("^[\\[\u3010\u3014(\uff08\u300c\u300e].{1,12}[\\]\u3011\u3015)\uff09\u300d\u300f]$")


def plain(text: str) -> str:
    """``text``, which may be HTML, as folded plain text: tags dropped (block tags leave a space), entities
    read, the content of scripts and styles dropped."""
    if _MARKUP.search(text):
        tree = LexborHTMLParser(_BLOCK_TAG.sub(" ", text))
        tree.strip_tags(sorted(INVISIBLE_TAGS))
        text = tree.body.text(deep=True, separator="") if tree.body is not None else ""
    elif "&" in text:
        text = html.unescape(text)
    return fold(text)


def clean(node: LexborNode) -> str:
    """The folded text of ``node``'s headline, a leading label element dropped when more words follow it."""
    node = headline(node)
    text = fold(_text(node))
    label = _leading_label(node)
    if label is not None:
        rest = text[len(label) :].lstrip(" :|-\u2013\u2014\u00b7\u2022/")
        if len(rest) > len(label):
            return rest
    return text


def headline(node: LexborNode) -> LexborNode:
    """The part of a whole-card link that is its headline.

    A link whose words all sit in several child elements (headline, teaser, author, date, counts)
    is titled by the child marked as a title or name, else by its first child with letters in it
    that is not a label.
    """
    if node.tag != "a" or _has_own_text(node):
        return node
    parts = [child for child in _element_children(node) if _text(child)]
    if len(parts) < 2:
        if len(parts) == 1 and parts[0].tag not in _HEADLINE_TAGS and not _has_own_text(parts[0]):
            return headline_of_block(parts[0], node)
        return node
    return headline_of_block(node, node)


def headline_of_block(block: LexborNode, fallback: LexborNode) -> LexborNode:
    marked = [
        part
        for part in block.css("*")
        if part.mem_id != block.mem_id and _TITLE_CLASS.search(part.attributes.get("class") or "") and _text(part)
    ]
    innermost = [part for part in marked if not any(_inside(other, part) for other in marked if other is not part)]
    if innermost:
        return innermost[0]
    parts = [child for child in _element_children(block) if _text(child)]
    if len(parts) < 2:
        return fallback
    for part in parts:
        text = fold(_text(part))
        if _LETTER.search(text) and _leading_label_of(part) is None and len(text) > MAX_LABEL // 2:
            return part
    return fallback


def _leading_label_of(part: LexborNode) -> str | None:
    names = f"{part.attributes.get('class') or ''} {part.attributes.get('id') or ''}"
    label = fold(_text(part))
    return label if _LABEL_CLASS.search(names) and len(label) <= MAX_LABEL else None


def _element_children(node: LexborNode) -> list[LexborNode]:
    return [child for child in node.iter() if child.is_element_node]


def _has_own_text(node: LexborNode) -> bool:
    return any(
        not child.is_element_node and (child.text_content or "").strip() for child in node.iter(include_text=True)
    )


def _inside(node: LexborNode, ancestor: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id == ancestor.mem_id:
            return True
        parent = parent.parent
    return False


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
    if _LABEL_CLASS.search(names) or _BRACKETED.match(label) or label.endswith((":", "\uff1a")):
        return label  # "Live", "[Info]", "Title:", "Wichtig:"
    return None


def _text(node: LexborNode) -> str:
    return node.text(deep=True, separator=" ", strip=True)
