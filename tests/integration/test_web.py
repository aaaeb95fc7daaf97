"""The web app over a real SQLite store: formats, limits, validators, gzip, the render cache, pages, OPML."""

from __future__ import annotations

import dataclasses
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feedsvc.config import Current, Settings, Source
from feedsvc.feeds.render import Format
from feedsvc.model import Diff, Entry, SourceStatus
from feedsvc.service import Service
from feedsvc.store import Store
from feedsvc.web.cache import FeedCache
from tests.atom_checks import assert_valid_atom, parse_feed
from tests.feed_checks import assert_valid_json_feed, assert_valid_rss, parse_opml

BASE = "http://feeds.example.org"
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
KEXUE = Source(name="kexue", title="科学空间", url="https://kexue.example/", interval=timedelta(minutes=30))
EVIL = Source(name="evil", title='Evil <script>alert("t")</script>', url="https://evil.example/")


def entry(source: str, n: int, **fields: object) -> Entry:
    moment = T0 + timedelta(hours=n)
    defaults: dict[str, object] = {
        "source": source,
        "identity": f"{source}-{n}",
        "title": f"Post {n} of {source}",
        "summary": f"Text {n}",
        "first_seen": moment,
        "updated": moment,
        "published": moment,
        "link": f"https://{source}.example/{n}",
    }
    return Entry(**(defaults | fields))  # type: ignore[arg-type]


def add(store: Store, source: str, *entries: Entry) -> None:
    store.apply(source, Diff(new=entries, seen=len(entries)), SourceStatus(T0, ok=True))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


@pytest.fixture
def app(store: Store) -> Flask:
    settings = Settings(base_url=BASE, sources=(KEXUE, EVIL), hub="https://hub.example/")
    add(store, "kexue", *(entry("kexue", n, categories=("tag",) if n % 2 else ()) for n in range(60)))
    hostile = entry(
        "evil",
        1,
        title="<img src=x onerror=alert(1)>\x00",
        link="javascript:alert(2)",
        summary='<a href="javascript:alert(3)">x</a><script>alert(4)</script>',
        summary_html=True,
        author="<b>Mallory</b>",
    )
    add(store, "evil", hostile)
    store.apply("evil", Diff(), SourceStatus(T0 + timedelta(days=1), ok=False, error="HTTP 503 <b>down</b>"))
    return Service(settings, store=store, scheduled=False).app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def cache_of(app: Flask) -> FeedCache:
    return app.extensions["feedsvc"].feed_cache  # type: ignore[no-any-return]


# --- formats and limits -----------------------------------------------------------------------


def test_every_format_served_valid_with_its_media_type(client: FlaskClient) -> None:
    atom = client.get("/feeds/kexue.atom")
    assert atom.content_type == "application/atom+xml; charset=utf-8"
    assert_valid_atom(atom.data)
    assert len(parse_feed(atom.data).entries) == 50  # the default limit
    rss = client.get("/feeds/kexue.rss")
    assert rss.content_type == "application/rss+xml; charset=utf-8"
    assert len(assert_valid_rss(rss.data).entries) == 50
    feed = client.get("/feeds/kexue.json")
    assert feed.content_type == "application/feed+json; charset=utf-8"
    assert len(assert_valid_json_feed(feed.data)["items"]) == 50
    ids = [e.id for e in parse_feed(atom.data).entries]
    assert [e.id for e in assert_valid_rss(rss.data).entries] == ids
    assert [i["id"] for i in assert_valid_json_feed(feed.data)["items"]] == ids


@pytest.mark.parametrize(("query", "count"), [("?limit=5", 5), ("?limit=500", 60), ("?limit=100000", 60), ("", 50)])
def test_limit(client: FlaskClient, query: str, count: int) -> None:
    assert len(parse_feed(client.get(f"/feeds/kexue.atom{query}").data).entries) == count


@pytest.mark.parametrize("bad", ["0", "-1", "ten", "1.5", ""])
def test_a_bad_limit_is_a_clear_400(client: FlaskClient, bad: str) -> None:
    answer = client.get(f"/feeds/kexue.atom?limit={bad}")
    assert answer.status_code == 400
    assert b"limit" in answer.data


def test_limit_is_capped_at_500(store: Store, tmp_path: Path) -> None:
    settings = Settings(base_url=BASE, sources=(KEXUE,))
    add(store, "kexue", *(entry("kexue", n) for n in range(520)))
    client = Service(settings, store=store, scheduled=False).app.test_client()
    assert len(parse_feed(client.get("/feeds/kexue.atom?limit=520").data).entries) == 500


