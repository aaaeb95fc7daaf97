"""The database schema: SQLAlchemy Core tables and the ordered migrations that create them.

``MIGRATIONS[i]`` takes the schema from version ``i`` to ``i + 1``; ``schema_version`` records
each one applied. ``migrate(engine)`` applies the missing ones, in order, in one transaction.

A migration, once released, never changes what it does to a database. Migration 1 creates the
tables as defined below; every later migration only adds what is missing (with server defaults),
so a database made by any release ends with the same schema as a new one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    delete,
    false,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from feedsvc.differ import normalize
from feedsvc.errors import StoreError

WRITE_OPTION = "feedsvc_write"
"""Execution option marking a transaction that will write.

On SQLite the engine's ``begin`` hook starts such a transaction with ``BEGIN IMMEDIATE``, taking
the write lock up front instead of failing to upgrade a read lock later.
"""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    Binding a naive datetime is an error. SQLite keeps no zone, so what is read back is tagged UTC;
    PostgreSQL's ``timestamptz`` comes back in the session zone and is converted.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: the store keeps aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UTCDateTime(), nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("name", Text, primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_attempt", UTCDateTime()),
    Column("last_success", UTCDateTime()),
    Column("last_error", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("posts_on_page", Integer),
    Column("version", Integer, nullable=False, default=0),
    Column("lease_owner", Text),
    Column("lease_until", UTCDateTime()),
    Column("icon", Text),  # migration 2: the site's icon or logo URL
    Column("last_warning", Text),  # migration 4: what the latest successful refresh left out
    # migration 6: when the scheduler next refreshes the source (refresh/backoff.py's rule); None: not scheduled
    Column("next_due", UTCDateTime()),
    Index("ix_sources_next_due", "next_due"),
)

entries = Table(
    "entries",
    metadata,
    Column("source", Text, ForeignKey("sources.name", ondelete="CASCADE"), nullable=False),
    Column("identity", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("author", Text),
    Column("link", Text),
    Column("title_derived", Boolean, nullable=False, default=False),
    Column("published", UTCDateTime()),
    Column("date_evidence", Text),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("updated", UTCDateTime(), nullable=False),
    Column("sort_at", UTCDateTime(), nullable=False),  # published, else first_seen
    Column("categories_json", Text, nullable=False, server_default="[]"),  # migration 2: JSON list of strings
    Column("summary_html", Boolean, nullable=False, server_default=false()),  # migration 2
    # migration 6, full text (refresh/full_text.py): the main text of the entry's own page, as extracted
    # (HTML, sanitised when served); its state: NULL not tried, "ok", or "failed: <reason>"
    Column("content", Text),
    Column("content_state", Text),
    Column("content_attempts", Integer, nullable=False, server_default="0"),
    Column("content_tried_at", UTCDateTime()),
    PrimaryKeyConstraint("source", "identity"),
    Index("ix_entries_source_sort_at", "source", "sort_at"),
    Index("ix_entries_sort_at", "sort_at"),  # migration 7: the newest entries of all sources (all.atom)
)

tombstones = Table(
    "tombstones",
    metadata,
    Column("source", Text, ForeignKey("sources.name", ondelete="CASCADE"), nullable=False),
    Column("identity", Text, nullable=False),
    Column("pruned_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("source", "identity"),
)

listings = Table(
    "listings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", Text, ForeignKey("sources.name", ondelete="CASCADE"), nullable=False),
    Column("fetched_at", UTCDateTime(), nullable=False),
    # JSON: [{"identity", "month", "day", "year"}, ...]; not "items", which hides ColumnCollection.items
    Column("items_json", Text, nullable=False),
    Index("ix_listings_source_fetched_at", "source", "fetched_at"),
)


def _create_tables(conn: Connection) -> None:
    """Migration 1: sources, entries, tombstones, listings."""
    metadata.create_all(conn, tables=[sources, entries, tombstones, listings], checkfirst=False)


def _categories_html_summaries_and_icons(conn: Connection) -> None:
    """Migration 2: ``entries.categories_json``, ``entries.summary_html``, ``sources.icon``.

    Migration 1 creates the tables as defined above, these columns included; a database made
    before them gets them here. Adding only what is missing keeps this step self-contained.
    """
    added = (
        ("entries", "categories_json", "TEXT NOT NULL DEFAULT '[]'"),
        ("entries", "summary_html", "BOOLEAN NOT NULL DEFAULT FALSE"),
        ("sources", "icon", "TEXT"),
    )
    inspector = inspect(conn)
    for table, column, definition in added:
        if column not in {c["name"] for c in inspector.get_columns(table)}:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


source_health = Table(
    "source_health",
    metadata,
    Column("name", Text, ForeignKey("sources.name", ondelete="CASCADE"), primary_key=True),
    Column("retry_after_until", UTCDateTime()),  # the site asked (Retry-After) not to be polled before
    Column("recent_posts", Text, nullable=False, default="[]"),  # JSON: posts on the latest pages, oldest first
)


def _create_source_health(conn: Connection) -> None:
    """Migration: source_health, what failure backoff and the layout-change guard remember per source."""
    metadata.create_all(conn, tables=[source_health], checkfirst=True)


def _warnings_and_invisible_title_duplicates(conn: Connection) -> None:
    """Migration 4: ``sources.last_warning``; entries that differ only by invisible title characters merged.

    Titles used to be compared with control and format characters kept and U+2028/U+2029/U+0085
    not taken as white space, so a page repeating a post with such characters in its title
    stored it twice. Entries of one source without a link whose titles are equal under today's
    ``differ.normalize`` and whose publication instants are equal are one post: the one first
    seen stays (the clean title preferred), the others become tombstones.
    """
    if "last_warning" not in {c["name"] for c in inspect(conn).get_columns("sources")}:
        conn.exec_driver_sql("ALTER TABLE sources ADD COLUMN last_warning TEXT")
    rows = conn.execute(
        select(entries.c.source, entries.c.identity, entries.c.title, entries.c.published, entries.c.first_seen)
        .where(entries.c.link.is_(None))
        .order_by(entries.c.source, entries.c.first_seen, entries.c.identity)
    ).all()
    groups: dict[tuple[str, str, object], list[Any]] = {}
    for row in rows:
        groups.setdefault((row.source, normalize(row.title), row.published), []).append(row)
    now = datetime.now(UTC)
    for (source, _, _), members in groups.items():
        if len(members) < 2:
            continue
        members.sort(key=lambda r: (r.title != " ".join(r.title.split()) or _has_invisible(r.title), r.first_seen))
        for row in members[1:]:
            conn.execute(delete(entries).where(entries.c.source == source, entries.c.identity == row.identity))
            conn.execute(delete(tombstones).where(tombstones.c.source == source, tombstones.c.identity == row.identity))
            conn.execute(insert(tombstones).values(source=source, identity=row.identity, pruned_at=now))


def _has_invisible(title: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in title)


# sources added from the browser, the API or `feedsvc sources import` (the config file's are not here)
defined_sources = Table(
    "defined_sources",
    metadata,
    Column("name", Text, primary_key=True),
    Column("definition_json", Text, nullable=False),  # JSON: the source's [[sources]] table, as in the config
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)


def _create_defined_sources(conn: Connection) -> None:
    """Migration 5: defined_sources, the sources kept in the database beside the config file's."""
    metadata.create_all(conn, tables=[defined_sources], checkfirst=True)


