"""Filters over the real seeds: applied when a feed is rendered, so editing them re-filters what is
stored at once; the status and the source page say what each filter hides. Real local site, SQLite file."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsvc import refresh
from feedsvc.config import Settings, Source
from feedsvc.service import Service
from feedsvc.store import Store
from tests.atom_checks import assert_valid_atom, parse_feed
from tests.feed_checks import assert_valid_rss
from tests.support import SEEDS, snapshot_server

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def titles(service: Service, path: str = "/feeds/kexue.atom") -> list[str]:
    answer = service.app.test_client().get(path + "?limit=500")
    assert answer.status_code == 200
    assert_valid_atom(answer.data)
    return [entry.title for entry in parse_feed(answer.data).entries]


def test_filters_hide_and_show_stored_entries_and_say_how_many(tmp_path: Path) -> None:
    with snapshot_server() as site, Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as store:
        source = Source(name="kexue", title="科学空间", url=site.url, timezone="Asia/Shanghai")
        for step, seed in enumerate(SEEDS):
            site.serve(seed.read_bytes())
            assert refresh.run(store, source, START + timedelta(hours=step)).ok
        service = Service(Settings(sources=(source,)), store=store, scheduled=False)
        everything = titles(service)
        assert len(everything) == 28
        diffusion = [title for title in everything if "扩散模型" in title]
        assert 0 < len(diffusion) < 28

        service.current.swap(Settings(sources=(dataclasses.replace(source, exclude=("扩散模型",)),)))
        assert titles(service) == [title for title in everything if title not in diffusion]
        assert titles(service, "/feeds/all.atom") == titles(service)
        status = service.app.test_client().get("/api/sources/kexue").get_json()
        assert status["filters"]["hidden"] == {"exclude 扩散模型": len(diffusion)}
        page = service.app.test_client().get("/sources/kexue").get_data(as_text=True)
        assert f"exclude 扩散模型: hides {len(diffusion)}" in page

        only = dataclasses.replace(source, include=("title:扩散模型",))
        service.current.swap(Settings(sources=(only,)))
        assert titles(service) == diffusion  # editing the filter re-filters what is stored
        rss = service.app.test_client().get("/feeds/kexue.rss?limit=500")
        assert [entry.title for entry in assert_valid_rss(rss.data).entries] == diffusion  # every format alike
        service.current.swap(Settings(sources=(source,)))
        assert titles(service) == everything  # nothing was lost
        assert len(store.entries("kexue", limit=1000)) == 28