@pytest.mark.parametrize("path", ["/feeds/nope.atom", "/feeds/nope.rss", "/feeds/all.rss", "/feeds/all.json"])
def test_unknown_feeds_are_404(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_combined_feed_merges_sources_newest_first(client: FlaskClient) -> None:
    answer = client.get("/feeds/all.atom?limit=100")
    assert_valid_atom(answer.data)
    parsed = parse_feed(answer.data)
    assert len(parsed.entries) == 61
    published = [e.published_parsed for e in parsed.entries]
    assert published == sorted(published, reverse=True)
    assert {e.source.title for e in parsed.entries} == {KEXUE.title, EVIL.title}
    assert answer.headers["Cache-Control"] == "public, max-age=900"  # the shortest interval's half


def test_categories_icon_and_hub_reach_the_served_feed(client: FlaskClient, store: Store) -> None:
    store.apply("kexue", Diff(), SourceStatus(T0, ok=True, icon="https://kexue.example/icon.png", read_icon=True))
    parsed = parse_feed(client.get("/feeds/kexue.atom").data)
    assert parsed.feed.icon == "https://kexue.example/icon.png"
    assert ("hub", "https://hub.example/") in {(link.rel, link.href) for link in parsed.feed.links}
    tagged = [e for e in parsed.entries if e.get("tags")]
    assert tagged and all([t.term for t in e.tags] == ["tag"] for e in tagged)


# --- validators, gzip, cache ------------------------------------------------------------------


def test_etag_and_if_none_match(client: FlaskClient) -> None:
    first = client.get("/feeds/kexue.atom")
    etag = first.headers["ETag"]
    assert not etag.startswith("W/")  # strong
    again = client.get("/feeds/kexue.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/feeds/kexue.rss", headers={"If-None-Match": etag})
    assert other.status_code == 200  # another format, another ETag


def test_last_modified_and_if_modified_since(client: FlaskClient) -> None:
    first = client.get("/feeds/kexue.atom")
    newest = T0 + timedelta(hours=59)
    assert first.headers["Last-Modified"] == format_datetime(newest, usegmt=True)
    since = {"If-Modified-Since": format_datetime(newest, usegmt=True)}
    assert client.get("/feeds/kexue.atom", headers=since).status_code == 304
    earlier = {"If-Modified-Since": format_datetime(newest - timedelta(seconds=1), usegmt=True)}
    assert client.get("/feeds/kexue.atom", headers=earlier).status_code == 200


def test_cache_control_follows_the_refresh_interval(client: FlaskClient) -> None:
    assert client.get("/feeds/kexue.atom").headers["Cache-Control"] == "public, max-age=900"
    assert client.get("/feeds/evil.json").headers["Cache-Control"] == "public, max-age=1800"  # 1h, halved


def test_gzip_when_accepted(client: FlaskClient) -> None:
    plain = client.get("/feeds/kexue.atom")
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    packed = client.get("/feeds/kexue.atom", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data)
    assert packed.headers["ETag"] != plain.headers["ETag"]  # two representations, two strong ETags
    again = client.get(
        "/feeds/kexue.atom", headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}
    )
    assert again.status_code == 304
    refused = client.get("/feeds/kexue.atom", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


def test_rendered_once_until_the_entries_change(app: Flask, client: FlaskClient, store: Store) -> None:
    cache = cache_of(app)
    first = client.get("/feeds/kexue.atom").data
    renders = cache.renders
    for _ in range(5):
        assert client.get("/feeds/kexue.atom").data == first
    client.get("/feeds/kexue.atom", headers={"Accept-Encoding": "gzip"})
    assert cache.renders == renders  # neither requests nor gzip render again
    store.apply("evil", Diff(new=(entry("evil", 99),)), SourceStatus(T0, ok=True))
    assert client.get("/feeds/kexue.atom").data == first
    assert cache.renders == renders  # another source changed: this feed is still cached
    add(store, "kexue", entry("kexue", 99))
    changed = client.get("/feeds/kexue.atom").data
    assert cache.renders == renders + 1
    assert changed != first and parse_feed(changed).entries[0].title == "Post 99 of kexue"


# --- pages --------------------------------------------------------------------------------------


def test_index_lists_sources_with_status_counts_and_links(client: FlaskClient) -> None:
    answer = client.get("/")
    assert answer.status_code == 200 and answer.content_type == "text/html; charset=utf-8"
    page = etree.HTML(answer.data)
    names = page.xpath("//li[@class='source']/@id")
    assert names == ["source-evil", "source-kexue"]  # by name
    summary = " ".join(page.xpath("string(//p[@class='states'])").split())
    assert summary == "2 sources: 1 ok, 1 failing, 0 never refreshed"
    kexue = page.xpath("//li[@id='source-kexue']")[0]
    assert kexue.xpath("string(.//span[@class='count'])") == "60"
    assert kexue.xpath("string(.//span[contains(@class, 'status')])") == "ok"
    assert kexue.xpath(".//a/@href")[1:] == [f"{BASE}/feeds/kexue.{ext}" for ext in ("atom", "rss", "json")]
    evil = page.xpath("//li[@id='source-evil']")[0]
    assert "failing" in evil.xpath("string(.//span[contains(@class, 'status')])")
    discovery = page.xpath("//head/link[@rel='alternate']")
    assert {(link.get("type"), link.get("href")) for link in discovery} >= {
        ("application/atom+xml", f"{BASE}/feeds/kexue.atom"),
        ("application/rss+xml", f"{BASE}/feeds/kexue.rss"),
        ("application/feed+json", f"{BASE}/feeds/kexue.json"),
        ("application/atom+xml", f"{BASE}/feeds/all.atom"),
    }
    assert b"<script>" not in answer.data  # the hostile title is escaped
    assert page.xpath("//script") == []


def test_source_page_shows_entries_and_last_error_safely(client: FlaskClient) -> None:
    answer = client.get("/sources/evil")
    assert answer.status_code == 200
    page = etree.HTML(answer.data)
    assert page.xpath("//script") == [] and page.xpath("//img[@onerror]") == []
    assert b"javascript:" not in answer.data
    assert "HTTP 503 <b>down</b>" in page.xpath("string(//dd[@class='error'])")
    (entry_item,) = page.xpath("//li[@class='entry']")
    assert entry_item.xpath("string(.//h3)").strip() == "<img src=x onerror=alert(1)>"  # shown as text
    assert entry_item.xpath(".//h3/a") == []  # a javascript: link is not a link
    assert entry_item.xpath("string(.//p[@class='summary'])") == "x"
    assert client.get("/sources/nope").status_code == 404


def test_source_page_lists_recent_entries_newest_first(client: FlaskClient) -> None:
    page = etree.HTML(client.get("/sources/kexue").data)
    titles = [t.strip() for t in page.xpath("//li[@class='entry']/h3/a/text()")]
    assert titles[:3] == ["Post 59 of kexue", "Post 58 of kexue", "Post 57 of kexue"]
    assert page.xpath("//li[@class='entry'][1]//h3/a/@href") == ["https://kexue.example/59"]


@pytest.mark.parametrize(("query", "extension"), [("", "atom"), ("?format=rss", "rss"), ("?format=json", "json")])
def test_opml_lists_every_feed(client: FlaskClient, query: str, extension: str) -> None:
    answer = client.get(f"/opml{query}")
    assert answer.status_code == 200
    parsed = parse_opml(answer.data)
    assert [(f.title, f.url) for f in parsed.feeds] == [
        (KEXUE.title, f"{BASE}/feeds/kexue.{extension}"),
        (EVIL.title, f"{BASE}/feeds/evil.{extension}"),
    ]
    assert client.get("/opml?format=xml").status_code == 400


def test_stylesheet_is_served(client: FlaskClient) -> None:
    answer = client.get("/static/style.css")
    assert answer.status_code == 200 and b"max-width" in answer.data


def test_entries_keep_their_ids_across_formats_for_a_local_source(store: Store) -> None:
    local = dataclasses.replace(KEXUE, name="local", url="/srv/secret/page.txt")
    add(store, "local", entry("local", 1, link=None))
    client = Service(Settings(base_url=BASE, sources=(local,)), store=store, scheduled=False).app.test_client()
    for path in ("/feeds/local.atom", "/feeds/local.rss", "/feeds/local.json", "/feeds/all.atom", "/opml", "/"):
        assert b"/srv/secret" not in client.get(path).data, path


def test_the_cache_stays_within_its_byte_budget(store: Store) -> None:
    settings = Settings(base_url=BASE, sources=(KEXUE,))
    add(store, "kexue", *(entry("kexue", n) for n in range(60)))
    one = FeedCache(store, Current(settings)).feed("kexue", Format.ATOM, 60)
    budget = 3 * (len(one.body) + len(one.gzipped))
    cache = FeedCache(store, Current(settings), max_bytes=budget)
    for limit in range(1, 61):  # a client cycling through every limit
        cache.feed("kexue", Format.ATOM, limit)
        assert cache.cached_bytes <= budget
    renders = cache.renders
    cache.feed("kexue", Format.ATOM, 60)  # the most recent ones are still cached
    assert cache.renders == renders
    cache.feed("kexue", Format.ATOM, 1)  # the oldest was dropped
    assert cache.renders == renders + 1
