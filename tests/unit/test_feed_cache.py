"""The feed cache: a dictionary lookup per request, yet never stale after a change in this process."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedsvc.config import Settings, Source
from feedsvc.model import Diff, Entry, SourceStatus
from feedsvc.store import Store
from feedsvc.web import cache as cache_module
from feedsvc.web.cache import FeedCache
from tests.atom_checks import assert_valid_atom, parse_feed

SOURCE = Source(name="blog", title="Blog", url="https://blog.example/")
T0 = datetime(2023, 7, 14, 8, 0, tzinfo=UTC)


def _entry(n: int) -> Entry:
    return Entry(source="blog", identity=f"id{n}", title=f"Post {n}", summary=f"Text {n}.", first_seen=T0, updated=T0)


def _add(store: Store, n: int) -> None:
    store.apply("blog", Diff(new=(_entry(n),), seen=1), SourceStatus(T0, ok=True))


def _titles(body: bytes) -> set[str]:
    assert_valid_atom(body)
    return {entry.title for entry in parse_feed(body).entries}


def test_a_change_applied_in_this_process_shows_at_once(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'feeds.db'}") as store:
        _add(store, 1)
        cache = FeedCache(store, Settings())
        first = cache.atom(SOURCE)
        assert cache.atom(SOURCE) is first  # nothing changed: the same rendered bytes
        assert first.last_modified == "Fri, 14 Jul 2023 08:00:00 GMT"
        _add(store, 2)
        second = cache.atom(SOURCE)
        assert _titles(second.body) == {"Post 1", "Post 2"} and second.etag != first.etag


def test_a_change_by_another_process_shows_once_the_version_is_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    with Store(url) as store, Store(url) as other_process:
        monkeypatch.setattr(cache_module, "REVALIDATE_AFTER", 3600.0)
        _add(store, 1)
        cache = FeedCache(store, Settings())
        assert _titles(cache.atom(SOURCE).body) == {"Post 1"}
        _add(other_process, 2)
        assert store.changes == 1 and other_process.changes == 1  # each counts only its own applies
        assert _titles(cache.atom(SOURCE).body) == {"Post 1"}  # within REVALIDATE_AFTER: not asked again
        monkeypatch.setattr(cache_module, "REVALIDATE_AFTER", 0.0)
        assert _titles(cache.atom(SOURCE).body) == {"Post 1", "Post 2"}
