"""The feed fast path (``web/fastpath.py``) answers as Flask's feeds view would, without asking the store,
and serves new bytes after a refresh: in this process at once, from another process through the
store's watch (SQLite ``data_version``, PostgreSQL ``LISTEN/NOTIFY``)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from feedsvc.config import Settings
from feedsvc.model import Diff, SourceStatus
from feedsvc.service import Service
from feedsvc.store import Store
from feedsvc.web.fastpath import FastFeeds
from tests.integration.test_web import BASE, EVIL, KEXUE, T0, add, entry
from tests.postgres import BACKENDS, database_url
from tests.support import wait_for

SETTINGS = Settings(base_url=BASE, sources=(KEXUE, EVIL))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request, request.param, tmp_path / "feedsvc.db")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        add(opened, "kexue", *(entry("kexue", n) for n in range(60)))
        add(opened, "evil", entry("evil", 1))
        yield opened


def create_app(settings: Settings, store: Store) -> Flask:
    return Service(settings, store=store, scheduled=False).app


def service_of(app: Flask) -> Service:
    found: Service = app.extensions["feedsvc"]
    return found


@pytest.fixture
def app(store: Store) -> Flask:
    return create_app(SETTINGS, store)


def fast(app: Flask) -> FastFeeds:
    assert isinstance(app.wsgi_app, FastFeeds)
    return app.wsgi_app


def answers(app: Flask, method: str, path: str, headers: dict[str, str]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The fast path's answer and Flask's own (the view behind it), without their Date headers."""
    fast_answer = Client(app).open(path, method=method, headers=headers)
    flask_answer = Client(fast(app).app).open(path, method=method, headers=headers)

    def shown(answer: Any) -> tuple[Any, ...]:
        return answer.status, [(k, v) for k, v in answer.headers.to_wsgi_list() if k != "Date"], answer.get_data()

    return shown(fast_answer), shown(flask_answer)


NEWEST = format_datetime(T0 + timedelta(hours=59), usegmt=True)
EARLIER = format_datetime(T0 + timedelta(hours=58), usegmt=True)


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/feeds/kexue.atom", {}),
        ("HEAD", "/feeds/kexue.atom", {}),
        ("GET", "/feeds/kexue.atom", {"Accept-Encoding": "gzip, deflate"}),
        ("GET", "/feeds/kexue.atom", {"Accept-Encoding": "gzip;q=0"}),
        ("GET", "/feeds/kexue.atom", {"Accept-Encoding": "*"}),
        ("GET", "/feeds/kexue.rss", {}),
        ("GET", "/feeds/kexue.json", {"Accept-Encoding": "gzip"}),
        ("GET", "/feeds/kexue.atom?limit=5", {}),
        ("GET", "/feeds/kexue.atom?limit=100000", {}),
        ("GET", "/feeds/kexue.atom?limit=999999999", {}),
        ("GET", "/feeds/kexue.atom?limit=1234567890", {}),
        ("GET", "/feeds/kexue.atom?limit=" + "1" * 5000, {}),
        ("GET", "/feeds/kexue.atom?limit=%C2%B2", {}),
        ("GET", "/feeds/all.atom", {}),
        ("GET", "/feeds/evil.atom", {}),
        ("GET", "/feeds/kexue.atom", {"If-Modified-Since": NEWEST}),
        ("HEAD", "/feeds/kexue.atom", {"If-Modified-Since": NEWEST}),
        ("GET", "/feeds/kexue.atom", {"If-Modified-Since": EARLIER}),
        ("GET", "/feeds/kexue.atom", {"If-Modified-Since": "not a date"}),
        ("GET", "/feeds/kexue.atom", {"If-None-Match": "*"}),
        ("GET", "/feeds/kexue.atom", {"If-None-Match": '"other"'}),
        ("GET", "/feeds/kexue.atom", {"If-None-Match": '"other"', "If-Modified-Since": NEWEST}),
        ("GET", "/feeds/kexue.atom", {"If-None-Match": "", "If-Modified-Since": NEWEST}),
        # falls through to Flask, which answers as before
        ("GET", "/feeds/nope.atom", {}),
        ("GET", "/feeds/all.rss", {}),
        ("GET", "/feeds/kexue.atom?limit=0", {}),
        ("GET", "/feeds/kexue.atom?limit=ten", {}),
        ("GET", "/feeds/kexue.atom?limit=", {}),
        ("GET", "/feeds/kexue.atom?limit=5&x=1", {}),
        ("GET", "/feeds/kexue.atom/", {}),
        ("GET", "/feeds/kexue.xml", {}),
        ("POST", "/feeds/kexue.atom", {}),
        ("GET", "/feeds/kexue.atom", {"If-Match": '"other"'}),
        ("GET", "/feeds/kexue.atom", {"Range": "bytes=0-10"}),
    ],
)
def test_answers_as_flask_does(app: Flask, method: str, path: str, headers: dict[str, str]) -> None:
    ours, flasks = answers(app, method, path, headers)
    assert ours == flasks