FULL_TEXT_COLUMNS = ("content", "content_state", "content_attempts", "content_tried_at")


def _full_text_columns(conn: Connection) -> None:
    """Migration 6: ``entries.content``, ``content_state``, ``content_attempts``, ``content_tried_at``.

    Each column as the table above defines it, in the database's own type names; only the missing ones.
    """
    present = {c["name"] for c in inspect(conn).get_columns("entries")}
    for name in FULL_TEXT_COLUMNS:
        if name in present:
            continue
        column = entries.c[name]
        definition = column.type.compile(dialect=conn.dialect)
        if column.server_default is not None:
            definition += f" NOT NULL DEFAULT {column.server_default.arg}"  # type: ignore[attr-defined]
        conn.exec_driver_sql(f"ALTER TABLE entries ADD COLUMN {name} {definition}")
def _index_entries_by_sort_at(conn: Connection) -> None:
    """Migration 7: ``ix_entries_sort_at``, so the combined feed reads the newest entries of all sources
    in one index scan instead of one query per source."""
    (index,) = [index for index in entries.indexes if index.name == "ix_entries_sort_at"]
    index.create(conn, checkfirst=True)


# each host's turn, passed between every instance's requests: ``Store.take_host_turn`` / ``end_host_turn``
hosts = Table(
    "hosts",
    metadata,
    Column("host", Text, primary_key=True),  # the lower-case hostname, as ``refresh/politeness.py`` names it
    Column("next_allowed", UTCDateTime(), nullable=False),  # free: the next request's earliest time; taken: its slot
    Column("holder", Text),  # who has the turn (its request is under way), or NULL
    Column("held_until", UTCDateTime()),  # when a turn never ended (its holder died) may be taken anyway
)

