"""Pages in the encodings people use, served over a real local HTTP server: right text or a clear failure."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedsvc import refresh
from feedsvc.config import Source
from feedsvc.store import Store
from tests.support import snapshot_server

NOW = datetime(2024, 1, 10, 4, 0, tzinfo=UTC)
TITLES = {
    "gb18030": ["冬日书单:旧时繁华的回声", "砚台的保养与清洗"],
    "big5": ["臺灣老街散步記", "鐵道便當的滋味"],
    "shift_jis": ["京都の古本屋めぐり", "雨の日の珈琲店"],
    "utf-8": ["用 SQLite 做全文检索", "冬至的饺子"],
}


def page(titles: list[str], meta: str = "") -> str:
    items = "".join(
        f'<article class="post"><h2><a href="/p/{n}">{title}</a></h2><time datetime="2024-01-0{n + 1}">x</time>'
        f"<p>{title}。{title}。</p></article>"
        for n, title in enumerate(titles)
    )
    return f"<!DOCTYPE html><html><head>{meta}<title>t</title></head><body><main>{items}</main></body></html>"


def refreshed(tmp_path: Path, body: bytes, content_type: str) -> tuple[refresh.RefreshResult, list[str]]:
    store = Store(f"sqlite:///{tmp_path / 'feedsvc.db'}")
    try:
        with snapshot_server() as server:
            server.serve(body, content_type)
            result = refresh.run(store, Source(name="enc", title="enc", url=server.url), NOW)
        return result, sorted(entry.title for entry in store.entries("enc"))
    finally:
        store.close()


@pytest.mark.parametrize("encoding", ["gb18030", "big5", "shift_jis", "utf-8"])
@pytest.mark.parametrize("declared", ["http", "meta", "none"])
def test_each_encoding_comes_out_right(tmp_path: Path, encoding: str, declared: str) -> None:
    label = {"gb18030": "gbk", "big5": "big5", "shift_jis": "shift_jis", "utf-8": "utf-8"}[encoding]
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={label}">' if declared == "meta" else ""
    content_type = f"text/html; charset={label}" if declared == "http" else "text/html"
    body = page(TITLES[encoding], meta).encode(encoding)
    result, titles = refreshed(tmp_path, body, content_type)
    assert result.ok, result.error
    assert titles == sorted(TITLES[encoding])


def test_undecodable_page_is_a_failed_refresh_that_stores_nothing(tmp_path: Path) -> None:
    body = page(TITLES["utf-8"]).encode("utf-8") + b"\xff\xfe\x80 broken"
    result, titles = refreshed(tmp_path, body, "text/html; charset=utf-8")
    assert not result.ok
    assert "not valid utf-8" in (result.error or "")
    assert titles == []


def test_wrongly_declared_charset_is_not_turned_into_mojibake(tmp_path: Path) -> None:
    body = page(TITLES["gb18030"]).encode("gb18030")
    result, titles = refreshed(tmp_path, body, "text/html; charset=utf-8")
    assert not result.ok
    assert "refusing to guess" in (result.error or "")
    assert titles == []
