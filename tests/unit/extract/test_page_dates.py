"""Page dates: parsed as shown, invalid ones are None (never an exception)."""

from __future__ import annotations

import pytest

from feedsvc.extract.dates import page_date
from feedsvc.model import PageDate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-07-14", PageDate(7, 14, 2023)),
        ("2024-01-01", PageDate(1, 1, 2024)),
        ("2024-02-29", PageDate(2, 29, 2024)),
        ("20 Apr", PageDate(4, 20, None)),
        ("8 Aug", PageDate(8, 8, None)),
        ("08 Aug", PageDate(8, 8, None)),
        ("31 Dec", PageDate(12, 31, None)),
        ("29 Feb", PageDate(2, 29, None)),  # some year has it; the year is resolved elsewhere
        ("  19 Sep \n", PageDate(9, 19, None)),
    ],
)
def test_dates_as_pages_show_them(text: str, expected: PageDate) -> None:
    assert page_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "31 Feb",
        "30 Feb",
        "31 Apr",
        "0 Jan",
        "32 Jan",
        "2023-13-01",
        "2023-00-10",
        "2023-02-29",
        "2023-04-31",
        "0000-01-01",
        "20 April",  # the layout shows three-letter months only
        "20 apr",
        "Apr 20",
        "123 Apr",
        "2023-7-14",
        "2023-07-14 10:00",
        "２０２３-０７-１４",  # noqa: RUF001 - full-width digits are not a page date
        "",
        "   ",
        "By 苏剑林",
        "\x00\xff\ufffd",
    ],
)
def test_invalid_dates_are_none(text: str) -> None:
    assert page_date(text) is None


def test_month_day_of_a_parsed_date() -> None:
    parsed = page_date("8 Aug")
    assert parsed is not None
    assert parsed.month_day == "08-08"
    assert parsed.year is None
