"""RSS 2.0, JSON Feed 1.1 and the combined Atom feed: valid, the same entries as Atom, hostile input made safe."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest
from lxml import etree

from feedsvc.config import Source
from feedsvc.feeds.formats import atom, combined, entry_id, rss
from feedsvc.feeds.jsonfeed import json_feed
from feedsvc.model import Entry
from tests.atom_checks import ATOM_NS, assert_valid_atom, parse_feed
from tests.feed_checks import assert_valid_json_feed, assert_valid_rss
from tests.unit.feeds.test_feeds import AUTHORITY, BARE, BASE_URL, ENTRIES, HOSTILE, HUGE, LOCAL, NEWEST, SOURCE

ICON = "https://kexue.fm/apple-touch-icon.png"
HUB = "https://hub.example.org/"
TAGGED = dataclasses.replace(NEWEST, categories=("数学", "  Machine   learning ", "数学", "", "\x00"))
HTML_POST = dataclasses.replace(
    BARE,
    identity="html-post",
    link="https://kexue.fm/archives/9800",
    summary_html=True,
    summary=(
        '<p onclick="steal()">Hello <b>world</b><script>alert(1)</script>'
        '<a href="javascript:alert(2)">click</a> <a href="https://kexue.fm/x">ok</a>'
        '<img src="x" onerror="alert(3)"><iframe src="https://evil.example/"></iframe>'
        "<style>body{display:none}</style>\x00\x0b</p>"
    ),
)
ENTITY_BOMB = dataclasses.replace(
    BARE,
    identity="entity-bomb",
    link="https://kexue.fm/archives/9801",
    title='<!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>&b;&b;',
    summary_html=True,
    summary='<!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><p>&b;&b;&b; &amp;amp;</p>',
)
DEEP = dataclasses.replace(
    BARE, identity="deep", link="https://kexue.fm/archives/9802", summary_html=True, summary="<div>" * 50_000 + "x"
)
HOSTILE_SET = (*ENTRIES, TAGGED, HTML_POST, ENTITY_BOMB, DEEP)
EVERY_SET = [(), (BARE,), ENTRIES, HOSTILE_SET]


def render_rss(entries: Sequence[Entry] = HOSTILE_SET, source: Source = SOURCE, **kw: str) -> bytes:
    return rss(source, entries, BASE_URL, AUTHORITY, **kw)


def render_json(entries: Sequence[Entry] = HOSTILE_SET, source: Source = SOURCE, **kw: str) -> bytes:
    return json_feed(source, entries, BASE_URL, AUTHORITY, **kw)


def render_atom(entries: Sequence[Entry] = HOSTILE_SET, source: Source = SOURCE, **kw: str) -> bytes:
    return atom(source, entries, BASE_URL, AUTHORITY, **kw)


def ids(entries: Sequence[Entry], source: Source = SOURCE) -> list[str]:
    return [entry_id(source, e, AUTHORITY) for e in entries]


# --- validity of every format ---------------------------------------------------------------


@pytest.mark.parametrize("entries", EVERY_SET, ids=["empty", "bare", "plain", "hostile"])
@pytest.mark.parametrize("source", [SOURCE, LOCAL], ids=["web", "local"])
@pytest.mark.parametrize("extras", [{}, {"icon": ICON, "hub": HUB}], ids=["plain", "icon-hub"])
def test_every_format_is_valid(entries: Sequence[Entry], source: Source, extras: dict[str, str]) -> None:
    xml = render_atom(entries, source, **extras)
    assert_valid_atom(xml)
    assert len(parse_feed(xml).entries) == len(entries)
    parsed = assert_valid_rss(render_rss(entries, source, **extras))
    assert [e.id for e in parsed.entries] == ids(entries, source)
    document = assert_valid_json_feed(render_json(entries, source, **extras))
    assert [item["id"] for item in document["items"]] == ids(entries, source)


@pytest.mark.parametrize("renderer", [render_atom, render_rss, render_json], ids=["atom", "rss", "json"])
def test_same_entries_give_identical_bytes(renderer: Callable[..., bytes]) -> None:
    copies = [dataclasses.replace(e) for e in HOSTILE_SET]
    assert renderer() == renderer(copies)
    assert renderer(HOSTILE_SET) != renderer(HOSTILE_SET[1:])


# --- RSS --------------------------------------------------------------------------------------


def test_rss_channel_and_items() -> None:
    parsed = assert_valid_rss(render_rss(ENTRIES, icon=ICON, hub=HUB))
    assert parsed.feed.title == SOURCE.title
    assert parsed.feed.link == SOURCE.url
    assert parsed.feed.language == "zh-CN"
    assert parsed.feed.image.href == ICON
    assert {(link.rel, link.href) for link in parsed.feed.links} >= {
        ("self", f"{BASE_URL}/feeds/kexue.rss"),
        ("hub", HUB),
    }
    newest = parsed.entries[0]
    assert (newest.title, newest.link, newest.author) == (NEWEST.title, NEWEST.link, NEWEST.author)
    assert newest.published_parsed[:3] == (2023, 7, 6)
    assert newest.guidislink is False  # a tag: id is not a link


def test_rss_escapes_text_for_readers_that_read_descriptions_as_html() -> None:
    xml = render_rss((HOSTILE,))
    (description,) = etree.fromstring(xml).xpath("//item/description/text()")
    # one level of escaping for HTML readers on top of XML's: the text shows, nothing runs
    assert description.startswith("&lt;script&gt;alert(1)&lt;/script&gt; &amp; safe")
    assert b"<script>" not in xml


def test_rss_feedgen_would_put_the_self_url_as_channel_link_but_it_is_the_site() -> None:
    channel_link = etree.fromstring(render_rss(())).findtext("channel/link")
    assert channel_link == SOURCE.url
    local_link = etree.fromstring(render_rss((), LOCAL)).findtext("channel/link")
    assert local_link == f"{BASE_URL}/"


def test_rss_last_build_date_is_the_newest_update_not_now() -> None:
    assert b"<lastBuildDate>Mon, 10 Jul 2023 08:15:30 +0000</lastBuildDate>" in render_rss(ENTRIES)


# --- JSON Feed --------------------------------------------------------------------------------


def test_json_feed_fields() -> None:
    document = assert_valid_json_feed(render_json(ENTRIES, icon=ICON, hub=HUB))
    assert document["title"] == SOURCE.title
    assert document["home_page_url"] == SOURCE.url
    assert document["feed_url"] == f"{BASE_URL}/feeds/kexue.json"
    assert document["icon"] == document["favicon"] == ICON
    assert document["hubs"] == [{"type": "WebSub", "url": HUB}]
    assert document["language"] == "zh-CN"
    newest, bare = document["items"][:2]
    assert newest["url"] == NEWEST.link and newest["title"] == NEWEST.title
    assert newest["authors"] == [{"name": NEWEST.author}]
    assert newest["content_text"] == NEWEST.summary
    assert newest["date_published"] == "2023-07-06T00:00:00Z"
    assert newest["date_modified"] == "2023-07-06T09:30:00Z"
    assert bare["url"] == SOURCE.url  # no link of its own: the page it was listed on
    assert "date_published" not in bare and "authors" not in bare


def test_json_feed_is_utf8_not_escaped() -> None:
    raw = render_json((NEWEST,))
    assert "苏剑林".encode() in raw


def test_json_feed_local_source_never_shows_its_path() -> None:
    raw = render_json((BARE,), LOCAL)
    assert b"secret-page" not in raw
    assert json.loads(raw)["home_page_url"] == f"{BASE_URL}/"


# --- categories, icon, hub --------------------------------------------------------------------


def test_categories_in_every_format_plain_deduplicated_in_order() -> None:
    expected = ["数学", "Machine learning"]
    element = etree.fromstring(render_atom((TAGGED,)))
    assert element.xpath("atom:entry/atom:category/@term", namespaces=ATOM_NS) == expected
    assert [t.term for t in parse_feed(render_atom((TAGGED,))).entries[0].tags] == expected
    assert [t.term for t in assert_valid_rss(render_rss((TAGGED,))).entries[0].tags] == expected
    assert json.loads(render_json((TAGGED,)))["items"][0]["tags"] == expected


def test_atom_icon_logo_and_hub() -> None:
    root = etree.fromstring(render_atom(ENTRIES, icon=ICON, hub=HUB))
    assert root.xpath("atom:icon/text()", namespaces=ATOM_NS) == [ICON]
    assert root.xpath("atom:logo/text()", namespaces=ATOM_NS) == [ICON]
    assert root.xpath("atom:link[@rel='hub']/@href", namespaces=ATOM_NS) == [HUB]
    plain = etree.fromstring(render_atom(ENTRIES))
    assert plain.xpath("atom:icon | atom:logo | atom:link[@rel='hub']", namespaces=ATOM_NS) == []


# --- hostile HTML -----------------------------------------------------------------------------


def _html_summaries() -> dict[str, str]:
    atom_summary = etree.fromstring(render_atom((HTML_POST,))).xpath("//atom:summary", namespaces=ATOM_NS)[0]
    assert atom_summary.get("type") == "html"
    rss_description = etree.fromstring(render_rss((HTML_POST,))).xpath("//item/description/text()")[0]
    json_html = json.loads(render_json((HTML_POST,)))["items"][0]["content_html"]
    return {"atom": atom_summary.text, "rss": rss_description, "json": json_html}


@pytest.mark.parametrize("format", ["atom", "rss", "json"])
def test_html_summaries_are_sanitised(format: str) -> None:
    html = _html_summaries()[format]
    lowered = html.lower()
    for bad in ("<script", "alert(", "javascript:", "onclick", "onerror", "<iframe", "<style", "display:none"):
        assert bad not in lowered, f"{bad!r} survived in the {format} summary: {html!r}"
    assert "<b>world</b>" in html
    assert 'href="https://kexue.fm/x"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_entity_bombs_stay_inert_text() -> None:
    for xml in (render_atom((ENTITY_BOMB,)), render_rss((ENTITY_BOMB,))):
        assert b"<!ENTITY" not in xml and b"<!DOCTYPE" not in xml
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
        assert "a" * 20 not in etree.tostring(root, encoding="unicode")  # no entity was expanded
    atom_summary = etree.fromstring(render_atom((ENTITY_BOMB,))).xpath("//atom:summary", namespaces=ATOM_NS)[0]
    assert "<!ENTITY" not in atom_summary.text
    assert parse_feed(render_atom((ENTITY_BOMB,))).entries[0].title == ENTITY_BOMB.title  # title: shown as text


def test_huge_title_and_controls_in_every_format() -> None:
    rss_entry = assert_valid_rss(render_rss((HUGE, HOSTILE))).entries
    assert len(rss_entry[0].title) == 100_000
    assert rss_entry[1].title == "Tags <b>&amp;</b> controls"
    items = assert_valid_json_feed(render_json((HUGE, HOSTILE)))["items"]
    assert len(items[0]["title"]) == 100_000
    assert items[1]["title"] == "Tags <b>&amp;</b> controls"
    assert items[1]["authors"] == [{"name": "Mallory"}]


# --- the combined feed ------------------------------------------------------------------------


def test_combined_feed_names_each_entry_s_feed() -> None:
    other = Source(name="other", title="Other <site>", url="https://other.example/")
    theirs = dataclasses.replace(BARE, source="other", identity="theirs", updated=datetime(2023, 8, 1, tzinfo=UTC))
    items = [(SOURCE, NEWEST), (other, theirs), (LOCAL, dataclasses.replace(BARE, source="local"))]
    xml = combined(items, BASE_URL, AUTHORITY, hub=HUB)
    assert_valid_atom(xml)
    parsed = parse_feed(xml)
    assert parsed.feed.id == f"tag:{AUTHORITY},2026:feedsvc/all"
    assert parsed.feed.updated_parsed[:3] == (2023, 8, 1)
    assert [e.id for e in parsed.entries] == [entry_id(s, e, AUTHORITY) for s, e in items]
    assert [e.source.title for e in parsed.entries] == [SOURCE.title, "Other <site>", LOCAL.title]
    root = etree.fromstring(xml)
    sources = root.xpath("atom:entry/atom:source", namespaces=ATOM_NS)
    assert [s.xpath("string(atom:id)", namespaces=ATOM_NS) for s in sources] == [
        f"tag:{AUTHORITY},2026:feedsvc/kexue",
        f"tag:{AUTHORITY},2026:feedsvc/other",
        f"tag:{AUTHORITY},2026:feedsvc/local",
    ]
    assert sources[1].xpath("string(atom:link[@rel='self']/@href)", namespaces=ATOM_NS) == (
        f"{BASE_URL}/feeds/other.atom"
    )
    assert b"secret-page" not in xml
    assert root.xpath("atom:link[@rel='hub']/@href", namespaces=ATOM_NS) == [HUB]


def test_combined_feed_without_entries_is_valid() -> None:
    xml = combined([], BASE_URL, AUTHORITY)
    assert_valid_atom(xml)
    assert parse_feed(xml).entries == []
