"""The scheduler's questions to the store: which sources are due (one indexed query), when the next
one is, and ``next_due`` as refreshes and the scheduler write it; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from feedsvc.model import Diff, SourceStatus
from feedsvc.store import Store
from feedsvc.store.schema import MIGRATIONS, migrate
from feedsvc.store.store import make_engine

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_due_lists_the_sources_whose_time_has_come_longest_overdue_first(store: Store) -> None:
    store.schedule({"late": T0 - 5 * MINUTE, "now": T0, "later": T0 + MINUTE, "early": T0 - MINUTE, "off": None})

    assert store.due(T0) == ["late", "early", "now"]
    assert store.due(T0, limit=2) == ["late", "early"]
    assert store.due(T0 - 10 * MINUTE) == []
    assert store.next_due_after(T0) == T0 + MINUTE
    assert store.next_due_after(T0 + MINUTE) is None


def test_a_source_held_by_a_live_lease_is_not_due_until_the_lease_expires(store: Store) -> None:
    store.schedule({"held": T0 - MINUTE, "free": T0 - MINUTE})
    assert store.claim("held", "other-instance", T0, timedelta(minutes=5))

    assert store.due(T0) == ["free"]
    assert sorted(store.due(T0 + 6 * MINUTE)) == ["free", "held"]  # the holder died: taken over


def test_apply_records_next_due_when_given_and_keeps_it_otherwise(store: Store) -> None:
    store.schedule({"s": T0})
    store.apply("s", Diff(), SourceStatus(T0, ok=True, next_due=T0 + timedelta(hours=1)))
    assert store.state("s").next_due == T0 + timedelta(hours=1)
    assert store.due(T0 + 30 * MINUTE) == [] and store.due(T0 + timedelta(hours=1)) == ["s"]

    store.apply("s", Diff(), SourceStatus(T0 + MINUTE, ok=False, error="HTTP 500"))  # a tool's apply: no next_due
    assert store.state("s").next_due == T0 + timedelta(hours=1)


def test_timings_give_what_the_due_rule_reads_for_every_row_in_one_query(store: Store) -> None:
    retry = T0 + timedelta(hours=2)
    store.apply("s", Diff(), SourceStatus(T0, ok=False, error="HTTP 429", retry_after=retry, next_due=retry))
    store.schedule({"new": T0})

    timings = {state.name: state for state in store.timings()}

    assert sorted(timings) == ["new", "s"]
    s = timings["s"]
    assert (s.last_attempt, s.consecutive_failures, s.retry_after_until, s.next_due) == (T0, 1, retry, retry)
    assert (timings["new"].last_attempt, timings["new"].next_due) == (None, T0)


def test_the_due_query_reads_the_next_due_index(db_url: str, store: Store) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    store.schedule({f"s{n}": T0 + n * MINUTE for n in range(50)})
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            plan = conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT name FROM sources WHERE next_due <= :now"
                    " AND (lease_until IS NULL OR lease_until < :now) ORDER BY next_due LIMIT 10"
                ),
                {"now": T0},
            ).all()
    finally:
        engine.dispose()
    assert any("ix_sources_next_due" in row[-1] for row in plan), plan


def test_a_database_without_next_due_gets_the_column_and_its_index(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine, MIGRATIONS[:-1])  # every migration before this one, then undo what migration 1 made of it
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_sources_next_due"))
            conn.execute(text("ALTER TABLE sources DROP COLUMN next_due"))
            conn.execute(text("INSERT INTO sources (name, consecutive_failures, version) VALUES ('old', 0, 1)"))
        assert "next_due" not in {c["name"] for c in inspect(engine).get_columns("sources")}
    finally:
        engine.dispose()
    with Store(db_url) as upgraded:
        assert upgraded.state("old").next_due is None  # not scheduled until the scheduler's sync
        upgraded.schedule({"old": T0})
        assert upgraded.due(T0) == ["old"]
    engine = make_engine(db_url)
    try:
        assert "ix_sources_next_due" in {index["name"] for index in inspect(engine).get_indexes("sources")}
    finally:
        engine.dispose()
