"""``fetch = "browser"``: a page whose list a script builds, read in Debian's headless Chromium.

A local site serves an app shell (an empty ``<div id="root">``) and a script that fetches a JSON
file and builds the list from it; the site records every request it gets. A second site, on
another port, stands for an internal address the page's script tries to reach. Read through
``refresh.run`` with a real SQLite store and the real browser, and through the real service
process. The browser tests skip without ``/usr/bin/chromium`` (fail under ``CI=true``); the
hint a plain fetch gives needs no browser.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsvc import browser, config, refresh
from feedsvc.config import Source
from feedsvc.model import Outcome
from feedsvc.service import Service
from feedsvc.store import Store
from tests.app_shell import TITLES, Site, app_shell_sites, chromium_processes
from tests.atom_checks import parse_feed
from tests.e2e.test_browser import _browser_or_skip
from tests.support import ROOT, free_port, http, running_service, write_config

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sites() -> Iterator[tuple[Site, Site]]:
    with app_shell_sites() as both:
        yield both


@pytest.fixture(scope="module")
def chromium() -> Iterator[browser.Browser]:
    _browser_or_skip()
    yield browser.shared()
    browser.close_shared()


def _source(url: str, **settings: object) -> Source:
    return Source(name="notes", title="Field notes", url=url, **settings)  # type: ignore[arg-type]


def _store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'feedsvc.db'}")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    yield from _store(tmp_path)


def test_the_list_a_script_builds_is_read_and_images_fonts_media_are_never_requested(
    chromium: browser.Browser, sites: tuple[Site, Site], store: Store
) -> None:
    app, other = sites
    before = len(app.paths())
    result = refresh.run(store, _source(app.url, fetch="browser"), NOW)
    assert result.outcome is Outcome.OK, result.error
    assert (result.new, result.seen) == (3, 3)
    assert [entry.title for entry in store.entries("notes")] == TITLES[::-1]
    assert store.entries("notes")[0].link == app.url + "notes/3"
    asked = app.paths()[before:]
    assert {"/", "/app.js", "/api/posts.json", "/style.css"} <= set(asked)
    assert not {"/banner.png", "/clip.mp4", "/serif.woff2", "/favicon.ico"} & set(asked)
    assert other.paths() == []  # the script's request to another local address was refused, never made


def test_wait_for_reads_the_page_once_the_list_is_there(
    chromium: browser.Browser, sites: tuple[Site, Site], store: Store
) -> None:
    app, _ = sites
    result = refresh.run(store, _source(app.url, fetch="browser", wait_for="ul.posts li.post"), NOW)
    assert result.outcome is Outcome.OK, result.error
    assert result.seen == 3


def test_a_selector_that_never_matches_times_out_naming_it(
    chromium: browser.Browser, sites: tuple[Site, Site], store: Store
) -> None:
    app, _ = sites
    result = refresh.run(store, _source(app.url, fetch="browser", wait_for="table.none", timeout=2), NOW)
    assert result.outcome is Outcome.FAILED and result.error_kind == "timeout"
    assert "no element matched wait_for 'table.none'" in (result.error or "")


def test_a_503_with_retry_after_backs_the_source_off_as_a_fetch_does(
    chromium: browser.Browser, sites: tuple[Site, Site], store: Store
) -> None:
    app, _ = sites
    app.down = True
    try:
        result = refresh.run(store, _source(app.url, fetch="browser"), NOW)
    finally:
        app.down = False
    assert result.outcome is Outcome.FAILED and result.error_kind == "http"
    assert "HTTP 503" in (result.error or "") and "Retry-After" in (result.error or "")
    state = store.state("notes")
    assert state.retry_after_until == NOW + timedelta(seconds=120)
    later = refresh.run(store, _source(app.url, fetch="browser"), NOW + timedelta(seconds=60), refresh.Policy(True))
    assert later.outcome is Outcome.DEFERRED  # the schedule keeps away until the site's Retry-After


def test_a_user_added_source_may_not_reach_a_private_address(
    chromium: browser.Browser, sites: tuple[Site, Site], store: Store
) -> None:
    app, _ = sites
    before = len(app.paths())
    result = refresh.run(store, _source(app.url, fetch="browser", user_added=True), NOW)
    assert result.outcome is Outcome.FAILED and result.error_kind == "refused"
    assert "refused to connect to 127.0.0.1" in (result.error or "")
    assert app.paths()[before:] == []


def test_the_browser_is_started_again_after_it_died(
    chromium: browser.Browser, sites: tuple[Site, Site], store: Store
) -> None:
    app, _ = sites
    assert refresh.run(store, _source(app.url, fetch="browser"), NOW).ok
    launches = chromium.launches
    main = [pid for pid, command in chromium_processes() if "--type=" not in command]
    assert main, "no chromium process found under this one"
    for pid in main:
        os.kill(pid, signal.SIGKILL)
    _wait(lambda: not chromium.running)
    result = refresh.run(store, _source(app.url, fetch="browser"), NOW + timedelta(hours=1))
    assert result.ok, result.error
    assert chromium.launches == launches + 1


def test_a_plain_fetch_of_the_shell_suggests_the_browser(sites: tuple[Site, Site], store: Store) -> None:
    app, _ = sites
    result = refresh.run(store, _source(app.url), NOW)
    assert result.outcome is Outcome.FAILED and result.error_kind == "extract"
    assert (result.error or "").endswith('this page is built by scripts: try fetch = "browser"')
    done = _preview(app.url)
    assert done.returncode == 2
    assert 'try fetch = "browser"' in done.stderr


def test_preview_fetch_browser_prints_the_posts(chromium: browser.Browser, sites: tuple[Site, Site]) -> None:
    app, _ = sites
    done = _preview(app.url, "--fetch", "browser", "--wait-for", "li.post")
    assert done.returncode == 0, done.stderr
    assert "3 post(s)" in done.stdout and "rendered in headless Chromium" in done.stdout
    for title in TITLES:
        assert title in done.stdout


def test_the_service_process_serves_the_feed_of_a_rendered_page(
    chromium: browser.Browser, sites: tuple[Site, Site], tmp_path: Path
) -> None:
    app, _ = sites
    sources = f'[[sources]]\nname = "notes"\nurl = "{app.url}"\nfetch = "browser"\nwait_for = "li.post"\n'
    service_settings = 'manual_refresh_gap = "0s"\nhost_gap = "0s"\nbrowser_pages = 1'
    config = write_config(tmp_path, free_port(), sources, service_settings)
    with running_service(config, tmp_path) as service:
        answer = service.refresh("notes")
        assert answer.status == 200, answer.body
        assert answer.json()["new"] == 3
        feed = parse_feed(http("GET", f"{service.base_url}/feeds/notes.atom").body)
        assert [entry.title for entry in feed.entries] == TITLES[::-1]
        pids = {pid for pid, _ in chromium_processes(service.process.pid)}
        assert pids  # the service's own browser
        assert service.stop() == 0
    _wait(lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids))  # Service.stop closed it


def _preview(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", "preview", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _wait(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_the_add_site_preview_renders_the_page_when_asked_to(
    chromium: browser.Browser, sites: tuple[Site, Site], tmp_path: Path
) -> None:
    app, _ = sites
    path = tmp_path / "feedsvc.toml"
    path.write_text(
        '[service]\ndata_dir = "data"\nrefresh_token_env = "FEEDSVC_T"\nallow_private_addresses = true\n',
        encoding="utf-8",
    )
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as store:
        service = Service(config.load(path, environ={"FEEDSVC_T": "t0ken"}), store=store, scheduled=False)
        client = service.app.test_client()
        bearer = {"Authorization": "Bearer t0ken"}
        plain = client.post("/api/preview", json={"url": app.url}, headers=bearer).json
        assert plain["posts"] == [] and plain["error"].endswith('try fetch = "browser"')
        body = {"url": app.url, "fetch": "browser", "wait_for": "li.post"}
        rendered = client.post("/api/preview", json=body, headers=bearer).json
        assert rendered["error"] is None
        assert [post["title"] for post in rendered["posts"]] == TITLES
