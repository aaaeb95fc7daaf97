"""Page dates as pages show them, in many languages, read against the fetch time. Pure: ``now`` is passed in.

    2023-07-14T10:00:00+08:00   ISO 8601 (datetime.fromisoformat); an offset is converted to the source zone
    Fri, 14 Jul 2023 10:00:00 +0800   RFC 2822 (email.utils)
    14 Jul 2023 | July 14th, 2023 | Jul 14 | 20 Apr   English month names (dateutil); the year may be missing
    2023年7月14日 | 7月14日 | 2023/07/14 12:30 | 2023.7.14   numeric layouts, year first
    16.02.2016 15:06 | 11/05/2020   numeric layouts, year last (day first; month first on an English page)
    3天前 | 昨天 12:30 | 前天 | 刚刚 | 2 hours ago | yesterday | just now   relative to the fetch time
    22 enero, 2016 | 10 de marzo de 2016 | Ven 13 Déc 2013 15:36 | 17 февраля 2016   month names in the
        languages the page declares (dateparser's tables)
    heute, 18:00 Uhr | gestern | vor 3 Stunden | il y a 2 jours | hace 3 días | 3時間前 | вчера   relative, in the
        languages the page declares (dateparser), counted back from the fetch time

``find(text, now, zone, languages)`` looks for the first date inside a longer text (``发表于 2023-07-14``):
the fast layouts first; only when none matches, the declared languages' month names and relative words.
A date without a year stays ``PageDate(month, day)``: the differ resolves the year from evidence.
``page_date`` reads the two strict layouts of the text engines (``2023-07-14``, ``20 Apr``).
Invalid dates (``31 Feb``, ``2023-13-01``) give ``None``, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

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
_YEAR_LAST = re.compile(
    r"(?<![\d.])(?P<first>\d{1,2})(?P<sep>[./])(?P<second>\d{1,2})(?P=sep)(?P<year>\d{4})(?![\d.])"
    r"(?:,?\s*(?P<hour>[0-2]?\d):(?P<minute>[0-5]\d))?"
)
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
_ALIASES = {"no": "nb", "nn": "nb", "iw": "he", "in": "id", "jw": "jv"}
# dateparser's own data (loaded on first use: importing it takes a quarter of a second)
_DATEPARSER_LANGUAGES = frozenset(
    str.split(
        "af agq ak am ar as asa ast az bas be bem bez bg bm bn bo br brx bs ca ce cgg chr ckb cs cy da dav de dje dsb "
        "dua dyo dz ebu ee el en eo es et eu ewo fa ff fi fil fo fr fur fy ga gd gl gsw gu guz gv ha haw he hi hr hsb "
        "hu hy id ig ii is it ja jgo jmc ka kab kam kde kea khq ki kk kl kln km kn ko kok ks ksb ksf ksh kw ky lag lb "
        "lg lkt ln lo lrc lt lu luo luy lv mas mer mfe mg mgh mgo mk ml mn mr ms mt mua my mzn naq nb nd ne nl nmg nn "
        "nnh nus nyn om or os pa pl ps pt qu rm rn ro rof ru rw rwk sah saq sbp se seh ses sg shi si sk sl smn sn "
        "so sq sr sv sw ta te teo th ti tl to tr twq tzm ug uk ur uz vi vun wae xog yav yi yo yue zgh zh zu"
    )
)
_RELATIVE_HINTS = ("前", "ago", "刚", "今天", "today", "昨天", "yesterday", "just now")
_DAYS_BACK = {"今天": 0, "today": 0, "昨天": 1, "yesterday": 1, "前天": 2}


@dataclass(frozen=True, slots=True)
class ShownDate:
    """A date found on a page: what it means, how it was read, and the text that showed it."""

    date: PageDate
    how: str  # "iso-8601", "rfc-2822", "english", "cjk", "numeric", "day-first", "named", "relative"
    text: str


def parse(text: str, now: datetime, zone: ZoneInfo, languages: tuple[str, ...] = ()) -> ShownDate | None:
    """The date ``text`` is, all of it (surrounding white space aside); None when it is no date."""
    found = find(text, now, zone, languages)
    return found if found is not None and found.text == text.strip() else None


def find(text: str, now: datetime, zone: ZoneInfo, languages: tuple[str, ...] = ()) -> ShownDate | None:
    """The first date shown inside ``text`` (the earliest match; the more precise reading on a tie).

    ``languages`` (ISO 639-1 codes the page declares) add, after the fast layouts, month names and
    relative words in those languages; ``en`` first means a year-last ``11/05/2020`` is month first.
    """
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
    local = now.astimezone(zone)
    other = tuple(language for language in languages if language in _DATEPARSER_LANGUAGES and language != "en")
    english = None
    for _, _, how, match in sorted(candidates, key=lambda c: (c[0], c[1])):
        if how == "english" and other:
            english = english or match  # on a page in another language "Mar 12" may be "mardi 12": names first
            continue
        shown = _READ[how](match, local, zone) if how != "day-first" else _year_last(match, languages)
        if shown is not None:
            return ShownDate(shown, how, match[0])
    if other and (named := _named(text, other)) is not None:
        return named
    if english is not None and (shown := _english(english, local, zone)) is not None:
        return ShownDate(shown, "english", english[0])
    if other and len(text) <= _MAX_RELATIVE_TEXT:
        return _foreign_relative(text, other, local)
    return None


def languages_of(tag: str | None) -> tuple[str, ...]:
    """``"de-AT"`` -> ``("de",)``: the dateparser language of a page's ``lang``; () when it has none."""
    if not tag:
        return ()
    code = tag.strip().lower().replace("_", "-").partition("-")[0]
    code = _ALIASES.get(code, code)
    return (code,) if code in _DATEPARSER_LANGUAGES else ()


