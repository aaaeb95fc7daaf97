"""The layout-change guard: a page with far fewer posts than usual is not believed. Pure.

An error page, a login or captcha page, a block page or a redesign often still yields a post or
two. Such a page must not be taken as the listing: the refresh fails and stores nothing.
A real, lasting change is accepted once it is the usual: every page read is remembered
(``SourceState.recent_posts``), so after a few such pages the median follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median

MIN_HISTORY = 3  # pages needed before the usual count is trusted
FAR_FEWER = 0.5  # a page with less than this share of the usual count is refused


def usual(recent: Sequence[int]) -> float | None:
    """The usual number of posts on the page, or None while too few pages were read."""
    return median(recent) if len(recent) >= MIN_HISTORY else None


def problem(seen: int, recent: Sequence[int]) -> str | None:
    """Why ``seen`` posts on the page are not believed, in plain words; None when they are."""
    if seen == 0:
        return "the page shows no posts: an error page, a block page or a redesign? nothing was stored"
    typical = usual(recent)
    if typical is not None and seen < typical * FAR_FEWER:
        return (
            f"the page shows {seen} post{'s' if seen != 1 else ''} where it usually shows {typical:g}: "
            "an error page, a block page or a redesign? nothing was stored"
        )
    return None
