"""``[service] server = "granian"``: the real service under granian serves, refreshes and stops cleanly."""

from __future__ import annotations

from pathlib import Path

from tests.atom_checks import assert_valid_atom, parse_feed
from tests.support import SEEDS, free_port, http, running_service, snapshot_server, write_config


def test_the_service_under_granian_serves_feeds_refreshes_and_stops(tmp_path: Path) -> None:
    with snapshot_server() as site:
        site.serve(SEEDS[0].read_bytes())
        source = f"""server = "granian"

[[sources]]
name = "kexue"
url = "{site.url}"
interval = "1d"
timezone = "Asia/Shanghai"
"""
        cfg = write_config(tmp_path, free_port(), source)
        with running_service(cfg, tmp_path) as service:
            answer = service.refresh("kexue")
            assert answer.status == 200, answer.body
            feed = http("GET", f"{service.base_url}/feeds/kexue.atom")
            assert feed.status == 200 and feed.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
            assert_valid_atom(feed.body)
            assert len(parse_feed(feed.body).entries) == 8
            again = http("GET", f"{service.base_url}/feeds/kexue.atom", {"If-None-Match": feed.headers["ETag"]})
            assert again.status == 304 and again.body == b""
            site.serve(SEEDS[1].read_bytes())  # a newer page: the manual refresh shows at once
            assert service.refresh("kexue").json()["new"] > 0
            newer = http("GET", f"{service.base_url}/feeds/kexue.atom")
            assert newer.headers["ETag"] != feed.headers["ETag"]
            assert len(parse_feed(newer.body).entries) > 8
            assert service.stop() == 0
            assert "stopped" in service.log()
