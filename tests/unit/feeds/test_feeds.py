"""feeds.atom: valid Atom, stable ids, caller's order, byte-identical output for the same entries."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree

from feedsvc import __version__
from feedsvc.config import Source
from feedsvc.feeds.formats import UNTITLED, atom, entry_id, xml_text
from feedsvc.model import DateEvidence, Entry
from tests.atom_checks import ATOM_NS, assert_valid_atom, parse_feed

BASE_URL = "http://feeds.example.org:8080"
AUTHORITY = "feeds.example.org"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

SOURCE = Source(name="kexue", title="科学空间|Scientific Spaces", url="https://kexue.fm/", language="zh-CN")
LOCAL = Source(name="local", title="Local snapshot", url="/srv/feedsvc/fixtures/secret-page.txt", language="en")

NEWEST = Entry(
    source="kexue",
    identity="https://kexue.fm/archives/9699",
    title="Transformer升级之路:10、RoPE是一种β进制编码",
    summary="对关心如何扩展LLM的Context长度的读者来说,上周无疑是激动人心的一周。",
    first_seen=datetime(2023, 7, 6, 9, 30, tzinfo=UTC),
    updated=datetime(2023, 7, 6, 9, 30, tzinfo=UTC),
    published=datetime(2023, 7, 6, 0, 0, tzinfo=UTC),
    date_evidence=DateEvidence.PAGE,
    author="苏剑林",
    link="https://kexue.fm/archives/9699",
)
BARE = Entry(  # no author, link or published date
    source="kexue",
    identity="0f3a9c2e51d4b7a8",
    title="当生成模型肆虐:互联网将有“疯牛病”之忧?",
    summary="众所周知,不管是文本还是视觉领域,各种生成模型正在以无法阻挡的势头“肆虐”互联网。",
    first_seen=datetime(2023, 7, 1, 12, 0, tzinfo=UTC),
    updated=datetime(2023, 7, 10, 8, 15, 30, tzinfo=UTC),  # changed later: the newest `updated`
)
HOSTILE = Entry(
    source="kexue",
    identity="hostile post#1",
    title="Tags <b>&amp;</b> \ufffe\udc80controls\x07",
    summary="<script>alert(1)</script> & \x00\x0bsafe\ttext\n",
    first_seen=datetime(2023, 6, 20, 23, 59, 59, tzinfo=UTC),
    updated=datetime(2023, 6, 20, 23, 59, 59, tzinfo=UTC),
    published=datetime(2023, 6, 20, tzinfo=UTC),
    author="Mallory\x00",
    link="https://kexue.fm/archives/9001?x=1&y=2",
)
HUGE = Entry(
    source="kexue",
    identity="huge",
    title="长" * 100_000,
    summary="A title of 100 000 characters.",
    first_seen=datetime(2023, 6, 1, tzinfo=UTC),
    updated=datetime(2023, 6, 1, tzinfo=UTC),
    link="https://kexue.fm/archives/8000",
)
ENTRIES = (NEWEST, BARE, HOSTILE, HUGE)


def render(entries: Sequence[Entry] = ENTRIES, source: Source = SOURCE) -> bytes:
    return atom(source, entries, BASE_URL, AUTHORITY)


def root_of(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))


def texts(element: etree._Element, path: str) -> list[str]:
    return [node.text or "" for node in element.xpath(path, namespaces=ATOM_NS)]


def entry_element(xml: bytes, entry: Entry) -> etree._Element:
    (element,) = root_of(xml).xpath(
        "atom:entry[atom:id=$id]", namespaces=ATOM_NS, id=entry_id(SOURCE, entry, AUTHORITY)
    )
    return element


# --- validity -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "source"),
    [(ENTRIES, SOURCE), ((), SOURCE), ((BARE,), SOURCE), ((), LOCAL), ((BARE, NEWEST), LOCAL)],
    ids=["all", "empty", "bare-only", "local-empty", "local"],
)
def test_valid_atom_for_schema_and_feedparser(entries: Sequence[Entry], source: Source) -> None:
    xml = render(entries, source)
    assert_valid_atom(xml)
    parsed = parse_feed(xml)
    assert len(parsed.entries) == len(entries)


def test_utf8_with_xml_declaration() -> None:
    xml = render()
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "科学空间".encode() in xml  # raw UTF-8, not character references
    xml.decode("utf-8")


def test_empty_feed_has_fixed_epoch_and_no_entries() -> None:
    xml = render(())
    root = root_of(xml)
    assert texts(root, "atom:updated") == ["1970-01-01T00:00:00+00:00"]
    assert root.xpath("atom:entry", namespaces=ATOM_NS) == []
    assert parse_feed(xml).feed.title == SOURCE.title


def test_validator_rejects_invalid_atom() -> None:
    no_id = render(()).replace(b"<id>tag:feeds.example.org,2026:feedsvc/kexue</id>", b"")
    with pytest.raises(AssertionError, match="not valid Atom"):
        assert_valid_atom(no_id)
    no_author = (
        render((BARE,))
        .replace("<name>科学空间|Scientific Spaces</name>".encode(), b"")
        .replace(b"<author>\n    \n  </author>", b"")
    )
    with pytest.raises(AssertionError, match="atom:author"):
        assert_valid_atom(no_author)


# --- order, ids, updated ------------------------------------------------------------------


@pytest.mark.parametrize("entries", [ENTRIES, ENTRIES[::-1], (HUGE, NEWEST, HOSTILE, BARE)])
def test_entries_in_exactly_the_given_order(entries: Sequence[Entry]) -> None:
    xml = render(entries)
    expected = [entry_id(SOURCE, e, AUTHORITY) for e in entries]
    assert texts(root_of(xml), "atom:entry/atom:id") == expected
    assert [e.id for e in parse_feed(xml).entries] == expected


def test_feed_id_is_fixed_per_source() -> None:
    assert texts(root_of(render()), "atom:id") == ["tag:feeds.example.org,2026:feedsvc/kexue"]
    assert texts(root_of(render((), LOCAL)), "atom:id") == ["tag:feeds.example.org,2026:feedsvc/local"]


def test_entry_ids_are_tag_uris_from_first_seen_and_identity() -> None:
    assert texts(root_of(render()), "atom:entry/atom:id") == [
        "tag:feeds.example.org,2023-07-06:kexue/https://kexue.fm/archives/9699",
        "tag:feeds.example.org,2023-07-01:kexue/0f3a9c2e51d4b7a8",
        "tag:feeds.example.org,2023-06-20:kexue/hostile%20post%231",  # no space or '#' in an id
        "tag:feeds.example.org,2023-06-01:kexue/huge",
    ]


def test_entry_ids_are_unique() -> None:
    ids = texts(root_of(render()), "atom:entry/atom:id")
    assert len(ids) == len(set(ids)) == len(ENTRIES)


def test_entry_id_survives_changes_to_the_post() -> None:
    changed = dataclasses.replace(
        BARE,
        title="A new title",
        summary="Rewritten.",
        updated=datetime(2024, 1, 1, tzinfo=UTC),
        published=datetime(2023, 7, 1, tzinfo=UTC),
        date_evidence=DateEvidence.FETCH_TIME,
        link="https://kexue.fm/archives/9700",
    )
    assert entry_id(SOURCE, changed, AUTHORITY) == entry_id(SOURCE, BARE, AUTHORITY)
    assert texts(root_of(render((changed,))), "atom:entry/atom:id") == [entry_id(SOURCE, BARE, AUTHORITY)]


def test_entry_id_day_is_the_utc_day_of_first_seen() -> None:
    # 2023-07-02 01:00 in Shanghai is 2023-07-01 17:00 UTC.
    shanghai = dataclasses.replace(BARE, first_seen=datetime(2023, 7, 2, 1, 0, tzinfo=timezone(timedelta(hours=8))))
    assert entry_id(SOURCE, shanghai, AUTHORITY) == "tag:feeds.example.org,2023-07-01:kexue/0f3a9c2e51d4b7a8"


def test_feed_updated_is_the_newest_entry_updated() -> None:
    # BARE is second in the list but was updated last.
    xml = render()
    assert texts(root_of(xml), "atom:updated") == ["2023-07-10T08:15:30+00:00"]
    parsed = parse_feed(xml)
    newest = max(e.updated_parsed for e in parsed.entries)
    assert parsed.feed.updated_parsed == newest


def test_dates_are_rendered_in_utc_to_the_second() -> None:
    moment = datetime(2023, 7, 6, 17, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    entry = dataclasses.replace(NEWEST, updated=moment, published=moment)
    element = entry_element(render((entry,)), entry)
    assert texts(element, "atom:updated") == ["2023-07-06T09:30:00+00:00"]
    assert texts(element, "atom:published") == ["2023-07-06T09:30:00+00:00"]


def test_naive_datetime_is_refused_naming_the_entry() -> None:
    naive = dataclasses.replace(BARE, updated=datetime(2023, 7, 10, 8, 15))
    with pytest.raises(ValueError, match=r"kexue/0f3a9c2e51d4b7a8: updated has no time zone"):
        render((naive,))


# --- determinism ----------------------------------------------------------------------


def test_same_entries_give_identical_bytes() -> None:
    copies = [dataclasses.replace(e) for e in ENTRIES]
    assert render() == render(copies) == render(list(ENTRIES))


def test_same_instant_in_another_zone_gives_identical_bytes() -> None:
    shanghai = timezone(timedelta(hours=8))
    moved = dataclasses.replace(
        NEWEST,
        first_seen=NEWEST.first_seen.astimezone(shanghai),
        updated=NEWEST.updated.astimezone(shanghai),
        published=NEWEST.published.astimezone(shanghai) if NEWEST.published else None,
    )
    assert render((moved, BARE)) == render((NEWEST, BARE))


def test_changed_entry_changes_the_bytes() -> None:
    changed = dataclasses.replace(BARE, summary="Rewritten.", updated=datetime(2023, 7, 11, tzinfo=UTC))
    assert render((NEWEST, changed)) != render((NEWEST, BARE))


# --- feed metadata ----------------------------------------------------------------------


def test_feed_metadata() -> None:
    xml = render()
    root = root_of(xml)
    assert root.get(XML_LANG) == "zh-CN"
    assert texts(root, "atom:title") == [SOURCE.title]
    assert texts(root, "atom:author/atom:name") == [SOURCE.title]
    (generator,) = root.xpath("atom:generator", namespaces=ATOM_NS)
    assert (generator.text, generator.get("version"), generator.get("uri")) == ("feedsvc", __version__, f"{BASE_URL}/")
    parsed = parse_feed(xml)
    assert parsed.feed.language == "zh-CN"


def test_self_and_alternate_links_for_a_web_source() -> None:
    root = root_of(render())
    links = {
        (link.get("rel"), link.get("href"), link.get("type")) for link in root.xpath("atom:link", namespaces=ATOM_NS)
    }
    assert links == {
        ("self", f"{BASE_URL}/feeds/kexue.atom", "application/atom+xml"),
        ("alternate", "https://kexue.fm/", None),
    }


def test_local_source_links_to_the_service_and_never_shows_its_path() -> None:
    xml = atom(LOCAL, (BARE,), BASE_URL + "/", AUTHORITY)  # a trailing slash is tolerated
    root = root_of(xml)
    assert root.xpath("string(atom:link[@rel='self']/@href)", namespaces=ATOM_NS) == f"{BASE_URL}/feeds/local.atom"
    assert root.xpath("string(atom:link[@rel='alternate']/@href)", namespaces=ATOM_NS) == f"{BASE_URL}/"
    assert b"secret-page" not in xml
    assert root.get(XML_LANG) == "en"


@pytest.mark.parametrize(("language", "expected"), [("zh_CN", "zh-CN"), ("en-GB", "en-GB"), ("not a tag!", None)])
def test_xml_lang_is_a_valid_tag_or_left_out(language: str, expected: str | None) -> None:
    xml = render((NEWEST,), dataclasses.replace(SOURCE, language=language))
    assert root_of(xml).get(XML_LANG) == expected
    assert_valid_atom(xml)


# --- entries ----------------------------------------------------------------------------


def test_full_entry_fields() -> None:
    xml = render()
    element = entry_element(xml, NEWEST)
    assert texts(element, "atom:title") == [NEWEST.title]
    assert texts(element, "atom:author/atom:name") == ["苏剑林"]
    assert texts(element, "atom:published") == ["2023-07-06T00:00:00+00:00"]
    assert texts(element, "atom:updated") == ["2023-07-06T09:30:00+00:00"]
    assert element.xpath("atom:summary/@type", namespaces=ATOM_NS) == ["text"]
    assert texts(element, "atom:summary") == [NEWEST.summary]
    assert [(a.get("rel"), a.get("href")) for a in element.xpath("atom:link", namespaces=ATOM_NS)] == [
        ("alternate", "https://kexue.fm/archives/9699")
    ]
    assert element.xpath("atom:content", namespaces=ATOM_NS) == []  # the link is enough
    parsed = parse_feed(xml).entries[0]
    assert (parsed.title, parsed.author, parsed.link) == (NEWEST.title, "苏剑林", NEWEST.link)


def test_bare_entry_links_to_its_listing_page_has_content_and_no_author_or_published() -> None:
    xml = render((BARE,))
    element = entry_element(xml, BARE)
    assert element.xpath("atom:author | atom:published", namespaces=ATOM_NS) == []
    # no link of its own: the page it was listed on, never its tag: id
    links = element.xpath("atom:link", namespaces=ATOM_NS)
    assert [(a.get("rel"), a.get("href")) for a in links] == [("alternate", SOURCE.url)]
    assert parse_feed(xml).entries[0].link == SOURCE.url
    # the post's whole text, as content
    assert element.xpath("atom:content/@type", namespaces=ATOM_NS) == ["text"]
    assert texts(element, "atom:content") == [BARE.summary]
    assert texts(element, "atom:summary") == []  # once, not twice
    parsed = parse_feed(xml)
    assert "published" not in parsed.entries[0]
    assert parsed.feed.author == SOURCE.title  # the feed's author covers the entry


def test_hostile_text_is_escaped_and_stripped_of_illegal_characters() -> None:
    xml = render((HOSTILE,))
    assert b"<script>" not in xml
    assert b"&lt;script&gt;alert(1)&lt;/script&gt; &amp; " in xml
    element = entry_element(xml, HOSTILE)
    assert texts(element, "atom:summary") == ["<script>alert(1)</script> & safe\ttext\n"]
    assert texts(element, "atom:title") == ["Tags <b>&amp;</b> controls"]
    assert texts(element, "atom:author/atom:name") == ["Mallory"]
    assert element.xpath("string(atom:link/@href)", namespaces=ATOM_NS) == "https://kexue.fm/archives/9001?x=1&y=2"
    parsed = parse_feed(xml).entries[0]
    assert parsed.summary == "<script>alert(1)</script> & safe\ttext"  # feedparser strips the ends
    assert parsed.title == "Tags <b>&amp;</b> controls"


def test_huge_title_is_kept_whole() -> None:
    xml = render((HUGE,))
    assert_valid_atom(xml)
    assert texts(entry_element(xml, HUGE), "atom:title") == [HUGE.title]
    assert len(parse_feed(xml).entries[0].title) == 100_000


@pytest.mark.parametrize("title", ["", "   ", "\x00\x01\x02"])
def test_entry_without_a_usable_title_still_renders(title: str) -> None:
    entry = dataclasses.replace(NEWEST, title=title)
    xml = render((entry,))
    assert_valid_atom(xml)
    assert texts(entry_element(xml, entry), "atom:title") == [UNTITLED]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x00b\x08c\x0bd\x0ce\x0ef\x1fg", "abcdefg"),
        ("keep\ttab\nnewline\rreturn", "keep\ttab\nnewline\rreturn"),
        ("x\ufffey\uffffz", "xyz"),
        ("lone\ud800high\udfffsurrogates", "lonehighsurrogates"),
        ("科学\U0001f600\ufffd\x7f", "科学\U0001f600\ufffd\x7f"),  # legal in XML 1.0
    ],
)
def test_xml_text_removes_exactly_the_characters_xml_forbids(text: str, expected: str) -> None:
    assert xml_text(text) == expected


def test_a_date_without_a_time_is_published_with_the_sources_offset() -> None:
    from feedsvc.feeds.formats import rss
    from feedsvc.feeds.jsonfeed import json_feed

    shanghai = Source(name="kexue", title="科学空间", url="https://kexue.fm/", timezone="Asia/Shanghai")
    midnight = datetime(2023, 12, 6, 16, 0, tzinfo=UTC)  # 2023-12-07 00:00 in Shanghai, stored in UTC
    dated = Entry(source="kexue", identity="d", title="Dated", summary="s", first_seen=midnight,
                  updated=midnight, published=midnight)  # fmt: skip
    element = entry_element(render((dated,), shanghai), dated)
    assert texts(element, "atom:published") == ["2023-12-07T00:00:00+08:00"]
    assert b"<pubDate>Thu, 07 Dec 2023 00:00:00 +0800</pubDate>" in rss(shanghai, (dated,), BASE_URL, AUTHORITY)
    item = json.loads(json_feed(shanghai, (dated,), BASE_URL, AUTHORITY))["items"][0]
    assert item["date_published"] == "2023-12-07T00:00:00+08:00" and item["url"] == "https://kexue.fm/"
