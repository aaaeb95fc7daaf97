"""Pages that cost too much to parse or to store (issue 12, rows 2 and 5), through the real pipeline.

A local HTTP server, a SQLite file, ``refresh.run``. The outcome is asserted, never the time:
before the bounds, the nested page held a worker for minutes and the page of links stored
75,000 entries and as many tombstones on every refresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsvc import bounds, refresh
from feedsvc.config import Settings, Source
from feedsvc.service import Service
from feedsvc.store import Store
from tests.support import ROOT, snapshot_server

NOW = datetime(2023, 7, 21, tzinfo=UTC)
BYLINE_HTML = (ROOT / "fixtures" / "html" / "typecho_byline.html").read_text(encoding="utf-8")
LINKS = 75_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


@pytest.mark.parametrize("closed", [True, False])
def test_a_megabyte_of_nested_divs_is_flattened_and_the_posts_still_read(store: Store, closed: bool) -> None:
    levels = 100_000 if closed else 200_000
    nest = "<div>" * levels + "deep" + ("</div>" * levels if closed else "")
    page = (
        BYLINE_HTML.replace("</body>", nest + "</body>", 1)
        if not closed
        else BYLINE_HTML.replace('<article class="post"', nest + '<article class="post"', 1)
    )
    assert len(page) > 1_000_000 and bounds.depth(page) >= levels
    with snapshot_server() as site:
        site.serve(page.encode("utf-8"), "text/html; charset=utf-8")
        source = Source(name="deep", title="Deep", url=site.url, layout="auto", timezone="Asia/Shanghai")
        result = refresh.run(store, source, NOW)
    assert result.ok, result.error
    assert result.new == len(store.entries("deep")) >= 2
    assert f"more than {bounds.MAX_DEPTH} levels deep" in (store.state("deep").warning or "")


def test_a_page_of_75000_links_reads_the_first_posts_and_says_so(store: Store) -> None:
    items = "".join(f'<li><a href="/p/{i}">Post number {i}</a></li>' for i in range(LINKS))
    page = f"<!doctype html><html><body><main><h1>Archive</h1><ul>{items}</ul></main></body></html>"
    with snapshot_server() as site:
        site.serve(page.encode("utf-8"), "text/html; charset=utf-8")
        source = Source(name="links", title="Links", url=site.url, timezone="UTC", keep=1000)
        settings = Settings(sources=(source,))
        client = Service(settings, store=store, scheduled=False).app.test_client()
        tombstones = []
        for hour in range(3):
            result = refresh.run(store, source, NOW + timedelta(hours=hour))
            assert result.ok, result.error
            assert result.seen == bounds.MAX_POSTS
            tombstones.append(len(store.known("links").tombstones))
    assert result.new == 0  # the same first posts: nothing new, nothing re-ingested
    assert len(store.entries("links", limit=10_000)) == 1000
    assert tombstones == [bounds.MAX_POSTS - 1000] * 3  # not +75,000 a refresh
    status = client.get("/api/sources/links").get_json()
    assert status["healthy"]
    # 75,000 items are 300,000 tags: the page is cut after MAX_TAGS, then only MAX_POSTS posts are read
    assert f"more than {bounds.MAX_TAGS} tags" in status["warning"]
    assert f"only the first {bounds.MAX_POSTS} were read" in status["warning"]


def test_a_page_cut_after_max_tags_keeps_its_beginning() -> None:
    page = "<ul>" + "<li><a href='/p'>post</a></li>" * 10 + "</ul>"
    cut, warning = bounds.truncated(page, max_tags=21)
    assert cut == "<ul>" + "<li><a href='/p'>post</a></li>" * 5
    assert warning == "the page has more than 21 tags: only the first 21 were read"
    assert bounds.truncated(page, max_tags=42) == (page, None)
