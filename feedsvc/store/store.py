"""The store: the only code with SQL. Plain model dataclasses in, plain model dataclasses out."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Engine,
    Row,
    Select,
    and_,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    make_url,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from feedsvc.errors import StoreError
from feedsvc.model import (
    Article,
    ArticleFailure,
    DateEvidence,
    Diff,
    Entry,
    FullTextState,
    HostTurn,
    Instance,
    Known,
    Lease,
    Listing,
    ListingItem,
    SourceState,
    SourceStatus,
    Validators,
)
from feedsvc.store import defined
from feedsvc.store import watch as _watch
from feedsvc.store.schema import (
    WRITE_OPTION,
    entries,
    hosts,
    instances,
    listings,
    migrate,
    source_health,
    sources,
    tombstones,
)

LISTINGS_KEPT = 50  # per source, newest by fetched_at
TOMBSTONES_KEPT = 10_000  # per source, newest first; more than a page may show (bounds.MAX_POSTS)
TOMBSTONE_MAX_AGE = timedelta(days=365)  # a tombstone neither made nor seen on the page for this long goes
MAX_PRUNED_PER_APPLY = 5_000  # entries (and tombstones) pruned by one apply; the rest by the next ones
RECENT_POSTS_KEPT = 5  # posts-on-page counts remembered per source for the layout-change guard
CONTENT_ATTEMPTS = 3  # an article page that failed is tried again by later refreshes, this many times in all
CONTENT_WINDOW = 50  # full text is fetched for a source's newest entries only (a feed shows 50): no archive crawl
FAILURES_SHOWN = 5  # latest full-text failures in the status
SQLITE_BUSY_TIMEOUT_MS = 5000
HOST_LOCK_TIMEOUT = "5s"  # PostgreSQL: the longest a host-slot claim waits for another's row lock
_CHUNK = 500  # identities per IN (...) list

_T = TypeVar("_T")
# A write refused for lack of space: SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100), the OS's ENOSPC.
_FULL = re.compile(r"database or disk is full|DiskFull|could not extend file|No space left on device", re.IGNORECASE)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite: parent directory created, WAL, foreign keys, real transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


MIGRATION_PATIENCE = 60.0  # seconds an instance waits for others that start (and migrate) at the same time


def _migrate_patiently(engine: Engine) -> None:
    """``migrate``; while other instances starting at once hold a new SQLite file (switching it to
    WAL, migrating it), "database is locked" is waited out for up to ``MIGRATION_PATIENCE``."""
    deadline = time.monotonic() + MIGRATION_PATIENCE
    while True:
        try:
            migrate(engine)
            return
        except OperationalError as exc:
            if "database is locked" not in str(exc) or time.monotonic() > deadline:
                raise
            engine.dispose()  # a fresh connection sets its pragmas again
            time.sleep(0.1)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin): the sqlite3 driver's own transaction
    # handling skips BEGIN before SELECT and DDL, which breaks repeatable reads and migrations.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: no fsync per commit (only at checkpoints); a crash never corrupts the
        # database, a power loss may forget the last refreshes, which the next cycle redoes.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    writing = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "<unparseable database url>"


@contextmanager
def _failures(operation: str, source: str | None = None) -> Iterator[None]:
    """Turn any SQLAlchemy error into a StoreError that names the operation and source."""
    try:
        yield
    except (SQLAlchemyError, OSError) as exc:
        target = f" {source!r}" if source is not None else ""
        detail = getattr(exc, "orig", None) or exc
        raise StoreError(f"store {operation}{target}: {type(detail).__name__}: {detail}") from exc
    except ImportError as exc:  # e.g. a postgresql+psycopg URL without psycopg installed
        target = f" {source!r}" if source is not None else ""
        hint = " (pip install 'feedsvc[postgresql]')" if exc.name == "psycopg" else ""
        raise StoreError(f"store {operation}{target}: database driver {exc.name!r} is not installed{hint}") from exc


class Store:
    """Entries, listings, tombstones and per-source status in one SQL database."""

    def __init__(self, url: str) -> None:
        with _failures("open", _redacted(url)):
            self._engine = make_engine(url)
            try:
                _migrate_patiently(self._engine)
            except BaseException:
                self._engine.dispose()
                raise
        self._writer = self._engine.execution_options(**{WRITE_OPTION: True})
        self._changes = 0
        self._changes_lock = threading.Lock()
        self._watch: _watch.Watch | None = None
        self._notify = self._engine.dialect.name == "postgresql"  # NOTIFY other processes' watches
        self.write_error: str | None = None  # a write failed for lack of space, no refresh stored since: why

    @property
    def changes(self) -> int:
        """Bumps after every apply through this object that changed entries (any source).

        Lets a cache in this process skip asking the database for versions while nothing changed here;
        changes made by other processes are seen only through ``version``.
        """
        return self._changes

    def watch(self) -> _watch.Watch:
        """This store's change watch (``store/watch.py``): made on first use, closed with the store."""
        with self._changes_lock:
            if self._watch is None:
                with _failures("watch"):
                    self._watch = _watch.for_url(self._engine.url, lambda: self._changes)
            return self._watch

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _read(self, operation: str, source: str | None = None) -> Iterator[Connection]:
        with _failures(operation, source), self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _write(self, operation: str, source: str | None = None) -> Iterator[Connection]:
        try:
            with _failures(operation, source), self._writer.begin() as conn:
                yield conn
        except StoreError as exc:
            if _FULL.search(str(exc)):
                self.write_error = str(exc)
            raise

    # -- reads ---------------------------------------------------------------------------------

    def known(self, source: str) -> Known:
        """Everything the differ needs: entries by identity, listings oldest first, tombstones."""
        with self._read("known", source) as conn:
            rows = conn.execute(_KNOWN_ENTRIES, {"source": source}).all()
            listing_rows = conn.execute(_KNOWN_LISTINGS, {"source": source}).all()
            pruned = conn.scalars(_KNOWN_TOMBSTONES, {"source": source}).all()
        return Known(
            entries={row[1]: _entry_from(row) for row in rows},
            listings=tuple(Listing(row.fetched_at, _items_from_json(row.items_json)) for row in listing_rows),
            tombstones=frozenset(pruned),
        )

    def entries(self, source: str, limit: int = 50, with_content: bool = False) -> list[Entry]:
        """The newest ``limit`` entries: by sort_at, then first_seen, newest first; then identity.

        ``with_content``: with their full text (``Entry.content``), for rendering feeds.
        """
        if limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        with self._read("entries", source) as conn:
            if with_content:
                rows = conn.execute(_NEWEST_WITH_CONTENT, {"source": source, "limit": limit}).all()
                return [_entry_from(row[:-1], row[-1]) for row in rows]
            rows = conn.execute(_NEWEST, {"source": source, "limit": limit}).all()
        return [_entry_from(row) for row in rows]

    def contents(self, source: str, identities: Sequence[str]) -> dict[str, str]:
        """The full text of those of ``identities`` that have one: identity -> content."""
        found: dict[str, str] = {}
        with self._read("contents", source) as conn:
            for chunk in _chunks(list(identities)):
                rows = conn.execute(_CONTENTS, {"source": source, "identities": list(chunk)})
                found |= {row.identity: row.content for row in rows}
        return found

    # -- full text (refresh/full_text.py) ----------------------------------------------------

    def wanting_content(self, source: str, limit: int) -> list[Article]:
        """Entries whose page the full-text step should fetch next, at most ``limit``: among the
        newest ``CONTENT_WINDOW`` entries with a link, those never tried, newest first, then those
        that failed fewer than ``CONTENT_ATTEMPTS`` times."""
        if limit <= 0:
            return []
        with self._read("wanting content", source) as conn:
            rows = conn.execute(
                _WANTING_CONTENT,
                {"source": source, "window": CONTENT_WINDOW, "attempts": CONTENT_ATTEMPTS, "limit": limit},
            ).all()
        return [Article(row.identity, row.link, row.content_attempts) for row in rows]

    def set_content(self, source: str, identity: str, content: str, now: datetime) -> bool:
        """Store an entry's full text; its feeds render anew (the version moves). False when the entry is gone.

        The entry's ``updated`` moves to ``now`` (never back): a reader that already holds the entry
        with its teaser alone takes the text as a change.
        """
        with self._write("set content", source) as conn:
            updated = case((entries.c.updated < now, now), else_=entries.c.updated)
            values = {"content": content, "content_state": "ok", "content_tried_at": now, "updated": updated}
            changed = conn.execute(_content_update(source, identity, values)).rowcount == 1
            if changed:
                conn.execute(_BUMP_VERSION, {"b_name": source})
                if self._notify:
                    conn.execute(_NOTIFY, {"source": source})
        if changed:
            with self._changes_lock:
                self._changes += 1
        return changed

    def content_failed(self, source: str, identity: str, reason: str, now: datetime, *, skipped: bool = False) -> None:
        """Record why an entry's page gave no full text (the teaser stays); ``skipped``: never to be tried."""
        state = f"{'skipped' if skipped else 'failed'}: {reason}"
        with self._write("content failed", source) as conn:
            conn.execute(_content_update(source, identity, {"content_state": state, "content_tried_at": now}))

    def full_text_state(self, source: str) -> FullTextState:
        """How many entries have their full text, failed, or were skipped; the latest failures."""
        with self._read("full text state", source) as conn:
            counts = conn.execute(_FULL_TEXT_COUNTS, {"source": source}).one()
            rows = conn.execute(_LATEST_FAILURES, {"source": source, "limit": FAILURES_SHOWN}).all()
        failures = tuple(
            ArticleFailure(
                row.title, row.link, row.content_state.removeprefix("failed: "), row.content_tried_at, row.attempts
            )
            for row in rows
        )
        return FullTextState(int(counts[0] or 0), int(counts[1] or 0), int(counts[2] or 0), failures)

    def validators(self, source: str) -> Validators:
        with self._read("validators", source) as conn:
            row = conn.execute(_VALIDATORS, {"name": source}).one_or_none()
        return Validators() if row is None else Validators(etag=row.etag, last_modified=row.last_modified)

    def version(self, source: str) -> int:
        """Bumps whenever the source's entries change; 0 for a source never applied."""
        with self._read("version", source) as conn:
            return conn.scalar(_VERSION, {"name": source}) or 0

    def icon(self, source: str) -> str | None:
        """The source's icon URL (as ``apply`` recorded it), or None: one primary-key read, for rendering a feed."""
        with self._read("icon", source) as conn:
            return conn.scalar(_ICON, {"name": source})

    def versions(self, names: Sequence[str]) -> dict[str, int]:
        """Each name's version (0 for a source never applied), in one query."""
        with self._read("versions", ", ".join(sorted(set(names)))) as conn:
            rows = conn.execute(select(sources.c.name, sources.c.version).where(sources.c.name.in_(set(names))))
            found = {row.name: row.version for row in rows}
        return {name: found.get(name, 0) for name in names}

    def newest_of_all(self, limit: int, offset: int = 0, since: datetime | None = None) -> list[Entry]:
        """The newest entries of every source, in one query over ``ix_entries_sort_at``: by sort_at,
        then first_seen, newest first; then source and identity (``limit`` of them after ``offset``).

        ``since``: only entries whose sort_at is not older (the oldest of a window read before).
        """
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must not be negative, got {limit} and {offset}")
        query = _NEWEST_OF_ALL if since is None else _NEWEST_OF_ALL_SINCE
        with self._read("newest of all") as conn:
            rows = conn.execute(query, {"limit": limit, "offset": offset, "since": since}).all()
        return [_entry_from(row) for row in rows]

    def outcomes(self) -> dict[str, bool]:
        """Every source ever attempted, with whether its latest refresh failed: one query, no entries read."""
        with self._read("outcomes") as conn:
            rows = conn.execute(_OUTCOMES).all()
        return {name: error is not None for name, error in rows}

    def entries_total(self) -> int:
        """How many entries the database holds, of every source (removed ones included)."""
        with self._read("entries total") as conn:
            return conn.scalar(_ENTRIES_TOTAL) or 0

    def state(self, source: str, count_entries: bool = True) -> SourceState:
        """The source's state; with ``count_entries=False`` (a refresh's checks: backoff, guard) its
        ``entries_stored`` is 0 and it costs two primary-key reads instead of counting the entries."""
        if count_entries:
            return self.states([source])[0]
        with self._read("state", source) as conn:
            row = conn.execute(_STATE_ROW, {"name": source}).one_or_none()
            health = conn.execute(_HEALTH_ROW, {"name": source}).one_or_none()
        return _with_health(_state(source, row, 0), health)

    def states(self, names: Sequence[str]) -> list[SourceState]:
        """One SourceState per name, in the order given; unknown names get the defaults."""
        if not names:
            return []
        wanted = sorted(set(names))
        with self._read("states", ", ".join(wanted)) as conn:
            rows = {row.name: row for row in conn.execute(select(sources).where(sources.c.name.in_(wanted)))}
            counted = select(entries.c.source, func.count()).where(entries.c.source.in_(wanted))
            counts: dict[str, int] = {name: n for name, n in conn.execute(counted.group_by(entries.c.source))}
            health = {
                row.name: row for row in conn.execute(select(source_health).where(source_health.c.name.in_(wanted)))
            }
        return [_with_health(_state(name, rows.get(name), counts.get(name, 0)), health.get(name)) for name in names]

    def due(self, now: datetime, limit: int = 10_000) -> list[str]:
        """Up to ``limit`` sources due at ``now`` (their ``next_due`` has passed) and held by no live
        lease, the longest overdue first: one query on the ``next_due`` index, whatever the number of sources."""
        with self._read("due") as conn:
            return list(conn.scalars(_DUE, {"b_now": now, "b_limit": limit}))

    def next_due_after(self, now: datetime) -> datetime | None:
        """The earliest ``next_due`` later than ``now`` (None when none is): when the scheduler must look again."""
        with self._read("next due") as conn:
            return conn.scalar(_NEXT_DUE_AFTER, {"b_now": now})

    def timings(self, names: Collection[str] | None = None) -> list[SourceState]:
        """Every stored source's state (or only those of ``names``) as the due rule reads it (attempts,
        failures, Retry-After, ``next_due``; no entry counts), in one query (one per ``_CHUNK`` names)."""
        with self._read("timings") as conn:
            if names is None:
                rows = conn.execute(_TIMINGS).all()
            else:
                wanted = sorted(names)
                rows = [
                    row
                    for start in range(0, len(wanted), _CHUNK)
                    for row in conn.execute(
                        _TIMINGS.where(sources.c.name.in_(wanted[start : start + _CHUNK]))
                    ).all()
                ]
        return [
            replace(_state(row.name, row, 0), retry_after_until=row.retry_after_until) for row in rows
        ]

    def schedule(self, due: Mapping[str, datetime | None]) -> None:
        """Set each named source's ``next_due`` (None: not scheduled), creating missing rows, in one transaction."""
        if not due:
            return
        with self._write("schedule", ", ".join(sorted(due)[:5])) as conn:
            _ensure_sources(conn, list(due))
            conn.execute(_SET_NEXT_DUE, [{"b_name": name, "b_due": when} for name, when in due.items()])

    def leases(self) -> dict[str, str]:
        """Who holds which source's lease (expired ones included): source name -> owner."""
        with self._read("leases") as conn:
            query = select(sources.c.name, sources.c.lease_owner).where(sources.c.lease_owner.is_not(None))
            return {row.name: row.lease_owner for row in conn.execute(query)}

    def lease(self, source: str) -> Lease | None:
        """Who holds the source's lease (perhaps expired), or None when it is free."""
        with self._read("lease", source) as conn:
            row = conn.execute(_LEASE, {"name": source}).one_or_none()
        return None if row is None or row.lease_owner is None else Lease(row.lease_owner, row.lease_until)

    def instances(self) -> dict[str, Instance]:
        """The registered instances by id, each with its heartbeat's age on the database's clock."""
        with self._read("instances") as conn:
            now = _database_now(conn)
            rows = conn.execute(select(instances)).all()
        return {
            row.id: Instance(row.id, row.host, row.pid, row.started_at, row.heartbeat_at, now - row.heartbeat_at)
            for row in rows
        }

    def ping(self) -> bool:
        """True when the database answers ``SELECT 1`` and its latest write did not fail for lack of space."""
        if self.write_error is not None:
            return False
        try:
            with self._engine.connect() as conn:
                return conn.scalar(text("SELECT 1")) == 1
        except SQLAlchemyError:
            return False

    # -- writes --------------------------------------------------------------------------------

    def apply(self, source: str, diff: Diff, status: SourceStatus, keep: int = 1000) -> None:
        """Record one refresh in one transaction: entries, listing, status, pruning, version.

        A failed status records only the status: it must come with an empty diff.
        Re-applying an entry that is already stored updates it (or does nothing if equal).
        """
        _check_apply(source, diff, status, keep)
        with self._write("apply", source) as conn:
            _ensure_source(conn, source)
            _record_status(conn, source, status)
            _record_health(conn, source, status)
            if not status.ok:
                return
            touched = _write_entries(conn, source, (*diff.new, *diff.changed))
            if status.read_icon:
                touched += _record_icon(conn, source, status.icon)
            if diff.listing is not None:
                _store_listing(conn, source, diff.listing)
            _touch_tombstones(conn, source, diff.listed_tombstones, status.attempted_at)
            touched += _prune(conn, source, keep, status.attempted_at)
            _prune_tombstones(conn, source, status.attempted_at)
            if touched:
                conn.execute(_BUMP_VERSION, {"b_name": source})
                if self._notify:
                    conn.execute(_NOTIFY, {"source": source})
        if status.ok:
            self.write_error = None  # a refresh was stored again: the database takes writes
        if touched:
            with self._changes_lock:
                self._changes += 1

    def claim(
        self,
        source: str,
        owner: str,
        now: datetime | Callable[[], datetime],
        lease: timedelta,
        due_if_not_since: datetime | None = None,
    ) -> bool:
        """Take the source's lease until ``now + lease`` if it is free, expired or already ``owner``'s.

        With ``due_if_not_since``, only when the source is also due: no refresh, by any instance,
        was attempted after that time. One conditional UPDATE: of several instances, one wins.
        ``now`` may be a clock, read once the write transaction has begun: a claim that waited for
        the database then still gets a whole lease, not one that expired while it waited.
        """
        with self._write("claim", source) as conn:
            if callable(now):
                now = now()
            params = {"b_name": source, "b_owner": owner, "b_now": now, "b_until": now + lease}
            _ensure_source(conn, source)
            if due_if_not_since is None:
                result = conn.execute(_CLAIM, params)
            else:
                result = conn.execute(_CLAIM_IF_DUE, params | {"b_due": due_if_not_since})
            return result.rowcount == 1

    def take_host_turn(
        self, host: str, holder: str, hold: timedelta, now: datetime | None = None, dead: str | None = None
    ) -> HostTurn:
        """Take ``host``'s turn for ``holder`` unless another holds it, in one short write transaction.

        A free turn (or one held past its ``held_until``, or by ``dead``: a holder the caller found
        dead) is taken: its slot is
        ``max(now, next_allowed)``, kept in ``next_allowed`` while the turn lasts, and the turn may
        be taken over ``hold`` after the slot. ``end_host_turn`` passes it on once the request was
        answered, so the next request is counted from that moment, not from a slot planned before.

        ``now`` is, unless given, the database's clock on PostgreSQL (``clock_timestamp()``, read
        once the host's row is locked, so instances whose clocks differ agree) and this machine's on
        SQLite (whose file only processes of one machine share). The caller waits ``HostTurn.wait``
        seconds: a duration, so its own clock's offset does not matter.
        """
        with self._write("take host turn", host) as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{HOST_LOCK_TIMEOUT}'")
            conn.execute(_ENSURE_HOST[conn.dialect.name], {"b_host": host, "b_never": _NEVER})
            row = conn.execute(_HOST_FOR_UPDATE, {"b_host": host}).one()
            current = now if now is not None else _database_now(conn)
            if row.holder not in (None, holder, dead) and row.held_until > current:
                return HostTurn(False, row.next_allowed, current, row.holder)
            slot = max(current, row.next_allowed)
            conn.execute(_TAKE_HOST, {"b_host": host, "b_slot": slot, "b_holder": holder, "b_until": slot + hold})
        return HostTurn(True, slot, current)

    def end_host_turn(self, host: str, holder: str, gap: timedelta, now: datetime | None = None) -> bool:
        """Pass ``host``'s turn on: the next request no sooner than ``gap`` from now (the clock as in
        ``take_host_turn``). False (and no change) when ``holder`` no longer has the turn."""
        with self._write("end host turn", host) as conn:
            current = now if now is not None else _database_now(conn)
            result = conn.execute(_END_HOST, {"b_host": host, "b_holder": holder, "b_next": current + gap})
            return result.rowcount == 1

    def beat(self, instance: str, host: str, pid: int) -> None:
        """Record that ``instance`` is alive, now on the database's clock (registering it when its row is missing)."""
        with self._write("heartbeat", instance) as conn:
            now = _database_now(conn)
            values = {"b_id": instance, "b_host": host, "b_pid": pid, "b_now": now}
            if conn.execute(_BEAT, values).rowcount == 0:
                conn.execute(_REGISTER, values)

    def forget_instance(self, instance: str) -> bool:
        """Delete the instance's row (a clean stop, or one found dead); False when there was none."""
        with self._write("forget instance", instance) as conn:
            return conn.execute(delete(instances).where(instances.c.id == instance)).rowcount == 1

    # -- sources defined in the database (feedsvc/store/defined.py) -----------------------

    def definitions(self) -> dict[str, dict[str, Any]]:
        """Every source kept in the database: name -> its ``[[sources]]`` table."""
        with self._read("definitions") as conn:
            return defined.all_definitions(conn)

    def definitions_stamp(self) -> tuple[int, datetime | None]:
        with self._read("definitions stamp") as conn:
            return defined.stamp(conn)

    def define(self, name: str, definition: dict[str, Any], now: datetime, *, create: bool) -> bool:
        """Add (``create``) or replace a source's definition; False when it exists (add) or not (replace)."""
        with self._write("define", name) as conn:
            if create:
                return defined.create(conn, name, definition, now)
            return defined.replace(conn, name, definition, now)

    def undefine(self, name: str) -> bool:
        """Forget a source's definition (its entries stay, as for a source removed from the config)."""
        with self._write("undefine", name) as conn:
            return defined.remove(conn, name)

    def release(self, source: str, owner: str) -> bool:
        """Give the lease back; False (and no change) when ``owner`` does not hold it."""
        with self._write("release", source) as conn:
            result = conn.execute(_RELEASE, {"b_name": source, "b_owner": owner})
            return result.rowcount == 1


