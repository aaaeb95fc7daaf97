"""The real ``feedsvc serve`` process, fed the seeds one after another over real HTTP."""

from __future__ import annotations

import json
import time
import unicodedata
from pathlib import Path

import pytest

from feedsvc import config
from tests.atom_checks import assert_valid_atom, parse_feed
from tests.support import ROOT, SEEDS, TOKEN, free_port, http, running_service, snapshot_server, write_config

EXPECTED = ROOT / "fixtures" / "expected"


def distinct_posts() -> set[tuple[str, str]]:
    """Distinct posts of all seeds by title and month-day, from the hand-written expectations."""
    found = set()
    for seed in SEEDS:
        for post in json.loads((EXPECTED / f"{seed.stem}.json").read_text(encoding="utf-8")):
            title = " ".join(unicodedata.normalize("NFKC", post["title"]).casefold().split())
            found.add((title, post["date"][-5:]))
    return found


def source_toml(url: str) -> str:
    return f"""
[[sources]]
name = "kexue"
title = "科学空间"
url = "{url}"
interval = "1h"
timezone = "Asia/Shanghai"
language = "zh-CN"
"""


def test_seeds_one_after_another_give_each_post_once_with_stable_ids(tmp_path: Path) -> None:
    with snapshot_server() as site:
        site.serve(SEEDS[0].read_bytes())
        cfg = write_config(tmp_path, free_port(), source_toml(site.url))
        with running_service(cfg, tmp_path) as service:
            titles_by_id: dict[str, str] = {}
            total_new = 0
            for seed in SEEDS:
                site.serve(seed.read_bytes())
                answer = service.refresh("kexue")
                assert answer.status == 200, answer.body
                counts = answer.json()
                assert counts["error"] is None
                total_new += int(counts["new"])  # type: ignore[call-overload]

                feed = http("GET", f"{service.base_url}/feeds/kexue.atom")
                assert feed.status == 200
                assert feed.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
                assert_valid_atom(feed.body)
                parsed = parse_feed(feed.body)
                ids = [entry.id for entry in parsed.entries]
                assert len(ids) == len(set(ids)), f"duplicate entries after {seed.name}"
                assert set(titles_by_id) <= set(ids), f"an entry vanished or changed id after {seed.name}"
                for entry in parsed.entries:
                    titles_by_id[entry.id] = entry.title
                published = [entry.published_parsed for entry in parsed.entries]
                assert published == sorted(published, reverse=True), "feed is not newest first"

            assert len(titles_by_id) == len(distinct_posts()) == total_new
            assert service.stop() == 0
            assert "stopped" in service.log()


def test_conditional_get_auth_and_unknown_names(tmp_path: Path) -> None:
    with snapshot_server() as site:
        site.serve(SEEDS[2].read_bytes())
        cfg = write_config(tmp_path, free_port(), source_toml(site.url))
        with running_service(cfg, tmp_path) as service:
            assert service.refresh("kexue").status == 200
            first = http("GET", f"{service.base_url}/feeds/kexue.atom")
            etag = first.headers["ETag"]
            again = http("GET", f"{service.base_url}/feeds/kexue.atom", {"If-None-Match": etag})
            assert again.status == 304 and again.body == b""
            # refreshing the same page changes nothing: same bytes, same ETag
            assert service.refresh("kexue").json()["new"] == 0
            second = http("GET", f"{service.base_url}/feeds/kexue.atom")
            assert second.body == first.body and second.headers["ETag"] == etag

            url = f"{service.base_url}/api/sources/kexue/refresh"
            assert http("POST", url).status == 401
            assert http("POST", url, {"Authorization": "Bearer wrong"}).status == 401
            assert http("POST", url, {"Authorization": TOKEN}).status == 401
            missing = f"{service.base_url}/api/sources/nope/refresh"
            assert http("POST", missing, {"Authorization": f"Bearer {TOKEN}"}).status == 404
            assert http("GET", f"{service.base_url}/feeds/nope.atom").status == 404


def test_a_broken_page_keeps_the_feed(tmp_path: Path) -> None:
    with snapshot_server() as site:
        site.serve(SEEDS[0].read_bytes())
        cfg = write_config(tmp_path, free_port(), source_toml(site.url))
        with running_service(cfg, tmp_path) as service:
            assert service.refresh("kexue").status == 200
            before = http("GET", f"{service.base_url}/feeds/kexue.atom").body
            for body, kind in ((b"", "text/plain"), (b"<html><body>Please log in</body></html>", "text/html")):
                site.serve(body, kind)
                answer = service.refresh("kexue")
                assert answer.status == 502 and answer.json()["error"]
            site.serve(b"oops", status=500)
            assert "HTTP 500" in str(service.refresh("kexue").json()["error"])
            assert http("GET", f"{service.base_url}/feeds/kexue.atom").body == before


def test_sample_config_serves_a_non_empty_feed_offline(tmp_path: Path) -> None:
    sample = config.load(ROOT / "config" / "feedsvc.toml")
    (source,) = sample.sources
    assert Path(source.url).is_file()
    cfg = write_config(tmp_path, free_port(), source_toml(source.url))
    with running_service(cfg, tmp_path) as service:
        deadline = time.monotonic() + 20
        while True:  # the scheduler refreshes every source right after start
            parsed = parse_feed(http("GET", f"{service.base_url}/feeds/kexue.atom").body)
            if parsed.entries or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(parsed.entries) > 0


@pytest.mark.parametrize("bad", ['timezone = "Asia/Shangai"', 'layout = "fancy"'])
def test_a_bad_config_stops_start_up_naming_the_key(tmp_path: Path, bad: str) -> None:
    import subprocess
    import sys

    block = f'[[sources]]\nname = "kexue"\nurl = "http://127.0.0.1:9/"\n{bad}\n'
    cfg = write_config(tmp_path, free_port(), block)
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "--config", str(cfg), "serve"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "sources.kexue." + bad.split(" ")[0] in done.stderr
