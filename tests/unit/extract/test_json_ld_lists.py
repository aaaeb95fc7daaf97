"""JSON-LD lists in their common shapes: ItemList of ListItems, Blog.blogPost, @graph, prefixed types."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from feedsvc import extract
from feedsvc.extract import json_ld
from feedsvc.extract.page import Page
from feedsvc.model import PageDate, Snapshot

URL = "https://press.example.org/stories/"


def page_of(*blocks: Any, body: str = "") -> Page:
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(block)}</script>' for block in blocks)
    text = f"<html><head>{scripts}</head><body>{body}</body></html>"
    return Page(Snapshot(URL, text, "text/html", datetime(2024, 5, 1, tzinfo=UTC)), ZoneInfo("UTC"))


def titles_and_links(page: Page) -> list[tuple[str, str | None]]:
    return [(post.title, post.link) for post in json_ld.posts(page)]


def test_list_items_whose_item_is_a_url_take_their_name_as_title() -> None:
    listing = {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": f"Story {n}", "item": f"{URL}{n}"} for n in (1, 2, 3)
        ],
    }
    assert titles_and_links(page_of(listing)) == [(f"Story {n}", f"{URL}{n}") for n in (1, 2, 3)]


def test_list_items_with_nested_articles_and_with_urls_only() -> None:
    nested = {
        "@type": "ItemList",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "item": {"@type": "NewsArticle", "headline": "Nested", "url": "/a"}},
        ],
    }
    urls_only = {"@type": "ItemList", "itemListElement": [{"@type": "ListItem", "position": 1, "url": "/b"}]}
    body = '<a href="/b">Titled by the page link</a>'
    assert titles_and_links(page_of(nested, urls_only, body=body)) == [
        ("Nested", "https://press.example.org/a"),
        ("Titled by the page link", "https://press.example.org/b"),
    ]


def test_a_blog_with_blog_posts_in_a_graph_with_prefixed_types_and_html_headlines() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Press", "url": URL},
            {
                "@type": "schema:Blog",
                "blogPost": [
                    {
                        "@type": "http://schema.org/OpinionNewsArticle",
                        "headline": "Why <em>bridges</em> &amp; tunnels",
                        "url": "/why",
                        "datePublished": "2024-04-02",
                        "author": [{"@type": "Person", "name": "Ada"}, {"@type": "Person", "name": "Lin"}],
                    },
                    {"@type": "LiveBlogPosting", "headline": "Election night", "url": "/live"},
                ],
            },
        ],
    }
    found = json_ld.posts(page_of(graph))
    assert [(p.title, p.link) for p in found] == [
        ("Why bridges & tunnels", "https://press.example.org/why"),
        ("Election night", "https://press.example.org/live"),
    ]
    assert found[0].date == PageDate(month=4, day=2, year=2024) and found[0].author == "Ada, Lin"


def test_json_ld_and_embedded_state_are_weighed_by_completeness() -> None:
    undated = {"@type": "ItemList", "itemListElement": [{"@type": "ListItem", "item": f"/s/{n}"} for n in (1, 2, 3)]}
    posts = [{"title": f"Story number {n} in the state", "url": f"/s/{n}", "date": f"2024-04-0{n}"} for n in (1, 2, 3)]
    state = f'<script type="application/json">{json.dumps({"posts": posts})}</script>'
    links = "".join(f'<p><a href="/s/{n}">Story number {n} in the state</a></p>' for n in (1, 2, 3))
    page = page_of(undated, body=links + state)
    found = extract.extract(page.snapshot)
    assert found.layout == "app_state"  # 3 links and 3 dates beat JSON-LD's 3 undated links
    assert [p.date for p in found.posts] == [PageDate(month=4, day=n, year=2024) for n in (1, 2, 3)]
