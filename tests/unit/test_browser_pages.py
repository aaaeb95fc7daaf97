"""``browser_pages``: at most that many renders at once, a limit a reload may change (no browser needed)."""

from __future__ import annotations

import threading

import pytest

from feedsvc.browser import Answer, Browser, Request, _Slots
from feedsvc.errors import FetchError


def test_a_render_waits_for_a_free_page_and_gives_up_after_its_timeout() -> None:
    slots = _Slots(1)
    with slots.held(1.0) as first:
        assert first
        with slots.held(0.01) as second:
            assert not second  # the one page is busy
    with slots.held(0.01) as again:
        assert again  # freed when the first render ended


def test_a_higher_limit_lets_a_waiting_render_in() -> None:
    slots = _Slots(1)
    got: list[bool] = []
    entered = threading.Event()
    with slots.held(1.0):

        def wait() -> None:
            entered.set()
            with slots.held(60.0) as free:
                got.append(free)

        waiter = threading.Thread(target=wait)
        waiter.start()
        entered.wait()
        slots.set_limit(2)  # a reload raised browser_pages
        waiter.join(60)
    assert got == [True]


def test_the_browser_takes_its_page_limit_and_starts_nothing_until_a_render() -> None:
    chromium = Browser(pages=3, executable="/nonexistent/chromium")
    assert chromium.pages == 3 and not chromium.running and chromium.launches == 0
    chromium.set_pages(1)
    assert chromium.pages == 1
    chromium.close()  # nothing was started: nothing to close


def test_without_chromium_a_render_fails_with_the_fix() -> None:
    chromium = Browser(executable="/nonexistent/chromium")
    try:
        with pytest.raises(FetchError, match='fetch = "browser" needs') as caught:
            chromium.render("https://app.example/", _never, timeout=5, max_bytes=1000, user_agent="test")
    finally:
        chromium.close()
    assert "/nonexistent/chromium" in str(caught.value) or "playwright" in str(caught.value).lower()
    assert not chromium.running


def _never(request: Request) -> Answer:
    raise AssertionError(f"no request may be made without a browser: {request.url}")
