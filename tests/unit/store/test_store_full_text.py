"""The store's part of full text: which entries want their page, storing it or the failure, the migration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from feedsvc.model import Diff, Entry, SourceStatus
from feedsvc.store import Store
from feedsvc.store.schema import FULL_TEXT_COLUMNS, MIGRATIONS, _full_text_columns, migrate
from feedsvc.store.store import CONTENT_ATTEMPTS, CONTENT_WINDOW, make_engine
from tests.postgres import BACKENDS, database_url

SOURCE = "blog"
T0 = datetime(2024, 4, 20, 8, 0, tzinfo=UTC)


def entry(n: int, **fields: object) -> Entry:
    moment = T0 + timedelta(days=n)
    defaults: dict[str, object] = {
        "source": SOURCE,
        "identity": f"post-{n}",
        "title": f"Post {n}",
        "summary": f"Teaser {n}",
        "first_seen": moment,
        "updated": moment,
        "published": moment,
        "link": f"https://blog.example/{n}",
    }
    return Entry(**(defaults | fields))  # type: ignore[arg-type]


def add(store: Store, *entries: Entry, at: datetime = T0) -> None:
    store.apply(SOURCE, Diff(new=entries, seen=len(entries)), SourceStatus(at, ok=True))


def test_entries_without_a_try_are_wanted_newest_first_and_only_those_with_a_link(store: Store) -> None:
    add(store, entry(1), entry(2), entry(3, link=None), entry(4))
    wanted = store.wanting_content(SOURCE, 10)
    assert [(a.identity, a.link, a.attempts) for a in wanted] == [
        ("post-4", "https://blog.example/4", 0),
        ("post-2", "https://blog.example/2", 0),
        ("post-1", "https://blog.example/1", 0),
    ]
    assert [a.identity for a in store.wanting_content(SOURCE, 1)] == ["post-4"]
    assert store.wanting_content(SOURCE, 0) == []


def test_stored_content_is_served_bumps_the_version_and_is_not_wanted_again(store: Store) -> None:
    add(store, entry(1), entry(2))
    version, changes = store.version(SOURCE), store.changes
    assert store.set_content(SOURCE, "post-2", "<p>The whole post</p>", T0)
    assert store.version(SOURCE) == version + 1 and store.changes == changes + 1
    newest = store.entries(SOURCE, with_content=True)
    assert [(e.identity, e.content) for e in newest] == [("post-2", "<p>The whole post</p>"), ("post-1", None)]
    assert newest[0].updated == T0 + timedelta(days=2)  # never moved back
    store.set_content(SOURCE, "post-1", "<p>Post one</p>", T0 + timedelta(days=5))
    assert store.entries(SOURCE)[1].updated == T0 + timedelta(days=5)  # readers see the text as a change
    assert [e.content for e in store.entries(SOURCE)] == [None, None]  # the differ's reads never carry it
    assert store.contents(SOURCE, ["post-2", "post-9"]) == {"post-2": "<p>The whole post</p>"}
    assert store.wanting_content(SOURCE, 10) == []
    assert not store.set_content(SOURCE, "no-such-post", "<p>x</p>", T0)


def test_failures_are_retried_after_untried_entries_until_the_attempts_run_out(store: Store) -> None:
    add(store, entry(1), entry(2))
    version = store.version(SOURCE)
    store.content_failed(SOURCE, "post-2", "HTTP 404 Not Found", T0)
    assert store.version(SOURCE) == version  # the feeds do not change
    assert [(a.identity, a.attempts) for a in store.wanting_content(SOURCE, 10)] == [("post-1", 0), ("post-2", 1)]
    for n in range(1, CONTENT_ATTEMPTS):
        store.content_failed(SOURCE, "post-2", "HTTP 404 Not Found", T0 + timedelta(hours=n))
    assert [a.identity for a in store.wanting_content(SOURCE, 10)] == ["post-1"]
    state = store.full_text_state(SOURCE)
    assert (state.ok, state.failed, state.skipped) == (0, 1, 0)
    (failure,) = state.last_failures
    assert (failure.title, failure.link, failure.reason) == ("Post 2", "https://blog.example/2", "HTTP 404 Not Found")
    assert (failure.attempts, failure.tried_at) == (CONTENT_ATTEMPTS, T0 + timedelta(hours=CONTENT_ATTEMPTS - 1))


def test_a_skipped_entry_is_never_wanted_and_counted_apart(store: Store) -> None:
    add(store, entry(1), entry(2))
    store.content_failed(SOURCE, "post-1", "the link is on another site", T0, skipped=True)
    assert [a.identity for a in store.wanting_content(SOURCE, 10)] == ["post-2"]
    state = store.full_text_state(SOURCE)
    assert (state.ok, state.failed, state.skipped, state.last_failures) == (0, 0, 1, ())


def test_only_the_newest_entries_are_wanted_no_archive_crawl(store: Store) -> None:
    add(store, *(entry(n) for n in range(CONTENT_WINDOW + 20)))
    wanted = store.wanting_content(SOURCE, 1000)
    assert len(wanted) == CONTENT_WINDOW
    assert wanted[-1].identity == "post-20"


def test_a_changed_entry_keeps_its_content_and_a_pruned_one_takes_it_away(store: Store) -> None:
    add(store, entry(1), entry(2))
    store.set_content(SOURCE, "post-1", "<p>Full</p>", T0)
    store.apply(SOURCE, Diff(changed=(entry(1, title="Post 1, retitled"),), seen=2), SourceStatus(T0, ok=True))
    (changed,) = [e for e in store.entries(SOURCE, with_content=True) if e.identity == "post-1"]
    assert (changed.title, changed.content) == ("Post 1, retitled", "<p>Full</p>")
    store.apply(SOURCE, Diff(), SourceStatus(T0 + timedelta(days=9), ok=True), keep=1)
    assert [e.identity for e in store.entries(SOURCE, with_content=True)] == ["post-2"]
    assert store.full_text_state(SOURCE).ok == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_from_before_full_text_gets_the_columns_and_keeps_its_entries(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    url = database_url(request, backend, tmp_path / "old.db")
    engine = make_engine(url)
    try:
        migrate(engine, MIGRATIONS[: MIGRATIONS.index(_full_text_columns)])
        with engine.begin() as conn:  # exactly the schema before the full-text migration
            for column in FULL_TEXT_COLUMNS:
                conn.exec_driver_sql(f"ALTER TABLE entries DROP COLUMN {column}")
            conn.execute(text("INSERT INTO sources (name, consecutive_failures, version) VALUES ('blog', 0, 1)"))
            conn.execute(
                text(
                    "INSERT INTO entries (source, identity, title, summary, link, title_derived, first_seen, updated,"
                    " sort_at) VALUES ('blog', 'old', 'Old post', 'Teaser', 'https://blog.example/old', :no, :at, :at,"
                    " :at)"
                ),
                {"no": False, "at": T0},
            )
    finally:
        engine.dispose()
    with Store(url) as store:
        (old,) = store.entries(SOURCE, with_content=True)
        assert (old.identity, old.title, old.content) == ("old", "Old post", None)
        assert [(a.identity, a.attempts) for a in store.wanting_content(SOURCE, 10)] == [("old", 0)]
        assert store.set_content(SOURCE, "old", "<p>Full</p>", T0 + timedelta(days=1))
        assert store.full_text_state(SOURCE).ok == 1
    engine = make_engine(url)
    try:
        assert set(FULL_TEXT_COLUMNS) <= {c["name"] for c in inspect(engine).get_columns("entries")}
        assert migrate(engine) == len(MIGRATIONS)  # idempotent
    finally:
        engine.dispose()