# the running instances: each registers at start, beats every ``heartbeat``, deletes its row at a clean stop
instances = Table(
    "instances",
    metadata,
    Column("id", Text, primary_key=True),  # random per process: survives neither a restart nor PID reuse
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
)


def _create_hosts_and_instances(conn: Connection) -> None:
    """Migration 8: hosts (the host gap across instances) and instances (who is alive, for leases)."""
    metadata.create_all(conn, tables=[hosts, instances], checkfirst=True)


def _next_due(conn: Connection) -> None:
    """Migration 9: ``sources.next_due`` and its index, so the scheduler finds due sources in one query.

    Left empty here: the scheduler fills it for the configured sources when it starts.
    """
    if "next_due" not in {c["name"] for c in inspect(conn).get_columns("sources")}:
        column = UTCDateTime().compile(dialect=conn.dialect)
        conn.exec_driver_sql(f"ALTER TABLE sources ADD COLUMN next_due {column}")
    if "ix_sources_next_due" not in {index["name"] for index in inspect(conn).get_indexes("sources")}:
        conn.exec_driver_sql("CREATE INDEX ix_sources_next_due ON sources (next_due)")


Migration = Callable[[Connection], None]

MIGRATIONS: list[Migration] = [
    _create_tables,
    _categories_html_summaries_and_icons,
    _create_source_health,
    _warnings_and_invisible_title_duplicates,
    _create_defined_sources,
    _full_text_columns,
    _index_entries_by_sort_at,
    _create_hosts_and_instances,
    _next_due,
]


def migrate(engine: Engine, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the migrations the database lacks, in order, in one transaction; return the schema version."""
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        _lock_for_migration(conn)
        schema_version.create(conn, checkfirst=True)
        current = current_version(conn)
        if current > len(migrations):
            known = len(migrations)
            raise StoreError(f"migrate: database schema version {current} is newer than this feedsvc ({known})")
        for number, step in enumerate(migrations[current:], start=current + 1):
            step(conn)
            conn.execute(insert(schema_version).values(version=number, applied_at=datetime.now(UTC)))
    return len(migrations)


MIGRATION_LOCK = 0x66656564737663  # "feedsvc": the PostgreSQL advisory lock key held while migrating


def _lock_for_migration(conn: Connection) -> None:
    """Serialise instances starting at once: the first migrates, the others wait and find nothing to do.

    On PostgreSQL a transaction-scoped advisory lock (released at commit or rollback); on SQLite
    the ``BEGIN IMMEDIATE`` of the write transaction already holds the database's write lock.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def current_version(conn: Connection) -> int:
    """The highest migration recorded in ``schema_version`` (0 for a new database)."""
    return conn.scalar(select(func.max(schema_version.c.version))) or 0
