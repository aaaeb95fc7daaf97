"""Which links the full-text step fetches: only those on the source's own site."""

from __future__ import annotations

import pytest

from feedsvc.refresh.full_text import same_site

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
