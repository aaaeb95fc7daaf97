"""The listing endpoints stay bounded as sources grow: pages of `/api/sources` and `/`, `/metrics`
without per-source series, and `all.atom` from one query, rendered again only when its window changes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import event

from feedsvc.config import Settings, Source
from feedsvc.feeds import render
from feedsvc.model import Diff, SourceStatus
from feedsvc.service import Service
from feedsvc.store import Store
from tests.atom_checks import assert_valid_atom, parse_feed
from tests.integration.test_fastpath import wait_for
from tests.integration.test_web import BASE, T0, add, entry
from tests.postgres import BACKENDS, database_url


def source(n: int, **fields: Any) -> Source:
    return Source(name=f"s{n:03d}", title=f"Site {n}", url=f"https://site{n}.example/", **fields)


def service_with(store: Store, count: int, entries: int = 3, **settings: Any) -> Service:
    """``count`` sources; each has ``entries`` entries, hours apart, interleaved across sources;
    every third source failing, every fifth (of the others) never refreshed."""
    sources = tuple(source(n) for n in range(count))
    for n, one in enumerate(sources):
        if n % 5 == 4 and n % 3 != 0:
            continue
        add(store, one.name, *(entry(one.name, k * count + n) for k in range(entries)))
        if n % 3 == 0:
            store.apply(one.name, Diff(), SourceStatus(T0 + timedelta(days=1), ok=False, error="HTTP 503"))
    return Service(Settings(base_url=BASE, sources=sources, **settings), store=store, scheduled=False)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


@contextmanager
def counted(store: Store) -> Iterator[list[str]]:
    """The SQL statements ``store`` runs inside the block (BEGIN included)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = store._engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


# --- /api/sources -------------------------------------------------------------------------------


def walk(client: FlaskClient, first: str) -> tuple[list[str], list[int]]:
    """Every name the pages from ``first`` on list, following ``next``; and each page's total."""
    names: list[str] = []
    totals: list[int] = []
    url: str | None = first
    while url is not None:
        answer = client.get(url)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.get_json()
        names += [item["name"] for item in body["sources"]]
        totals.append(body["total"])
        url = body["next"]
        assert answer.headers.get("Link") == (None if url is None else f'<{url}>; rel="next"')
        assert len(totals) <= 50, "the pages never end"
    return names, totals


def test_a_cursor_walk_visits_every_source_exactly_once(store: Store) -> None:
    service = service_with(store, 23)
    client = service.app.test_client()
    names, totals = walk(client, "/api/sources?limit=5")
    assert names == sorted(s.name for s in service.settings.sources)  # each once, by name
    assert totals == [23] * 5
    first = client.get("/api/sources?limit=5").get_json()
    assert first["limit"] == 5 and first["next"] == "/api/sources?limit=5&after=s004"
    assert set(first["sources"][0]) >= {"name", "healthy", "last_error", "entries_stored", "next_run"}
    assert first["sources"][0]["entries_stored"] == 3
    everything = client.get("/api/sources").get_json()  # the default limit holds them all: one page
    assert len(everything["sources"]) == 23 and everything["next"] is None


def test_a_cursor_walk_of_failing_sources_sees_only_those(store: Store) -> None:
    service = service_with(store, 23)
    names, totals = walk(service.app.test_client(), "/api/sources?limit=3&state=failing")
    failing = [s.name for n, s in enumerate(service.settings.sources) if n % 3 == 0]
    assert names == failing and set(totals) == {len(failing)}
    never, _ = walk(service.app.test_client(), "/api/sources?state=never")
    assert never == ["s004", "s014", "s019"]


