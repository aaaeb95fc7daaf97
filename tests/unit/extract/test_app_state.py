"""The app_state detector: posts from the JSON state a page embeds for its scripts, and its bounds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from feedsvc import extract
from feedsvc.extract import app_state
from feedsvc.extract.page import Page
from feedsvc.model import PageDate, Snapshot
from tests.support import ROOT

FIXTURES = ROOT / "fixtures" / "app_state"
FETCHED = datetime(2024, 7, 10, tzinfo=UTC)
_UTC = ZoneInfo("UTC")


def snapshot(text: str, url: str = "https://example.org/blog") -> Snapshot:
    return Snapshot(url=url, text=text, media_type="text/html; charset=utf-8", fetched_at=FETCHED)


def fixture(name: str, url: str) -> Snapshot:
    return snapshot((FIXTURES / name).read_text(encoding="utf-8"), url)


def page_of(text: str, url: str = "https://example.org/blog") -> Page:
    return Page(snapshot(text, url), _UTC)


def shell(blob: str, body: str = "", script_id: str = "state") -> str:
    """An HTML page holding ``blob`` in a JSON script and ``body`` as its visible markup."""
    return (
        f'<html><head><script id="{script_id}" type="application/json">{blob}</script></head>'
        f"<body>{body}</body></html>"
    )


def articles(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"title": f"Article number {n} about something", "url": f"/posts/{n}", "date": f"2024-03-{n:02d}", **extra}
        for n in range(1, count + 1)
    ]


# --- what is read --------------------------------------------------------------------------------


def test_an_empty_nextjs_shell_is_read_from_its_next_data() -> None:
    found = extract.extract(fixture("next_shell.html", "https://notes.example.com/blog"))
    assert found.layout == "app_state"
    assert [(p.title, p.link) for p in found.posts] == [
        ("Shipping incremental builds for large monorepos", "https://notes.example.com/blog/incremental-builds"),
        ("A field guide to flaky tests & how to fix them", "https://notes.example.com/blog/flaky-tests-field-guide"),
        ("Why our API now speaks JSON:API", "https://notes.example.com/blog/json-api-migration"),
        ("Postmortem: the March 28 queue backlog", "https://notes.example.com/blog/postmortem-queue-backlog"),
    ]
    first = found.posts[0]
    assert first.date == PageDate(month=5, day=14, year=2024, hour=9, minute=30)
    assert first.date_shown == "2024-05-14T09:30:00.000Z"
    assert first.author == "Mara Ellis"
    assert first.summary == "How we cut CI time in half by caching build graphs."  # markup read as text


def test_a_window_initial_state_assignment_with_graphql_edges_and_epoch_dates() -> None:
    found = extract.extract(fixture("initial_state.html", "https://courier.example.net/news"))
    assert found.layout == "app_state"  # the markup shows the same titles, but no dates
    assert len(found.posts) == 5
    first = found.posts[0]
    assert first.title == "City council approves the new riverside bike lanes"
    assert first.link == "https://courier.example.net/news/2024/06/riverside-bike-lanes"
    assert (first.date.year, first.date.month, first.date.day) == (2024, 6, 10)  # 1718012400000 ms
    assert first.author == "Priya Nandakumar"
    assert first.summary == "Report 1 of the week."


def test_a_menu_blob_does_not_beat_the_articles_in_the_markup() -> None:
    # Rule: short titles and no dates read as a menu, not posts; the markup's three articles win.
    found = extract.extract(fixture("menu_blob.html", "https://repairs.example.org/articles"))
    assert app_state.posts(Page(fixture("menu_blob.html", "https://repairs.example.org/articles"), _UTC)) == []
    assert found.layout == "html_blocks"
    assert [p.link for p in found.posts] == [
        "https://repairs.example.org/articles/tomatoes-north-balcony",
        "https://repairs.example.org/articles/cargo-bicycle-comeback",
        "https://repairs.example.org/articles/repair-ceramic-mug",
    ]


def test_a_list_of_the_pages_navigation_links_is_no_post_list_even_with_long_titles() -> None:
    guides = [
        {"title": f"Getting started with part {n} of the platform", "url": f"/docs/part-{n}"} for n in range(1, 5)
    ]
    nav = "".join(f'<a href="{g["url"]}">{g["title"]}</a>' for g in guides)
    main = "<main>" + "<p>Welcome to the documentation of the platform, with its guides.</p>" * 5 + "</main>"
    assert app_state.posts(page_of(shell(json.dumps({"sidebar": guides}), f"<nav>{nav}</nav>{main}"))) == []
    # the same list, not the page's navigation, is read
    assert len(app_state.posts(page_of(shell(json.dumps({"sidebar": guides}))))) == 4


def test_the_most_complete_list_wins_then_the_one_the_page_links() -> None:
    undated = [{"title": f"Some undated thing number {n}", "url": f"/things/{n}"} for n in range(1, 5)]
    state = {"things": undated, "posts": articles(3)}  # 4 x 2 = 8 < 3 x 2 + 3 dates = 9
    assert [p.link for p in app_state.posts(page_of(shell(json.dumps(state))))] == [
        "https://example.org/posts/1",
        "https://example.org/posts/2",
        "https://example.org/posts/3",
    ]
    other = [{**post, "url": post["url"].replace("posts", "other")} for post in articles(3)]
    body = "".join(f'<p><a href="{post["url"]}">x</a></p>' for post in articles(3))
    found = app_state.posts(page_of(shell(json.dumps({"a": other, "b": articles(3)}), body)))
    assert found[0].link == "https://example.org/posts/1"  # a tie, broken by the links the page shows


def test_two_items_count_only_when_both_are_dated() -> None:
    assert len(app_state.posts(page_of(shell(json.dumps({"posts": articles(2)}))))) == 2
    undated = [{k: v for k, v in post.items() if k != "date"} for post in articles(2)]
    assert app_state.posts(page_of(shell(json.dumps({"posts": undated})))) == []


def test_slugs_become_links_only_where_the_page_links_show_the_pattern() -> None:
    posts = [{"title": f"A post with the slug number {n}", "slug": f"slug-{n}"} for n in range(1, 6)]
    blob = json.dumps({"posts": posts})
    assert app_state.posts(page_of(shell(blob))) == []  # an empty shell: where slugs go is unknown
    body = "".join(f'<a href="/journal/{n}/slug-{n}/">read</a>' for n in (1, 2))  # no one pattern
    assert len(app_state.posts(page_of(shell(blob, body)))) == 0
    body = "".join(f'<a href="/journal/slug-{n}/?ref=home">read</a>' for n in (1, 2, 3))
    assert [p.link for p in app_state.posts(page_of(shell(blob, body)))] == [
        f"https://example.org/journal/slug-{n}/" for n in range(1, 6)
    ]


def test_apollo_references_nuxt_data_and_json_parse_strings() -> None:
    entities = {f"Post:{n}": {"__typename": "Post", **post} for n, post in enumerate(articles(3), start=1)}
    apollo = {**entities, "ROOT_QUERY": {"posts": [{"__ref": f"Post:{n}"} for n in (1, 2, 3)]}}
    page = f"<html><body><script>window.__APOLLO_STATE__={json.dumps(apollo)};</script></body></html>"
    assert len(app_state.posts(page_of(page))) == 3

    # Nuxt 3 (devalue): [root, ...] where objects hold indexes; ["ShallowReactive", i] wraps a value
    flat: list[Any] = [["ShallowReactive", 1], {"data": 2}, {"blog": 3}, [4, 8], {"title": 5, "path": 6, "date": 7}]
    flat += ["First post of the Nuxt blog", "/blog/first", "2024-02-01"]
    flat += [{"title": 9, "path": 10, "date": 11}, "Second post of the Nuxt blog", "/blog/second", "2024-02-02"]
    found = app_state.posts(page_of(shell(json.dumps(flat), script_id="__NUXT_DATA__")))
    assert [p.link for p in found] == ["https://example.org/blog/first", "https://example.org/blog/second"]

    quoted = json.dumps(json.dumps({"posts": articles(3, summary="It's here")}))
    single = "'" + json.dumps({"posts": articles(3, summary="It's here")}).replace("'", "\\'") + "'"
    for literal in (quoted, single):
        page = f"<html><body><script>window.__PRELOADED_STATE__ = JSON.parse({literal});</script></body></html>"
        found = app_state.posts(page_of(page))
        assert len(found) == 3 and found[0].summary == "It's here", literal


def test_a_nuxt2_function_call_and_unquoted_keys_are_skipped_cleanly() -> None:
    iife = 'window.__NUXT__=(function(a,b){return {data:[{posts:[{title:"T",url:"/t"}]}]}}(1,2));'
    unquoted = "window.__STATE__ = {posts: [{title: 'One', url: '/one'}]};"
    for script in (iife, unquoted):
        assert app_state.posts(page_of(f"<html><body><script>{script}</script></body></html>")) == []


def test_broken_json_is_skipped_and_the_next_blob_read() -> None:
    broken = '<script type="application/json">{"posts": [{"title": "Broken</script>'
    page = f"<html><head>{broken}</head><body></body></html>"
    assert app_state.posts(page_of(page)) == []
    page = f"<html><head>{broken}<script type='application/json'>{json.dumps(articles(3))}</script></head></html>"
    assert len(app_state.posts(page_of(page))) == 3


def test_links_out_pass_the_one_link_check_and_media_links_are_not_posts() -> None:
    posts = articles(3)
    posts[0]["url"] = "javascript:alert(1)"
    posts[1]["url"] = "mailto:someone@example.org"
    assert app_state.posts(page_of(shell(json.dumps({"posts": posts})))) == []
    images = [{"title": f"A photograph of the harbour {n}", "url": f"/img/{n}.jpg"} for n in range(5)]
    assert app_state.posts(page_of(shell(json.dumps({"gallery": images})))) == []


# --- bounds --------------------------------------------------------------------------------------


def test_a_50_mb_blob_is_skipped_unread() -> None:
    posts = json.dumps(articles(3))
    huge = '{"padding": "' + "x" * 50_000_000 + '", "posts": ' + posts + "}"
    page = page_of(shell(huge))
    budget = app_state.Budget()
    assert list(app_state.states(page, budget)) == []
    assert budget.chars == app_state.MAX_STATE  # not a character of it was parsed
    assert app_state.posts(page) == []
    page = page_of(f"<html><body><script>window.__STATE__ = {huge};</script></body></html>")
    budget = app_state.Budget()
    assert list(app_state.states(page, budget)) == []
    assert budget.chars <= app_state.MAX_STATE - app_state.MAX_BLOB  # read up to the limit, then given up


def test_deep_nesting_is_skipped_or_cut_at_the_depth_limit() -> None:
    too_deep_for_json = "[" * 100_000 + "]" * 100_000
    assert app_state.posts(page_of(shell(too_deep_for_json))) == []
    deep: Any = {"posts": articles(3)}
    for _ in range(app_state.MAX_DEPTH + 5):
        deep = {"child": deep}
    assert app_state.posts(page_of(shell(json.dumps(deep)))) == []
    shallow: Any = {"posts": articles(3)}
    for _ in range(app_state.MAX_DEPTH - 5):
        shallow = {"child": shallow}
    assert len(app_state.posts(page_of(shell(json.dumps(shallow))))) == 3


def test_a_wide_or_self_multiplying_state_stops_at_the_value_budget() -> None:
    wide = json.dumps({"rows": [{"n": n} for n in range(250_000)]})
    budget = app_state.Budget()
    state = next(app_state.states(page_of(shell(wide)), budget))
    assert [len(found) for found in app_state.lists(state, budget)] == [2000]  # a list's first MAX_POSTS items
    assert budget.values == 0  # the walk stopped when the budget ran out

    # devalue: every object refers twice to the next, 2**200 paths when expanded
    flat: list[Any] = [{"a": n + 1, "b": n + 1} for n in range(200)] + [{"title": "end"}]
    budget = app_state.Budget()
    state = next(app_state.states(page_of(shell(json.dumps(flat), script_id="__NUXT_DATA__")), budget))
    assert list(app_state.lists(state, budget)) == []
    assert budget.values == 0
    assert app_state.posts(page_of(shell(json.dumps(flat), script_id="__NUXT_DATA__"))) == []


def test_a_widgets_post_list_in_state_does_not_replace_the_listing_the_markup_shows() -> None:
    popular = [
        {"title": f"Popular older post number {n}", "url": f"/2019/popular-{n}", "date": f"2019-01-0{n}"}
        for n in range(1, 5)
    ]
    cards = "".join(
        f'<article class="post"><h2><a href="/2024/new-{n}">A new post of the listing, number {n}</a></h2>'
        f"<time>2024-05-0{n}</time><p>The text of post {n} in a few words.</p></article>"
        for n in range(1, 7)
    )
    text = shell(json.dumps({"widget": {"popularPosts": popular}}), f"<main>{cards}</main>")
    assert len(app_state.posts(page_of(text))) == 4  # read, but it is not what the page lists
    found = extract.extract(snapshot(text))
    assert found.layout == "html_blocks"
    assert [p.link for p in found.posts] == [f"https://example.org/2024/new-{n}" for n in range(1, 7)]
    # the same posts in the state as in the markup: the state's reading stands, unless the markup's is more complete
    same = [{"title": f"A new post of the listing, number {n}", "url": f"/2024/new-{n}"} for n in range(1, 7)]
    dated = [{**post, "date": f"2024-05-0{n}T08:00:00Z"} for n, post in enumerate(same, start=1)]
    found = extract.extract(snapshot(shell(json.dumps({"posts": dated}), f"<main>{cards}</main>")))
    assert found.layout == "app_state" and found.posts[0].date == PageDate(month=5, day=1, year=2024, hour=8, minute=0)
    undated = extract.extract(snapshot(shell(json.dumps({"posts": same}), f"<main>{cards}</main>")))
    assert undated.layout == "html_blocks"


def test_angular_transfer_state_is_read_after_its_escapes() -> None:
    blob = json.dumps({"posts": articles(3, summary="Tom & Jerry <3")})
    escaped = blob.replace("&", "&a;").replace('"', "&q;").replace("<", "&l;")
    found = app_state.posts(page_of(shell(escaped, script_id="serverApp-state")))
    assert [p.summary for p in found] == ["Tom & Jerry <3"] * 3


def test_a_store_normalised_by_id_is_read_as_a_list() -> None:
    by_id = {str(100 + n): post for n, post in enumerate(articles(3))}
    settings = {"en": {"title": "English language settings", "url": "/en"}, "de": {"title": "Deutsch", "url": "/de"}}
    state = {"posts": {"byId": by_id, "allIds": list(by_id)}, "locales": settings}
    page = f"<html><body><script>window.__REDUX_STATE__ = {json.dumps(state)};</script></body></html>"
    assert [p.link for p in app_state.posts(page_of(page))] == [f"https://example.org/posts/{n}" for n in (1, 2, 3)]
    # keys that are names, not ids, are fields of one object, not a list
    assert app_state.posts(page_of(shell(json.dumps({"en": articles(1)[0], "de": articles(2)[1]})))) == []


def test_common_cms_shapes_rendered_titles_wrappers_and_unix_seconds() -> None:
    rendered = [
        {"title": {"rendered": f"Rendered title number {n} &#8211; part"}, "link": f"https://example.org/{n}/",
         "date": f"2024-02-0{n}T10:00:00", "excerpt": {"rendered": f"<p>Excerpt {n}</p>"}}
        for n in (1, 2, 3)
    ]  # fmt: skip
    found = app_state.posts(page_of(shell(json.dumps(rendered))))
    assert found[0].title == "Rendered title number 1 \u2013 part" and found[0].summary == "Excerpt 1"
    wrapped = [
        {"sys": {"id": f"x{n}", "createdAt": f"2024-02-0{n}"}, "fields": {"title": f"Wrapped entry number {n}",
         "path": f"/w/{n}"}, "user": {"displayName": "Kim"}}
        for n in (1, 2, 3)
    ]  # fmt: skip
    found = app_state.posts(page_of(shell(json.dumps({"items": wrapped}))))
    first = found[0]
    assert (first.link, first.date, first.author) == ("https://example.org/w/1", PageDate(2, 1, 2024), "Kim")
    seconds = [{"data": {"title": f"Thread number {n} of the day", "permalink": f"/t/{n}", "created_utc": 1717000000}}
               for n in (1, 2, 3)]  # fmt: skip
    assert app_state.posts(page_of(shell(json.dumps(seconds))))[0].date == PageDate(5, 29, 2024, 16, 26)


def test_a_single_quoted_state_string_full_of_escaped_quotes_is_read_in_one_pass() -> None:
    posts = articles(3, summary="It's " * 50_000)
    single = "'" + json.dumps({"posts": posts}).replace("'", "\\'") + "'"
    page = page_of(f"<html><body><script>window.__STATE__ = JSON.parse({single});</script></body></html>")
    found = app_state.posts(page)
    assert len(found) == 3 and found[0].summary.startswith("It's It's")
