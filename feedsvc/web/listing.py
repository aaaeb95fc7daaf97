"""Pages of sources for the listing endpoints (``/``, ``/api/sources``): keyset pagination by name.

    ?limit=N      sources per page (default 100, at most 1000)
    ?after=NAME   the page starts after this name (the previous page's last): stable while sources come and go
    ?state=S      only sources whose latest refresh is ``ok``, ``failing``, or ``never`` (not attempted yet)

A page costs no query per source: the sources are the settings' (in memory), sorted by name; a
state filter reads every source's latest outcome in one query (``Store.outcomes``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from feedsvc.config import Source
from feedsvc.metrics import STATES, state_of

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_DIGITS = re.compile(r"[0-9]{1,9}")
_MAX_NAME = 64  # config._NAME: a cursor longer than any name is no name


class BadRequest(ValueError):
    """A query parameter the listing cannot use; the message names it."""


@dataclass(frozen=True, slots=True)
class Query:
    limit: int = DEFAULT_LIMIT
    after: str | None = None
    state: str | None = None  # one of metrics.STATES, or None for every source


@dataclass(frozen=True, slots=True)
class Page:
    sources: list[Source]
    total: int  # sources the query matches, on every page
    next_after: str | None  # the ``after`` of the next page; None on the last page
    previous_after: str | None  # the ``after`` of the previous page ("" for the first page); None on the first


def query(args: Mapping[str, str]) -> Query:
    """The listing's parameters from a request's query arguments; BadRequest naming a bad one."""
    raw_limit = args.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        if not _DIGITS.fullmatch(raw_limit) or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise BadRequest(f"limit: expected a whole number from 1 to {MAX_LIMIT}, got {raw_limit[:20]!r}")
        limit = int(raw_limit)
    after = args.get("after") or None
    if after is not None and len(after) > _MAX_NAME:
        raise BadRequest(f"after: expected a source name (at most {_MAX_NAME} characters), got {after[:20]!r}…")
    state = args.get("state") or None
    if state is not None and state not in STATES:
        raise BadRequest(f"state: expected one of {', '.join(STATES)}, got {state[:20]!r}")
    return Query(limit, after, state)


def matching(sources: Sequence[Source], state: str | None, outcomes: Mapping[str, bool] | None) -> Sorted:
    """``sources`` sorted by name, only those in ``state`` (``outcomes``: ``Store.outcomes()``) when one is given."""
    ordered = _by_name(sources)
    if state is None or outcomes is None:
        return ordered
    kept = [source for source in ordered.sources if state_of(outcomes.get(source.name)) == state]
    return Sorted(kept, [source.name for source in kept])


def page(ordered: Sorted, wanted: Query) -> Page:
    """The page of ``ordered`` that ``wanted`` asks for."""
    names = ordered.names
    start = 0 if wanted.after is None else bisect.bisect_right(names, wanted.after)
    end = min(start + wanted.limit, len(names))
    previous: str | None = None
    if start > 0:
        back = start - wanted.limit
        previous = names[back - 1] if back > 0 else ""
    return Page(
        sources=list(ordered.sources[start:end]),
        total=len(names),
        next_after=names[end - 1] if end < len(names) else None,
        previous_after=previous,
    )


@dataclass(frozen=True, slots=True)
class Sorted:
    """Sources sorted by name, and their names (for bisecting)."""

    sources: Sequence[Source]
    names: Sequence[str]


_last: tuple[Sequence[Source], Sorted] | None = None  # the settings' sources sorted: the same until a reload


def _by_name(sources: Sequence[Source]) -> Sorted:
    global _last
    last = _last
    if last is not None and last[0] is sources:
        return last[1]
    ordered = sorted(sources, key=lambda source: source.name)
    found = Sorted(ordered, [source.name for source in ordered])
    _last = (sources, found)
    return found


def link(path: str, wanted: Query, after: str | None) -> str:
    """``path`` with the query of the page that starts after ``after`` ("" or None: the first page)."""
    params: dict[str, str | int] = {}
    if wanted.limit != DEFAULT_LIMIT:
        params["limit"] = wanted.limit
    if after:
        params["after"] = after
    if wanted.state is not None:
        params["state"] = wanted.state
    return f"{path}?{urlencode(params)}" if params else path