# -- hot statements, built once: building a statement costs more than running it on SQLite ---------

# an entry's columns in Entry's field order: hot reads take rows as tuples (_entry_from), not by name
_ENTRY_COLUMNS = tuple(
    entries.c[name]
    for name in (
        "source", "identity", "title", "summary", "first_seen", "updated", "published", "date_evidence",
        "author", "link", "title_derived", "categories_json", "summary_html",
    )
)  # fmt: skip
_KNOWN_ENTRIES = select(*_ENTRY_COLUMNS).where(entries.c.source == bindparam("source"))
_KNOWN_LISTINGS = (
    select(listings.c.fetched_at, listings.c.items_json)
    .where(listings.c.source == bindparam("source"))
    .order_by(listings.c.fetched_at, listings.c.id)
)
_KNOWN_TOMBSTONES = select(tombstones.c.identity).where(tombstones.c.source == bindparam("source"))
_VALIDATORS = select(sources.c.etag, sources.c.last_modified).where(sources.c.name == bindparam("name"))
_VERSION = select(sources.c.version).where(sources.c.name == bindparam("name"))
_STATE_ROW = select(sources).where(sources.c.name == bindparam("name"))
_HEALTH_ROW = select(source_health).where(source_health.c.name == bindparam("name"))
_ICON = select(sources.c.icon).where(sources.c.name == bindparam("name"))
_CLAIM = (
    update(sources)
    .where(
        sources.c.name == bindparam("b_name"),
        or_(
            sources.c.lease_owner.is_(None),
            sources.c.lease_until < bindparam("b_now"),
            sources.c.lease_owner == bindparam("b_owner"),
        ),
    )
    .values(lease_owner=bindparam("b_owner"), lease_until=bindparam("b_until"))
)
_CLAIM_IF_DUE = _CLAIM.where(or_(sources.c.last_attempt.is_(None), sources.c.last_attempt <= bindparam("b_due")))
_RELEASE = (
    update(sources)
    .where(sources.c.name == bindparam("b_name"), sources.c.lease_owner == bindparam("b_owner"))
    .values(lease_owner=None, lease_until=None)
)
_LEASE = select(sources.c.lease_owner, sources.c.lease_until).where(sources.c.name == bindparam("name"))
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # a new host's next_allowed: it may be asked at once
_ENSURE_HOST = {
    "sqlite": sqlite.insert(hosts)
    .values(host=bindparam("b_host"), next_allowed=bindparam("b_never"))
    .on_conflict_do_nothing(index_elements=["host"]),
    "postgresql": postgresql.insert(hosts)
    .values(host=bindparam("b_host"), next_allowed=bindparam("b_never"))
    .on_conflict_do_nothing(index_elements=["host"]),
}
_HOST_FOR_UPDATE = (
    select(hosts.c.next_allowed, hosts.c.holder, hosts.c.held_until)
    .where(hosts.c.host == bindparam("b_host"))
    .with_for_update()
)
_TAKE_HOST = (
    update(hosts)
    .where(hosts.c.host == bindparam("b_host"))
    .values(next_allowed=bindparam("b_slot"), holder=bindparam("b_holder"), held_until=bindparam("b_until"))
)
_END_HOST = (
    update(hosts)
    .where(hosts.c.host == bindparam("b_host"), hosts.c.holder == bindparam("b_holder"))
    .values(next_allowed=bindparam("b_next"), holder=None, held_until=None)
)
_BEAT = update(instances).where(instances.c.id == bindparam("b_id")).values(heartbeat_at=bindparam("b_now"))
_REGISTER = insert(instances).values(
    id=bindparam("b_id"),
    host=bindparam("b_host"),
    pid=bindparam("b_pid"),
    started_at=bindparam("b_now"),
    heartbeat_at=bindparam("b_now"),
)
_DUE = (
    select(sources.c.name)
    .where(
        sources.c.next_due <= bindparam("b_now"),
        or_(sources.c.lease_until.is_(None), sources.c.lease_until < bindparam("b_now")),
    )
    .order_by(sources.c.next_due)
    .limit(bindparam("b_limit"))
)
_NEXT_DUE_AFTER = select(func.min(sources.c.next_due)).where(sources.c.next_due > bindparam("b_now"))
_TIMINGS = select(
    *(sources.c[name] for name in ("name", "last_attempt", "last_success", "last_error", "consecutive_failures")),
    *(sources.c[name] for name in ("posts_on_page", "version", "icon", "last_warning", "next_due")),
    sources.c.lease_owner,
    sources.c.lease_until,
    source_health.c.retry_after_until,
).select_from(sources.outerjoin(source_health, source_health.c.name == sources.c.name))
_SET_NEXT_DUE = update(sources).where(sources.c.name == bindparam("b_name")).values(next_due=bindparam("b_due"))
_NOTIFY = text(_watch.notify_statement())  # PostgreSQL: other processes' watches hear of the change at commit
_BUMP_VERSION = update(sources).where(sources.c.name == bindparam("b_name")).values(version=sources.c.version + 1)
_ENSURE_SOURCE = {
    "sqlite": sqlite.insert(sources).values(name=bindparam("b_name")).on_conflict_do_nothing(index_elements=["name"]),
    "postgresql": postgresql.insert(sources)
    .values(name=bindparam("b_name"))
    .on_conflict_do_nothing(index_elements=["name"]),
}

