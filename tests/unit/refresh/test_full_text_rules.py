"""Which links the full-text step fetches (only those on the source's own site), and its status line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedsvc.model import ArticleFailure, FullTextState
from feedsvc.refresh.full_text import same_site
from feedsvc.refresh.status import full_text_summary

SOURCE = "https://www.blog.example/posts/"


@pytest.mark.parametrize(
    "link",
    [
        "https://www.blog.example/posts/1.html",
        "http://blog.example/2024/a-post",  # another scheme, without www.
        "https://BLOG.example:8443/a",  # letter case and port aside
    ],
)
def test_links_on_the_sources_site_are_fetched(link: str) -> None:
    assert same_site(link, SOURCE)


@pytest.mark.parametrize(
    "link",
    [
        "https://news.blog.example/a",  # another host of the same domain
        "https://blog.example.evil.example/a",
        "https://evil.example/?u=https://www.blog.example/",
        "javascript:alert(1)",
        "ftp://www.blog.example/a",
        "https://[::1/",  # not a URL
        "",
    ],
)
def test_links_elsewhere_are_not(link: str) -> None:
    assert not same_site(link, SOURCE)


def test_the_status_line_counts_and_names_the_latest_failure() -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    failure = ArticleFailure("Gone", "https://blog.example/gone", "HTTP 404 Not Found", when, 2)
    assert full_text_summary(FullTextState(8, 2, 0, (failure,))) == (
        "full text: 8 ok, 2 failed; latest failure: https://blog.example/gone: HTTP 404 Not Found"
    )
    assert full_text_summary(FullTextState(1, 0, 3)) == "full text: 1 ok, 0 failed, 3 skipped (on another site)"
