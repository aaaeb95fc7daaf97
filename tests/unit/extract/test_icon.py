"""icon.find: the page's icon or logo, absolute http(s), best first."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from feedsvc.extract import icon
from feedsvc.extract.page import Page
from feedsvc.model import Snapshot

PAGE = "https://blog.example.org/posts/"


def find(html: str, url: str) -> str | None:
    snapshot = Snapshot(url=url, text=html, fetched_at=datetime(2024, 1, 1, tzinfo=UTC), media_type="text/html")
    return icon.find(Page(snapshot, ZoneInfo("UTC")))


def head(*tags: str) -> str:
    return f"<!doctype html><html><head>{''.join(tags)}</head><body><p>post</p></body></html>"


def test_apple_touch_icon_first_then_largest_icon_then_og_image() -> None:
    tags = [
        '<meta property="og:image" content="https://cdn.example.org/og.png">',
        '<link rel="icon" href="/small.png" sizes="16x16">',
        '<link rel="icon" href="/large.png" sizes="192x192">',
        '<link rel="apple-touch-icon" href="touch.png">',
    ]
    assert find(head(*tags), PAGE) == "https://blog.example.org/posts/touch.png"
    assert find(head(*tags[:3]), PAGE) == "https://blog.example.org/large.png"
    assert find(head(*tags[:2]), PAGE) == "https://blog.example.org/small.png"
    assert find(head(tags[0]), PAGE) == "https://cdn.example.org/og.png"


def test_shortcut_icon_and_base_href() -> None:
    page = head('<base href="https://static.example.net/theme/">', '<link rel="shortcut icon" href="fav.ico">')
    assert find(page, PAGE) == "https://static.example.net/theme/fav.ico"


@pytest.mark.parametrize(
    "tag",
    [
        '<link rel="icon" href="javascript:alert(1)">',
        '<link rel="icon" href="data:image/png;base64,AAAA">',
        '<link rel="icon" href="">',
        '<link rel="stylesheet" href="/style.css">',
        '<meta name="description" content="https://example.org/x.png">',
    ],
)
def test_nothing_usable_gives_none(tag: str) -> None:
    assert find(head(tag), PAGE) is None


def test_unusable_candidates_are_skipped_for_the_next() -> None:
    page = head('<link rel="apple-touch-icon" href="javascript:x">', '<link rel="icon" href="/ok.ico">')
    assert find(page, PAGE) == "https://blog.example.org/ok.ico"


def test_local_file_pages_and_junk_give_none() -> None:
    assert find(head('<link rel="icon" href="fav.ico">'), "file:///srv/page.html") is None
    assert find("", PAGE) is None
    assert find("\x00\x01 not html at all", PAGE) is None
