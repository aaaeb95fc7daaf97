"""Dates as listing pages show them, read against a fetch time in the source's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from feedsvc.extract.dates import find, parse
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


BERLIN = ZoneInfo("Europe/Berlin")
FETCHED = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)  # 13:00 in Berlin


@pytest.mark.parametrize(
    ("text", "languages", "expected"),
    [
        ("heute, 18:00 Uhr", ("de",), PageDate(3, 10, 2024, 18, 0)),
        ("Gestern, 13:41 Uhr", ("de",), PageDate(3, 9, 2024, 13, 41)),
        ("vor 3 Stunden", ("de",), PageDate(3, 10, 2024, 10, 0)),
        ("il y a 2 jours", ("fr",), PageDate(3, 8, 2024)),
        ("hace 3 días", ("es",), PageDate(3, 7, 2024)),
        ("3時間前", ("ja",), PageDate(3, 10, 2024, 10, 0)),
        ("вчера", ("ru",), PageDate(3, 9, 2024)),
        ("22 enero, 2016", ("es",), PageDate(1, 22, 2016)),
        ("Publicado el 10 de marzo de 2016 por Ana", ("es",), PageDate(3, 10, 2016)),
        ("aprile 25, 2016 - 5:47 pm", ("it",), PageDate(4, 25, 2016, 17, 47)),
        ("Mar 12 Nov 2013 19:39", ("fr",), PageDate(11, 12, 2013, 19, 39)),  # "Mar": mardi, not March
        ("17 февраля 2016", ("ru",), PageDate(2, 17, 2016)),
        ("16.02.2016 15:06", ("nb",), PageDate(2, 16, 2016, 15, 6)),
        ("11/05/2020", ("en",), PageDate(11, 5, 2020)),
        ("11/05/2020", ("de",), PageDate(5, 11, 2020)),
    ],
)
def test_dates_in_the_languages_the_page_declares(text: str, languages: tuple[str, ...], expected: PageDate) -> None:
    shown = find(text, FETCHED, BERLIN, languages)
    assert shown is not None and shown.date == expected


def test_relative_words_of_undeclared_languages_are_not_read() -> None:
    assert find("gestern", FETCHED, BERLIN) is None
    assert find("vor 3 Stunden", FETCHED, BERLIN, ("en",)) is None


def test_page_languages_come_from_the_html_lang() -> None:
    from feedsvc.extract.dates import languages_of

    assert languages_of("de-AT") == ("de",)
    assert languages_of("no") == ("nb",)
    assert languages_of("xx-YY") == ()
    assert languages_of(None) == ()


def test_the_languages_known_without_loading_dateparser_are_dateparser_s() -> None:
    from dateparser.languages.loader import default_loader

    from feedsvc.extract.dates import _DATEPARSER_LANGUAGES

    assert {code.split("-")[0] for code in default_loader.get_locale_map()} == _DATEPARSER_LANGUAGES


def test_a_page_that_declares_no_language_is_read_in_the_languages_its_script_suggests() -> None:
    from feedsvc.extract.dates import languages_of_text
    from feedsvc.extract.page import Page
    from feedsvc.model import Snapshot

    assert languages_of_text("Новости компании: 17 февраля 2016, обновление") == ("ru", "uk", "bg", "sr")
    assert languages_of_text("ニュース一覧 2016年2月17日") == ("ja",)
    assert languages_of_text("Company news, February 2016") == ()  # Latin: many languages, none guessed
    assert languages_of_text("Company news from Москва and other places") == ()  # one word of a script decides nothing
    html = "<html><body><ul><li><a href='/a'>Новый продукт</a> <span>17 февраля 2016</span></li></ul></body></html>"
    page = Page(Snapshot("https://example.org/", html, "text/html", FETCHED), BERLIN)
    assert page.languages[0] == "ru"
    shown = find("17 февраля 2016", FETCHED, BERLIN, page.languages)
    assert shown is not None and shown.date == PageDate(2, 17, 2016)
    ukrainian = html.replace("<html>", "<html lang='uk'>")
    declared = Page(Snapshot("https://example.org/", ukrainian, "text/html", FETCHED), BERLIN)
    assert declared.languages == ("uk",)  # what the page declares wins
