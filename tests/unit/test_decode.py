"""``fetch.decode``: a declared charset that lies about UTF-8 bytes is read as UTF-8; garbage is refused."""

from __future__ import annotations

import pytest

from feedsvc import fetch
from feedsvc.errors import DecodeError

TEXT = "<html><head><meta charset=gb2312></head><body><p>国际新闻二〇二四年回顾</p></body></html>"


def test_utf8_bytes_under_a_lying_meta_charset_are_read_as_utf8() -> None:
    assert fetch.decode(TEXT.encode("utf-8"), None) == TEXT


def test_utf8_bytes_under_a_lying_http_charset_are_read_as_utf8() -> None:
    assert fetch.decode(TEXT.encode("utf-8"), "gbk") == TEXT


def test_bytes_in_the_declared_charset_still_follow_it() -> None:
    assert fetch.decode(TEXT.encode("gb18030"), None) == TEXT


def test_bytes_valid_in_no_charset_are_still_refused_clearly() -> None:
    with pytest.raises(DecodeError, match="refusing to guess"):
        fetch.decode(b"<html><meta charset=utf-8>\xff\xfe\x80 broken \xc3", None)
