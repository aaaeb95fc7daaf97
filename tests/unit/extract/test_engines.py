"""Listing pages in the shapes of common blog, forum and news engines: each yields its expected posts.

``fixtures/engines/<name>.html`` is the page (as the site sends it: the GBK one is GBK bytes);
``<name>.json`` carries its expectation, written by reading the page: the URL and fetch time it
is read as of, the source's zone, CSS selectors for it, the detector auto-detection should pick
(or ``"miss"`` with the reason) and the posts: title, link, date as shown (``YYYY-MM-DD``,
``--MM-DD`` without a year, ``THH:MM`` when a time is shown or the date is relative), author and summary.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from feedsvc import differ, extract, fetch
from feedsvc.extract.selectors import Selectors
from feedsvc.model import Known, PageDate, Post, Snapshot

ENGINES = Path(__file__).resolve().parents[3] / "fixtures" / "engines"
NAMES = sorted(path.stem for path in ENGINES.glob("*.html"))


def case(name: str) -> dict[str, Any]:
    return json.loads((ENGINES / f"{name}.json").read_text(encoding="utf-8"))


def snapshot(name: str) -> Snapshot:
    expected = case(name)
    text = fetch.decode((ENGINES / f"{name}.html").read_bytes(), None)
    fetched_at = datetime.fromisoformat(expected["fetched_at"])
    return Snapshot(url=expected["url"], text=text, media_type="text/html", fetched_at=fetched_at)


def shown(date: PageDate | None) -> str | None:
    if date is None:
        return None
    day = f"{date.year:04d}-{date.month_day}" if date.year is not None else f"--{date.month_day}"
    return day if date.hour is None else f"{day}T{date.hour:02d}:{date.minute or 0:02d}"


def as_expected(post: Post) -> dict[str, Any]:
    return {
        "title": post.title,
        "link": post.link,
        "date": shown(post.date),
        "author": post.author,
        "summary": post.summary,
    }


def test_there_are_at_least_twelve_engine_pages_each_with_an_expectation() -> None:
    assert len(NAMES) >= 12
    assert {path.stem for path in ENGINES.glob("*.json")} == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_selectors_yield_exactly_the_expected_posts(name: str) -> None:
    expected = case(name)
    found = extract.posts(
        snapshot(name), "selectors", selectors=Selectors(**expected["selectors"]), zone=ZoneInfo(expected["timezone"])
    )
    assert [as_expected(post) for post in found] == expected["posts"]


@pytest.mark.parametrize("name", NAMES)
def test_auto_detection_yields_exactly_the_expected_posts(name: str) -> None:
    expected = case(name)
    if "miss" in expected:
        pytest.xfail(f"auto-detection misses {name}: {expected['miss']}")
    result = extract.extract(snapshot(name), zone=ZoneInfo(expected["timezone"]))
    assert [as_expected(post) for post in result.posts] == expected["posts"]
    assert result.layout == expected["auto"]
    assert result.feed_url == expected.get("feed_url")


def test_auto_detection_gets_at_least_ten_of_the_twelve_pages() -> None:
    assert sum(1 for name in NAMES if "miss" not in case(name)) >= 10


def test_relative_dates_read_again_later_do_not_change_stored_entries() -> None:
    expected = case("news")
    zone = ZoneInfo(expected["timezone"])
    first = snapshot("news")
    later = replace(first, fetched_at=first.fetched_at + timedelta(minutes=50))  # same words, 50 minutes on
    posts_then, posts_later = extract.posts(first, zone=zone), extract.posts(later, zone=zone)
    assert [p.date for p in posts_then] != [p.date for p in posts_later]  # the readings drift ...
    seen = differ.diff(Known(), posts_then, seen_at=first.fetched_at, zone=zone, source="news")
    known = Known(entries={entry.identity: entry for entry in seen.new})
    again = differ.diff(known, posts_later, seen_at=later.fetched_at, zone=zone, source="news")
    assert again.new == () and again.changed == ()  # ... but the first reading stands


PATTERNS = ENGINES.parent / "patterns"
PATTERN_NAMES = sorted(path.stem for path in PATTERNS.glob("*.html"))


@pytest.mark.parametrize("name", PATTERN_NAMES)
def test_auto_detection_reads_each_failure_pattern_page_as_expected(name: str) -> None:
    """``fixtures/patterns/<name>``: one page per failure pattern of real pages (issue 11), in our own markup."""
    expected = json.loads((PATTERNS / f"{name}.json").read_text(encoding="utf-8"))
    text = fetch.decode((PATTERNS / f"{name}.html").read_bytes(), None)
    page = Snapshot(expected["url"], text, "text/html", datetime.fromisoformat(expected["fetched_at"]))
    result = extract.extract(page, zone=ZoneInfo(expected["timezone"]))
    assert [as_expected(post) for post in result.posts] == expected["posts"]
    assert result.layout == expected["auto"]
    stored = differ.diff(Known(), result.posts, page.fetched_at, ZoneInfo(expected["timezone"]), name).new
    assert len(stored) == len(expected["posts"])  # every post its own entry, shared links and all


def test_there_is_a_pattern_page_for_each_failure_pattern() -> None:
    assert {name.partition("_")[0] for name in PATTERN_NAMES} == {f"p{n}" for n in range(1, 10)}
