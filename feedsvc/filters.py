"""Per-source filters: ``include`` and ``exclude``, lists of case-insensitive regular expressions.

    rule("sponsored")            matches the title, summary, author or categories
    rule("author:^Jane")         matches one field: title, summary, author or categories
    kept(include, exclude, entries)      the entries a feed shows
    hidden(include, exclude, entries)    how many entries each filter hides

An entry is shown when no ``include`` is given or one of them matches, and no ``exclude``
matches. Filters apply when a feed is rendered, never when a page is stored: editing a filter
re-filters the stored entries at once, and nothing is lost. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from feedsvc.model import Entry

FIELDS = ("title", "summary", "author", "categories")
_FIELD = re.compile(r"^([a-z]+):(.*)$", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Rule:
    text: str  # as written in the config
    field: str | None  # None: any field
    pattern: re.Pattern[str]


def rule(text: str) -> Rule:
    """The rule ``text`` writes; ValueError naming what is wrong."""
    field: str | None = None
    pattern = text
    match = _FIELD.match(text)
    if match is not None and match[1] in FIELDS:  # any other "word:" is part of the pattern
        field, pattern = match[1], match[2]
    if not pattern:
        raise ValueError("empty pattern")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return Rule(text, field, compiled)


@lru_cache(maxsize=1024)
def rules(texts: tuple[str, ...]) -> tuple[Rule, ...]:
    return tuple(rule(text) for text in texts)


def matches(one: Rule, entry: Entry) -> bool:
    fields = (one.field,) if one.field is not None else FIELDS
    return any(one.pattern.search(text) for field in fields for text in _texts(entry, field))


def kept(include: tuple[str, ...], exclude: tuple[str, ...], entries: Sequence[Entry]) -> list[Entry]:
    """The entries a feed with these filters shows, in the order given."""
    if not include and not exclude:
        return list(entries)
    wanted, unwanted = rules(include), rules(exclude)
    return [
        entry
        for entry in entries
        if (not wanted or any(matches(one, entry) for one in wanted))
        and not any(matches(one, entry) for one in unwanted)
    ]


def hidden(include: tuple[str, ...], exclude: tuple[str, ...], entries: Sequence[Entry]) -> dict[str, int]:
    """How many of ``entries`` each filter hides: ``include`` (all together: those none of them
    matches) and each ``exclude`` rule (those it matches)."""
    counts: dict[str, int] = {}
    if include:
        wanted = rules(include)
        counts["include"] = sum(1 for entry in entries if not any(matches(one, entry) for one in wanted))
    for one in rules(exclude):
        counts[f"exclude {one.text}"] = sum(1 for entry in entries if matches(one, entry))
    return counts


def _texts(entry: Entry, field: str) -> tuple[str, ...]:
    if field == "title":
        return (entry.title,)
    if field == "summary":
        return (_TAG.sub(" ", entry.summary) if entry.summary_html else entry.summary,)
    if field == "author":
        return (entry.author or "",)
    return tuple(entry.categories)
