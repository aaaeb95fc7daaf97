"""Property-based tests of extract -> differ -> render (issue 12): Hypothesis drives the real pure core.

    any bytes           decode + bounds + extract: an error (FeedsvcError), or posts whose Atom, RSS and
                        JSON feeds are valid and link only to http(s) URLs
    identity            the same posts whatever the white space, control and format characters, entity
                        encoding and line endings of the page

The normal run is bounded (profile ``ci``: 100 examples a test); ``FEEDSVC_FUZZ=long`` runs 5,000
(see docs/security.md).
"""

from __future__ import annotations

import html
import json
import os
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feedsvc import bounds, differ, extract, fetch
from feedsvc.config import Source
from feedsvc.errors import FeedsvcError
from feedsvc.feeds import formats as feeds
from feedsvc.feeds import jsonfeed
from feedsvc.model import Known, Post, Snapshot

settings.register_profile("ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("FEEDSVC_FUZZ", "ci"))

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")
SOURCE = Source(name="fuzz", title="Fuzz", url="https://site.example/blog/", timezone="Asia/Shanghai")
ATOM = {"atom": "http://www.w3.org/2005/Atom"}
HOSTILE_HREFS = [
    " \x01javascript:alert(7)",
    "java\tscript:alert(1)",
    "JaVaScRiPt:alert(2)",
    "\u200bjavascript:alert(3)",
    "file:///etc/passwd",
    "data:text/html,<script>alert(4)</script>",
    "vbscript:msgbox",
    "//evil.example/x",
    "http://",
    "https://ok.example/post?a=1&b=<2>",
    "/relative/post",
    "&#106;avascript:alert(5)",
]
INVISIBLE = "\x01\x02\x1f\x7f\x9f\u200b\u200d\u200e\u2060\ufeff"  # Cc, Cf: removed, even inside a word
WHITE = [" ", "  ", "\t", "\u3000", "\u2028", "\u2029", "\x85", " \u00a0"]

hrefs = st.one_of(st.sampled_from(HOSTILE_HREFS), st.text(max_size=40))
texts = st.text(max_size=60)
title_chars = st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd"), max_codepoint=0x9FFF)
titles = st.lists(st.text(title_chars, min_size=1, max_size=8), min_size=1, max_size=5).map(" ".join)


@st.composite
def html_listings(draw: st.DrawFn) -> bytes:
    items = draw(st.lists(st.tuples(hrefs, texts, st.integers(1, 28)), min_size=1, max_size=12))
    body = "".join(
        f'<li><a href="{html.escape(href)}">{html.escape(title)}</a> <time datetime="2024-01-{day:02d}">'
        f"2024-01-{day:02d}</time></li>"
        for href, title, day in items
    )
    noise = draw(st.sampled_from(["", "<div>" * 400, "<p><b><i>", "<script>x</script>", "\x00\x0b"]))
    return f"<!doctype html><html><body>{noise}<ul>{body}</ul></body></html>".encode()


@st.composite
def text_listings(draw: st.DrawFn) -> bytes:
    items = draw(st.lists(st.tuples(texts, texts, st.integers(1, 28)), min_size=1, max_size=8))
    return "".join(
        f"{title}\nBy 苏剑林 | 2023-07-{day:02d} | 1位读者 | 引用{summary}\n" for title, summary, day in items
    ).encode("utf-8", "surrogatepass")


pages = st.one_of(st.binary(max_size=3000), html_listings(), text_listings())


def _pipeline(body: bytes, media_type: str) -> list[Post]:
    text = fetch.decode(body, None)
    text, _ = fetch._bounded(text, media_type)
    snapshot = Snapshot(url=SOURCE.url, text=text, media_type=media_type, fetched_at=NOW)
    posts, _ = bounds.capped(extract.posts(snapshot))
    return posts


def _links_are_http(links: list[str]) -> None:
    for link in links:
        assert re.match(r"^https?://[^/\s]", link), link


@given(pages, st.sampled_from(["text/html", "text/plain"]))
def test_any_bytes_give_an_error_or_valid_feeds_linking_only_to_http(body: bytes, media_type: str) -> None:
    try:
        posts = _pipeline(body, media_type)
    except FeedsvcError:
        return
    diff = differ.diff(Known(), posts, seen_at=NOW, zone=ZONE, source=SOURCE.name)
    entries = list(diff.new)
    assert len({entry.identity for entry in entries}) == len(entries)

    atom = etree.fromstring(feeds.atom(SOURCE, entries, "https://feeds.example", "feeds.example"))
    _links_are_http(atom.xpath("//atom:link/@href", namespaces=ATOM))
    rss = etree.fromstring(feeds.rss(SOURCE, entries, "https://feeds.example", "feeds.example"))
    _links_are_http([link.text for link in rss.iter("link")])
    document = json.loads(jsonfeed.json_feed(SOURCE, entries, "https://feeds.example", "feeds.example"))
    _links_are_http([item["url"] for item in document["items"] if "url" in item])
    fragments = [item.get("content_html", "") for item in document["items"]]  # links inside HTML summaries too
    _links_are_http(
        [html.unescape(url) for fragment in fragments for url in re.findall(r'(?:href|src)="([^"]*)"', fragment)]
    )


def _identities(posts: list[Post]) -> set[str]:
    return {differ.identity(post) for post in posts}


def _entity_encoded(text: str, which: list[bool]) -> str:
    return "".join(f"&#{ord(ch)};" if pick else html.escape(ch) for ch, pick in zip(text, which, strict=False))


@given(
    st.lists(st.tuples(titles, st.integers(1, 28)), min_size=1, max_size=6, unique_by=lambda item: item[0]),
    st.data(),
)
def test_identity_is_stable_under_white_space_controls_and_line_endings(
    items: list[tuple[str, int]], data: st.DataObject
) -> None:
    def page(mangle: bool, newline: str) -> bytes:
        lines = []
        for title, day in items:
            if mangle:
                title = title.replace(" ", data.draw(st.sampled_from(WHITE)))
                spot = data.draw(st.integers(0, len(title)))
                title = title[:spot] + data.draw(st.sampled_from(INVISIBLE)) + title[spot:]
                title = data.draw(st.sampled_from(["", " ", "\t"])) + title + data.draw(st.sampled_from(["", " "]))
            lines += [title, f"By 苏剑林 | 2023-07-{day:02d} | 1位读者 | 引用正文"]
        return (newline.join(lines) + newline).encode("utf-8")

    try:
        plain = _identities(_pipeline(page(False, "\n"), "text/plain"))
    except FeedsvcError:
        return
    assert _identities(_pipeline(page(True, data.draw(st.sampled_from(["\n", "\r\n", "\r"]))), "text/plain")) == plain


@given(
    st.lists(st.tuples(titles, st.integers(1, 28)), min_size=2, max_size=6, unique_by=lambda item: item[0]),
    st.data(),
)
def test_identity_is_stable_under_entity_encoding_and_line_endings(
    items: list[tuple[str, int]], data: st.DataObject
) -> None:
    def page(encode: bool, newline: str) -> bytes:
        rows = []
        for index, (title, day) in enumerate(items):
            href = f"https://site.example/posts/{index}/{title.replace(' ', '-')}"
            if encode:
                title = _entity_encoded(title, data.draw(st.lists(st.booleans(), min_size=len(title))))
                href = _entity_encoded(href, data.draw(st.lists(st.booleans(), min_size=len(href))))
            else:
                title, href = html.escape(title), html.escape(href)
            rows.append(f'<li>{newline}<a href="{href}">{title}</a>{newline}<time>2024-01-{day:02d}</time></li>')
        return f"<html><body><ul>{newline.join(rows)}</ul></body></html>".encode()

    try:
        plain = _identities(_pipeline(page(False, "\n"), "text/html"))
    except FeedsvcError:
        return
    assert _identities(_pipeline(page(True, data.draw(st.sampled_from(["\n", "\r\n", "\r"]))), "text/html")) == plain


@given(titles, st.data())
def test_normalize_ignores_invisible_characters_and_folds_separators(title: str, data: st.DataObject) -> None:
    mangled = title.replace(" ", data.draw(st.sampled_from(WHITE)))
    spot = data.draw(st.integers(0, len(mangled)))
    mangled = mangled[:spot] + data.draw(st.sampled_from(INVISIBLE)) + mangled[spot:]
    assert differ.normalize(mangled) == differ.normalize(title)
