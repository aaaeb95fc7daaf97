"""Dates as listing pages show them, read against a fetch time in the source's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from feedsvc.extract.shown_dates import find, parse
from feedsvc.model import PageDate

NOW = datetime(2024, 1, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "expected", "how"),
    [
        ("2023-07-14", PageDate(7, 14, 2023), "iso-8601"),
        ("2023-07-14T10:00:00+00:00", PageDate(7, 14, 2023, 18, 0), "iso-8601"),  # offset -> the source's zone
        ("Fri, 14 Jul 2023 10:00:00 +0000", PageDate(7, 14, 2023, 18, 0), "rfc-2822"),
        ("2023年7月14日", PageDate(7, 14, 2023), "cjk"),
        ("7月14日 12:30", PageDate(7, 14, None, 12, 30), "cjk"),
        ("2023/07/14 12:30", PageDate(7, 14, 2023, 12, 30), "numeric"),
        ("2024-1-9", PageDate(1, 9, 2024), "numeric"),
        ("14 Jul 2023", PageDate(7, 14, 2023), "english"),
        ("July 14th, 2023", PageDate(7, 14, 2023), "english"),
        ("Jul 14", PageDate(7, 14), "english"),
        ("20 Apr", PageDate(4, 20), "english"),
        ("3天前", PageDate(1, 7, 2024), "relative"),
        ("昨天", PageDate(1, 9, 2024), "relative"),
        ("昨天 16:45", PageDate(1, 9, 2024, 16, 45), "relative"),
        ("2 hours ago", PageDate(1, 10, 2024, 10, 0), "relative"),
        ("an hour ago", PageDate(1, 10, 2024, 11, 0), "relative"),
        ("25分钟前", PageDate(1, 10, 2024, 11, 35), "relative"),
        ("刚刚", PageDate(1, 10, 2024, 12, 0), "relative"),
    ],
)
def test_each_layout_of_date(text: str, expected: PageDate, how: str) -> None:
    shown = parse(text, NOW, SHANGHAI)
    assert shown is not None
    assert (shown.date, shown.how) == (expected, how)


def test_relative_dates_count_back_in_the_source_zone_across_midnight() -> None:
    late = datetime(2024, 1, 9, 17, 0, tzinfo=UTC)  # already 01:00 on the 10th in Shanghai, still the 9th in UTC
    in_shanghai, in_utc = parse("昨天", late, SHANGHAI), parse("昨天", late, ZoneInfo("UTC"))
    assert in_shanghai is not None and in_shanghai.date == PageDate(1, 9, 2024)
    assert in_utc is not None and in_utc.date == PageDate(1, 8, 2024)


@pytest.mark.parametrize("text", ["31 Feb", "2023-13-01", "Mayday", "version 2.0.1", "", "第3天", "May 2023"])
def test_non_dates_are_none(text: str) -> None:
    assert parse(text, NOW, SHANGHAI) is None


def test_find_takes_the_first_date_inside_longer_text() -> None:
    shown = find("Published November 2, 2023 · updated 2 hours ago", NOW, SHANGHAI)
    assert shown is not None
    assert (shown.date, shown.text) == (PageDate(11, 2, 2023), "November 2, 2023")