def test_a_cursor_survives_sources_coming_and_going(store: Store) -> None:
    service = service_with(store, 10)
    client = service.app.test_client()
    first = client.get("/api/sources?limit=4").get_json()
    kept = tuple(s for s in service.settings.sources if s.name != "s005")  # removed while a client pages
    service.current.swap(dataclasses.replace(service.settings, sources=(*kept, source(100))))
    rest, _ = walk(client, first["next"])
    assert [s["name"] for s in first["sources"]] + rest == [s.name for s in kept] + ["s100"]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=1001", "limit=ten", "limit=-1", "limit=%C2%B2", "state=broken", "after=" + "x" * 65],
)
def test_bad_listing_parameters_are_refused_with_a_message(store: Store, query: str) -> None:
    client = service_with(store, 3).app.test_client()
    answer = client.get(f"/api/sources?{query}")
    assert answer.status_code == 400
    assert query.split("=")[0] in answer.get_json()["error"]
    page = client.get(f"/?{query}")
    assert page.status_code == 400 and query.split("=")[0].encode() in page.data


def test_a_page_of_status_costs_the_same_queries_for_10_and_40_sources(tmp_path: Path) -> None:
    costs = []
    for count in (10, 40):
        with Store(f"sqlite:///{tmp_path / f'{count}.db'}") as store:
            client = service_with(store, count).app.test_client()
            for path in ("/api/sources?limit=5", "/api/sources?limit=5&state=failing", "/?limit=5"):
                with counted(store) as statements:
                    assert client.get(path).status_code == 200
                costs.append((count, path, len(statements)))
    small, large = costs[:3], costs[3:]
    assert [cost for _, _, cost in small] == [cost for _, _, cost in large], costs
    assert all(cost <= 10 for _, _, cost in costs), costs


# --- the index page -------------------------------------------------------------------------------


def test_the_index_pages_forward_and_back_and_sums_up_the_states(store: Store) -> None:
    client = service_with(store, 12).app.test_client()
    page = etree.HTML(client.get("/?limit=5").data)
    assert page.xpath("//li[@class='source']/@id") == [f"source-s{n:03d}" for n in range(5)]
    summary = " ".join(page.xpath("string(//p[@class='states'])").split())
    assert summary == "12 sources: 7 ok, 4 failing, 1 never refreshed"
    assert page.xpath("//a[@class='state-failing']/@href") == ["/?limit=5&state=failing"]
    assert page.xpath("//nav[@class='pages']//a[@rel='prev']") == []
    (following,) = page.xpath("//nav[@class='pages']//a[@rel='next']/@href")
    second = etree.HTML(client.get(following).data)
    assert second.xpath("//li[@class='source']/@id") == [f"source-s{n:03d}" for n in range(5, 10)]
    assert second.xpath("//a[@rel='prev']/@href") == ["/?limit=5"]
    third = etree.HTML(client.get(second.xpath("//a[@rel='next']/@href")[0]).data)
    assert third.xpath("//li[@class='source']/@id") == ["source-s010", "source-s011"]
    assert third.xpath("//a[@rel='next']") == [] and third.xpath("//a[@rel='prev']/@href") == [following]
    discovery = third.xpath("//head/link[@rel='alternate']/@href")
    assert f"{BASE}/feeds/all.atom" in discovery and f"{BASE}/feeds/s011.atom" in discovery
    assert f"{BASE}/feeds/s000.atom" not in discovery  # only the page's feeds


def test_the_index_shows_only_failing_sources_when_asked(store: Store) -> None:
    client = service_with(store, 12).app.test_client()
    page = etree.HTML(client.get("/?state=failing").data)
    assert page.xpath("//li[@class='source']/@id") == ["source-s000", "source-s003", "source-s006", "source-s009"]
    assert page.xpath("string(//strong[@class='state-failing'])") == "4 failing"
    assert [n.strip() for n in page.xpath("//pre[@class='last-error']/text()")] == ["HTTP 503"] * 4


# --- /metrics -------------------------------------------------------------------------------------


