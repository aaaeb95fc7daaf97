"""``next_due``, what the scheduler's tick reads, as refreshes write it: the due rule
(refresh/backoff.py) applied after every attempt, and corrected when a scheduled check finds it early.
Real refreshes of a local file into a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsvc import refresh
from feedsvc.config import Source
from feedsvc.model import Outcome
from feedsvc.refresh import Policy
from feedsvc.store import Store
from tests.support import SEEDS

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


def local(path: Path) -> Source:
    return Source(name="local", title="Local", url=str(path), timezone="Asia/Shanghai", interval=HOUR)


def test_a_refresh_makes_its_source_due_an_interval_later(store: Store, tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(SEEDS[0].read_bytes())
    assert refresh.run(store, local(page), T0).new == 8
    assert store.state("local").next_due == T0 + HOUR
    assert store.due(T0 + HOUR - timedelta(seconds=1)) == [] and store.due(T0 + HOUR) == ["local"]


def test_failures_push_next_due_back_by_the_backoff_and_a_success_resets_it(store: Store, tmp_path: Path) -> None:
    page = tmp_path / "page.txt"  # missing: every refresh fails
    cap = timedelta(hours=6)
    policy = Policy(max_backoff=cap)
    assert refresh.run(store, local(page), T0, policy).outcome is Outcome.FAILED
    assert store.state("local").next_due == T0 + 2 * HOUR
    assert refresh.run(store, local(page), T0 + 2 * HOUR, policy).outcome is Outcome.FAILED
    assert store.state("local").next_due == T0 + 2 * HOUR + 4 * HOUR
    page.write_bytes(SEEDS[0].read_bytes())
    assert refresh.run(store, local(page), T0 + 6 * HOUR, policy).outcome is Outcome.OK
    assert store.state("local").next_due == T0 + 7 * HOUR


def test_a_scheduled_check_that_finds_next_due_early_corrects_it(store: Store, tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(SEEDS[0].read_bytes())
    refresh.run(store, local(page), T0)
    store.schedule({"local": T0 + timedelta(minutes=5)})  # as a shorter interval of another config left it

    result = refresh.run(store, local(page), T0 + timedelta(minutes=5), Policy(scheduled=True))

    assert result.outcome is Outcome.NOT_DUE
    assert store.state("local").next_due == T0 + HOUR  # the tick does not offer it again before then
    assert store.state("local").last_attempt == T0
