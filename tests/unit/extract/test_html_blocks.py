"""The rules of the ``html_blocks`` detector, each on a page made for it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from feedsvc.extract import html_blocks
from feedsvc.extract.page import Page
from feedsvc.model import Snapshot


def page(body: str, lang: str = "en") -> Page:
    html = f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"></head><body>{body}</body></html>'
    return Page(
        Snapshot("https://site.example/", html, "text/html", datetime(2024, 3, 10, tzinfo=UTC)), ZoneInfo("UTC")
    )


def titles(body: str) -> list[str]:
    return [post.title for post in html_blocks.posts(page(body))]


def test_the_title_is_the_first_wide_link_column_not_a_linked_teaser_or_the_author() -> None:
    rows = "".join(
        f'<div class="row"><a href="/p/{n}">{title}</a> by <a href="/u/{n}">{user}</a>'
        f'<a class="more" href="/p/{n}">{teaser}</a><span>2024-03-0{n}</span></div>'
        for n, (title, user, teaser) in enumerate(
            [
                (
                    "Fixing the flaky build",
                    "kim",
                    "We finally found why the build failed one time in ten, and it was the clock.",
                ),
                (
                    "A faster search index",
                    "lou",
                    "Rebuilding the index in the background halves the time a search takes.",
                ),
                (
                    "Notes from the spring meetup",
                    "max",
                    "Three talks, one workshop and too much coffee: the notes are here now.",
                ),
            ],
            start=1,
        )
    )
    assert titles(f'<div class="list">{rows}</div>') == [
        "Fixing the flaky build",
        "A faster search index",
        "Notes from the spring meetup",
    ]


def test_striped_table_rows_stay_one_post_each() -> None:
    rows = "".join(
        f'<tr class="{"odd" if n % 2 else "even"}"><td><a href="/t/{n}">Topic number {n} about gardening</a></td>'
        f"<td>2024-03-0{n}</td></tr>"
        for n in range(1, 7)
    )
    assert len(titles(f"<table>{rows}</table>")) == 6


def test_a_pager_row_is_no_post_but_an_undated_titled_item_is() -> None:
    rows = "".join(
        f'<tr><td class="t"><a href="/n/{n}">Notice number {n} for all residents</a></td>'
        f'<td class="d">2024-03-0{n}</td></tr>'
        for n in range(1, 5)
    )
    undated = (
        '<tr><td class="t"><a href="/n/9">Survey for all residents, open all year</a></td><td class="d"></td></tr>'
    )
    pager = (
        '<tr><td colspan="2" class="pages"><a href="?p=1">1</a> <a href="?p=2">2</a> <a href="?p=2">Next</a></td></tr>'
    )
    found = titles(f"<table>{rows}{undated}{pager}</table>")
    assert len(found) == 5 and "Survey for all residents, open all year" in found


def test_a_list_of_the_same_class_in_the_sidebar_does_not_join_the_main_list() -> None:
    item = '<li class="entry"><a href="/{0}/{1}">{0} post number {1} with a title</a> <span>2024-03-0{1}</span></li>'
    main = "".join(item.format("main", n) for n in range(1, 6))
    side = "".join(item.format("side", n) for n in range(1, 4))
    found = titles(
        f'<main><ul class="entries">{main}</ul></main><aside class="sidebar"><ul class="entries">{side}</ul></aside>'
    )
    assert found == [f"main post number {n} with a title" for n in range(1, 6)]


def test_explain_names_the_winner_and_its_factors() -> None:
    rows = "".join(
        f'<article class="post"><h2><a href="/p/{n}">Post {n} of the blog</a></h2>'
        f'<time datetime="2024-03-0{n}">x</time></article>'
        for n in range(1, 4)
    )
    lines = html_blocks.explain(page(f"<main>{rows}</main>"))
    assert lines[0].startswith("chosen: main > article.post")
    assert "x2.5 article element" in lines[1]


def test_a_json_ld_article_alone_does_not_hide_the_listing() -> None:
    from feedsvc import extract

    ld = '{"@context": "https://schema.org", "@type": "BlogPosting", "headline": "Welcome", "url": "https://site.example/"}'
    rows = "".join(
        f'<article class="post"><h2><a href="/p/{n}">Post number {n} of the blog</a></h2>'
        f'<time datetime="2024-03-0{n}">x</time></article>'
        for n in range(1, 8)
    )
    html = f'<html><head><script type="application/ld+json">{ld}</script></head><body><main>{rows}</main></body></html>'
    found = extract.extract(Snapshot("https://site.example/", html, "text/html", datetime(2024, 3, 10, tzinfo=UTC)))
    assert found.layout == "html_blocks" and len(found.posts) == 7


def test_the_list_in_the_main_content_beats_a_wordier_one_beside_it() -> None:
    short = "".join(
        f'<li><a href="/n/{n}">Short notice number {n} today</a> <span>2024-03-0{n}</span></li>' for n in range(1, 9)
    )
    wordy = "".join(
        f'<div class="box"><h4><a href="/f/{n}">Featured story {n}</a></h4>'
        f'<p>{"A long teaser sentence. " * 6}</p></div>'
        for n in range(1, 9)
    )
    found = titles(f'<div id="content"><ul>{short}</ul></div><div class="col-4">{wordy}</div>')
    assert found == [f"Short notice number {n} today" for n in range(1, 9)]
