"""The ``day_month`` layout: a ``20 Apr`` line (no year) heads each post.

    20 Apr
                                    (blank lines are optional)
    <title>                         absent on some posts: then the text starts at once
    <summary paragraph>
    <summary paragraph> ...
    点击阅读全文...                 ends the post; never part of the summary

A post also ends at the next date line or at the ``最近评论`` footer. Posts are kept in
page order, which is not newest first. A post without a title line gets a title made
from its first sentence (``title_derived=True``).
"""

from __future__ import annotations

from collections.abc import Sequence

from feedsvc.extract.dates import DAY_MONTH, page_date
from feedsvc.extract.lines import Line, fold, is_footer, is_read_more
from feedsvc.model import Post

MAX_TITLE = 80  # a title line is at most this long ...
_SENTENCE_END = "。"  # ... and has no sentence end; body text is long or has one
MAX_DERIVED_TITLE = 40
_MIN_CLAUSE = 8  # a clause shorter than this makes a poor title: cut at MAX_DERIVED_TITLE instead
# ASCII and full-width forms (escaped: \uff01 ! \uff1f ? \uff1b ; \uff0c , \uff1a :).
_SENTENCE_ENDS = frozenset("。!?;\uff01\uff1f\uff1b")
_KEPT_ENDS = frozenset("!?\uff01\uff1f")  # a question or exclamation stays one in the title
_CLAUSE_ENDS = frozenset(",、:\uff0c\uff1a")
_ELLIPSIS = "…"


def count(lines: Sequence[Line]) -> int:
    """How many lines look like this layout's post heads (``20 Apr``)."""
    return sum(1 for line in lines if is_date_line(line.text))


def is_date_line(text: str) -> bool:
    """``20 Apr`` alone on its line (an invalid day such as ``31 Feb`` still heads a post)."""
    return DAY_MONTH.fullmatch(text.strip()) is not None


def posts(lines: Sequence[Line]) -> list[Post]:
    """Every post of a day_month listing, in page order."""
    end = next((index for index, line in enumerate(lines) if is_footer(line.text)), len(lines))
    heads = [index for index in range(end) if is_date_line(lines[index].text)]
    if not heads:
        return []
    found = []
    for head, stop in zip(heads, [*heads[1:], end], strict=True):
        post = _post(lines[head], lines[head + 1 : stop])
        if post is not None:
            found.append(post)
    return found


def _post(head: Line, block: Sequence[Line]) -> Post | None:
    """One post from its date line and the lines up to the next post; None when it holds no text."""
    text: list[Line] = []
    more_link = None
    for line in block:
        if is_read_more(line.text):
            more_link = line.href
            break
        if line.text.strip():
            text.append(line)
    if not text:
        return None
    first = text[0]
    if is_title(first.text):
        title, derived, link, body = fold(first.text), False, first.href or more_link, text[1:]
    else:
        title, derived, link, body = derived_title(first.text), True, more_link, text
    return Post(
        title=title,
        summary="\n".join(line.text.strip() for line in body),
        date=page_date(head.text),
        link=link,
        title_derived=derived,
    )


def is_title(text: str) -> bool:
    """A title is one short line without a sentence end; body text is long and/or has ``。``."""
    text = text.strip()
    return 0 < len(text) <= MAX_TITLE and _SENTENCE_END not in text


def derived_title(text: str) -> str:
    """A readable title from body text: its first sentence, cut at a clause or with ``…`` when long.

    Punctuation inside ``$...$`` (LaTeX) never ends a sentence or clause.
    """
    sentence = _first_sentence(fold(text))
    if len(sentence) <= MAX_DERIVED_TITLE:
        return sentence
    clause = _last_clause_end(sentence, MAX_DERIVED_TITLE)
    if clause >= _MIN_CLAUSE:
        return sentence[:clause].rstrip()
    return sentence[: MAX_DERIVED_TITLE - 1].rstrip() + _ELLIPSIS


def _first_sentence(text: str) -> str:
    in_math = False
    for index, char in enumerate(text):
        if char == "$":
            in_math = not in_math
        elif not in_math and char in _SENTENCE_ENDS:
            return text[: index + 1] if char in _KEPT_ENDS else text[:index].rstrip()
    return text


def _last_clause_end(text: str, limit: int) -> int:
    """Index of the last clause mark, outside ``$...$``, that leaves at most ``limit`` characters before it; else 0."""
    in_math = False
    last = 0
    for index, char in enumerate(text[: limit + 1]):
        if char == "$":
            in_math = not in_math
        elif not in_math and char in _CLAUSE_ENDS:
            last = index
    return last