# -- apply, step by step ---------------------------------------------------------------------------


def _check_apply(source: str, diff: Diff, status: SourceStatus, keep: int) -> None:
    if keep < 0:
        raise ValueError(f"keep must not be negative, got {keep}")
    if not status.ok and (diff.new or diff.changed or diff.listing is not None):
        raise ValueError(f"apply {source!r}: a failed refresh must not carry entries or a listing")
    strangers = {entry.source for entry in (*diff.new, *diff.changed)} - {source}
    if strangers:
        raise ValueError(f"apply {source!r}: diff holds entries of other sources: {sorted(strangers)}")


def _ensure_source(conn: Connection, source: str) -> None:
    """Create the source's row if it is missing (without touching an existing one)."""
    dialect = conn.dialect.name
    if dialect in _ENSURE_SOURCE:
        conn.execute(_ENSURE_SOURCE[dialect], {"b_name": source})
    elif conn.scalar(select(sources.c.name).where(sources.c.name == source)) is None:
        conn.execute(insert(sources).values(name=source))


def _ensure_sources(conn: Connection, names: Sequence[str]) -> None:
    """Create the rows of the sources that have none, in one statement run for all of them."""
    statement = _ENSURE_SOURCE.get(conn.dialect.name)
    if statement is None:
        for name in names:
            _ensure_source(conn, name)
    else:
        conn.execute(statement, [{"b_name": name} for name in names])


