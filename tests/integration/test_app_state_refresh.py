"""A page whose posts exist only in its embedded state, through the whole pipeline over local HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsvc import refresh
from feedsvc.config import Settings, Source
from feedsvc.feeds import render
from feedsvc.feeds.render import Format
from feedsvc.store import Store
from tests.atom_checks import assert_valid_atom, parse_feed
from tests.support import ROOT, snapshot_server

SHELL = (ROOT / "fixtures" / "app_state" / "next_shell.html").read_bytes()
NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


def test_a_nextjs_shell_is_refreshed_into_stored_entries_and_a_feed(store: Store) -> None:
    with snapshot_server() as site:
        site.serve(SHELL, "text/html; charset=utf-8")
        source = Source(name="notes", title="Build Notes", url=site.url)
        result = refresh.run(store, source, NOW)
        assert result.ok, result.error
        assert result.new == 4

        # a broken deploy: the state is cut off mid-blob; stored entries stay, the refresh fails clearly
        site.serve(SHELL.split(b'"posts"')[0], "text/html; charset=utf-8")
        broken = refresh.run(store, source, NOW + timedelta(hours=2))
    assert not broken.ok and "no posts found" in (broken.error or "")

    entries = {entry.title: entry for entry in store.entries("notes")}
    assert len(entries) == 4
    first = entries["Shipping incremental builds for large monorepos"]
    assert first.link == f"{site.url}incremental-builds"
    assert first.author == "Mara Ellis"
    assert first.published == datetime(2024, 5, 14, 9, 30, tzinfo=UTC)
    assert "A field guide to flaky tests & how to fix them" in entries

    atom = render.render(Settings(base_url="http://feeds.example.org", sources=(source,)), store, "notes", Format.ATOM)
    assert_valid_atom(atom.body)
    assert {entry.title for entry in parse_feed(atom.body).entries} == set(entries)
