"""Synthetic listing pages in the byline layout (the shape of fixtures/seeds/000_*.txt)."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "fixtures" / "seeds").glob("*.txt"))

_SUMMARY = (
    "众所周知,不管是文本还是视觉领域,各种生成模型正在以无法阻挡的势头发展。虽然大家都明白,实现真正的通用"
    "人工智能还有很长的路要走,但这并不妨碍人们越来越频繁地利用生成模型来创作和分享内容。"
)


def _posts(count: int, tag: str) -> list[tuple[str, str, str, str]]:
    """``count`` posts, newest first: (title, date, summary, slug); ``tag`` makes titles of one page unique."""
    newest = date(2023, 7, 14)
    return [
        (
            f"第{n}篇:{tag}生成模型与扩散方程的笔记 {n}",
            (newest - timedelta(days=n // 2)).isoformat(),
            f"{_SUMMARY}(第{n}段)",
            f"{tag}{n}",
        )
        for n in range(count)
    ]


def byline_text(count: int, tag: str = "") -> str:
    """A plain-text snapshot with ``count`` posts in the byline layout."""
    lines: list[str] = []
    for n, (title, day, summary, _slug) in enumerate(_posts(count, tag)):
        lines.append(title)
        lines.append(f"By 苏剑林 | {day} | {1000 + n}位读者 | 引用{summary}")
    lines.append("最近评论")
    return "\n".join(lines) + "\n"


def byline_html(count: int, tag: str = "") -> str:
    """An HTML listing (Typecho's markup, as fixtures/html/typecho_byline.html) with ``count`` posts."""
    articles = []
    for n, (title, day, summary, slug) in enumerate(_posts(count, tag)):
        link = f"https://kexue.example/archives/{escape(slug)}"
        articles.append(
            '<article class="post">\n'
            f'<h2 class="post-title"><a href="{link}">{escape(title)}</a></h2>\n'
            f'<p class="post-meta">By <a href="https://kexue.example/author/1/">苏剑林</a> | '
            f'<time datetime="{day}T09:00:00+08:00">{day}</time> | {1000 + n}位读者 | '
            '<a href="javascript:;" class="cite">引用</a></p>\n'
            f'<div class="post-content"><p>{escape(summary)}</p>\n'
            f'<p class="more"><a href="{link}">点击阅读全文...</a></p></div>\n'
            "</article>"
        )
    body = "\n".join(articles)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="UTF-8"><title>科学空间</title></head>\n'
        f'<body><div id="main">\n{body}\n</div>\n<div id="secondary"><h3>最近评论</h3></div></body></html>\n'
    )