def _record_status(conn: Connection, source: str, status: SourceStatus) -> None:
    params: dict[str, Any] = {"b_name": source, "last_attempt": status.attempted_at}
    if status.ok:
        params |= {
            "last_success": status.attempted_at,
            "last_error": None,
            "consecutive_failures": 0,
            "last_warning": status.warning,
        }
        if status.posts_on_page is not None:
            params["posts_on_page"] = status.posts_on_page
        if status.validators is not None:
            params |= {"etag": status.validators.etag, "last_modified": status.validators.last_modified}
    else:
        params["last_error"] = status.error or "refresh failed"
    if status.next_due is not None:
        params["next_due"] = status.next_due
    conn.execute(_status_update(tuple(params)), params)


_STATUS_UPDATES: dict[tuple[str, ...], Any] = {}  # by the columns set: a handful of shapes, each built once


def _status_update(columns: tuple[str, ...]) -> Any:
    statement = _STATUS_UPDATES.get(columns)
    if statement is None:
        values: dict[str, Any] = {name: bindparam(name) for name in columns if name != "b_name"}
        if "last_success" not in columns:  # a failure counts up
            values["consecutive_failures"] = sources.c.consecutive_failures + 1
        statement = update(sources).where(sources.c.name == bindparam("b_name")).values(values)
        _STATUS_UPDATES[columns] = statement
    return statement


