"""The real ``feedsvc serve`` process: every format, gzip, 304s, the WebSub ping and static files."""

from __future__ import annotations

import gzip
from pathlib import Path

from tests.atom_checks import assert_valid_atom, parse_feed
from tests.e2e.test_service import source_toml
from tests.feed_checks import assert_valid_json_feed, assert_valid_rss, parse_opml
from tests.integration.test_publish import stub_hub
from tests.support import SEEDS, free_port, http, running_service, snapshot_server, write_config


def test_formats_validators_hub_and_static_files(tmp_path: Path) -> None:
    with snapshot_server() as site, stub_hub() as hub:
        site.serve(SEEDS[1].read_bytes())
        service_keys = f'hub = "{hub.url}"\npublish_dir = "public"\n'
        cfg = write_config(tmp_path, free_port(), service_keys + source_toml(site.url))
        with running_service(cfg, tmp_path) as service:
            assert service.refresh("kexue").status == 200
            base = service.base_url

            atom = http("GET", f"{base}/feeds/kexue.atom")
            assert_valid_atom(atom.body)
            ids = [e.id for e in parse_feed(atom.body).entries]
            assert ids
            assert [e.id for e in assert_valid_rss(http("GET", f"{base}/feeds/kexue.rss").body).entries] == ids
            items = assert_valid_json_feed(http("GET", f"{base}/feeds/kexue.json").body)["items"]
            assert [i["id"] for i in items] == ids
            combined = http("GET", f"{base}/feeds/all.atom")
            assert_valid_atom(combined.body)
            assert [e.id for e in parse_feed(combined.body).entries] == ids

            packed = http("GET", f"{base}/feeds/kexue.atom", {"Accept-Encoding": "gzip"})
            assert packed.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(packed.body) == atom.body
            since = http("GET", f"{base}/feeds/kexue.atom", {"If-Modified-Since": atom.headers["Last-Modified"]})
            assert since.status == 304 and since.body == b""
            assert http("GET", f"{base}/feeds/kexue.atom?limit=2").body.count(b"<entry>") == 2

            feeds = parse_opml(http("GET", f"{base}/opml").body).feeds
            assert [f.url for f in feeds] == [f"{base}/feeds/kexue.atom"]

            # the hub heard about every feed of the source, and the combined one
            pinged = {ping["hub.url"][0] for ping in hub.pings}
            assert pinged >= {f"{base}/feeds/kexue.{ext}" for ext in ("atom", "rss", "json")} | {
                f"{base}/feeds/all.atom"
            }
            # static files hold the served bytes
            public = tmp_path / "public"
            assert (public / "kexue.atom").read_bytes() == atom.body
            assert gzip.decompress((public / "kexue.atom.gz").read_bytes()) == atom.body
