"""When may a scheduled refresh next reach the site? The due rule, in one place. Pure: no clock, no I/O.

A source is due an ``interval`` after the last attempt of any instance (``next_due``; the store's
claim re-checks this atomically across instances) and once any failure backoff is over:

After ``n`` consecutive failures the next scheduled attempt waits ``interval * 2**n`` after the last
attempt, capped at ``cap`` (but never less than the interval), and never before the site's own
``Retry-After``. A success resets the count, so the source is polled on its interval again.

    failures   0    1     2     3     4      5      6+
    wait       -    2i    4i    8i    16i    32i    cap      (i = interval)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from feedsvc.config import DEFAULTS
from feedsvc.model import SourceState

DEFAULT_CAP = DEFAULTS.max_backoff


def delay(failures: int, interval: timedelta, cap: timedelta = DEFAULT_CAP) -> timedelta:
    """How long after a failed attempt the next scheduled one may run; zero after a success."""
    if failures <= 0:
        return timedelta(0)
    ceiling = max(cap, interval)
    # 2**n overflows timedelta for large n: stop doubling once past the ceiling
    return min(interval * 2 ** min(failures, 32), ceiling)


def next_allowed(state: SourceState, interval: timedelta, cap: timedelta = DEFAULT_CAP) -> datetime | None:
    """The earliest time a scheduled refresh of the source may reach the site; None: any time."""
    candidates: list[datetime] = []
    if state.consecutive_failures > 0 and state.last_attempt is not None:
        candidates.append(state.last_attempt + delay(state.consecutive_failures, interval, cap))
    if state.retry_after_until is not None:
        candidates.append(state.retry_after_until)
    return max(candidates, default=None)


def next_due(state: SourceState, interval: timedelta, cap: timedelta = DEFAULT_CAP) -> datetime | None:
    """When the next scheduled refresh may run: an interval after the last attempt, and not before
    the backoff (``next_allowed``) ends; None: now."""
    candidates = [state.last_attempt + interval] if state.last_attempt is not None else []
    allowed = next_allowed(state, interval, cap)
    if allowed is not None:
        candidates.append(allowed)
    return max(candidates, default=None)


def due(state: SourceState, now: datetime, interval: timedelta, cap: timedelta = DEFAULT_CAP) -> bool:
    """True when the backoff lets a scheduled refresh run at ``now``."""
    allowed = next_allowed(state, interval, cap)
    return allowed is None or now >= allowed
