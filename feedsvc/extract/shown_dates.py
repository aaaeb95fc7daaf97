"""Dates in the many ways listing pages show them, read against the fetch time.

    2023-07-14T10:00:00+08:00   ISO 8601 (datetime.fromisoformat); an offset is converted to the source zone
    Fri, 14 Jul 2023 10:00:00 +0800   RFC 2822 (email.utils)
    14 Jul 2023 | July 14th, 2023 | Jul 14 | 20 Apr   English month names (dateutil); the year may be missing
    2023年7月14日 | 7月14日 | 2023/07/14 12:30 | 2023.7.14   numeric layouts
    3天前 | 昨天 12:30 | 前天 | 刚刚 | 2 hours ago | yesterday | just now   relative to the fetch time

``find(text, now, zone)`` looks for the first date inside a longer text (``发表于 2023-07-14``).
A date without a year stays ``PageDate(month, day)``: the differ resolves the year from evidence.
Relative dates are resolved here, against ``now`` in the source's zone. Pure: ``now`` is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

from feedsvc.model import PageDate

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_CLOCK = r"(?:[T ]?\s*(?P<hour>[0-2]?\d):(?P<minute>[0-5]\d)(?::[0-5]\d(?:\.\d+)?)?)?"
_ISO = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?!\d)")
_RFC2822 = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?\d{1,2}\s+" + _MONTH + r"\s+\d{4}\s+\d{2}:\d{2}(?::\d{2})?\s*"
    r"(?:[+-]\d{4}|GMT|UTC|UT|[ECMP][SD]T)",
    re.IGNORECASE,
)
_CJK = re.compile(
    r"(?:(?P<year>\d{4})\s*年\s*)?(?<!\d)(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]"
    + _CLOCK.replace("[T ]?", "")
)
_NUMERIC = re.compile(r"(?<!\d)(?P<year>\d{4})(?P<sep>[/.-])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})(?!\d)" + _CLOCK)
_ENGLISH = re.compile(
    r"(?<![A-Za-z])(?:"
    r"\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH + r"(?:,?\s+\d{4})?"  # 14 Jul 2023, 20 Apr
    r"|" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?"  # July 14th, 2023, Jul 14
    r")(?![A-Za-z0-9])(?:,?\s+(?:at\s+)?[0-2]?\d:[0-5]\d(?:\s*[AaPp][Mm])?)?",
    re.IGNORECASE,
)
_UNITS = {
    "秒": "seconds", "分钟": "minutes", "分": "minutes", "小时": "hours", "天": "days", "日": "days", "周": "weeks",
    "second": "seconds", "sec": "seconds", "minute": "minutes", "min": "minutes", "hour": "hours", "hr": "hours",
    "day": "days", "week": "weeks",
}  # fmt: skip
_RELATIVE = re.compile(
    r"(?P<n>\d+|(?<![A-Za-z])(?:an?|one))\s*(?P<unit>秒|分钟|分|小时|天|日|周|(?:second|sec|minute|min|hour|hr|day|week)s?)\s*(?:前|ago)"
    r"|(?P<word>刚刚|刚才|just now|今天|today|昨天|yesterday|前天)" + _CLOCK.replace("[T ]?", ""),
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_RELATIVE_HINTS = ("前", "ago", "刚", "今天", "today", "昨天", "yesterday", "just now")
_DAYS_BACK = {"今天": 0, "today": 0, "昨天": 1, "yesterday": 1, "前天": 2}
_LEAP_YEAR = 2000  # a year that has every month-day, to validate dates shown without a year


@dataclass(frozen=True, slots=True)
class ShownDate:
    """A date found on a page: what it means, how it was read, and the text that showed it."""

    date: PageDate
    how: str  # "iso-8601", "rfc-2822", "english", "cjk", "numeric", "relative"
    text: str


def parse(text: str, now: datetime, zone: ZoneInfo) -> ShownDate | None:
    """The date ``text`` is, all of it (surrounding white space aside); None when it is no date."""
    found = find(text, now, zone)
    return found if found is not None and found.text == text.strip() else None


def find(text: str, now: datetime, zone: ZoneInfo) -> ShownDate | None:
    """The first date shown inside ``text`` (the earliest match; the more precise reading on a tie)."""
    candidates = []
    has_digit = _DIGIT.search(text) is not None
    lowered = text.lower()
    for how, pattern in _READERS:
        if how == "relative" and not any(word in lowered for word in _RELATIVE_HINTS):
            continue
        if how != "relative" and not has_digit:  # every other layout shows a number: skip the costly patterns
            continue
        match = pattern.search(text)
        if match is not None:
            candidates.append((match.start(), -len(match[0]), how, match))
    for _, _, how, match in sorted(candidates, key=lambda c: (c[0], c[1])):
        shown = _READ[how](match, now.astimezone(zone), zone)
        if shown is not None:
            return ShownDate(shown, how, match[0])
    return None


def _iso(match: re.Match[str], now: datetime, zone: ZoneInfo) -> PageDate | None:
    try:
        moment = datetime.fromisoformat(match[0])
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    elif "T" not in match[0] and " " not in match[0]:
        return PageDate(moment.month, moment.day, moment.year)
    return _moment(moment)


def _rfc2822(match: re.Match[str], now: datetime, zone: ZoneInfo) -> PageDate | None:
    try:
        moment = parsedate_to_datetime(match[0])
    except (TypeError, ValueError):
        return None
    return _moment(moment.astimezone(zone) if moment.tzinfo else moment)


def _english(match: re.Match[str], now: datetime, zone: ZoneInfo) -> PageDate | None:
    text = match[0].replace(" at ", " ")
    try:  # two defaults: a part that differs between the readings was not on the page
        first = dateutil_parser.parse(text, default=datetime(_LEAP_YEAR, 1, 1, 0, 0))
        second = dateutil_parser.parse(text, default=datetime(_LEAP_YEAR + 4, 2, 2, 1, 1))
    except (ValueError, OverflowError):
        return None
    year = first.year if first.year == second.year else None
    if first.hour == second.hour:
        return PageDate(first.month, first.day, year, first.hour, first.minute)
    return PageDate(first.month, first.day, year)


def _numbered(match: re.Match[str], now: datetime, zone: ZoneInfo) -> PageDate | None:
    year = int(match["year"]) if match["year"] else None
    month, day = int(match["month"]), int(match["day"])
    try:
        date(year or _LEAP_YEAR, month, day)
    except ValueError:
        return None
    hour, minute = _clock(match)
    return PageDate(month, day, year, hour, minute)


def _relative(match: re.Match[str], now: datetime, zone: ZoneInfo) -> PageDate | None:
    word = (match["word"] or "").lower()
    if word in ("刚刚", "刚才", "just now"):
        return _moment(now)
    if word:
        day = now.date() - timedelta(days=_DAYS_BACK[word])
        hour, minute = _clock(match)
        return PageDate(day.month, day.day, day.year, hour, minute)
    count = int(match["n"]) if match["n"].isdigit() else 1
    unit = _UNITS[match["unit"].lower().removesuffix("s") if match["unit"].isascii() else match["unit"]]
    then = now - timedelta(**{unit: count})
    if unit in ("days", "weeks"):
        return PageDate(then.month, then.day, then.year)
    return _moment(then)


def _clock(match: re.Match[str]) -> tuple[int | None, int | None]:
    if match["hour"] is None or int(match["hour"]) > 23:
        return None, None
    return int(match["hour"]), int(match["minute"])


def _moment(moment: datetime) -> PageDate:
    return PageDate(moment.month, moment.day, moment.year, moment.hour, moment.minute)


_READERS = (
    ("iso-8601", _ISO),
    ("rfc-2822", _RFC2822),
    ("cjk", _CJK),
    ("numeric", _NUMERIC),
    ("english", _ENGLISH),
    ("relative", _RELATIVE),
)
_READ = {
    "iso-8601": _iso,
    "rfc-2822": _rfc2822,
    "cjk": _numbered,
    "numeric": _numbered,
    "english": _english,
    "relative": _relative,
}