def test_validators_of_each_representation(app: Flask) -> None:
    client = app.test_client()
    for headers in ({}, {"Accept-Encoding": "gzip"}):
        etag = client.get("/feeds/kexue.atom", headers=headers).headers["ETag"]
        for match in (etag, f"W/{etag}", f'"x", {etag}'):
            ours, flasks = answers(app, "GET", "/feeds/kexue.atom", {**headers, "If-None-Match": match})
            assert ours == flasks and ours[0].startswith("304"), match


def test_a_cached_feed_is_answered_without_the_store_or_flask(app: Flask, store: Store, monkeypatch: Any) -> None:
    client = app.test_client()
    etag = client.get("/feeds/kexue.atom").headers["ETag"]
    asked: list[str] = []
    for method in ("version", "versions", "entries", "state"):
        original = getattr(store, method)
        monkeypatch.setattr(store, method, lambda *a, _m=method, _o=original, **k: asked.append(_m) or _o(*a, **k))
    dispatched: list[str] = []
    monkeypatch.setattr(app, "full_dispatch_request", lambda: dispatched.append("flask"))
    served = fast(app).served
    for _ in range(20):
        assert client.get("/feeds/kexue.atom").status_code == 200
        assert client.get("/feeds/kexue.atom", headers={"If-None-Match": etag}).status_code == 304
    assert fast(app).served == served + 40
    assert asked == [] and dispatched == []


