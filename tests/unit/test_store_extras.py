"""Store columns added by migration 2: entry categories, HTML summaries, the source's icon."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from feedsvc.model import Diff
from feedsvc.store import Store
from feedsvc.store.schema import MIGRATIONS, migrate
from feedsvc.store.store import make_engine
from tests.unit.test_store import SOURCE, T0, add, entry, ok


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


def test_categories_and_html_summaries_round_trip(store: Store) -> None:
    tagged = entry("a", categories=("数学", "Machine learning"), summary="<p>x</p>", summary_html=True)
    add(store, tagged, entry("b"))
    by_identity = {e.identity: e for e in store.entries(SOURCE)}
    assert by_identity["a"] == tagged
    assert by_identity["b"].categories == () and by_identity["b"].summary_html is False


def test_changed_categories_are_written_and_bump_the_version(store: Store) -> None:
    add(store, entry("a", categories=("x",)))
    before = store.version(SOURCE)
    store.apply(SOURCE, Diff(changed=(entry("a", categories=("x", "y")),)), ok())
    assert store.entries(SOURCE)[0].categories == ("x", "y")
    assert store.version(SOURCE) == before + 1


def test_icon_is_kept_and_a_change_bumps_the_version(store: Store) -> None:
    assert store.state(SOURCE).icon is None
    assert store.set_icon(SOURCE, "https://example.org/icon.png") is True
    version = store.version(SOURCE)
    assert store.set_icon(SOURCE, "https://example.org/icon.png") is False  # same icon: nothing moves
    assert store.version(SOURCE) == version
    assert store.state(SOURCE).icon == "https://example.org/icon.png"
    assert store.icon(SOURCE) == "https://example.org/icon.png" and store.icon("never-seen") is None
    assert store.set_icon(SOURCE, None) is True
    assert store.state(SOURCE).icon is None and store.version(SOURCE) == version + 1
    assert store.icon(SOURCE) is None


def test_versions_of_many_sources_in_one_call(store: Store) -> None:
    add(store, entry("a"))
    assert store.versions([SOURCE, "never-seen"]) == {SOURCE: store.version(SOURCE), "never-seen": 0}


def test_a_database_from_before_migration_2_gets_the_columns_and_keeps_its_entries(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine, MIGRATIONS[:1])
    finally:
        engine.dispose()
    with sqlite3.connect(path) as raw:  # make it exactly a migration-1 database
        raw.execute("ALTER TABLE entries DROP COLUMN categories_json")
        raw.execute("ALTER TABLE entries DROP COLUMN summary_html")
        raw.execute("ALTER TABLE sources DROP COLUMN icon")
        raw.execute("INSERT INTO sources (name, consecutive_failures, version) VALUES ('kexue', 0, 1)")
        raw.execute(
            "INSERT INTO entries (source, identity, title, summary, title_derived, first_seen, updated, sort_at)"
            " VALUES ('kexue', 'old', 'Old post', 'Text', 0, ?, ?, ?)",
            (T0.isoformat(" "),) * 3,
        )
    with Store(f"sqlite:///{path}") as store:
        (old,) = store.entries(SOURCE)
        assert (old.identity, old.title, old.categories, old.summary_html) == ("old", "Old post", (), False)
        assert store.set_icon(SOURCE, "https://example.org/i.png")
        engine = make_engine(f"sqlite:///{path}")
        try:
            assert "categories_json" in {c["name"] for c in inspect(engine).get_columns("entries")}
        finally:
            engine.dispose()