def test_metrics_have_no_per_source_series_by_default_and_bounded_queries(tmp_path: Path) -> None:
    costs = []
    for count in (10, 40):
        with Store(f"sqlite:///{tmp_path / f'{count}.db'}") as store:
            service = service_with(store, count)
            client = service.app.test_client()
            client.get("/feeds/s001.atom")
            with counted(store) as statements:
                text = client.get("/metrics").get_data(as_text=True)
            costs.append(len(statements))
            assert "source=" not in text
            assert 'feedsvc_feed_requests_total{status="200"} 1.0' in text
            failing = len(range(0, count, 3))
            never = sum(1 for n in range(count) if n % 5 == 4 and n % 3 != 0)
            assert f'feedsvc_sources{{state="failing"}} {failing}.0' in text
            assert f'feedsvc_sources{{state="never"}} {never}.0' in text
            assert f'feedsvc_sources{{state="ok"}} {count - failing - never}.0' in text
            assert f"feedsvc_entries_stored {3 * (count - never)}.0" in text
    assert costs[0] == costs[1], costs


def test_metrics_per_source_when_set(store: Store) -> None:
    service = service_with(store, 4, metrics_per_source=True)
    client = service.app.test_client()
    client.get("/feeds/s001.atom")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'feedsvc_entries_stored{source="s001"} 3.0' in text
    assert 'feedsvc_consecutive_failures{source="s000"} 1.0' in text
    assert 'feedsvc_feed_requests_total{source="s001",status="200"} 1.0' in text
    assert 'feedsvc_sources{state="failing"} 2.0' in text


# --- all.atom -------------------------------------------------------------------------------------


def test_all_atom_cold_runs_the_same_queries_for_3_and_30_sources(tmp_path: Path) -> None:
    costs = []
    for count in (3, 30):
        with Store(f"sqlite:///{tmp_path / f'{count}.db'}") as store:
            service = service_with(store, count, entries=20)
            with counted(store) as statements:
                answer = service.app.test_client().get("/feeds/all.atom")
            assert answer.status_code == 200
            assert len(parse_feed(answer.data).entries) == 50
            costs.append(len(statements))
    assert costs[0] == costs[1], costs
    assert costs[0] <= 4, costs


def test_all_atom_is_the_newest_entries_of_every_source_in_order_and_valid(store: Store) -> None:
    service = service_with(store, 7, entries=10)
    add(store, "gone", entry("gone", 1000))  # a source no longer configured: its entries stay out
    body = service.app.test_client().get("/feeds/all.atom?limit=30").data
    assert_valid_atom(body)
    feed = parse_feed(body)
    stored = [e for s in service.settings.sources for e in store.entries(s.name, limit=100)]
    newest = sorted(stored, key=lambda e: (e.published, e.source), reverse=True)[:30]
    assert [e.title for e in feed.entries] == [e.title for e in newest]


def test_all_atom_keeps_filters_reading_past_what_they_hide(store: Store) -> None:
    service = service_with(store, 3, entries=80)  # 240 entries, newest first: s002, s001, s000, s002, ...
    shy = dataclasses.replace(service.settings.sources[2], exclude=("title:.",))  # s002 shows nothing
    picky = dataclasses.replace(service.settings.sources[1], include=("title:^Post [0-9]*[05] ",))
    service.current.swap(dataclasses.replace(service.settings, sources=(service.settings.sources[0], picky, shy)))
    feed = parse_feed(service.app.test_client().get("/feeds/all.atom").data)
    titles = [e.title for e in feed.entries]
    expected = [
        e.title
        for e in sorted(store.entries("s000", limit=100) + store.entries("s001", limit=100), key=lambda e: e.published)
        if e.source == "s000" or e.title.split()[1][-1] in "05"
    ][::-1][:50]
    assert titles == expected and len(titles) == 50
    assert not any("s002" in title for title in titles)