def _record_icon(conn: Connection, source: str, icon: str | None) -> int:
    """Remember the icon the page names; 1 when it changed (the feeds show it: the version moves)."""
    return conn.execute(_RECORD_ICON, {"b_name": source, "b_icon": icon}).rowcount


_RECORD_ICON = (
    update(sources)
    .where(sources.c.name == bindparam("b_name"), sources.c.icon.is_distinct_from(bindparam("b_icon")))
    .values(icon=bindparam("b_icon"))
)


def _record_health(conn: Connection, source: str, status: SourceStatus) -> None:
    """The site's Retry-After, and the posts-on-page count of any page read (guarded ones too)."""
    row = conn.execute(_HEALTH_ROW, {"name": source}).one_or_none()
    if row is not None and status.posts_on_page is None and row.retry_after_until == status.retry_after:
        return  # nothing to record (a 304, or a failure without Retry-After, as before)
    recent: list[int] = [] if row is None else json.loads(row.recent_posts)
    if status.posts_on_page is not None:
        recent = [*recent, status.posts_on_page][-RECENT_POSTS_KEPT:]
    params = {"b_name": source, "b_retry": status.retry_after, "b_recent": json.dumps(recent)}
    conn.execute(_INSERT_HEALTH if row is None else _UPDATE_HEALTH, params)


