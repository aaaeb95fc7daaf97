"""The pages in a real headless browser (Debian's chromium driven by Playwright) against the real service.

Browsers cannot be downloaded here: Playwright drives ``/usr/bin/chromium`` (``.ci/run`` installs it).
Without it the tests skip locally and fail under CI (``CI=true``), so CI can never pass without them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.atom_checks import assert_valid_atom, parse_feed
from tests.feed_checks import assert_valid_json_feed, assert_valid_rss
from tests.support import SEEDS, Service, free_port, running_service, snapshot_server, write_config

CHROMIUM = Path(os.environ.get("FEEDSVC_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 375, "height": 740}


def _browser_or_skip() -> None:
    missing = []
    if not (CHROMIUM.is_file() or shutil.which(str(CHROMIUM))):
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install playwright)")
    if not missing:
        return
    message = "browser tests need " + " and ".join(missing)
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp_path = tmp_path_factory.mktemp("browser")
    sources = f"""
[[sources]]
name = "kexue"
title = "科学空间"
url = "{{url}}"
timezone = "Asia/Shanghai"
language = "zh-CN"

[[sources]]
name = "broken"
title = "A broken site"
url = "http://127.0.0.1:{free_port()}/gone"
timeout = 2
"""
    with snapshot_server() as site:
        site.serve(SEEDS[0].read_bytes())
        cfg = write_config(tmp_path, free_port(), sources.replace("{url}", site.url))
        with running_service(cfg, tmp_path) as running:
            assert running.refresh("kexue").status == 200
            assert running.refresh("broken").status == 502
            yield running


def test_index_lists_sources_and_subscribe_links_yield_the_feeds(browser: object, service: Service) -> None:
    page = browser.new_page(viewport=PHONE)  # type: ignore[attr-defined]
    page.goto(f"{service.base_url}/")
    assert page.title() == "feedsvc"
    sources = page.locator("li.source")
    assert sources.count() == 2
    kexue = page.locator("#source-kexue")
    assert kexue.locator("h2").inner_text() == "科学空间"
    assert int(kexue.locator(".count").inner_text()) > 0
    assert kexue.locator(".status").inner_text() == "ok"
    assert "failing" in page.locator("#source-broken .status").inner_text()
    types = page.eval_on_selector_all("head link[rel=alternate]", "links => links.map(l => l.type)")
    assert {"application/atom+xml", "application/rss+xml", "application/feed+json"} <= set(types)
    # readable on a phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    for link, check in (("a.atom", _atom), ("a.rss", assert_valid_rss), ("a.json", assert_valid_json_feed)):
        with page.expect_response(lambda r: "/feeds/kexue." in r.url) as answer:
            kexue.locator(link).click()
        response = answer.value
        assert response.status == 200
        check(response.body())
        page.goto(f"{service.base_url}/")


def test_a_source_page_shows_entries_and_the_last_error(browser: object, service: Service) -> None:
    page = browser.new_page(viewport=PHONE)  # type: ignore[attr-defined]
    page.goto(f"{service.base_url}/")
    page.locator("#source-kexue h2 a").click()
    page.wait_for_url("**/sources/kexue")
    entries = page.locator("li.entry")
    assert entries.count() > 0
    feed = parse_feed(_fetch(page, f"{service.base_url}/feeds/kexue.atom"))
    assert entries.first.locator("h3").inner_text() == feed.entries[0].title
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.goto(f"{service.base_url}/sources/broken")
    assert page.locator("dd.error").inner_text().strip() != ""
    assert page.locator("li.entry").count() == 0


def _atom(body: bytes) -> None:
    assert_valid_atom(body)
    assert parse_feed(body).entries


def _fetch(page: object, url: str) -> bytes:
    return page.request.get(url).body()  # type: ignore[attr-defined,no-any-return]
