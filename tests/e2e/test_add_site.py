"""Issue 14: add a site from the browser, in headless Chromium against the real service process.

A local HTTP server serves a blog listing; the browser signs in with the admin token, pastes the
URL, sees the posts auto mode finds and the layout it chose, tries a broken and then a working
CSS selector, saves, and sees the feed fill. A bad URL and a bad selector give a readable message
and save nothing. Every wait is for a condition, never for a duration.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.atom_checks import assert_valid_atom, parse_feed
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, _browser_or_skip
from tests.support import ROOT, TOKEN, Service, free_port, http, running_service, snapshot_server, write_config

HUGO = ROOT / "fixtures" / "engines" / "hugo.html"
EXPECTED = json.loads((ROOT / "fixtures" / "engines" / "hugo.json").read_text(encoding="utf-8"))
WAIT = 60_000  # ms: the longest any condition may take on a loaded machine before the test fails


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=WAIT)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with snapshot_server() as server:
        server.serve(HUGO.read_bytes(), "text/html; charset=utf-8")
        yield server.url


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, site: str) -> Iterator[Service]:
    tmp_path: Path = tmp_path_factory.mktemp("add-site")
    sources = f"""
[[sources]]
name = "configured"
title = "From the config file"
url = "{site}"
"""
    service = 'manual_refresh_gap = "0s"\nhost_gap = "0s"\nallow_private_addresses = true'
    cfg = write_config(tmp_path, free_port(), sources, service=service)
    with running_service(cfg, tmp_path) as running:
        yield running


def _signed_in_page(browser: object, service: Service) -> object:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(WAIT)
    page.goto(f"{service.base_url}/admin/sources/new")
    page.wait_for_url("**/admin/login**")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/sources/new")
    return page


def _names(service: Service) -> set[str]:
    return {s["name"] for s in http("GET", f"{service.base_url}/api/sources").json()["sources"]}  # type: ignore[index,union-attr]


def test_add_a_site_with_its_preview_then_its_feed_fills(browser: object, service: Service, site: str) -> None:
    page = _signed_in_page(browser, service)
    page.fill("#url", site)
    rows = page.locator("#preview-posts tr.post")
    rows.first.wait_for()
    assert rows.count() == len(EXPECTED["posts"])
    assert page.locator("#chosen-layout").inner_text() == EXPECTED["auto"]
    first = rows.first
    assert first.locator("a.title").inner_text() == EXPECTED["posts"][0]["title"]
    assert first.locator("a.title").get_attribute("href") == site.split("/blog/")[0] + "/posts/register-allocation/"
    assert first.locator("td.date").inner_text().startswith(EXPECTED["posts"][0]["date"])
    assert page.locator("#candidate-list button.candidate").count() >= 1
    # switch to a candidate: the layout is set and the preview follows
    page.select_option("#layout", "h_entry")
    page.locator("#preview-status", has_text="h_entry").wait_for()  # no posts that way: says so
    page.locator(f"#candidate-list button[data-layout={EXPECTED['auto']}]").click()
    page.locator("#chosen-layout", has_text=EXPECTED["auto"]).wait_for()
    assert page.locator("#layout").input_value() == EXPECTED["auto"]
    rows.first.wait_for()

    # the lists auto mode weighed: one click makes the winner the item selector
    page.locator("#lists summary").click()
    winner = page.locator("#list-list li.chosen button.list").first
    item = winner.get_attribute("data-item")
    assert item and "article" in item
    winner.click()
    page.locator("#chosen-layout", has_text="selectors").wait_for()
    assert page.locator("#selector-item").input_value() == item
    rows.first.wait_for()
    assert rows.count() == len(EXPECTED["posts"])
    page.select_option("#layout", "auto")
    page.fill("#selector-item", "")

    # a broken selector: a readable message, no posts shown
    page.select_option("#layout", "selectors")
    page.eval_on_selector("#selectors", "details => { details.open = true; }")
    page.fill("#selector-item", "article[[[")
    status = page.locator("#preview-status")
    status.filter(has_text="not a CSS selector").wait_for()
    assert page.locator("#preview-posts").is_hidden()
    # a working one: the posts again, read by the selectors
    page.fill("#selector-item", EXPECTED["selectors"]["item"])
    page.fill("#selector-title", EXPECTED["selectors"]["title"])
    page.locator("#chosen-layout", has_text="selectors").wait_for()
    rows.first.wait_for()
    assert rows.count() == len(EXPECTED["posts"])

    page.fill("#name", "hugo")
    page.fill("#title", "Quadratic Compiler")
    page.fill("#interval", "30m")
    page.select_option("#timezone", "Asia/Shanghai")
    page.click("#save")
    page.wait_for_url("**/sources/hugo")
    assert page.locator("h1").inner_text().strip() == "Quadratic Compiler"

    # the scheduler refreshes a new source at once: wait for its entries to appear on the page
    entries = page.locator("li.entry")
    _wait_until(lambda: _status(service, "hugo").get("entries_stored", 0) > 0, "hugo's first refresh")
    page.reload()
    assert entries.count() == len(EXPECTED["posts"])
    body = page.request.get(f"{service.base_url}/feeds/hugo.atom").body()
    assert_valid_atom(body)
    feed = parse_feed(body)
    assert [e.title for e in feed.entries] == [p["title"] for p in EXPECTED["posts"]]
    assert feed.feed.title == "Quadratic Compiler"

    # the index lists it as editable beside the config file's source, which is not
    page.goto(f"{service.base_url}/")
    assert page.locator("#source-hugo a.edit").count() == 1
    assert page.locator("#source-configured a.edit").count() == 0
    assert page.locator("#source-configured .origin").inner_text() == "from the config file"
    # refresh now, from the index: the outcome in words (the site answers the same page: nothing new)
    page.locator("#source-hugo button.refresh").click()
    page.locator(".flash", has_text="hugo:").wait_for()
    assert "0 new, 0 updated, 3 on the page" in page.locator(".flash").inner_text()
    assert page.locator("#source-hugo .next-run").count() == 1


def test_a_bad_url_or_selector_gives_a_readable_message_and_saves_nothing(browser: object, service: Service) -> None:
    page = _signed_in_page(browser, service)
    before = _names(service)
    page.fill("#url", "ftp://example.org/blog/")
    page.locator("#preview-status", has_text="expected an http:// or https:// URL").wait_for()
    page.fill("#name", "badurl")
    page.click("#save")
    assert "expected an http:// or https:// URL" in page.locator("#save-error").inner_text()

    page.fill("#url", "file:///etc/passwd")
    page.click("#save")
    assert "expected an http:// or https:// URL" in page.locator("#save-error").inner_text()

    page.fill("#url", "http://127.0.0.1:9/")
    page.select_option("#layout", "selectors")
    page.eval_on_selector("#selectors", "details => { details.open = true; }")
    page.fill("#selector-item", "div >> > p")
    page.fill("#name", "badselector")
    page.click("#save")
    assert "not a CSS selector" in page.locator("#save-error").inner_text()
    assert _names(service) == before


def test_edit_then_delete_a_database_source(browser: object, service: Service, site: str) -> None:
    token = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    answer = _post(f"{service.base_url}/api/sources", {"name": "editme", "url": site}, token)
    assert answer.status == 201, answer.body
    page = _signed_in_page(browser, service)
    page.goto(f"{service.base_url}/admin/sources/editme/edit")
    page.locator("#preview-posts tr.post").first.wait_for()  # the saved URL is previewed at once
    page.fill("#title", "Edited title")
    page.click("#save")
    page.wait_for_url("**/sources/editme")
    assert page.locator("h1").inner_text().strip() == "Edited title"
    page.goto(f"{service.base_url}/admin/sources/editme/edit")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete")
    page.wait_for_url(f"{service.base_url}/")
    assert "editme" not in _names(service)


def _status(service: Service, name: str) -> dict[str, object]:
    answer = http("GET", f"{service.base_url}/api/sources/{name}")
    return answer.json() if answer.status == 200 else {}


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT / 1000) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.1)


def _post(url: str, body: dict[str, object], headers: dict[str, str]) -> object:
    import urllib.error
    import urllib.request

    from tests.support import Response

    request = urllib.request.Request(url, method="POST", headers=headers, data=json.dumps(body).encode())
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return Response(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())


def test_another_instance_on_the_same_database_serves_and_follows_a_source_added_here(
    tmp_path: Path, service: Service, site: str
) -> None:
    """Database sources are shared: a second process on the same database picks up additions and deletions."""
    first_config = service.process.args[4]  # type: ignore[index]
    data_dir = Path(first_config).parent / "data"
    sources = ""
    extra = f'manual_refresh_gap = "0s"\nhost_gap = "0s"\nallow_private_addresses = true\ndata_dir = "{data_dir}"'
    cfg = write_config(tmp_path, free_port(), sources, service=extra)
    cfg.write_text(cfg.read_text().replace('data_dir = "data"\n', "", 1))
    token = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    with running_service(cfg, tmp_path) as other:
        answer = _post(f"{service.base_url}/api/sources", {"name": "shared", "url": site}, token)
        assert answer.status == 201, answer.body  # type: ignore[attr-defined]
        _wait_until(lambda: "shared" in _names(other), "the other instance to list the new source")
        _wait_until(lambda: http("GET", f"{other.base_url}/feeds/shared.atom").status == 200, "its feed there")
        deleted = http("DELETE", f"{service.base_url}/api/sources/shared", {"Authorization": f"Bearer {TOKEN}"})
        assert deleted.status == 204
        _wait_until(lambda: "shared" not in _names(other), "the other instance to drop it")