_HEALTH_VALUES = {"retry_after_until": bindparam("b_retry"), "recent_posts": bindparam("b_recent")}
_INSERT_HEALTH = insert(source_health).values(name=bindparam("b_name"), **_HEALTH_VALUES)
_UPDATE_HEALTH = update(source_health).where(source_health.c.name == bindparam("b_name")).values(_HEALTH_VALUES)


def _write_entries(conn: Connection, source: str, given: Iterable[Entry]) -> int:
    """Insert entries not yet stored, replace stored ones that differ; return how many rows changed."""
    wanted = {entry.identity: entry for entry in given}  # a later duplicate wins
    stored = _stored_entries(conn, source, list(wanted))
    fresh = [_entry_row(entry) for identity, entry in wanted.items() if identity not in stored]
    replaced = [
        _update_params(_entry_row(entry))
        for identity, entry in wanted.items()
        if identity in stored and stored[identity] != entry
    ]
    if fresh:
        conn.execute(_INSERT_ENTRY, fresh)
    if replaced:
        conn.execute(_REPLACE_ENTRY, replaced)
    return len(fresh) + len(replaced)


def _stored_entries(conn: Connection, source: str, identities: list[str]) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for chunk in _chunks(identities):
        rows = conn.execute(_STORED_ENTRIES, {"source": source, "identities": list(chunk)})
        found |= {row[1]: _entry_from(row) for row in rows}
    return found


