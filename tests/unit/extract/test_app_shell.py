"""The app-shell detector (extract/shell.py) and the hint a page with no posts gets from it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from feedsvc import extract
from feedsvc.errors import ExtractError
from feedsvc.extract.page import Page
from feedsvc.extract.shell import HINT, RENDERED_HINT, is_app_shell
from feedsvc.model import Snapshot

NOW = datetime(2024, 3, 5, tzinfo=UTC)


def page(html: str, rendered: bool = False) -> Page:
    return Page(Snapshot("https://app.example/", html, "text/html", NOW, rendered=rendered), ZoneInfo("UTC"))


SHELLS = {
    "react root": '<html><body><div id="root"></div><script src="/static/js/main.js"></script></body></html>',
    "next": '<body><div id="__next"><p>Loading…</p></div><script id="__NEXT_DATA__">{}</script></body>',
    "nuxt with a header": '<body><header><a href="/">Home</a> <a href="/about">About</a></header>'
    '<div id="__nuxt"></div><script type="module" src="/_nuxt/entry.js"></script></body>',
    "unnamed empty div": "<body><noscript>You need to enable JavaScript.</noscript><div></div>"
    "<script>boot()</script></body>",
    "vue app": '<body><div id="app" v-cloak>  </div><script src="/app.js"></script></body>',
}


@pytest.mark.parametrize("html", SHELLS.values(), ids=SHELLS.keys())
def test_app_shells_are_recognised(html: str) -> None:
    assert is_app_shell(page(html))


NOT_SHELLS = {
    "no scripts": '<body><div id="root"></div></body>',
    "only json-ld": '<body><div id="root"></div><script type="application/ld+json">{}</script></body>',
    "a page with text": '<body><div id="root"></div><script src="/a.js"></script>' + "<p>words</p>" * 70,
    "no mount point": '<body><p>Closed for the holidays.</p><script src="/a.js"></script></body>',
    "plain text": "",
}


@pytest.mark.parametrize("html", NOT_SHELLS.values(), ids=NOT_SHELLS.keys())
def test_ordinary_pages_are_not_shells(html: str) -> None:
    assert not is_app_shell(page(html))


def test_a_shell_with_no_posts_suggests_the_browser() -> None:
    snapshot = page(SHELLS["react root"]).snapshot
    with pytest.raises(ExtractError) as caught:
        extract.extract(snapshot)
    assert str(caught.value).startswith("no posts found")
    assert str(caught.value).endswith(HINT)
    assert 'try fetch = "browser"' in HINT


def test_a_rendered_shell_with_no_posts_suggests_waiting_for_the_list() -> None:
    snapshot = page(SHELLS["react root"], rendered=True).snapshot
    with pytest.raises(ExtractError) as caught:
        extract.extract(snapshot, "html_blocks")
    assert RENDERED_HINT in str(caught.value) and HINT not in str(caught.value)


def test_an_ordinary_page_with_no_posts_gets_no_hint() -> None:
    snapshot = page(NOT_SHELLS["no mount point"]).snapshot
    with pytest.raises(ExtractError) as caught:
        extract.extract(snapshot)
    assert "browser" not in str(caught.value)
