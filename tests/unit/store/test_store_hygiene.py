"""Store hygiene (issue 12, row 5): tombstones pruned by age and count, kept while the page shows them;
a bounded number of rows pruned per refresh. A real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc.model import Diff
from feedsvc.store import Store
from feedsvc.store import store as store_module
from tests.unit.store.test_store import SOURCE, T0, entry, ok


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


def _tombstones(store: Store) -> set[str]:
    return set(store.known(SOURCE).tombstones)


def test_tombstones_go_after_a_year_unless_the_page_still_shows_their_post(store: Store) -> None:
    store.apply(SOURCE, Diff(new=(entry("a"), entry("b"), entry("c"))), ok(T0), keep=1)
    assert _tombstones(store) == {"b", "c"}
    pruned = _tombstones(store)
    still_listed = sorted(pruned)[0]
    store.apply(SOURCE, Diff(listed_tombstones=frozenset({still_listed})), ok(T0 + timedelta(days=200)), keep=1)
    assert _tombstones(store) == pruned  # nothing is a year old yet
    store.apply(SOURCE, Diff(), ok(T0 + store_module.TOMBSTONE_MAX_AGE + timedelta(days=1)), keep=1)
    assert _tombstones(store) == {still_listed}  # renewed at day 200: the differ still needs it


def test_tombstones_beyond_the_count_go_oldest_first(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    for day in range(6):
        store.apply(
            SOURCE,
            Diff(new=(entry(f"e{day}", first_seen=T0 + timedelta(days=day)),)),
            ok(T0 + timedelta(days=day)),
            keep=1,
        )
    assert len(_tombstones(store)) == 5
    surplus = store_module._SURPLUS_TOMBSTONES.offset(3)  # the same query with a smaller count
    monkeypatch.setattr(store_module, "_SURPLUS_TOMBSTONES", surplus)
    store.apply(SOURCE, Diff(), ok(T0 + timedelta(days=7)), keep=1)
    assert _tombstones(store) == {"e2", "e3", "e4"}  # the newest three


def test_one_refresh_prunes_a_bounded_number_of_entries(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.apply(
        SOURCE, Diff(new=tuple(entry(f"e{i}", first_seen=T0 + timedelta(minutes=i)) for i in range(10))), ok(T0)
    )
    monkeypatch.setattr(store_module, "MAX_PRUNED_PER_APPLY", 3)
    store.apply(SOURCE, Diff(), ok(T0 + timedelta(hours=1)), keep=2)
    assert len(store.entries(SOURCE, limit=100)) == 7  # three went now, the rest go with the next refreshes
    store.apply(SOURCE, Diff(), ok(T0 + timedelta(hours=2)), keep=2)
    store.apply(SOURCE, Diff(), ok(T0 + timedelta(hours=3)), keep=2)
    assert len(store.entries(SOURCE, limit=100)) == 2