_SCRIPTS = (  # a script that only some languages write, and those languages (the likeliest first)
    (re.compile("[\u0400-\u04ff]"), ("ru", "uk", "bg", "sr")),
    (re.compile("[\u0370-\u03ff]"), ("el",)),
    (re.compile("[\u0590-\u05ff]"), ("he",)),
    (re.compile("[\u0600-\u06ff]"), ("ar", "fa")),
    (re.compile("[\u0e00-\u0e7f]"), ("th",)),
    (re.compile("[\u3040-\u30ff]"), ("ja",)),
    (re.compile("[\uac00-\ud7af]"), ("ko",)),
)
_LETTERS = re.compile(r"[^\W\d_]")
_SAMPLE = 20_000  # characters of the page's text looked at


def languages_of_text(text: str) -> tuple[str, ...]:
    """For a page that declares no language: the languages its script says it may be in, when a
    third of its letters are in a script only some languages write (Cyrillic, Greek, Kana...); else ()."""
    sample = text[:_SAMPLE]
    letters = len(_LETTERS.findall(sample))
    for pattern, languages in _SCRIPTS:
        if letters and len(pattern.findall(sample)) * 3 >= letters:
            return tuple(language for language in languages if language in _DATEPARSER_LANGUAGES)
    return ()


def _year_last(match: re.Match[str], languages: tuple[str, ...]) -> PageDate | None:
    first, second, year = int(match["first"]), int(match["second"]), int(match["year"])
    month_first = match["sep"] == "/" and (not languages or languages[0] == "en")
    month, day = (first, second) if month_first else (second, first)
    try:
        date(year, month, day)
    except ValueError:
        return None
    hour, minute = _clock(match)
    return PageDate(month, day, year, hour, minute)


def _named(text: str, languages: tuple[str, ...]) -> ShownDate | None:
    """``22 enero, 2016``, ``aprile 25, 2016 - 5:47 pm``, ``17 февраля 2016``: a month named in a declared language."""
    pattern, months = _month_names(languages)
    for match in pattern.finditer(text):
        month = months[(match["m1"] or match["m2"]).lower().rstrip(".")]
        day = int(match["d1"] or match["d2"])
        year_text = match["y1"] or match["y2"]
        year = int(year_text) if year_text else None
        try:
            date(year or _LEAP_YEAR, month, day)
        except ValueError:
            continue
        hour, minute = _clock(match)
        if hour is not None and match["ampm"]:
            hour = hour % 12 + (12 if match["ampm"].lower().startswith("p") else 0)
        return ShownDate(PageDate(month, day, year, hour, minute), "named", match[0].strip())
    return None


_NAMED_CACHE: dict[tuple[str, ...], tuple[re.Pattern[str], dict[str, int]]] = {}
_MONTH_KEYS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


def _month_names(languages: tuple[str, ...]) -> tuple[re.Pattern[str], dict[str, int]]:
    if languages not in _NAMED_CACHE:
        months: dict[str, int] = {}
        for language in languages:
            info = _locale_info(language)
            for number, key in enumerate(_MONTH_KEYS, start=1):
                for name in info.get(key, []):
                    if len(name) >= 3 and not name.isdigit():
                        months.setdefault(name.lower().rstrip("."), number)
        names = "|".join(re.escape(name) for name in sorted(months, key=len, reverse=True))
        month = f"(?:{names})\\.?"
        clock = (
            r"(?:[\s,\-\u2013|@]+(?:\w{1,5}\.?\s+)?"  # "15:36", ", 5:47 pm", " - 18h30", " um 13:41"
            r"(?P<hour>[0-2]?\d)[:.h](?P<minute>[0-5]\d)(?:\s*(?P<ampm>[ap]\.?m\.?))?)?"
        )
        pattern = re.compile(
            r"(?<!\w)(?:"
            rf"(?P<d1>\d{{1,2}})\.?\s*(?:de\s+)?(?P<m1>{month}),?\s*(?:(?:de|del)\s+)?(?P<y1>\d{{4}})?"
            rf"|(?P<m2>{month})\s+(?P<d2>\d{{1,2}})(?:,?\s+(?P<y2>\d{{4}}))?"
            rf")(?!\w){clock}",
            re.IGNORECASE,
        )
        _NAMED_CACHE[languages] = (pattern, months)
    return _NAMED_CACHE[languages]


