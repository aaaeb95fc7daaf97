"""The store against a real database: SQLite files under tmp_path (PostgreSQL can join via ``db_url``)."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect, select, text

from feedsvc.errors import StoreError
from feedsvc.model import (
    DateEvidence,
    Diff,
    Entry,
    Listing,
    ListingItem,
    SourceState,
    SourceStatus,
    Validators,
)
from feedsvc.store import Store
from feedsvc.store.schema import MIGRATIONS, migrate, schema_version
from feedsvc.store.store import LISTINGS_KEPT, make_engine

SOURCE = "kexue"
T0 = datetime(2024, 4, 20, 8, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))


def entry(identity: str, **fields: object) -> Entry:
    defaults: dict[str, object] = {
        "source": SOURCE,
        "identity": identity,
        "title": f"Title {identity}",
        "summary": f"Summary of {identity}",
        "first_seen": T0,
        "updated": T0,
    }
    return Entry(**(defaults | fields))  # type: ignore[arg-type]


def ok(at: datetime = T0, **fields: object) -> SourceStatus:
    return SourceStatus(attempted_at=at, ok=True, **fields)  # type: ignore[arg-type]


def failed(at: datetime = T0, error: str = "HTTP 503") -> SourceStatus:
    return SourceStatus(attempted_at=at, ok=False, error=error)


def listing(at: datetime, *identities: str) -> Listing:
    return Listing(at, tuple(ListingItem(identity, 4, 20, None) for identity in identities))


def add(store: Store, *entries: Entry, keep: int = 1000) -> None:
    store.apply(SOURCE, Diff(new=entries, seen=len(entries)), ok(), keep=keep)


# -- entries ---------------------------------------------------------------------------------------


def test_entry_with_every_field_round_trips_as_aware_utc(store: Store) -> None:
    full = entry(
        "https://example.org/p/1",
        title="标题 — with “quotes”",
        summary="Line one\nline two",
        first_seen=datetime(2024, 4, 20, 16, 30, 15, 123456, tzinfo=CST),
        updated=datetime(2024, 4, 21, 9, 0, tzinfo=UTC),
        published=datetime(2024, 4, 19, 23, 59, tzinfo=CST),
        date_evidence=DateEvidence.LISTING_ORDER,
        author="Su",
        link="https://example.org/p/1",
        title_derived=True,
    )
    bare = entry("bare")
    add(store, full, bare)

    known = store.known(SOURCE)

    assert known.entries == {full.identity: full, bare.identity: bare}
    back = known.entries[full.identity]
    assert back.date_evidence is DateEvidence.LISTING_ORDER
    for moment in (back.first_seen, back.updated, back.published):
        assert moment is not None and moment.utcoffset() == timedelta(0)
    assert back.published == datetime(2024, 4, 19, 15, 59, tzinfo=UTC)
    assert known.entries["bare"].published is None and known.entries["bare"].author is None


def test_entries_are_newest_first_by_published_else_first_seen(store: Store) -> None:
    add(
        store,
        entry("old-published", published=T0 - timedelta(days=3), first_seen=T0),
        entry("seen-yesterday", first_seen=T0 - timedelta(days=1)),
        entry("newest", published=T0 + timedelta(hours=1)),
        entry("tie-later-seen", published=T0 - timedelta(days=2), first_seen=T0 + timedelta(minutes=5)),
        entry("tie-b", published=T0 - timedelta(days=2)),
        entry("tie-a", published=T0 - timedelta(days=2)),
    )

    order = [e.identity for e in store.entries(SOURCE)]

    assert order == ["newest", "seen-yesterday", "tie-later-seen", "tie-a", "tie-b", "old-published"]
    assert [e.identity for e in store.entries(SOURCE, limit=2)] == ["newest", "seen-yesterday"]
    assert store.entries("other") == []


def test_entries_query_uses_the_source_sort_index(store: Store, db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    add(store, entry("a"), entry("b"))
    with make_engine(db_url).connect() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT * FROM entries WHERE source = :s "
                "ORDER BY sort_at DESC, first_seen DESC, identity LIMIT 50"
            ),
            {"s": SOURCE},
        ).all()
    assert any("ix_entries_source_sort_at" in row[-1] for row in plan), plan


def test_newest_of_all_orders_every_source_in_one_query_with_offset_and_since(store: Store) -> None:
    add(store, entry("a-new", published=T0 + timedelta(hours=2)), entry("a-tie", published=T0))
    other = [
        replace(entry("b-tie", published=T0), source="other"),
        replace(entry("b-tie-later-seen", published=T0, first_seen=T0 + timedelta(minutes=1)), source="other"),
        replace(entry("b-old", published=T0 - timedelta(days=1)), source="other"),
    ]
    store.apply("other", Diff(new=tuple(other), seen=3), ok())

    def keys(found: list[Entry]) -> list[tuple[str, str]]:
        return [(e.source, e.identity) for e in found]

    everything = [
        (SOURCE, "a-new"),
        ("other", "b-tie-later-seen"),
        (SOURCE, "a-tie"),  # equal sort_at and first_seen: by source, then identity
        ("other", "b-tie"),
        ("other", "b-old"),
    ]
    assert keys(store.newest_of_all(10)) == everything
    assert keys(store.newest_of_all(2, offset=2)) == everything[2:4]
    assert keys(store.newest_of_all(10, since=T0)) == everything[:4]
    assert store.newest_of_all(0) == []


def test_the_newest_of_all_query_uses_the_sort_index(store: Store, db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    with make_engine(db_url).connect() as conn:
        plan = conn.execute(
            text("EXPLAIN QUERY PLAN SELECT * FROM entries ORDER BY sort_at DESC, first_seen DESC LIMIT 50")
        ).all()
    assert any("ix_entries_sort_at" in row[-1] for row in plan), plan


def test_outcomes_and_entries_total(store: Store) -> None:
    add(store, entry("a"), entry("b"))
    store.apply("down", Diff(), failed())
    store.apply("other", Diff(new=(replace(entry("c"), source="other"),), seen=1), ok())
    store.apply("other", Diff(), failed())
    store.apply("fine", Diff(), ok())
    assert store.outcomes() == {SOURCE: False, "down": True, "other": True, "fine": False}
    assert store.entries_total() == 3


# -- apply -----------------------------------------------------------------------------------------


def test_apply_inserts_new_and_replaces_changed_together(store: Store) -> None:
    a, b = entry("a"), entry("b")
    add(store, a, b)
    a2 = replace(a, title="A, corrected", updated=T0 + timedelta(hours=2), published=T0 - timedelta(days=1))
    c = entry("c", first_seen=T0 + timedelta(hours=1), updated=T0 + timedelta(hours=1))

    store.apply(SOURCE, Diff(new=(c,), changed=(a2,), seen=3), ok(T0 + timedelta(hours=2), posts_on_page=3))

    assert store.known(SOURCE).entries == {"a": a2, "b": b, "c": c}
    state = store.state(SOURCE)
    assert (state.entries_stored, state.posts_on_page, state.version) == (3, 3, 2)


def test_a_failing_apply_leaves_nothing_half_written(store: Store) -> None:
    add(store, entry("a"))
    before_known, before_state = store.known(SOURCE), store.state(SOURCE)
    # The listing is written after the entries and the status; its naive datetime fails mid-way.
    naive = Listing(datetime(2024, 4, 21, 8, 0), (ListingItem("b", 4, 21, None),))
    diff = Diff(new=(entry("b"),), changed=(replace(entry("a"), title="changed"),), seen=2, listing=naive)

    with pytest.raises(StoreError, match=r"apply 'kexue'.*naive datetime"):
        store.apply(SOURCE, diff, ok(T0 + timedelta(hours=1), posts_on_page=2))

    assert store.known(SOURCE) == before_known
    assert store.state(SOURCE) == before_state


def test_reapplying_the_same_new_entry_does_not_duplicate(store: Store) -> None:
    diff = Diff(new=(entry("a"), entry("b")), seen=2)
    store.apply(SOURCE, diff, ok())
    store.apply(SOURCE, diff, ok(T0 + timedelta(minutes=10)))  # a retry after an unseen commit

    assert [e.identity for e in store.entries(SOURCE)] == ["a", "b"]
    assert store.version(SOURCE) == 1

    moved = replace(entry("a"), summary="longer summary")
    store.apply(SOURCE, Diff(new=(moved,)), ok())  # a "new" entry already stored is an update
    assert store.known(SOURCE).entries["a"] == moved
    assert store.version(SOURCE) == 2


def test_failure_keeps_entries_and_counts_consecutive_failures(store: Store) -> None:
    add(store, entry("a"))
    store.apply(SOURCE, Diff(), ok(T0, validators=Validators(etag='"v1"')))

    store.apply(SOURCE, Diff(), failed(T0 + timedelta(hours=1), "HTTP 503"))
    store.apply(SOURCE, Diff(), failed(T0 + timedelta(hours=2), "timed out"))

    state = store.state(SOURCE)
    assert state.consecutive_failures == 2
    assert state.last_error == "timed out"
    assert state.last_attempt == T0 + timedelta(hours=2)
    assert state.last_success == T0
    assert [e.identity for e in store.entries(SOURCE)] == ["a"]
    assert store.validators(SOURCE) == Validators(etag='"v1"')
    assert store.version(SOURCE) == 1

    store.apply(SOURCE, Diff(), ok(T0 + timedelta(hours=3)))
    state = store.state(SOURCE)
    assert (state.consecutive_failures, state.last_error, state.last_success) == (0, None, T0 + timedelta(hours=3))


def test_a_failed_status_with_entries_is_a_caller_error(store: Store) -> None:
    with pytest.raises(ValueError, match="failed refresh"):
        store.apply(SOURCE, Diff(new=(entry("a"),)), failed())
    with pytest.raises(ValueError, match="other sources"):
        store.apply(SOURCE, Diff(new=(entry("a", source="elsewhere"),)), ok())
    assert store.state(SOURCE) == SourceState(SOURCE)


def test_version_bumps_only_when_entries_change(store: Store) -> None:
    assert store.version(SOURCE) == 0
    store.apply(SOURCE, Diff(), ok(posts_on_page=0))
    assert store.version(SOURCE) == 0  # status only

    add(store, entry("a"), entry("b"))
    assert store.version(SOURCE) == 1

    store.apply(SOURCE, Diff(listing=listing(T0, "a", "b")), ok())
    store.apply(SOURCE, Diff(), failed())
    store.apply(SOURCE, Diff(changed=(entry("a"),)), ok())  # "changed" but equal to what is stored
    assert store.version(SOURCE) == 1

    store.apply(SOURCE, Diff(changed=(entry("a", title="new title"),)), ok())
    assert store.version(SOURCE) == 2

    store.apply(SOURCE, Diff(), ok(), keep=1)  # pruning changes the feed too
    assert store.version(SOURCE) == 3


def test_pruning_keeps_the_newest_and_tombstones_the_rest(store: Store) -> None:
    days = {name: T0 - timedelta(days=n) for n, name in enumerate(["d0", "d1", "d2", "d3", "d4"])}
    add(store, *(entry(name, published=at) for name, at in days.items()), keep=3)

    known = store.known(SOURCE)
    assert set(known.entries) == {"d0", "d1", "d2"}
    assert known.tombstones == frozenset({"d3", "d4"})
    assert store.state(SOURCE).entries_stored == 3

    add(store, entry("d5", published=T0 + timedelta(days=1)), keep=3)
    known = store.known(SOURCE)
    assert set(known.entries) == {"d5", "d0", "d1"}
    assert known.tombstones == frozenset({"d2", "d3", "d4"})


def test_pruning_a_reingested_identity_again_keeps_one_tombstone(store: Store) -> None:
    add(store, entry("new", published=T0), entry("old", published=T0 - timedelta(days=9)), keep=1)
    add(store, entry("old", published=T0 - timedelta(days=9)), keep=1)  # the differ let it back in

    assert store.known(SOURCE).tombstones == frozenset({"old"})
    assert [e.identity for e in store.entries(SOURCE)] == ["new"]


# -- listings --------------------------------------------------------------------------------------


def test_listings_skip_a_repeat_of_the_newest_and_keep_the_newest_fifty(store: Store) -> None:
    store.apply(SOURCE, Diff(listing=listing(T0, "a", "b")), ok())
    store.apply(SOURCE, Diff(listing=listing(T0 + timedelta(hours=1), "a", "b")), ok())
    store.apply(SOURCE, Diff(listing=listing(T0 + timedelta(hours=2), "c", "a")), ok())
    store.apply(SOURCE, Diff(listing=listing(T0 + timedelta(hours=3), "a", "b")), ok())  # not the newest: kept

    assert [lst.items[0].identity for lst in store.known(SOURCE).listings] == ["a", "c", "a"]
    assert store.known(SOURCE).listings[0] == listing(T0, "a", "b")

    for n in range(LISTINGS_KEPT + 10):
        store.apply(SOURCE, Diff(listing=listing(T0 + timedelta(days=1, hours=n), f"p{n}")), ok())

    kept = store.known(SOURCE).listings
    assert len(kept) == LISTINGS_KEPT
    assert kept[0].items[0].identity == "p10"
    assert kept[-1].items[0].identity == f"p{LISTINGS_KEPT + 9}"
    assert [lst.fetched_at for lst in kept] == sorted(lst.fetched_at for lst in kept)


def test_listings_are_per_source(store: Store) -> None:
    store.apply(SOURCE, Diff(listing=listing(T0, "a")), ok())
    store.apply("other", Diff(listing=listing(T0, "a")), ok())

    assert len(store.known(SOURCE).listings) == 1
    assert len(store.known("other").listings) == 1


# -- status ----------------------------------------------------------------------------------------


def test_validators_and_states(store: Store) -> None:
    assert store.validators(SOURCE) == Validators()
    store.apply(SOURCE, Diff(new=(entry("a"),)), ok(posts_on_page=7, validators=Validators('"x"', "Sat, 20 Apr")))
    store.apply("other", Diff(), failed(error="DNS"))

    assert store.validators(SOURCE) == Validators(etag='"x"', last_modified="Sat, 20 Apr")
    assert store.states(["nowhere", SOURCE, "other"]) == [
        SourceState("nowhere"),
        SourceState(
            SOURCE, last_attempt=T0, last_success=T0, posts_on_page=7, entries_stored=1, version=1, recent_posts=(7,)
        ),
        SourceState("other", last_attempt=T0, last_error="DNS", consecutive_failures=1),
    ]
    assert store.states([]) == []
    assert store.version("nowhere") == 0
    for name, counted in zip(["nowhere", SOURCE, "other"], store.states(["nowhere", SOURCE, "other"]), strict=True):
        assert store.state(name, count_entries=False) == dataclasses.replace(counted, entries_stored=0)

    store.apply(SOURCE, Diff(), ok(T0 + timedelta(minutes=5)))  # 304: no validators, no page
    assert store.validators(SOURCE) == Validators(etag='"x"', last_modified="Sat, 20 Apr")
    assert store.state(SOURCE).posts_on_page == 7


# -- leases ----------------------------------------------------------------------------------------


def test_claim_is_exclusive_until_release_or_expiry(db_url: str) -> None:
    lease = timedelta(minutes=5)
    with Store(db_url) as one, Store(db_url) as two:
        assert one.claim(SOURCE, "A", T0, lease)
        assert not two.claim(SOURCE, "B", T0 + timedelta(minutes=1), lease)
        assert one.claim(SOURCE, "A", T0 + timedelta(minutes=4), lease)  # renewing our own: until T0+9m
        assert not two.claim(SOURCE, "B", T0 + timedelta(minutes=8), lease)
        assert two.claim(SOURCE, "B", T0 + timedelta(minutes=10), lease)  # A's lease expired
        assert not one.claim(SOURCE, "A", T0 + timedelta(minutes=11), lease)

        assert not one.release(SOURCE, "A")  # not A's any more: B keeps it
        assert not one.claim(SOURCE, "A", T0 + timedelta(minutes=11), lease)
        assert two.release(SOURCE, "B")
        assert one.claim(SOURCE, "A", T0 + timedelta(minutes=11), lease)
        assert one.claim("fresh", "A", T0, lease)  # creates the source's row


def test_a_due_claim_waits_an_interval_after_the_last_attempt_by_anyone(db_url: str) -> None:
    lease, interval = timedelta(minutes=5), timedelta(hours=1)

    def due_claim(store: Store, owner: str, now: datetime) -> bool:
        return store.claim(SOURCE, owner, now, lease, due_if_not_since=now - interval)

    with Store(db_url) as one, Store(db_url) as two:
        assert due_claim(one, "A", T0)  # never attempted: due
        assert not due_claim(two, "B", T0 + timedelta(minutes=1))  # due, but A holds the lease
        one.apply(SOURCE, Diff(), ok(T0))
        assert one.release(SOURCE, "A")
        assert not due_claim(two, "B", T0 + timedelta(minutes=59))
        assert two.claim(SOURCE, "B", T0 + timedelta(minutes=59), lease)  # on demand: due or not
        two.apply(SOURCE, Diff(), failed(T0 + timedelta(minutes=59)))  # a failed attempt is an attempt
        assert two.release(SOURCE, "B")
        assert not due_claim(one, "A", T0 + timedelta(hours=1))
        assert due_claim(one, "A", T0 + timedelta(minutes=119))
        # A dies holding the lease: once it expires, the source is B's, still due
        assert not due_claim(two, "B", T0 + timedelta(minutes=123))
        assert due_claim(two, "B", T0 + timedelta(minutes=125))


def test_concurrent_claims_have_exactly_one_winner(db_url: str) -> None:
    contenders = 8
    stores = [Store(db_url) for _ in range(contenders)]
    barrier = threading.Barrier(contenders)

    def contend(n: int) -> bool:
        barrier.wait()
        return stores[n].claim(SOURCE, f"owner-{n}", T0, timedelta(minutes=5))

    try:
        with ThreadPoolExecutor(contenders) as pool:
            won = list(pool.map(contend, range(contenders)))
    finally:
        for opened in stores:
            opened.close()
    assert won.count(True) == 1


def test_claim_does_not_disturb_status(store: Store) -> None:
    add(store, entry("a"))
    before = store.state(SOURCE)
    assert store.claim(SOURCE, "A", T0, timedelta(minutes=1))
    assert store.release(SOURCE, "A")
    assert store.state(SOURCE) == before


# -- lifecycle -------------------------------------------------------------------------------------


def test_reopening_the_same_database_keeps_everything(db_url: str) -> None:
    with Store(db_url) as first:
        add(first, entry("a", published=T0), entry("b"), keep=1)
        first.apply(SOURCE, Diff(listing=listing(T0, "a")), ok(validators=Validators(etag="e")))
        first.claim(SOURCE, "A", T0, timedelta(minutes=5))
        known, state = first.known(SOURCE), first.state(SOURCE)

    with Store(db_url) as second:
        assert second.known(SOURCE) == known
        assert second.state(SOURCE) == state
        assert second.validators(SOURCE) == Validators(etag="e")
        assert not second.claim(SOURCE, "B", T0, timedelta(minutes=5))
    assert known.tombstones == frozenset({"b"}) and len(known.listings) == 1


def test_sqlite_file_is_created_with_its_directory_in_wal_mode(store: Store, db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite file settings")
    path = Path(db_url.removeprefix("sqlite:///"))
    assert path.is_file()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_migrate_is_idempotent_and_records_the_version(db_url: str) -> None:
    Store(db_url).close()
    engine = make_engine(db_url)
    try:
        assert migrate(engine) == len(MIGRATIONS)
        assert migrate(engine) == len(MIGRATIONS)
        with engine.connect() as conn:
            versions = conn.scalars(select(schema_version.c.version)).all()
        assert versions == list(range(1, len(MIGRATIONS) + 1))
        assert {"sources", "entries", "tombstones", "listings"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_instances_starting_at_once_migrate_once(db_url: str) -> None:
    starting = 6
    barrier = threading.Barrier(starting)

    def start(_: int) -> int:
        barrier.wait()
        with Store(db_url) as opened:
            return opened.version("nowhere")

    with ThreadPoolExecutor(starting) as pool:
        assert list(pool.map(start, range(starting))) == [0] * starting
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.scalars(select(schema_version.c.version)).all() == list(range(1, len(MIGRATIONS) + 1))
    finally:
        engine.dispose()


def test_upgrading_a_version_1_database_keeps_every_entry(db_url: str) -> None:
    """A database written by the first release (schema version 1, its columns frozen here) is upgraded at start."""
    engine = make_engine(db_url)
    try:
        assert migrate(engine, MIGRATIONS[:1]) == 1
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO sources (name, consecutive_failures, version, etag) VALUES (:s, 0, 3, 'e1')"),
                {"s": SOURCE},
            )
            for n in range(3):
                conn.execute(
                    text(
                        "INSERT INTO entries (source, identity, title, summary, title_derived, first_seen, updated,"
                        " sort_at) VALUES (:s, :i, :t, 'text', :d, :at, :at, :at)"
                    ),
                    {"s": SOURCE, "i": f"id-{n}", "t": f"Title {n}", "d": False, "at": T0 + timedelta(days=n)},
                )
    finally:
        engine.dispose()
    with Store(db_url) as upgraded:
        stored = upgraded.entries(SOURCE)
        assert [(e.identity, e.title, e.published) for e in stored] == [
            ("id-2", "Title 2", None),
            ("id-1", "Title 1", None),
            ("id-0", "Title 0", None),
        ]
        assert stored[0].first_seen == T0 + timedelta(days=2)
        assert upgraded.validators(SOURCE) == Validators(etag="e1")
        assert upgraded.version(SOURCE) == 3


def test_a_failing_migration_rolls_back_every_step(db_url: str) -> None:
    def broken(conn: Connection) -> None:
        raise RuntimeError("migration 2 is broken")

    engine = make_engine(db_url)
    try:
        with pytest.raises(RuntimeError, match="broken"):
            migrate(engine, [*MIGRATIONS, broken])
        assert inspect(engine).get_table_names() == []  # even the DDL of migration 1 is gone
    finally:
        engine.dispose()


def test_a_database_newer_than_the_code_is_refused(db_url: str) -> None:
    Store(db_url).close()
    engine = make_engine(db_url)
    try:
        with pytest.raises(StoreError, match="newer"):
            migrate(engine, [])
    finally:
        engine.dispose()


def test_ping(store: Store) -> None:
    assert store.ping() is True


def test_errors_name_the_operation_and_source(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"apply 'kexue'"):
        add(store, entry("a", first_seen=datetime(2024, 4, 20)))  # naive: refused
    assert store.state(SOURCE) == SourceState(SOURCE)

    garbage = tmp_path / "not-a-database.sqlite3"
    garbage.write_bytes(b"this is not an SQLite file" * 100)
    with pytest.raises(StoreError, match="open"):
        Store(f"sqlite:///{garbage}")


def test_a_missing_database_driver_is_named() -> None:
    with pytest.raises(StoreError, match="database driver 'pg8000' is not installed"):
        Store("postgresql+pg8000://feedsvc@127.0.0.1:9/feedsvc")


# -- columns added by migration 2: entry categories, HTML summaries, the source's icon (SQLite) --


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


def test_categories_and_html_summaries_round_trip(sqlite_store: Store) -> None:
    tagged = entry("a", categories=("数学", "Machine learning"), summary="<p>x</p>", summary_html=True)
    add(sqlite_store, tagged, entry("b"))
    by_identity = {e.identity: e for e in sqlite_store.entries(SOURCE)}
    assert by_identity["a"] == tagged
    assert by_identity["b"].categories == () and by_identity["b"].summary_html is False


def test_changed_categories_are_written_and_bump_the_version(sqlite_store: Store) -> None:
    add(sqlite_store, entry("a", categories=("x",)))
    before = sqlite_store.version(SOURCE)
    sqlite_store.apply(SOURCE, Diff(changed=(entry("a", categories=("x", "y")),)), ok())
    assert sqlite_store.entries(SOURCE)[0].categories == ("x", "y")
    assert sqlite_store.version(SOURCE) == before + 1


def set_icon(store: Store, icon: str | None) -> None:
    store.apply(SOURCE, Diff(), SourceStatus(T0, ok=True, icon=icon, read_icon=True))


def test_icon_is_kept_and_a_change_bumps_the_version(sqlite_store: Store) -> None:
    assert sqlite_store.state(SOURCE).icon is None
    set_icon(sqlite_store, "https://example.org/icon.png")
    version = sqlite_store.version(SOURCE)
    assert version > 0
    set_icon(sqlite_store, "https://example.org/icon.png")  # same icon: nothing moves
    assert sqlite_store.version(SOURCE) == version
    assert sqlite_store.state(SOURCE).icon == "https://example.org/icon.png"
    sqlite_store.apply(SOURCE, Diff(), ok())  # a page that was not HTML keeps the icon
    assert sqlite_store.state(SOURCE).icon == "https://example.org/icon.png" and sqlite_store.version(SOURCE) == version
    assert sqlite_store.icon(SOURCE) == "https://example.org/icon.png" and sqlite_store.icon("never-seen") is None
    set_icon(sqlite_store, None)
    assert sqlite_store.state(SOURCE).icon is None and sqlite_store.version(SOURCE) == version + 1
    assert sqlite_store.icon(SOURCE) is None


def test_versions_of_many_sources_in_one_call(sqlite_store: Store) -> None:
    add(sqlite_store, entry("a"))
    assert sqlite_store.versions([SOURCE, "never-seen"]) == {SOURCE: sqlite_store.version(SOURCE), "never-seen": 0}


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
        set_icon(store, "https://example.org/i.png")
        assert store.state(SOURCE).icon == "https://example.org/i.png"
        engine = make_engine(f"sqlite:///{path}")
        try:
            assert "categories_json" in {c["name"] for c in inspect(engine).get_columns("entries")}
        finally:
            engine.dispose()
