"""The ``byline`` layout: a title line, then a byline that starts the summary.

    <title>
    By <author> | <YYYY-MM-DD> | <N>位读者 | 引用<summary starts here, glued>
    <more summary lines, including heading-like ones such as 理论回顾>
    <next title>                    the line right before the next byline
    By ...
    最近评论                        the footer: it and all after it belong to no post

Reader counts are volatile and dropped. A ``点击阅读全文...`` line also ends a summary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from feedsvc.extract.dates import page_date
from feedsvc.extract.day_month import derived_title
from feedsvc.extract.lines import Line, fold, is_footer, is_read_more
from feedsvc.model import Post

BYLINE = re.compile(r"By (?P<author>.+?) \| (?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}) \|")
_VOLATILE = re.compile(r"\s*[0-9][0-9,]*\s*(?:位读者|条评论|次阅读)\s*(?:\||$)")  # reader/comment counts
_CITE = "引用"  # the byline's last link ("cite"); the summary follows it on the same line


def count(lines: Sequence[Line]) -> int:
    """How many lines look like this layout's bylines."""
    return sum(1 for line in lines if BYLINE.match(line.text.strip()))


def posts(lines: Sequence[Line]) -> list[Post]:
    """Every post of a byline listing, in page order."""
    end = next((index for index, line in enumerate(lines) if is_footer(line.text)), len(lines))
    heads = [(index, match) for index in range(end) if (match := BYLINE.match(lines[index].text.strip()))]
    if not heads:
        return []
    starts = [index for index, _ in heads]
    titles = [_title_index(lines, start, previous) for start, previous in zip(starts, [-1, *starts[:-1]], strict=True)]
    # A summary runs up to the next post's title line (its byline when it has none), the last one to the footer.
    stops = [title if title is not None else start for start, title in zip(starts[1:], titles[1:], strict=True)]
    found = []
    for (start, match), title, stop in zip(heads, titles, [*stops, end], strict=True):
        title_line = None if title is None else lines[title]
        post = _post(match, title_line, lines[start + 1 : stop])
        if post is not None:
            found.append(post)
    return found


def _title_index(lines: Sequence[Line], byline: int, previous: int) -> int | None:
    """The last non-empty line before ``byline`` and after the previous byline, unless it is a read-more link."""
    for index in range(byline - 1, previous, -1):
        text = lines[index].text
        if text.strip():
            return None if is_read_more(text) else index
    return None


def _post(byline: re.Match[str], title: Line | None, rest: Sequence[Line]) -> Post | None:
    """One post from its matched byline, its title line and the lines after the byline; None when empty."""
    summary = [_summary_start(byline.string, byline.end())]
    more_link = None
    for line in rest:
        if is_read_more(line.text):
            more_link = line.href
            break
        summary.append(line.text.strip())
    summary_text = "\n".join(part for part in summary if part)
    if title is not None:
        title_text, derived, link = fold(title.text), False, title.href or more_link
    elif summary_text:
        title_text, derived, link = derived_title(summary_text.partition("\n")[0]), True, more_link
    else:
        return None
    return Post(
        title=title_text,
        summary=summary_text,
        date=page_date(byline["date"]),
        author=fold(byline["author"]),
        link=link,
        title_derived=derived,
    )


def _summary_start(text: str, position: int) -> str:
    """What follows the byline's fields on its line: counts and the ``引用`` link skipped."""
    while volatile := _VOLATILE.match(text, position):  # each match takes at least one digit
        position = volatile.end()
    return text[position:].strip().removeprefix(_CITE).strip()
