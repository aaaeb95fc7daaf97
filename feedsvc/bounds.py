"""Bounds on what one page may cost to parse and store. Pure functions, linear in the page.

    shallow(html)     the page, or a copy with elements nested deeper than MAX_DEPTH unwrapped
                      (their text kept): an HTML5 tree build takes time quadratic in the nesting
                      depth (a 1 MB page of nested ``<div>``s held a worker for minutes)
    truncated(html)   the page cut after MAX_TAGS tags, and the warning to record when it was:
                      extraction time and memory grow with the elements, whatever max_bytes allows
    capped(posts)     at most MAX_POSTS posts, and the warning to record when some were ignored

The depth is measured by one scan over the tags (a tokenizer's count, no tree): elements
that HTML closes by themselves (``p``, ``li``, ``td``...) and void ones (``br``, ``img``...)
are not counted, and the text of ``script``, ``style``, comments and the like is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

MAX_DEPTH = 200  # nesting levels the HTML parsers are given (lxml stops at 255); real pages stay below 100
MAX_POSTS = 2000  # posts read from one page; the rest are ignored with a warning in the status
MAX_TAGS = 250_000  # tags of one page given to the parsers (a long real listing has a few tens of thousands)
# largest article page fetched for its full text, whatever the source's max_bytes: extracting a 0.9 MB page
# took up to 2 s and 61 MB of memory (bench/full_text.md); a long real article is 50-500 KB
MAX_ARTICLE_BYTES = 2_000_000

_T = TypeVar("_T")
# A comment, a raw-text element with its content, a doctype/processing instruction, or a tag.
_TOKENS = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|plaintext)\b[^<>]*>.*?(?:</\1\s*>|\Z)"
    r"|<[!?][^<>]*>"
    r"|<(/?)([A-Za-z][A-Za-z0-9:-]*)(?:[^<>\"']|\"[^\"<]*\"|'[^'<]*')*?(/?)>",
    re.DOTALL | re.IGNORECASE,
)  # no part crosses a "<" it does not consume: one pass, linear in the page
# Not counted: void elements, and elements an HTML parser closes on its own when a sibling starts.
_UNCOUNTED = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
        "param", "keygen", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "tbody", "thead",
        "tfoot", "rb", "rt", "rp", "rtc", "colgroup", "caption", "html", "head", "body",
    }
)  # fmt: skip


def depth(html: str) -> int:
    """The deepest nesting of counted elements in ``html`` (an upper bound of what a parser builds)."""
    deepest = level = 0
    for match in _TOKENS.finditer(html):
        name = match[3]
        if name is None or name.lower() in _UNCOUNTED or match[4]:
            continue
        if match[2]:
            level = max(0, level - 1)
        else:
            level += 1
            deepest = max(deepest, level)
    return deepest


def shallow(html: str, max_depth: int = MAX_DEPTH) -> str:
    """``html`` unchanged if it nests at most ``max_depth`` levels, else with the deeper tags removed."""
    if html.count("<") <= max_depth or depth(html) <= max_depth:
        return html
    out: list[str] = []
    level = 0
    last = 0
    for match in _TOKENS.finditer(html):
        name = match[3]
        if name is None or name.lower() in _UNCOUNTED or match[4]:
            continue
        closing = bool(match[2])
        inside = level - 1 if closing else level + 1
        if max(level, inside) > max_depth:  # a tag below the limit: dropped, its text stays
            out.append(html[last : match.start()])
            last = match.end()
        level = max(0, inside)
    out.append(html[last:])
    return "".join(out)


def truncated(html: str, max_tags: int = MAX_TAGS) -> tuple[str, str | None]:
    """``html`` up to its ``max_tags``-th tag, and a warning when the rest was cut (None when nothing was)."""
    if html.count("<") <= max_tags:
        return html, None
    for count, match in enumerate(_TOKENS.finditer(html), start=1):
        if count > max_tags:
            return html[: match.start()], f"the page has more than {max_tags} tags: only the first {max_tags} were read"
    return html, None


def capped(posts: Sequence[_T], max_posts: int = MAX_POSTS) -> tuple[list[_T], str | None]:
    """The first ``max_posts`` posts, and a warning naming how many were ignored (None when none were)."""
    if len(posts) <= max_posts:
        return list(posts), None
    return list(posts[:max_posts]), (
        f"the page shows {len(posts)} posts: only the first {max_posts} were read (bounds.MAX_POSTS)"
    )