def test_this_process_refresh_shows_at_once(app: Flask, store: Store) -> None:
    client = app.test_client()
    before = client.get("/feeds/kexue.atom")
    add(store, "kexue", entry("kexue", 99))
    after = client.get("/feeds/kexue.atom", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and b"Post 99 of kexue" in after.data
    icon = SourceStatus(T0, ok=True, icon="https://kexue.example/icon.png", read_icon=True)
    store.apply("kexue", Diff(), icon)
    assert b"icon.png" in client.get("/feeds/kexue.atom").data


def test_a_reload_shows_at_the_next_request(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/feeds/kexue.atom").headers["Cache-Control"] == "public, max-age=900"
    slower = dataclasses.replace(KEXUE, interval=timedelta(hours=2))
    service_of(app).current.swap(Settings(base_url=BASE, sources=(slower, EVIL)))
    assert client.get("/feeds/kexue.atom").headers["Cache-Control"] == "public, max-age=1800"  # min(2 h, 1 h) halved
    service_of(app).current.swap(Settings(base_url=BASE, sources=(EVIL,)))
    assert client.get("/feeds/kexue.atom").status_code == 404


def test_feed_requests_are_counted(app: Flask) -> None:
    client = app.test_client()
    etag = client.get("/feeds/kexue.atom").headers["ETag"]
    client.get("/feeds/kexue.atom", headers={"If-None-Match": etag})
    client.head("/feeds/kexue.atom")
    client.get("/feeds/all.atom")
    client.get("/feeds/nope.atom")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'feedsvc_feed_requests_total{status="200"} 2.0' in text
    assert 'feedsvc_feed_requests_total{status="304"} 1.0' in text
    assert "nope" not in text and "source=" not in text  # no per-source series by default


def test_feed_requests_are_counted_per_source_when_asked(app: Flask) -> None:
    service = service_of(app)
    service.current.swap(dataclasses.replace(service.settings, metrics_per_source=True))
    client = app.test_client()
    etag = client.get("/feeds/kexue.atom").headers["ETag"]
    client.get("/feeds/kexue.atom", headers={"If-None-Match": etag})
    client.head("/feeds/kexue.atom")
    client.get("/feeds/all.atom")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'feedsvc_feed_requests_total{source="kexue",status="200"} 2.0' in text
    assert 'feedsvc_feed_requests_total{source="kexue",status="304"} 1.0' in text
    assert 'source="all"' not in text


def test_another_process_refresh_shows(db_url: str) -> None:
    """Two stores on one database stand for two instances: B refreshes, A's app serves the new bytes."""
    with Store(db_url) as a, Store(db_url) as b:
        add(a, "kexue", *(entry("kexue", n) for n in range(3)))
        watch = a.watch()
        wait_for(lambda: watch.listening, "the store's watch listens")
        client = create_app(SETTINGS, a).test_client()
        first = client.get("/feeds/kexue.atom").data
        assert b"Post 2 of kexue" in first
        b.apply("kexue", Diff(new=(entry("kexue", 77),)), SourceStatus(T0, ok=True))
        wait_for(lambda: b"Post 77 of kexue" in client.get("/feeds/kexue.atom").data, "A serves B's refresh")
        settled = watch.generation()
        wait_for(lambda: watch.generation() == settled, "the generation stays put without changes", timeout=5)


def test_the_generation_stays_put_without_changes_and_moves_with_them(db_url: str) -> None:
    with Store(db_url) as a, Store(db_url) as b:
        watch = a.watch()
        wait_for(lambda: watch.listening, "the store's watch listens")
        time.sleep(0.02)
        first = watch.generation()
        time.sleep(0.02)
        assert watch.generation() == first  # nothing happened: nothing moves
        b.apply("kexue", Diff(new=(entry("kexue", 1),)), SourceStatus(T0, ok=True))
        wait_for(lambda: watch.generation() != first, "another store's apply moves the generation")
        second = watch.generation()
        a.apply("kexue", Diff(new=(entry("kexue", 2),)), SourceStatus(T0, ok=True))
        assert watch.generation() != second  # this store's own apply: at once


def test_a_watch_that_does_not_listen_makes_every_request_ask() -> None:
    from feedsvc.store.watch import PostgresWatch

    def refuse(_conninfo: str) -> Any:
        raise OSError("connection refused")

    watch = PostgresWatch(lambda: 0, "postgresql://nobody@127.0.0.1:9/none", connect=refuse)
    try:
        assert not watch.listening
        assert len({watch.generation() for _ in range(5)}) == 5  # always new: readers revalidate
    finally:
        watch.close()


def test_the_listener_comes_back_after_its_connection_is_killed(postgres: Any) -> None:
    """PostgreSQL: a lost LISTEN connection means unknown changes; the watch reconnects, and meanwhile
    every call is new (readers ask the database), so no change is missed."""
    import psycopg

    url = postgres.new_database_url()
    with Store(url) as a, Store(url) as b:
        client = create_app(SETTINGS, a).test_client()
        watch = a.watch()
        wait_for(lambda: watch.listening, "the store's watch listens")
        assert b"Post 5 of kexue" not in client.get("/feeds/kexue.atom").data
        database = url.rsplit("/", 1)[1]
        with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user=postgres dbname=postgres") as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND query LIKE 'LISTEN%%'",
                (database,),
            ).fetchall()
        assert killed == [(True,)]
        b.apply("kexue", Diff(new=(entry("kexue", 5),)), SourceStatus(T0, ok=True))  # perhaps while not listening
        wait_for(lambda: b"Post 5 of kexue" in client.get("/feeds/kexue.atom").data, "A serves B's refresh")
        wait_for(lambda: watch.listening, "the watch listens again")
        b.apply("kexue", Diff(new=(entry("kexue", 6),)), SourceStatus(T0, ok=True))
        wait_for(lambda: b"Post 6 of kexue" in client.get("/feeds/kexue.atom").data, "and hears B again")


def test_after_a_change_concurrent_requests_render_the_feed_once(app: Flask, store: Store) -> None:
    import threading

    cache = service_of(app).feed_cache
    app.test_client().get("/feeds/kexue.atom")
    renders = cache.renders
    add(store, "kexue", entry("kexue", 98))
    start = threading.Barrier(8)
    bodies: list[bytes] = []

    def reader() -> None:
        client = app.test_client()
        start.wait()
        bodies.append(client.get("/feeds/kexue.atom").data)

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.renders == renders + 1
    assert len(set(bodies)) == 1 and b"Post 98 of kexue" in bodies[0]


def test_unknown_feeds_leave_nothing_behind(app: Flask) -> None:
    client = app.test_client()
    for n in range(50):
        assert client.get(f"/feeds/nope{n}.atom").status_code == 404
    assert fast(app)._slots == {} and fast(app)._filling == {}
