"""Snapshots as lines: plain text as is, HTML as a browser breaks it into lines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedsvc.extract.lines import Line, fold, html_lines, is_footer, is_read_more, lines, text_lines
from feedsvc.model import Snapshot

URL = "https://blog.example/page/2/"


def snapshot(text: str, media_type: str = "text/html") -> Snapshot:
    return Snapshot(url=URL, text=text, media_type=media_type, fetched_at=datetime(2024, 1, 1, tzinfo=UTC))


def texts(markup: str) -> list[str]:
    return [line.text for line in html_lines(markup, URL)]


# --- plain text ------------------------------------------------------------------------------


def test_plain_text_is_one_line_per_text_line_without_links() -> None:
    assert lines(snapshot("标题\nBy a | b\n\n最近评论", "text/plain")) == [
        Line("标题"),
        Line("By a | b"),
        Line(""),
        Line("最近评论"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\r\nb\rc\n", ["a", "b", "c"]),
        ("a\n\n", ["a", ""]),
        ("\ufeffa\nb", ["a", "b"]),
        ("", []),
        ("\n", [""]),
        ("  indented  ", ["  indented  "]),
    ],
)
def test_plain_text_line_breaks(text: str, expected: list[str]) -> None:
    assert [line.text for line in text_lines(text)] == expected


def test_plain_text_is_not_parsed_as_html() -> None:
    assert lines(snapshot("<p>a</p><p>b</p>", "text/plain")) == [Line("<p>a</p><p>b</p>")]


# --- HTML: line structure ----------------------------------------------------------------------


def test_block_elements_start_lines_and_inline_text_is_joined() -> None:
    markup = (
        "<div>nav <a href='/'>首页</a></div><article><header><h2>标题 <em>一</em></h2></header>"
        "<p>第一段<strong>加粗</strong>继续</p><section><p>第二段</p></section><ul><li>甲</li><li>乙</li></ul>"
        "<footer>页脚</footer></article>"
    )
    assert texts(markup) == ["nav 首页", "标题 一", "第一段加粗继续", "第二段", "甲", "乙", "页脚"]


def test_br_breaks_a_line_and_table_rows_are_lines() -> None:
    markup = "<p>一<br>二<br/>三</p><table><tr><th>a</th><td>b</td></tr><tr><td>c</td></tr></table>"
    assert texts(markup) == ["一", "二", "三", "a b", "c"]


def test_scripts_styles_and_templates_are_dropped() -> None:
    markup = (
        "<html><head><title>Title</title><style>p{}</style><script>var a = 1;</script></head><body>"
        "<p>见<script>document.write('x')</script>文</p><noscript>请启用JavaScript</noscript>"
        "<template><p>模板</p></template><!-- 注释 --><p>尾</p></body></html>"
    )
    assert texts(markup) == ["见文", "尾"]


def test_whitespace_is_folded_and_entities_decoded() -> None:
    markup = "<p>\n   Naive \t Bayes\n is  all&nbsp;&nbsp;you need &amp; &lt;more&gt; &#x4e2d;&copy;  </p>"
    assert texts(markup) == ["Naive Bayes is all you need & <more> 中©"]


def test_empty_blocks_make_no_lines() -> None:
    assert texts("<div><p> </p><p></p><div>\n\t</div><p>字</p></div>") == ["字"]


def test_preformatted_newlines_break_lines() -> None:
    assert texts("<pre>a = 1\nb = 2</pre>") == ["a = 1", "b = 2"]


def test_text_already_decoded_is_not_decoded_again() -> None:
    markup = '<html><head><meta charset="gbk"></head><body><p>中文 é</p></body></html>'
    assert texts(markup) == ["中文 é"]


# --- HTML: links ---------------------------------------------------------------------------------


def test_a_line_carries_its_first_link_made_absolute() -> None:
    markup = "<h2><a href='../../archives/9738'>标题</a> <a href='/other'>其他</a></h2><p>无链接</p>"
    assert html_lines(markup, URL) == [Line("标题 其他", "https://blog.example/archives/9738"), Line("无链接")]


def test_base_href_is_honoured_and_itself_resolved() -> None:
    markup = "<head><base href='/blog/'></head><body><h2><a href='archives/1'>标题</a></h2></body>"
    assert html_lines(markup, URL) == [Line("标题", "https://blog.example/blog/archives/1")]


def test_absolute_links_stay_as_they_are() -> None:
    markup = "<p><a href='https://other.example/x?y=1#z'>外链</a></p>"
    assert html_lines(markup, URL) == [Line("外链", "https://other.example/x?y=1#z")]


@pytest.mark.parametrize(
    "bad",
    ["javascript:void(0)", " JavaScript:alert(1)", "java\nscript:alert(1)", "data:text/html,hi", "", "   "],
)
def test_script_data_and_empty_links_are_skipped(bad: str) -> None:
    markup = f"<p><a href='{bad}'>引用</a> <a href='/archives/2'>全文</a></p>"
    assert html_lines(markup, URL) == [Line("引用 全文", "https://blog.example/archives/2")]


def test_a_link_without_usable_href_gives_none() -> None:
    assert html_lines("<p><a>无</a> <a href='http://[::1'>坏</a></p>", URL) == [Line("无 坏", None)]


def test_a_link_around_a_block_belongs_to_the_block_line() -> None:
    markup = "<p>前</p><a href='/post'><h2>标题</h2></a><p>后</p>"
    assert html_lines(markup, URL) == [Line("前"), Line("标题", "https://blog.example/post"), Line("后")]


def test_an_empty_link_does_not_claim_the_line() -> None:
    markup = "<h2><a href='/icon'><img src='i.png'></a><a href='/title'>标题</a></h2>"
    assert html_lines(markup, URL) == [Line("标题", "https://blog.example/title")]


def test_media_type_parameters_are_ignored() -> None:
    assert lines(snapshot("<p><a href='/x'>x</a></p>", "text/html; charset=utf-8")) == [
        Line("x", "https://blog.example/x")
    ]


# --- HTML: hostile input -------------------------------------------------------------------------


@pytest.mark.parametrize("markup", ["", "   \n", "<!-- only a comment -->", "<html></html>", "<script>x</script>"])
def test_pages_without_text_have_no_lines(markup: str) -> None:
    assert html_lines(markup, URL) == []


def test_binary_junk_does_not_crash() -> None:
    junk = "".join(chr(code) for code in range(0, 0x800, 3)) + "\udcff\x00<<>>&&;<a href=x"
    result = html_lines(junk, URL)
    assert all(isinstance(line.text, str) and line.text for line in result)


def test_deep_nesting_is_parsed_without_blowing_up() -> None:
    # an HTML5 tree builder needs minutes here; lxml stops descending at its depth limit
    result = html_lines("<div>" * 500_000 + "深" + "</div>" * 500_000, URL)
    assert all(line.text for line in result)


def test_one_huge_line() -> None:
    result = html_lines("<p>" + "字" * 5_000_000 + "</p>", URL)
    assert len(result) == 1
    assert len(result[0].text) == 5_000_000


# --- small helpers the layouts share ------------------------------------------------------------


def test_fold() -> None:
    assert fold("  Naive \n Bayes\u3000is  all ") == "Naive Bayes is all"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("最近评论", True),
        (" 最近评论 ", True),
        ("最近评论:", True),
        ("最近评论显示了三条", False),
        ("最近", False),
        ("", False),
    ],
)
def test_is_footer(text: str, expected: bool) -> None:
    assert is_footer(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("点击阅读全文...", True),
        ("点击阅读全文…", True),
        ("点击阅读全文", True),
        ("点击阅读全文后再评论。", False),
        ("阅读全文", False),
    ],
)
def test_is_read_more(text: str, expected: bool) -> None:
    assert is_read_more(text) is expected
