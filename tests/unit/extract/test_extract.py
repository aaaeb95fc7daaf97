"""extract.posts: every fixture page yields the posts its expectation file lists.

``fixtures/expected/<stem>.json`` was written by reading each page, not from extractor output.
Each entry: title, author, date ("YYYY-MM-DD", or "--MM-DD" when the page shows no year),
link, title_derived, summary_start / summary_end (first / last 20 characters of the
summary) and, for the small hand-written HTML pages, the whole summary.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feedsvc.errors import ExtractError
from feedsvc.extract import LAYOUTS, posts, sniff
from feedsvc.extract.day_month import derived_title, is_title
from feedsvc.extract.lines import Line, text_lines
from feedsvc.model import PageDate, Post, Snapshot

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
PAGES = sorted([*FIXTURES.glob("seeds/*.txt"), *FIXTURES.glob("html/*.html")])
MEDIA_TYPES = {".txt": "text/plain", ".html": "text/html"}
URL = "https://fixtures.example/listing/"  # HTML fixtures carry absolute links or a <base href>


def snapshot(text: str, media_type: str = "text/plain", url: str = URL) -> Snapshot:
    return Snapshot(url=url, text=text, media_type=media_type, fetched_at=datetime(2024, 1, 10, tzinfo=UTC))


def page(path: Path) -> Snapshot:
    return snapshot(path.read_text(encoding="utf-8"), MEDIA_TYPES[path.suffix])


def shown_date(date: PageDate | None) -> str | None:
    if date is None:
        return None
    return f"{date.year:04d}-{date.month_day}" if date.year is not None else f"--{date.month_day}"


def as_expected(post: Post, keys: set[str]) -> dict[str, Any]:
    shown = {
        "title": post.title,
        "author": post.author,
        "date": shown_date(post.date),
        "link": post.link,
        "title_derived": post.title_derived,
        "summary_start": post.summary[:20],
        "summary_end": post.summary[-20:],
        "summary": post.summary,
    }
    return {key: value for key, value in shown.items() if key in keys}


def seed(prefix: str) -> Snapshot:
    (path,) = FIXTURES.glob(f"seeds/{prefix}_*.txt")
    return page(path)


# --- every fixture page against its expectation ---------------------------------------------------


def test_every_fixture_page_has_an_expectation() -> None:
    expected = {path.stem for path in FIXTURES.glob("expected/*.json")}
    assert len(PAGES) >= 7
    assert {path.stem for path in PAGES} == expected


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.name)
def test_fixture_page_yields_expected_posts(path: Path) -> None:
    expected = json.loads((FIXTURES / "expected" / f"{path.stem}.json").read_text(encoding="utf-8"))
    found = posts(page(path))
    assert [as_expected(post, set(entry)) for post, entry in zip(found, expected, strict=False)] == expected
    assert len(found) == len(expected)


@pytest.mark.parametrize(
    ("prefix", "layout"),
    [("000", "byline"), ("001", "byline"), ("002", "byline"), ("003", "day_month"), ("004", "day_month")],
)
def test_auto_and_named_layout_agree(prefix: str, layout: str) -> None:
    snap = seed(prefix)
    assert posts(snap, layout) == posts(snap)
    assert sniff(text_lines(snap.text)) == layout


# --- byline ---------------------------------------------------------------------------------------


def test_heading_like_lines_belong_to_the_summary() -> None:
    reflow = next(post for post in posts(seed("000")) if post.date == PageDate(6, 28, 2023))
    assert reflow.summary.split("\n")[2] == "理论回顾"
    assert reflow.summary.count("\n") == 3


def test_reader_counts_are_dropped_so_the_same_post_is_equal_across_snapshots() -> None:
    def mad(prefix: str) -> Post:
        return next(post for post in posts(seed(prefix)) if post.date == PageDate(7, 14, 2023))

    assert mad("000") == mad("001") == mad("002")  # 51234, 52069 and 53261 readers
    assert "位读者" not in mad("000").summary


def test_footer_and_furniture_are_never_in_a_summary() -> None:
    for path in PAGES:
        for post in posts(page(path)):
            assert "最近评论" not in post.summary
            assert "点击阅读全文" not in post.summary
            assert not post.summary.startswith("引用")


def test_byline_summary_starts_glued_after_cite_and_runs_to_next_title() -> None:
    text = (
        "标题一\nBy 甲 | 2023-01-02 | 12位读者 | 引用第一行\n第二行\n"
        "标题二\nBy 乙 | 2023-01-01 | 3位读者 | 引用只有一行\n最近评论"
    )
    first, second = posts(snapshot(text))
    assert first == Post(title="标题一", summary="第一行\n第二行", date=PageDate(1, 2, 2023), author="甲")
    assert second == Post(title="标题二", summary="只有一行", date=PageDate(1, 1, 2023), author="乙")


def test_byline_footer_ends_the_listing_even_before_more_bylines() -> None:
    text = "标题\nBy 甲 | 2023-01-02 | 1位读者 | 引用正文\n最近评论\n评论者\nBy 乙 | 2023-01-01 | 2位读者 | 引用评论"
    assert [post.title for post in posts(snapshot(text))] == ["标题"]


def test_byline_invalid_date_keeps_the_post_without_a_date() -> None:
    (post,) = posts(snapshot("标题\nBy 甲 | 2023-13-01 | 1位读者 | 引用正文"))
    assert post.date is None
    assert post.summary == "正文"


def test_byline_without_a_title_line_gets_a_derived_title() -> None:
    (post,) = posts(snapshot("By 甲 | 2023-01-02 | 1位读者 | 引用这是正文的第一句。第二句。"))
    assert post.title == "这是正文的第一句"
    assert post.title_derived is True


# --- day_month ------------------------------------------------------------------------------------


def test_day_month_keeps_page_order_not_date_order() -> None:
    dates = [post.date.month_day for post in posts(seed("003")) if post.date is not None]
    assert dates == ["04-20", "07-19", "08-08", "05-23", "09-13", "09-20", "04-23", "09-19"]


def test_day_month_untitled_entry_keeps_its_first_paragraph_in_the_summary() -> None:
    untitled = [post for post in posts(seed("003")) if post.title_derived]
    assert len(untitled) == 1
    assert untitled[0].date == PageDate(4, 23)
    assert untitled[0].summary.startswith("如何减少采样步数同时保证生成质量,是扩散模型应用层面的一个关键问题。其中,")


def test_day_month_keeps_repeated_lines_and_latex_verbatim() -> None:
    ddpm, *_ = (post for post in posts(seed("003")) if post.date == PageDate(7, 19))
    assert ddpm.summary.count("贝叶斯定理(来自维基百科)") == 2
    softmax = next(post for post in posts(seed("003")) if post.date == PageDate(9, 19))
    assert "\\begin{equation}\n[\\mathcal{T}_k(\\boldsymbol{x})]_i" in softmax.summary


def test_day_month_without_blank_lines_and_with_empty_entries() -> None:
    text = "1 Jan\n标题\n正文一。\n点击阅读全文...\n2 Jan\n点击阅读全文...\n31 Feb\n标题三\n正文三。"
    found = posts(snapshot(text))
    assert [(post.title, post.summary, post.date) for post in found] == [
        ("标题", "正文一。", PageDate(1, 1)),
        ("标题三", "正文三。", None),  # 31 Feb is no date; the entry is still a post
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你的语言模型有没有“无法预测的词”?", True),
        ("Transformer升级之路:10、RoPE是一种β进制编码", True),
        ("前天晚上微信群里有群友提出了一个问题:", True),  # short and no 。: reads as a title (a known limit)
        ("这是一句话。", False),
        ("长" * 81, False),
        ("", False),
    ],
)
def test_is_title(text: str, expected: bool) -> None:
    assert is_title(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "如何减少采样步数同时保证生成质量,是扩散模型应用层面的一个关键问题。其中,后文",
            "如何减少采样步数同时保证生成质量,是扩散模型应用层面的一个关键问题",
        ),
        ("真有如此神奇?接下来我们一探究竟。", "真有如此神奇?"),
        ("第一分句;第二分句。", "第一分句"),
        ("全角问号？后文", "全角问号？"),  # noqa: RUF001 - full-width punctuation is handled too
        (
            "在生成扩散模型的发展史上,DDIM和同期Song Yang的扩散SDE都称得上是里程碑式的工作,因为它们。",
            "在生成扩散模型的发展史上",
        ),
        ("甲" * 50 + "。", "甲" * 39 + "…"),
        ("其中," + "乙" * 50, "其中," + "乙" * 36 + "…"),  # a 2-character clause is too short to stand alone
        ("设$x;y$满足" + "丙" * 40 + "。", "设$x;y$满足" + "丙" * 31 + "…"),  # no cut inside $...$
        ("  多余   空白  的句子。", "多余 空白 的句子"),
    ],
)
def test_derived_title(text: str, expected: str) -> None:
    assert derived_title(text) == expected
    assert len(derived_title(text)) <= 40


# --- sniffing and errors -------------------------------------------------------------------------


def test_sniff_prefers_the_layout_with_more_marks_and_byline_on_a_tie() -> None:
    byline_line = Line("By 甲 | 2023-01-01 | 1位读者 | 引用正文")
    assert sniff([Line("1 Jan"), Line("2 Jan"), byline_line]) == "day_month"
    assert sniff([Line("1 Jan"), byline_line, byline_line]) == "byline"
    assert sniff([Line("1 Jan"), byline_line]) == "byline"


def test_registry_names_the_layouts() -> None:
    assert set(LAYOUTS) == {"byline", "day_month", "selectors", "json_ld", "app_state", "h_entry", "html_blocks"}


def test_unknown_layout_is_an_extract_error_naming_it() -> None:
    with pytest.raises(ExtractError, match="unknown layout 'weekly'"):
        posts(seed("000"), "weekly")


def test_named_layout_that_does_not_fit_is_an_extract_error() -> None:
    with pytest.raises(ExtractError, match=r"no posts found: .*day_month"):
        posts(seed("000"), "day_month")


@pytest.mark.parametrize(
    ("text", "media_type"),
    [
        ("", "text/plain"),
        ("", "text/html"),
        ("最近评论", "text/plain"),
        ("<html><body><h3>最近评论</h3><ul><li>甲: 好文</li></ul></body></html>", "text/html"),
        ("\x00\x01\x02\xff\ufffd\udcff" * 1000, "text/plain"),
        ("\x00\x01\x02\xff\ufffd\udcff<<&#;" * 1000, "text/html"),
        ("只有一段普通的文字,没有任何文章。", "text/plain"),
    ],
)
def test_pages_without_posts_raise_extract_error(text: str, media_type: str) -> None:
    with pytest.raises(ExtractError, match="no posts found: page matches none of the layouts byline, day_month"):
        posts(snapshot(text, media_type))


def test_footer_only_page_in_a_named_layout() -> None:
    with pytest.raises(ExtractError, match="no posts found"):
        posts(snapshot("最近评论\n"), "byline")


@pytest.mark.parametrize(
    "text",
    [
        "字" * 5_000_000,
        "By " + "x | " * 1_250_000,  # looks like the start of a byline, never finishes one
        "By 甲 | 2023-01-01 |" + " 1位读者 |" * 500_000,  # a byline whose counts never end
        "点击阅读全文" + "." * 5_000_000,
        "1 Jan" + " " * 5_000_000 + "x",
    ],
    ids=["cjk", "unfinished-byline", "endless-counts", "read-more-dots", "date-then-spaces"],
)
def test_huge_single_line_pages_are_no_posts(text: str) -> None:
    # built to trip regex backtracking: a quadratic pattern would hang here (bench/ times it)
    with pytest.raises(ExtractError, match="no posts found"):
        posts(snapshot(text))
