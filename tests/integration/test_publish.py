"""After a refresh: the WebSub hub is pinged (a real local stub hub), static files are written, the icon kept."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from feedsvc import refresh
from feedsvc.config import Current, Settings, Source
from feedsvc.errors import PublishError
from feedsvc.feeds import publish, render, static, websub
from feedsvc.feeds.render import Format
from feedsvc.model import RefreshResult
from feedsvc.store import Store
from tests.atom_checks import assert_valid_atom, parse_feed
from tests.feed_checks import assert_valid_json_feed, assert_valid_rss
from tests.support import ROOT, free_port, local_http, snapshot_server

BYLINE_HTML = (ROOT / "fixtures" / "html" / "typecho_byline.html").read_text(encoding="utf-8")
BASE = "http://feeds.example.org"
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@dataclass
class StubHub:
    url: str = ""
    status: int = 204
    pings: list[dict[str, list[str]]] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)


@contextmanager
def stub_hub() -> Iterator[StubHub]:
    """A WebSub hub on 127.0.0.1 that records every publish ping."""
    hub = StubHub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            hub.pings.append(parse_qs(self.rfile.read(length).decode("ascii")))
            hub.content_types.append(self.headers.get("Content-Type", ""))
            self.send_response(hub.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    with local_http(Handler) as base:
        hub.url = f"{base}/hub"
        yield hub


def page(icon_tag: str = '<link rel="icon" href="/favicon.png" sizes="32x32">') -> bytes:
    return BYLINE_HTML.replace("</head>", f"{icon_tag}\n</head>", 1).encode("utf-8")


def source_for(url: str) -> Source:
    return Source(name="blog", title="Blog", url=url, layout="byline", timezone="Asia/Shanghai", timeout=5)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


def test_new_entries_ping_the_hub_once_per_feed_and_nothing_new_pings_nothing(store: Store) -> None:
    with snapshot_server() as site, stub_hub() as hub:
        site.serve(page(), "text/html; charset=utf-8")
        source = source_for(site.url)
        settings = Settings(base_url=BASE, sources=(source,), hub=hub.url)
        notify = publish.notifier(Current(settings), store)
        result = refresh.run(store, source, T0, refresh.Policy(notify=notify))
        assert result.ok and result.new > 0
        topics = [ping["hub.url"] for ping in hub.pings]
        assert topics == [[f"{BASE}/feeds/blog.{ext}"] for ext in ("atom", "rss", "json")] + [
            [f"{BASE}/feeds/all.atom"]
        ]
        assert all(ping["hub.mode"] == ["publish"] for ping in hub.pings)
        assert set(hub.content_types) == {"application/x-www-form-urlencoded"}

        again = refresh.run(store, source, T0 + timedelta(hours=1), refresh.Policy(notify=notify))
        assert again.ok and again.new == again.changed == 0
        assert len(hub.pings) == 4  # nothing changed: no ping


def test_a_failing_hub_is_logged_and_the_refresh_still_succeeds(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    with snapshot_server() as site, stub_hub() as hub:
        hub.status = 500
        site.serve(page(), "text/html; charset=utf-8")
        source = source_for(site.url)
        notify = publish.notifier(Current(Settings(base_url=BASE, sources=(source,), hub=hub.url)), store)
        with caplog.at_level(logging.WARNING, logger="feedsvc.feeds.publish"):
            result = refresh.run(store, source, T0, refresh.Policy(notify=notify))
        assert result.ok and result.new > 0
        assert len(hub.pings) == 4
        assert "HTTP 500" in caplog.text
        assert len(store.entries("blog")) == result.new


def test_an_unreachable_hub_is_reported_not_raised() -> None:
    dead = f"http://127.0.0.1:{free_port()}/hub"
    errors = websub.publish(dead, ["http://x/feeds/a.atom"], timeout=2)
    assert len(errors) == 1 and dead in errors[0]


def test_a_notify_hook_that_raises_does_not_fail_the_refresh(store: Store) -> None:
    def broken(source: Source, result: object) -> None:
        raise RuntimeError("hook bug")

    with snapshot_server() as site:
        site.serve(page(), "text/html; charset=utf-8")
        result = refresh.run(store, source_for(site.url), T0, refresh.Policy(notify=broken))
    assert result.ok and result.new > 0


def test_the_page_icon_is_stored_and_served(store: Store) -> None:
    with snapshot_server() as site:
        site.serve(page(), "text/html; charset=utf-8")
        source = source_for(site.url)
        assert refresh.run(store, source, T0).ok
        icon = site.url.split("/blog/")[0] + "/favicon.png"
        assert store.state("blog").icon == icon
        settings = Settings(base_url=BASE, sources=(source,))
        assert parse_feed(render.render(settings, store, "blog", Format.ATOM).body).feed.icon == icon
        assert assert_valid_json_feed(render.render(settings, store, "blog", Format.JSON).body)["icon"] == icon

        site.serve(page(icon_tag=""), "text/html; charset=utf-8")
        assert refresh.run(store, source, T0 + timedelta(hours=1)).ok
        assert store.state("blog").icon is None  # the page dropped it


def test_static_files_are_the_served_bytes(store: Store, tmp_path: Path) -> None:
    with snapshot_server() as site:
        site.serve(page(), "text/html; charset=utf-8")
        source = source_for(site.url)
        out = tmp_path / "public"
        settings = Settings(base_url=BASE, sources=(source,), publish_dir=out)
        result = refresh.run(store, source, T0, refresh.Policy(notify=publish.notifier(Current(settings), store)))
        assert result.new > 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [f"blog.{e}" for e in ("atom", "rss", "json")]
        + [f"blog.{e}.gz" for e in ("atom", "rss", "json")]
        + ["all.atom", "all.atom.gz"]
    )
    for format in Format:
        assert (out / f"blog.{format.value}").read_bytes() == render.render(settings, store, "blog", format).body
    assert_valid_atom((out / "blog.atom").read_bytes())
    assert_valid_atom((out / "all.atom").read_bytes())
    assert_valid_rss((out / "blog.rss").read_bytes())
    assert assert_valid_json_feed((out / "blog.json").read_bytes())["items"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_static_publish_into_an_unwritable_place_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings = Settings(base_url=BASE, sources=(source_for("https://x.example/"),), publish_dir=blocker / "sub")
    with pytest.raises(PublishError, match="publish_dir"):
        static.write(settings, store, ["blog"])


def test_the_hook_follows_the_settings_in_force(store: Store, tmp_path: Path) -> None:
    source = source_for("https://x.example/blog/")
    current = Current(Settings(base_url=BASE, sources=(source,)))
    notify = publish.notifier(current, store)
    changed = RefreshResult("blog", new=1)
    out = tmp_path / "public"
    notify(source, changed)  # neither publish_dir nor hub: nothing to do
    assert not out.exists()
    current.swap(Settings(base_url=BASE, sources=(source,), publish_dir=out))  # a reload sets publish_dir
    notify(source, RefreshResult("blog"))  # nothing changed: nothing written
    assert not out.exists()
    notify(source, changed)
    assert (out / "blog.atom").exists() and (out / "all.atom").exists()


def test_a_hub_redirect_is_not_followed() -> None:
    """Issue 12: a redirect could aim the ping at an internal address; it is reported instead."""
    internal = {"requests": 0}

    class Internal(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            internal["requests"] += 1
            self.send_response(204)
            self.end_headers()

        do_GET = do_POST  # urllib follows a 302 to a POST with a GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    with local_http(Internal) as internal_url:

        class Moved(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.send_response(302)
                self.send_header("Location", f"{internal_url}/admin")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        with local_http(Moved) as hub:
            errors = websub.publish(hub, ["http://x/feeds/a.atom"], timeout=5)
    assert errors and "HTTP 302" in errors[0]
    assert internal["requests"] == 0