def test_all_atom_is_not_rendered_again_for_a_change_outside_its_window(store: Store) -> None:
    service = service_with(store, 10, entries=20)  # 200 entries; the window is the newest 50 + 50 of margin
    client = service.app.test_client()
    first = client.get("/feeds/all.atom")
    renders = service.feed_cache.renders
    old = store.entries("s003", limit=100)[-1]  # the oldest entry of a source: far below the window
    changed = dataclasses.replace(old, title="Corrected title", updated=T0 + timedelta(days=30))
    store.apply("s003", Diff(changed=(changed,), seen=1), SourceStatus(T0 + timedelta(days=30), ok=True))
    assert store.entries("s003", limit=100)[-1].title == "Corrected title"
    again = client.get("/feeds/all.atom")
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert service.feed_cache.renders == renders  # nothing in the window changed: not rendered again

    add(store, "s007", entry("s007", 500))  # newer than every entry: it enters the window
    newer = client.get("/feeds/all.atom")
    assert service.feed_cache.renders == renders + 1
    assert newer.headers["ETag"] != first.headers["ETag"]
    assert parse_feed(newer.data).entries[0].title == "Post 500 of s007"

    inside = store.entries("s002", limit=1)[0]  # the newest entry of s002 is in the window: a change shows
    retitled = dataclasses.replace(inside, title="Retitled", updated=inside.updated)
    store.apply("s002", Diff(changed=(retitled,), seen=1), SourceStatus(T0 + timedelta(days=30), ok=True))
    assert "Retitled" in [e.title for e in parse_feed(client.get("/feeds/all.atom").data).entries]
    assert service.feed_cache.renders == renders + 2


def test_all_atom_window_of_a_small_store_sees_an_entry_added_anywhere(store: Store) -> None:
    service = service_with(store, 2, entries=2)  # fewer entries than the limit: the window is the whole store
    client = service.app.test_client()
    first = parse_feed(client.get("/feeds/all.atom").data)
    add(store, "s001", entry("s001", -100))  # older than every entry
    second = parse_feed(client.get("/feeds/all.atom").data)
    assert len(second.entries) == len(first.entries) + 1
    assert second.entries[-1].title == "Post -100 of s001"


def test_the_combined_window_reads_one_query_and_compares_rows(store: Store) -> None:
    service = service_with(store, 5, entries=30)
    settings = service.settings
    with counted(store) as statements:
        rendered = render.render(settings, store, "all", render.Format.ATOM)
    assert sum("FROM entries" in s for s in statements) == 1
    assert rendered.window is not None and len(rendered.window.rows) == render.DEFAULT_LIMIT + render.SCAN_MARGIN
    assert render.version(settings, store, "all", rendered) == render.version_of(rendered)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request, request.param, tmp_path / "shared.db")


def test_another_instance_changing_an_old_entry_leaves_all_atom_and_a_new_one_renders_it(db_url: str) -> None:
    """Two stores on one database stand for two instances: B refreshes, A's all.atom follows only its window."""
    with Store(db_url) as a, Store(db_url) as b:
        service = service_with(a, 6, entries=30)  # 5 sources with entries: 150; the window is the newest 100
        client = service.app.test_client()
        first = client.get("/feeds/all.atom")
        client.get("/feeds/s001.atom")
        renders = service.feed_cache.renders
        oldest = b.entries("s001", limit=100)[-1]
        corrected = dataclasses.replace(oldest, title="Corrected", updated=T0 + timedelta(days=40))
        b.apply("s001", Diff(changed=(corrected,), seen=1), SourceStatus(T0 + timedelta(days=40), ok=True))
        wait_for(lambda: b"Corrected" in client.get("/feeds/s001.atom").data, "A serves B's change in s001's feed")
        assert service.feed_cache.renders == renders + 1  # s001's feed: A has seen the change
        again = client.get("/feeds/all.atom")
        assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
        assert service.feed_cache.renders == renders + 1  # all.atom: checked, not rendered again

        b.apply("s004", Diff(new=(entry("s004", 900),), seen=1), SourceStatus(T0 + timedelta(days=40), ok=True))
        wait_for(lambda: b"Post 900 of s004" in client.get("/feeds/all.atom").data, "A serves B's new entry")
        assert service.feed_cache.renders == renders + 2
