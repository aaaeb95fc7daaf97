"""``full_text = true`` in the real service process: the served feeds (fast path, cache) carry the
articles' text as soon as it is stored, and the status API reports what failed."""

from __future__ import annotations

import time
from pathlib import Path

from tests.atom_checks import assert_valid_atom, parse_feed
from tests.blog import Post, local_blog
from tests.support import free_port, http, running_service, write_config


def test_the_served_feed_gets_the_articles_text_and_the_status_names_the_failure(tmp_path: Path) -> None:
    posts = [Post("first", day=3), Post("second", day=2), Post("gone", kind="missing", day=1)]
    with local_blog(posts) as blog:
        source = f"""
[[sources]]
name = "blog"
url = "{blog.url}"
layout = "selectors"
timeout = 5
full_text = true
[sources.selectors]
item = "article.post"
"""
        cfg = write_config(tmp_path, free_port(), source)
        with running_service(cfg, tmp_path) as service:
            deadline = time.monotonic() + 60
            while True:  # the scheduler refreshes the new source at start; the feed follows each stored article
                body = http("GET", f"{service.base_url}/feeds/blog.atom").body
                parsed = parse_feed(body)
                filled = {entry.title for entry in parsed.entries if entry.get("content")}
                status = http("GET", f"{service.base_url}/api/sources/blog").json()
                full_text = status.get("full_text") or {}
                if filled == {"Post first", "Post second"} and full_text.get("failed") == 1:
                    break
                assert time.monotonic() < deadline, (filled, status, service.log())
                time.sleep(0.1)
            answer = service.refresh("blog")  # nothing new to fetch: the listing is unchanged (304)
            log = service.log()
            metrics = http("GET", f"{service.base_url}/metrics").body.decode()
    assert_valid_atom(body)
    by_title = {entry.title: entry for entry in parsed.entries}
    assert "The whole story of first" in by_title["Post first"].content[0].value
    assert by_title["Post gone"].summary == "Teaser of gone…" and not by_title["Post gone"].get("content")
    (failure,) = full_text["last_failures"]
    assert failure["title"] == "Post gone" and failure["reason"].startswith("HTTP 404")
    assert status["healthy"] is True
    assert answer.status == 200 and answer.json()["not_modified"] is True
    assert answer.json()["full_text"]["ok"] == 0
    assert "full_text_ok=2 full_text_failed=1" in log
    assert 'feedsvc_full_text_articles_total{outcome="ok"} 2.0' in metrics
    assert 'feedsvc_full_text_articles_total{outcome="failed"} 2.0' in metrics  # tried again on 304
