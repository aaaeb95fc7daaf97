"""``full_text = true`` against a local blog: articles' main text in every format, failures that keep
the teaser and are reported, the per-refresh limit across refreshes (a 304 listing included), retries."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from feedsvc import refresh
from feedsvc.config import Settings, Source
from feedsvc.extract.selectors import Selectors
from feedsvc.feeds import render
from feedsvc.feeds.render import Format
from feedsvc.model import Outcome
from feedsvc.refresh.politeness import HostGate
from feedsvc.service import Service
from feedsvc.store import Store
from feedsvc.store.store import CONTENT_ATTEMPTS
from tests.atom_checks import ATOM_NS, assert_valid_atom, parse_feed
from tests.blog import Post, local_blog
from tests.feed_checks import assert_valid_json_feed, assert_valid_rss

BASE = "http://feeds.example.org"
T0 = datetime(2024, 3, 20, 8, 0, tzinfo=UTC)
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"


def blog_source(url: str, **fields: object) -> Source:
    defaults: dict[str, object] = {
        "name": "blog",
        "title": "A blog",
        "url": url,
        "layout": "selectors",
        "selectors": Selectors(item="article.post"),
        "full_text": True,
        "timeout": 1.0,
        "max_bytes": 1_000_000,
    }
    return Source(**(defaults | fields))  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


def feeds(store: Store, source: Source) -> tuple[bytes, bytes, dict[str, object]]:
    settings = Settings(base_url=BASE, sources=(source,))
    atom = render.render(settings, store, source.name, Format.ATOM).body
    rss = render.render(settings, store, source.name, Format.RSS).body
    document = render.render(settings, store, source.name, Format.JSON).body
    assert_valid_atom(atom)
    assert_valid_rss(rss)
    return atom, rss, assert_valid_json_feed(document)


def test_articles_main_text_is_served_as_content_and_the_summary_stays_the_teaser(store: Store) -> None:
    posts = [Post("alpha", day=3), Post("beta", day=2), Post("mallory", kind="hostile", day=1)]
    with local_blog(posts) as blog:
        source = blog_source(blog.url)
        result = refresh.run(store, source, T0)
        atom, rss, document = feeds(store, source)
    assert result.ok and result.new == 3, result.error
    assert result.full_text is not None and (result.full_text.ok, result.full_text.failed) == (3, 0)
    assert result.feed_changed

    parsed = parse_feed(atom)
    by_title = {entry.title: entry for entry in parsed.entries}
    for post in posts:
        entry = by_title[post.title]
        assert entry.summary == f"Teaser of {post.slug}…"
        (content,) = entry.content
        assert content.type == "text/html"
        assert post.article_text() in content.value
        for boilerplate in ("Sidebar link one", "Privacy", "Tags"):
            assert boilerplate not in content.value
    kept_link = f'href="{blog.base}/blog/other.html"'  # a relative link in the article, made absolute
    assert kept_link in by_title["Post mallory"].content[0].value

    items = etree.fromstring(rss).findall("channel/item")
    encoded = [item.find(f"{{{CONTENT_NS}}}encoded").text for item in items]
    assert all("The whole story of" in text for text in encoded)
    assert [item.find("description").text for item in items] == [f"Teaser of {p.slug}…" for p in posts]
    json_items = document["items"]
    assert isinstance(json_items, list)
    assert all("The whole story of" in item["content_html"] for item in json_items)
    assert [item["summary"] for item in json_items] == [f"Teaser of {p.slug}…" for p in posts]

    every = atom.decode() + rss.decode() + json.dumps(document)
    for bad in ("<script", "&lt;script", "onclick", "onmouseover", "javascript:", "steal()"):
        assert bad not in every, bad
    assert "a script link" in by_title["Post mallory"].content[0].value  # the link's text stays, its href goes


def test_failed_articles_keep_their_teaser_are_reported_and_never_fail_the_refresh(store: Store) -> None:
    posts = [
        Post("fine", day=6),
        Post("slow", kind="slow", day=5),
        Post("gone", kind="missing", day=4),
        Post("huge", kind="huge", day=3),
        Post("away", kind="off-site", day=2),
    ]
    with local_blog(posts) as blog:
        source = blog_source(blog.url)
        result = refresh.run(store, source, T0)
        atom, _, _ = feeds(store, source)
        app = Service(Settings(base_url=BASE, sources=(source,)), store=store, scheduled=False).app
        status = app.test_client().get("/api/sources/blog").get_json()
        page = app.test_client().get("/sources/blog").get_data(as_text=True)
        asked = blog.article_requests()
    assert result.outcome is Outcome.OK and result.ok and result.new == 5, result.error
    assert result.full_text is not None
    assert (result.full_text.ok, result.full_text.failed) == (1, 3)
    errors = "\n".join(result.full_text.errors)
    assert "/blog/posts/slow.html: no answer within 1 s" in errors
    assert "/blog/posts/gone.html: HTTP 404" in errors
    assert "/blog/posts/huge.html: 30" in errors and "more than the 1000000 allowed" in errors
    assert "elsewhere.example" not in " ".join(asked)  # another site's link is never fetched

    parsed = parse_feed(atom)
    assert len(parsed.entries) == 5  # every entry stays
    with_content = {entry.title for entry in parsed.entries if entry.get("content")}
    assert with_content == {"Post fine"}
    assert {entry.summary for entry in parsed.entries} == {f"Teaser of {p.slug}…" for p in posts}

    full_text = status["full_text"]
    assert (full_text["ok"], full_text["failed"], full_text["skipped"]) == (1, 3, 1)
    reasons = {failure["title"]: failure["reason"] for failure in full_text["last_failures"]}
    assert reasons.keys() == {"Post slow", "Post gone", "Post huge"}
    assert reasons["Post gone"].startswith("HTTP 404")
    assert full_text["summary"].startswith("full text: 1 ok, 3 failed, 1 skipped")
    assert status["healthy"] is True and status["last_error"] is None
    assert "Full text" in page and "HTTP 404 Not Found" in page


def test_the_per_refresh_limit_spreads_articles_over_refreshes_even_when_the_listing_is_unchanged(
    store: Store,
) -> None:
    posts = [Post(f"p{n}", day=n) for n in range(1, 6)]
    with local_blog(posts) as blog:
        source = blog_source(blog.url, full_text_per_refresh=2)
        slept: list[float] = []
        gate = HostGate(5.0, clock=lambda: 0.0, sleep=slept.append)  # records the host gap instead of waiting
        policy = refresh.Policy(gate=gate)
        results = [refresh.run(store, source, T0 + timedelta(hours=n), policy) for n in range(4)]
        listing_statuses = [status for _, _, status in blog.asked("/blog/")]
        articles = blog.article_requests()
    assert [r.outcome for r in results] == [Outcome.OK, *[Outcome.NOT_MODIFIED] * 3]
    assert listing_statuses == [200, 304, 304, 304]
    assert [r.full_text.ok if r.full_text else None for r in results] == [2, 2, 1, 0]
    assert [r.full_text.left if r.full_text else None for r in results] == [3, 1, 0, 0]
    assert sorted(articles) == sorted(f"/blog/posts/p{n}.html" for n in range(1, 6))  # each fetched once
    assert articles[:2] == ["/blog/posts/p5.html", "/blog/posts/p4.html"]  # newest first
    assert len(slept) == len(articles) + 3  # every request after the first kept the host gap
    assert all(entry.content for entry in store.entries("blog", with_content=True))


def test_a_failed_article_is_tried_again_by_later_refreshes_a_bounded_number_of_times(store: Store) -> None:
    posts = [Post("gone", kind="missing", day=2), Post("fine", day=1)]
    with local_blog(posts) as blog:
        source = blog_source(blog.url)
        for n in range(CONTENT_ATTEMPTS + 2):
            refresh.run(store, source, T0 + timedelta(hours=n))
        gone = blog.asked("/blog/posts/gone.html")
        fine = blog.asked("/blog/posts/fine.html")
    assert len(gone) == CONTENT_ATTEMPTS
    assert len(fine) == 1  # an article whose text was taken is never fetched again
    assert all("If-None-Match" not in headers for _, headers, _ in gone + fine)
    state = store.full_text_state("blog")
    assert (state.ok, state.failed) == (1, 1)
    assert state.last_failures[0].attempts == CONTENT_ATTEMPTS


def test_without_full_text_no_article_is_fetched(store: Store) -> None:
    with local_blog([Post("alpha")]) as blog:
        result = refresh.run(store, blog_source(blog.url, full_text=False), T0)
        asked = blog.article_requests()
    assert result.ok and result.new == 1 and result.full_text is None
    assert asked == []


def test_atom_content_is_html_escaped_once(store: Store) -> None:
    with local_blog([Post("alpha")]) as blog:
        source = blog_source(blog.url)
        refresh.run(store, source, T0)
        atom, _, _ = feeds(store, source)
    (content,) = etree.fromstring(atom).findall("atom:entry/atom:content", ATOM_NS)
    assert content.get("type") == "html"
    assert content.text.lstrip().startswith("<h1>") or content.text.lstrip().startswith("<p>")


def test_an_article_redirecting_to_an_internal_address_is_refused_and_reported(store: Store) -> None:
    with local_blog([Post("sneaky", kind="redirect")]) as blog:
        result = refresh.run(store, blog_source(blog.url), T0)
    assert result.ok and result.full_text is not None and result.full_text.failed == 1
    (failure,) = store.full_text_state("blog").last_failures
    assert "refused to connect to 127.0.0.1 (a loopback address)" in failure.reason
    assert "internal/secret" in failure.reason
    assert [entry.content for entry in store.entries("blog", with_content=True)] == [None]


def test_turning_full_text_off_takes_the_text_out_of_every_feed_and_on_brings_it_back(store: Store) -> None:
    with local_blog([Post("alpha", day=2), Post("beta", day=1)]) as blog:
        source = blog_source(blog.url)
        refresh.run(store, source, T0)
        fetched = len(blog.article_requests())
        off = dataclasses.replace(source, full_text=False)
        settings = Settings(base_url=BASE, sources=(off,))
        combined = render.render(settings, store, "all", Format.ATOM).body
        alone, _, document = feeds(store, off)
        back, _, _ = feeds(store, source)
        assert len(blog.article_requests()) == fetched == 2  # nothing fetched again
    assert_valid_atom(combined)
    for body in (alone, combined):
        assert not [entry for entry in parse_feed(body).entries if entry.get("content")]
    assert all("content_text" in item for item in document["items"])  # the teaser, as before
    assert len([entry for entry in parse_feed(back).entries if entry.get("content")]) == 2
    combined_on = render.render(Settings(base_url=BASE, sources=(source,)), store, "all", Format.ATOM).body
    assert len([entry for entry in parse_feed(combined_on).entries if entry.get("content")]) == 2
