"""The real service on HTML sources: one read by CSS selectors, one auto-detected, one that turns undecodable."""

from __future__ import annotations

from pathlib import Path

from tests.atom_checks import assert_valid_atom, parse_feed
from tests.support import ROOT, free_port, http, running_service, snapshot_server, write_config

ENGINES = ROOT / "fixtures" / "engines"


def test_selector_and_auto_detected_sources_serve_valid_feeds_and_survive_a_broken_page(tmp_path: Path) -> None:
    port = free_port()
    with snapshot_server() as wordpress, snapshot_server() as forum:
        wordpress.serve((ENGINES / "wordpress.html").read_bytes(), "text/html; charset=utf-8")
        forum.serve((ENGINES / "gbk.html").read_bytes(), "text/html")  # GBK, declared only by <meta>
        sources = f"""
[[sources]]
name = "fieldnotes"
url = "{wordpress.url}"
timezone = "Europe/London"
[sources.selectors]
item = "article.post"
title = ".entry-title a"
date = "time.entry-date"

[[sources]]
name = "shuzhai"
url = "{forum.url}"
timezone = "Asia/Shanghai"
language = "zh-CN"
"""
        config = write_config(tmp_path, port, sources)
        with running_service(config, tmp_path) as service:
            assert service.refresh("fieldnotes").status == 200
            assert service.refresh("shuzhai").status == 200
            feeds = {name: http("GET", f"{service.base_url}/feeds/{name}.atom") for name in ("fieldnotes", "shuzhai")}
            for answer in feeds.values():
                assert answer.status == 200
                assert_valid_atom(answer.body)
            fieldnotes = parse_feed(feeds["fieldnotes"].body)
            assert [e.title for e in fieldnotes.entries] == [
                "The coast path in November",
                "Sourdough, again",
                "A new pair of boots",
            ]
            assert fieldnotes.entries[0].published.startswith("2023-11-02T14:30:00")
            shuzhai = parse_feed(feeds["shuzhai"].body)
            assert {e.title for e in shuzhai.entries} == {"雨夜读《陶庵梦忆》", "砚台的保养", "冬日书单(一)"}

            forum.serve((ENGINES / "gbk.html").read_bytes(), "text/html; charset=utf-8")  # now wrongly declared
            failed = service.refresh("shuzhai")
            assert failed.status == 502
            assert "not valid utf-8" in str(failed.json()["error"])
            after = http("GET", f"{service.base_url}/feeds/shuzhai.atom")
            assert_valid_atom(after.body)
            assert {e.title for e in parse_feed(after.body).entries} == {e.title for e in shuzhai.entries}