_RELATIVE_CACHE: dict[tuple[str, ...], re.Pattern[str]] = {}
_PARSED: dict[tuple[str, tuple[str, ...], datetime], datetime | None] = {}
_MAX_RELATIVE = 48  # characters around a relative word handed to dateparser
_MAX_RELATIVE_TEXT = 80  # relative words are read in short texts only (a date line, not an article's prose)


def _foreign_relative(text: str, languages: tuple[str, ...], now: datetime) -> ShownDate | None:
    """``vor 3 Stunden``, ``gestern, 13:41 Uhr``, ``il y a 2 jours``: dateparser reads the clause around
    a relative word of the page's languages, counting back from ``now`` (the fetch time)."""
    hint = _relative_words(languages).search(text)
    if hint is None:
        return None
    start = max(0, hint.start() - 24)
    stop = min(len(text), hint.end() + 24)
    window = re.split(r"[|\u00b7\u2022\n]", text[start:stop])
    clause = next((part for part in window if hint[0].lower() in part.lower()), text[start:stop])
    for piece in _shrinking(clause.strip(" ,-"), hint[0]):
        moment = _dateparser(piece, languages, now)
        if moment is not None:
            has_clock = bool(re.search(r"\d{1,2}[:.]\d{2}", piece)) or _is_hours(piece, languages)
            shown = _moment(moment) if has_clock else PageDate(moment.month, moment.day, moment.year)
            return ShownDate(shown, "relative", piece)
    return None


def _shrinking(clause: str, word: str) -> list[str]:
    """The clause, then ever fewer words around ``word``."""
    words = clause.split()
    at = next((index for index, token in enumerate(words) if word.lower() in token.lower()), 0)
    pieces = [clause]
    for reach in (4, 3, 2, 1, 0):
        piece = " ".join(words[max(0, at - reach) : at + reach + 1])
        if piece and piece not in pieces:
            pieces.append(piece)
    return pieces[:6]


def _is_hours(piece: str, languages: tuple[str, ...]) -> bool:
    """The piece counts hours, minutes or seconds (a time of day is meant), not days or weeks."""
    lowered = piece.lower()
    for language in languages:
        info = _locale_info(language)
        for key in ("hour", "minute", "second"):
            for name in info.get(key, []):
                name = name.lower()
                if name.isascii() and len(name) < 2:
                    continue
                if _unspaced(name) and name in lowered:  # CJK: words are not set apart by spaces
                    return True
                if not _unspaced(name) and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", lowered):
                    return True
    return False


def _locale_info(language: str) -> dict[str, Any]:
    from dateparser.languages.loader import default_loader

    info: dict[str, Any] = default_loader.get_locale(language).info
    return info


def _unspaced(word: str) -> bool:
    return any(ord(char) >= 0x2E80 for char in word)


def _dateparser(piece: str, languages: tuple[str, ...], now: datetime) -> datetime | None:
    key = (piece, languages, now)
    if key not in _PARSED:
        if len(_PARSED) > 4096:
            _PARSED.clear()
        settings = {"RELATIVE_BASE": now.replace(tzinfo=None), "PREFER_DATES_FROM": "past", "STRICT_PARSING": False}
        import dateparser

        _PARSED[key] = dateparser.parse(piece[:_MAX_RELATIVE], languages=list(languages), settings=settings)
    return _PARSED[key]


def _relative_words(languages: tuple[str, ...]) -> re.Pattern[str]:
    if languages not in _RELATIVE_CACHE:
        words: set[str] = set()
        for language in languages:
            info = _locale_info(language)
            words.update(word for word in info.get("ago", []) if len(word) >= 2 or not word.isascii())
            for meaning, spelled in info.get("relative-type", {}).items():
                if meaning in ("0 day ago", "1 day ago", "2 day ago"):  # today, yesterday, the day before
                    words.update(word for word in spelled if len(word) >= 3)
        words.discard("in")
        ordered = sorted(words, key=len, reverse=True)
        spelled = [re.escape(word) if _unspaced(word) else rf"(?<!\w){re.escape(word)}(?!\w)" for word in ordered]
        _RELATIVE_CACHE[languages] = re.compile("|".join(spelled) if spelled else r"(?!)", re.IGNORECASE)
    return _RELATIVE_CACHE[languages]


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
    ("day-first", _YEAR_LAST),
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
