"""Page dates as pages show them: ``2023-07-14`` or ``20 Apr`` (no year).

Only parsing lives here. Resolving a missing year is the differ's job: it needs evidence
from other snapshots and the fetch time, and this module takes neither.
Invalid dates (``31 Feb``, ``2023-13-01``) give ``None``, never an exception.
"""

from __future__ import annotations

import re
from datetime import date

from feedsvc.model import PageDate

# Spelled out, not calendar.month_abbr: that one follows the process locale.
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS: dict[str, int] = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
DAY_MONTH = re.compile(r"([0-9]{1,2}) (" + "|".join(MONTHS) + r")")
_LEAP_YEAR = 2000  # a year that has every month-day, to validate dates shown without a year


def page_date(text: str) -> PageDate | None:
    """``"2023-07-14"`` -> ``PageDate(7, 14, 2023)``; ``"20 Apr"`` -> ``PageDate(4, 20)``; else None."""
    text = text.strip()
    if match := ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
        return _valid(year, month, day, year)
    if match := DAY_MONTH.fullmatch(text):
        return _valid(_LEAP_YEAR, MONTHS[match[2]], int(match[1]), None)
    return None


def _valid(check_year: int, month: int, day: int, year: int | None) -> PageDate | None:
    try:
        date(check_year, month, day)
    except ValueError:
        return None
    return PageDate(month=month, day=day, year=year)
