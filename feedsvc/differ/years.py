"""Missing-year resolution: give ``20 Apr`` a year from the best evidence. Pure.

Evidence, strongest first (``DateEvidence``):

1. the same post seen with a full date (on this page or any earlier snapshot);
2. the order of a listing around posts whose year is known: a listing sorted by date
   (either direction) turns each month-day that goes "backwards" into a change of year;
3. the fetch time: the newest post of an unanchored listing is the latest such day not
   after the fetch, and the order gives the rest.

Every listing ever seen (the store keeps the recent ones) is resolved again whenever
new evidence arrives, so a year guessed from the fetch time is corrected later.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from zoneinfo import ZoneInfo

from feedsvc.model import DateEvidence, Listing, ListingItem

# Without two anchors to tell the direction, a listing counts as sorted when at most
# this share of its steps go the "wrong" way (each such step is read as a change of year).
_MAX_WRAP_SHARE = 1 / 3


@dataclass(frozen=True, slots=True)
class Resolved:
    day: date
    evidence: DateEvidence


def full_dates(listings: Iterable[Listing]) -> dict[str, date]:
    """Every full date a listing showed, by identity (later listings win)."""
    known: dict[str, date] = {}
    for listing in sorted(listings, key=lambda lst: lst.fetched_at):
        for item in listing.items:
            day = _day(item.year, item.month, item.day)
            if day is not None:
                known[item.identity] = day
    return known


def resolve(listings: Sequence[Listing], explicit: Mapping[str, date], zone: ZoneInfo) -> dict[str, Resolved]:
    """Dates for every identity in ``listings`` that shows no year and has no explicit date.

    When listings disagree, the strongest evidence wins, then the listing with the most
    anchors, then the date most listings agree on, then the earliest: the outcome does not
    depend on the order in which listings were seen.
    """
    votes: dict[str, list[tuple[int, int, date]]] = {}
    for listing in listings:
        anchors, resolved = _resolve_listing(listing, explicit, zone)
        for identity, result in resolved.items():
            votes.setdefault(identity, []).append((result.evidence.rank, -anchors, result.day))
    out: dict[str, Resolved] = {}
    for identity, candidates in votes.items():
        best_rank = min(rank for rank, _, _ in candidates)
        best = [c for c in candidates if c[0] == best_rank]
        most_anchors = min(a for _, a, _ in best)
        days = Counter(d for _, a, d in best if a == most_anchors)
        top = max(days.values())
        day = min(d for d, count in days.items() if count == top)
        out[identity] = Resolved(day, list(DateEvidence)[best_rank])
    return out


def latest_not_after(month: int, day: int, limit: date) -> date:
    """The latest ``month``-``day`` that is not after ``limit`` (29 Feb: the latest leap year)."""
    year = limit.year
    while True:
        candidate = _day(year, month, day)
        if candidate is not None and candidate <= limit:
            return candidate
        year -= 1


def _resolve_listing(listing: Listing, explicit: Mapping[str, date], zone: ZoneInfo) -> tuple[int, dict[str, Resolved]]:
    items = list(listing.items)
    full = [_day(it.year, it.month, it.day) or explicit.get(it.identity) for it in items]
    missing = [i for i, day in enumerate(full) if day is None]
    if not missing:
        return 0, {}
    fetch_day = listing.fetched_at.astimezone(zone).date()
    direction = _direction(items, full)
    if direction == 0:
        return 0, {items[i].identity: _by_fetch_time(items[i], fetch_day) for i in missing}
    if direction < 0:  # work on the listing oldest first
        items.reverse()
        full.reverse()
    anchors = [i for i, day in enumerate(full) if day is not None]
    if not anchors:
        newest = len(items) - 1
        full[newest] = latest_not_after(items[newest].month, items[newest].day, fetch_day)
        return 0, {
            items[i].identity: Resolved(day, DateEvidence.FETCH_TIME)
            for i, day in enumerate(_walk_back(items, full, newest, 0))
            if day is not None
        }
    resolved: dict[str, Resolved] = {}
    for i, item in enumerate(items):
        if full[i] is not None:
            continue
        day = _between(items, full, anchors, i, fetch_day)
        if day is None:
            resolved[item.identity] = _by_fetch_time(item, fetch_day)
        else:
            resolved[item.identity] = Resolved(day, DateEvidence.LISTING_ORDER)
    return len(anchors), resolved


def _by_fetch_time(item: ListingItem, fetch_day: date) -> Resolved:
    return Resolved(latest_not_after(item.month, item.day, fetch_day), DateEvidence.FETCH_TIME)


def _between(
    items: list[ListingItem], full: list[date | None], anchors: list[int], i: int, fetch_day: date
) -> date | None:
    """Date of item ``i`` of an oldest-first listing from the nearest anchors on each side."""
    left = max((a for a in anchors if a < i), default=None)
    right = min((a for a in anchors if a > i), default=None)
    low = full[left] if left is not None else None
    high = full[right] if right is not None else fetch_day
    candidates = []
    if left is not None:
        candidates.append(_walk_forward(items, full, left, i))
    if right is not None:
        candidates.append(_walk_back(items, full, right, i)[i])
    for candidate in candidates:
        if candidate is not None and (low is None or low <= candidate) and high is not None and candidate <= high:
            return candidate
    return None


def _walk_forward(items: list[ListingItem], full: list[date | None], start: int, stop: int) -> date | None:
    anchor = full[start]
    assert anchor is not None
    year, previous = anchor.year, (anchor.month, anchor.day)
    for j in range(start + 1, stop + 1):
        current = (items[j].month, items[j].day)
        if current < previous:
            year += 1
        previous = current
    return _day(year, items[stop].month, items[stop].day)


def _walk_back(items: list[ListingItem], full: list[date | None], start: int, stop: int) -> list[date | None]:
    """Dates of items ``stop..start`` walking back from the known date at ``start``."""
    out: list[date | None] = [None] * len(items)
    anchor = full[start]
    assert anchor is not None
    out[start] = anchor
    year, following = anchor.year, (anchor.month, anchor.day)
    for j in range(start - 1, stop - 1, -1):
        current = (items[j].month, items[j].day)
        if current > following:
            year -= 1
        following = current
        out[j] = _day(year, items[j].month, items[j].day)
    return out


def _direction(items: Sequence[ListingItem], full: Sequence[date | None]) -> int:
    """+1 oldest first, -1 newest first, 0 not sorted by date."""
    known = [day for day in full if day is not None]
    steps = list(pairwise(known))
    up = sum(a < b for a, b in steps)
    down = sum(a > b for a, b in steps)
    if up and down:
        return 0
    if up or down:
        return 1 if up else -1
    month_days = [(it.month, it.day) for it in items]
    pairs = list(pairwise(month_days))
    if not pairs:
        return -1
    rising = sum(a < b for a, b in pairs)
    falling = sum(a > b for a, b in pairs)
    wraps = min(rising, falling)
    if wraps > max(1, _MAX_WRAP_SHARE * len(pairs)):
        return 0
    return 1 if falling < rising else -1


def _day(year: int | None, month: int, day: int) -> date | None:
    if year is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None
