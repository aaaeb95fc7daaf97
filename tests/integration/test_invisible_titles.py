"""Identity vs. invisible characters (issue 12, row 13), through the real pipeline.

Seed 000 replayed with XML-illegal control characters, format characters and the Unicode line
separators (U+2028, U+2029, U+0085) inside its titles: the same posts, so no entry is added.
A database that already holds such duplicates has them merged by the store's migration.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, text

from feedsvc import refresh
from feedsvc.config import Source
from feedsvc.store import Store
from feedsvc.store.schema import schema_version
from tests.support import SEEDS, snapshot_server

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TITLE_LINE = re.compile(r"^(?P<title>.+)\n(?=By )", re.MULTILINE)
INSIDE = ["\x01", "\x1f", "\x7f", "\x9f", "\u200b", "\u200e", "\ufeff", "\u2060"]  # Cc and Cf: not white space
SEPARATORS = ["\u2028", "\u2029", "\x85", " \t", "\u3000"]  # in place of the titles' spaces


def garbled(seed: str, variant: int) -> str:
    """Seed text whose titles have invisible characters put inside, their spaces turned into separators,
    and a control character at the end."""

    def mangle(match: re.Match[str]) -> str:
        title = match["title"]
        middle = len(title) // 2
        title = title[:middle] + INSIDE[(variant + len(title)) % len(INSIDE)] + title[middle:]
        title = title.replace(" ", SEPARATORS[variant % len(SEPARATORS)])
        return f"{title}\x02\n"

    return TITLE_LINE.sub(mangle, seed)


def _source(url: str) -> Source:
    return Source(name="kexue", title="科学空间", url=url, timezone="Asia/Shanghai")


def test_invisible_characters_in_titles_add_no_entries(tmp_path: Path) -> None:
    seed = SEEDS[0].read_text(encoding="utf-8")
    assert garbled(seed, 0) != seed and "\u2028" in garbled(seed, 0)
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as store, snapshot_server() as site:
        source = _source(site.url)
        site.serve(seed.encode("utf-8"))
        first = refresh.run(store, source, START)
        assert first.ok and first.new == 8, first.error
        for variant in range(2 * len(SEPARATORS)):
            site.serve(garbled(seed, variant).encode("utf-8"))
            result = refresh.run(store, source, START + timedelta(hours=variant + 1))
            assert result.ok, result.error
            assert result.new == 0, (variant, [e.title for e in store.entries("kexue", limit=100)])
        assert len(store.entries("kexue", limit=1000)) == 8


def test_the_migration_merges_duplicates_an_older_database_holds(tmp_path: Path) -> None:
    """Make duplicates the way older releases did (rows keyed by the old identity), then reopen the store."""
    url = f"sqlite:///{tmp_path / 'feedsvc.db'}"
    seed = SEEDS[0].read_text(encoding="utf-8")
    with Store(url) as store, snapshot_server() as site:
        site.serve(seed.encode("utf-8"))
        assert refresh.run(store, _source(site.url), START).ok
        stored = store.entries("kexue", limit=1000)
    engine = create_engine(url)
    with engine.begin() as conn:  # what an older release stored for a garbled replay: same posts, other keys
        for entry in stored:
            conn.execute(
                text(
                    "INSERT INTO entries (source, identity, title, summary, author, link, title_derived, published,"
                    " date_evidence, first_seen, updated, sort_at, categories_json, summary_html)"
                    " SELECT source, identity || '-old', :title, summary, author, link, title_derived, published,"
                    " date_evidence, :later, updated, sort_at, categories_json, summary_html"
                    " FROM entries WHERE identity = :identity"
                ),
                {
                    "title": entry.title[:3] + "\x01\u200b" + entry.title[3:].replace(" ", "\u2028"),
                    "identity": entry.identity,
                    "later": "2026-11-24 00:00:00",
                },
            )
        conn.execute(delete(schema_version).where(schema_version.c.version >= 4))  # 4 and every later one
        assert conn.scalar(text("SELECT count(*) FROM entries")) == 16
    engine.dispose()
    with Store(url) as store:
        after = store.entries("kexue", limit=1000)
        assert sorted(e.identity for e in after) == sorted(e.identity for e in stored)  # the clean ones stay
        assert len(store.known("kexue").tombstones) == 8  # the duplicates are never ingested again


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Naive Bayes is all you need", "Naive\u2028Bayes is\x85all you\u2029need"),
        ("Naive Bayes", "Nai\x01ve\u200b Bay\ufeffes\x7f"),
        ("Naive Bayes", " Naive \t\r\n Bayes\x0b"),
    ],
)
def test_normalize_drops_invisible_characters_and_folds_every_separator(a: str, b: str) -> None:
    from feedsvc.differ import normalize

    assert normalize(a) == normalize(b)