_REPLACE_ENTRY = update(entries).where(
    entries.c.source == bindparam("key_source"), entries.c.identity == bindparam("key_identity")
)


def _update_params(row: dict[str, Any]) -> dict[str, Any]:
    """An entry row as parameters of _REPLACE_ENTRY: the key columns become the WHERE parameters."""
    params = dict(row)
    params["key_source"] = params.pop("source")
    params["key_identity"] = params.pop("identity")
    return params


def _store_listing(conn: Connection, source: str, listing: Listing) -> None:
    """Remember the listing unless it equals the newest one stored; keep the newest LISTINGS_KEPT."""
    newest = conn.scalar(_NEWEST_LISTING, {"source": source})
    if newest is not None and _items_from_json(newest) == listing.items:
        return
    conn.execute(
        _INSERT_LISTING,
        {"source": source, "fetched_at": listing.fetched_at, "items_json": _items_to_json(listing.items)},
    )
    surplus = conn.scalars(_SURPLUS_LISTINGS, {"source": source}).all()
    for chunk in _chunks(surplus):
        conn.execute(_DELETE_LISTINGS, {"ids": list(chunk)})


def _prune(conn: Connection, source: str, keep: int, pruned_at: datetime) -> int:
    """Delete all but the newest ``keep`` entries, leaving tombstones; return how many went.

    At most MAX_PRUNED_PER_APPLY go at once: the rows one refresh writes stay bounded.
    """
    oldest = conn.scalars(_BEYOND_KEEP, {"source": source, "keep": keep, "most": MAX_PRUNED_PER_APPLY}).all()
    for chunk in _chunks(oldest):
        keys = {"source": source, "identities": list(chunk)}
        conn.execute(_DELETE_ENTRIES, keys)
        conn.execute(_DELETE_TOMBSTONES, keys)
        conn.execute(
            _INSERT_TOMBSTONE, [{"source": source, "identity": identity, "pruned_at": pruned_at} for identity in chunk]
        )
    return len(oldest)


_DELETE_LISTINGS = delete(listings).where(listings.c.id.in_(bindparam("ids", expanding=True)))
_DELETE_ENTRIES = delete(entries).where(
    entries.c.source == bindparam("source"), entries.c.identity.in_(bindparam("identities", expanding=True))
)
_DELETE_TOMBSTONES = delete(tombstones).where(
    tombstones.c.source == bindparam("source"), tombstones.c.identity.in_(bindparam("identities", expanding=True))
)
_INSERT_TOMBSTONE = insert(tombstones)


def _touch_tombstones(conn: Connection, source: str, identities: frozenset[str], seen_at: datetime) -> None:
    """Tombstones of posts the page still shows are renewed: the differ needs them not to re-ingest the posts."""
    for chunk in _chunks(sorted(identities)):
        conn.execute(
            update(tombstones)
            .where(tombstones.c.source == source, tombstones.c.identity.in_(chunk))
            .values(pruned_at=seen_at)
        )


def _prune_tombstones(conn: Connection, source: str, now: datetime) -> None:
    """Forget tombstones older than TOMBSTONE_MAX_AGE and beyond the newest TOMBSTONES_KEPT.

    A tombstone's time is when its post was pruned or last seen on the page, so those of posts the
    page still shows are the newest and stay (a page shows at most ``bounds.MAX_POSTS`` posts).
    """
    old = conn.scalars(_OLD_TOMBSTONES, {"source": source, "before": now - TOMBSTONE_MAX_AGE}).all()
    surplus = conn.scalars(_SURPLUS_TOMBSTONES, {"source": source}).all()
    for chunk in _chunks(sorted(set(old) | set(surplus))):
        conn.execute(_DELETE_TOMBSTONES, {"source": source, "identities": list(chunk)})


_OLD_TOMBSTONES = (
    select(tombstones.c.identity)
    .where(tombstones.c.source == bindparam("source"), tombstones.c.pruned_at < bindparam("before"))
    .limit(MAX_PRUNED_PER_APPLY)
)
_SURPLUS_TOMBSTONES = (
    select(tombstones.c.identity)
    .where(tombstones.c.source == bindparam("source"))
    .order_by(tombstones.c.pruned_at.desc(), tombstones.c.identity)
    .limit(MAX_PRUNED_PER_APPLY)
    .offset(TOMBSTONES_KEPT)
)


# -- rows <-> model --------------------------------------------------------------------------------


def _newest_first(query: Select[Any]) -> Select[Any]:
    return query.order_by(entries.c.sort_at.desc(), entries.c.first_seen.desc(), entries.c.identity)


_NEWEST = _newest_first(select(*_ENTRY_COLUMNS).where(entries.c.source == bindparam("source"))).limit(
    bindparam("limit")
)
_NEWEST_WITH_CONTENT = _newest_first(
    select(*_ENTRY_COLUMNS, entries.c.content).where(entries.c.source == bindparam("source"))
).limit(bindparam("limit"))
_CONTENTS = select(entries.c.identity, entries.c.content).where(
    entries.c.source == bindparam("source"),
    entries.c.identity.in_(bindparam("identities", expanding=True)),
    entries.c.content.is_not(None),
)
_WINDOW = (
    _newest_first(select(entries.c.identity).where(entries.c.source == bindparam("source")))
    .limit(bindparam("window"))
    .scalar_subquery()
)
_WANTING_CONTENT = (
    select(entries.c.identity, entries.c.link, entries.c.content_attempts)
    .where(
        entries.c.source == bindparam("source"),
        entries.c.identity.in_(_WINDOW),
        entries.c.link.is_not(None),
        or_(
            entries.c.content_state.is_(None),
            and_(entries.c.content_state.like("failed:%"), entries.c.content_attempts < bindparam("attempts")),
        ),
    )
    .order_by(entries.c.content_attempts, entries.c.sort_at.desc(), entries.c.first_seen.desc(), entries.c.identity)
    .limit(bindparam("limit"))
)
_FULL_TEXT_COUNTS = select(
    func.count().filter(entries.c.content_state == "ok"),
    func.count().filter(entries.c.content_state.like("failed:%")),
    func.count().filter(entries.c.content_state.like("skipped:%")),
).where(entries.c.source == bindparam("source"))
_LATEST_FAILURES = (
    select(
        entries.c.title,
        entries.c.link,
        entries.c.content_state,
        entries.c.content_tried_at,
        entries.c.content_attempts.label("attempts"),
    )
    .where(entries.c.source == bindparam("source"), entries.c.content_state.like("failed:%"))
    .order_by(entries.c.content_tried_at.desc(), entries.c.identity)
    .limit(bindparam("limit"))
)


