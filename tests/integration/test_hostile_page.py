"""A hostile page through the whole pipeline (fetch, extract, differ, store, render): valid, inert feeds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from feedsvc import refresh
from feedsvc.config import Settings, Source
from feedsvc.feeds import render
from feedsvc.feeds.render import Format
from feedsvc.service import Service
from feedsvc.store import Store
from tests.atom_checks import ATOM_NS, assert_valid_atom, parse_feed
from tests.feed_checks import assert_valid_json_feed, assert_valid_rss
from tests.support import ROOT, snapshot_server

BYLINE_HTML = (ROOT / "fixtures" / "html" / "typecho_byline.html").read_text(encoding="utf-8")
LAUGHS = (
    '<!DOCTYPE html [<!ENTITY lol "lololololololololol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>"
)
HUGE_TITLE = "长" * 100_000
HOSTILE_POST = f"""
<article class="post">
  <h2 class="post-title"><a href="javascript:alert(1)">&lt;script&gt;alert('t')&lt;/script&gt;<script>alert(2)</script>
  Evil\x01 post &lol9; {HUGE_TITLE}</a></h2>
  <p class="post-meta">By <a href="javascript:alert(3)">Mallory<img src=x onerror=alert(4)></a>
  | <time>2023-07-20</time> | 5位读者 | <a href="javascript:;">引用</a></p>
  <div class="post-content"><p>&amp;lt;script&amp;gt; text\x0b with <a href="javascript:alert(5)">evil</a>
  <iframe src="https://evil.example/"></iframe>&lol9;&lol9;</p></div>
</article>
"""
BASE = "http://feeds.example.org"


def hostile_page() -> bytes:
    page = BYLINE_HTML.replace("<!DOCTYPE html>", LAUGHS, 1)
    return page.replace('<article class="post"', HOSTILE_POST + '<article class="post"', 1).encode("utf-8")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


def test_a_hostile_page_gives_valid_inert_feeds_and_pages(store: Store) -> None:
    with snapshot_server() as site:
        site.serve(hostile_page(), "text/html; charset=utf-8")
        source = Source(name="evil", title="Evil", url=site.url, layout="byline", timezone="Asia/Shanghai")
        result = refresh.run(store, source, datetime(2023, 7, 21, tzinfo=UTC))
    assert result.ok, result.error
    entries = store.entries("evil")
    assert len(entries) == result.new >= 2
    hostile = max(entries, key=lambda e: len(e.title))
    assert len(hostile.title) > 100_000  # kept whole
    assert "lololololo" * 3 not in "".join(e.title + e.summary for e in entries)  # no entity was expanded

    settings = Settings(base_url=BASE, sources=(source,))
    atom = render.render(settings, store, "evil", Format.ATOM).body
    assert_valid_atom(atom)
    parsed = parse_feed(atom)
    assert len(parsed.entries) == len(entries)
    hrefs = etree.fromstring(atom, etree.XMLParser(huge_tree=True)).xpath("//atom:link/@href", namespaces=ATOM_NS)
    assert not [h for h in hrefs if not h.startswith("http")], hrefs
    rss = render.render(settings, store, "evil", Format.RSS).body
    assert len(assert_valid_rss(rss).entries) == len(entries)
    document = assert_valid_json_feed(render.render(settings, store, "evil", Format.JSON).body)
    # markup in the XML formats is only ever escaped text; JSON Feed's HTML fields are clean
    html = [item.get("content_html", "") for item in document["items"]]
    for bad in ("<script", "<iframe", "<img", "onerror"):
        assert bad not in (atom + rss).decode() and not any(bad in h for h in html), bad
    assert "javascript:" not in (atom + rss).decode() + json.dumps(document)

    client = Service(settings, store=store, scheduled=False).app.test_client()
    for path in ("/", "/sources/evil", "/feeds/all.atom"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert b"<script" not in answer.data and b"javascript:" not in answer.data, path