def _content_update(source: str, identity: str, values: dict[str, Any]) -> Any:
    """The UPDATE recording one full-text attempt on an entry: ``values`` and one more attempt."""
    return (
        update(entries)
        .where(entries.c.source == source, entries.c.identity == identity)
        .values(**values, content_attempts=entries.c.content_attempts + 1)
    )


_NEWEST_OF_ALL = (
    select(*_ENTRY_COLUMNS)
    .order_by(entries.c.sort_at.desc(), entries.c.first_seen.desc(), entries.c.source, entries.c.identity)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_NEWEST_OF_ALL_SINCE = _NEWEST_OF_ALL.where(entries.c.sort_at >= bindparam("since"))
_OUTCOMES = select(sources.c.name, sources.c.last_error).where(sources.c.last_attempt.is_not(None))
_ENTRIES_TOTAL = select(func.count()).select_from(entries)
_BEYOND_KEEP = (
    _newest_first(select(entries.c.identity).where(entries.c.source == bindparam("source")))
    .limit(bindparam("most"))
    .offset(bindparam("keep"))
)
_STORED_ENTRIES = select(*_ENTRY_COLUMNS).where(
    entries.c.source == bindparam("source"), entries.c.identity.in_(bindparam("identities", expanding=True))
)
_INSERT_ENTRY = insert(entries)
_INSERT_LISTING = insert(listings)
_NEWEST_LISTING = (
    select(listings.c.items_json)
    .where(listings.c.source == bindparam("source"))
    .order_by(listings.c.fetched_at.desc(), listings.c.id.desc())
    .limit(1)
)
_SURPLUS_LISTINGS = (
    select(listings.c.id)
    .where(listings.c.source == bindparam("source"))
    .order_by(listings.c.fetched_at.desc(), listings.c.id.desc())
    .offset(LISTINGS_KEPT)
)


def _entry_row(entry: Entry) -> dict[str, Any]:
    return {
        "source": entry.source,
        "identity": entry.identity,
        "title": entry.title,
        "summary": entry.summary,
        "author": entry.author,
        "link": entry.link,
        "title_derived": entry.title_derived,
        "published": entry.published,
        "date_evidence": None if entry.date_evidence is None else entry.date_evidence.value,
        "first_seen": entry.first_seen,
        "updated": entry.updated,
        "sort_at": entry.published or entry.first_seen,
        "categories_json": json.dumps(list(entry.categories), ensure_ascii=False),
        "summary_html": entry.summary_html,
    }


def _entry_from(row: Sequence[Any], content: str | None = None) -> Entry:
    """An Entry from a row of ``_ENTRY_COLUMNS``, by position (the hot paths: newest entries, known)."""
    source, identity, title, summary, first_seen, updated, published, evidence, author, link, derived, tags, html = row
    return Entry(
        source,
        identity,
        title,
        summary,
        first_seen,
        updated,
        published,
        None if evidence is None else DateEvidence(evidence),
        author,
        link,
        bool(derived),
        () if tags is None or tags == "[]" else tuple(json.loads(tags)),
        bool(html),
        content,
    )


def _database_now(conn: Connection) -> datetime:
    """The database's clock on PostgreSQL (the same for every instance, wherever it runs); this machine's on SQLite."""
    if conn.dialect.name == "postgresql":
        return conn.scalar(text("SELECT clock_timestamp()")).astimezone(UTC)
    return datetime.now(UTC)


def _state(name: str, row: Row[Any] | None, stored: int) -> SourceState:
    if row is None:
        return SourceState(name=name, entries_stored=stored)
    return SourceState(
        name=name,
        last_attempt=row.last_attempt,
        last_success=row.last_success,
        last_error=row.last_error,
        consecutive_failures=row.consecutive_failures,
        posts_on_page=row.posts_on_page,
        entries_stored=stored,
        version=row.version,
        icon=row.icon,
        warning=row.last_warning,
        lease=None if row.lease_owner is None else Lease(row.lease_owner, row.lease_until),
        next_due=row.next_due,
    )


def _with_health(state: SourceState, row: Row[Any] | None) -> SourceState:
    if row is None:
        return state
    recent = tuple(int(n) for n in json.loads(row.recent_posts))
    return replace(state, retry_after_until=row.retry_after_until, recent_posts=recent)


def _items_to_json(items: Sequence[ListingItem]) -> str:
    return json.dumps(
        [{"identity": i.identity, "month": i.month, "day": i.day, "year": i.year} for i in items],
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _items_from_json(raw: str) -> tuple[ListingItem, ...]:
    return tuple(ListingItem(d["identity"], d["month"], d["day"], d["year"]) for d in json.loads(raw))


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
