"""Has the store changed? A generation number that moves whenever feeds may render differently.

    watch = store.watch()          one per Store, made on first use, closed with the store
    watch.generation() -> int      equal to an earlier answer: no entries changed in between

Readers that keep something derived from the store (the web fast path keeps rendered feeds)
compare generations instead of asking the database on every request. The number moves:

- at once, after this process's own writes (``Store.changes``: ``apply`` and ``set_icon``);
- for writes of other processes (another instance, ``feedsvc worker``, ``feedsvc refresh``),
  through the database's own mechanism:

  PostgreSQL  ``LISTEN feedsvc_changes`` on a connection of its own, in a listener thread;
              ``Store.apply`` sends ``NOTIFY`` in its transaction when a source's entries change
              (delivered at commit). While the listener is not connected (starting, or the
              connection was lost), every call answers a new number: readers ask the database
              each time, as if there were no watch, until it listens again.
  SQLite      ``PRAGMA data_version`` on a connection of its own, read at most every
              ``SQLITE_CHECK_EVERY`` seconds, by whichever caller comes first (no thread): it moves
              when any other connection committed. An idle service reads it on its next request.
  others      no mechanism: every call answers a new number.

A generation is a coarse signal ("something changed"), never which source: a reader revalidates
what it keeps with one cheap version query per feed, which re-renders only the feeds whose
version moved.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("feedsvc.store.watch")

CHANNEL = "feedsvc_changes"
SQLITE_CHECK_EVERY = 0.005  # seconds: how stale another process's commit may be served, at most
LISTEN_WAKEUP = 0.25  # seconds: how often the listener looks up from waiting, to see if it should stop
RECONNECT_AFTER = (0.1, 0.5, 1.0, 2.0, 5.0)  # seconds between the listener's attempts to connect again


class Watch:
    """The base: only this process's writes; other processes' are unknown, so every call is new."""

    def __init__(self, local: Callable[[], int]) -> None:
        self._local = local
        self._unknown = itertools.count(-1, -1)  # never equal to a number answered before

    def generation(self) -> int:
        return next(self._unknown)

    @property
    def listening(self) -> bool:
        """True when changes by other processes move the generation (not every call)."""
        return False

    def close(self) -> None:
        pass


class LocalWatch(Watch):
    """A database no other process can write (SQLite in memory): this process's writes are all there is."""

    def generation(self) -> int:
        return self._local()

    @property
    def listening(self) -> bool:
        return True


class SqliteWatch(Watch):
    """``PRAGMA data_version`` of a dedicated connection, read at most every ``every`` seconds."""

    def __init__(self, local: Callable[[], int], path: str, uri: bool = False, every: float = SQLITE_CHECK_EVERY):
        super().__init__(local)
        self._conn = sqlite3.connect(path, uri=uri, isolation_level=None, check_same_thread=False)
        self._every = every
        self._lock = threading.Lock()
        self._version = self._read()
        self._remote = 0  # how many times the data version moved
        self._next_check = time.monotonic() + every

    def _read(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def generation(self) -> int:
        if time.monotonic() >= self._next_check and self._lock.acquire(blocking=False):
            try:
                version = self._read()
                if version != self._version:
                    self._version = version
                    self._remote += 1
                self._next_check = time.monotonic() + self._every
            except sqlite3.Error as exc:  # the file went away or is locked oddly: ask the database each time
                log.warning("PRAGMA data_version failed: %s", exc)
                self._lock.release()
                return next(self._unknown)
            self._lock.release()
        return self._local() + self._remote  # both only grow: the sum moves when either does

    @property
    def listening(self) -> bool:
        return True

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresWatch(Watch):
    """A listener thread on a connection of its own: every ``NOTIFY feedsvc_changes`` moves the generation."""

    def __init__(self, local: Callable[[], int], conninfo: str, connect: Callable[[str], Any] | None = None) -> None:
        super().__init__(local)
        self._conninfo = conninfo
        self._connect = connect or _psycopg_connect
        self._remote = 0  # written by the listener thread only
        self._listening = threading.Event()
        self._stopping = threading.Event()
        self._conn: Any = None
        self._thread = threading.Thread(target=self._listen, name="feedsvc-store-watch", daemon=True)
        self._thread.start()

    def generation(self) -> int:
        if not self._listening.is_set():
            return next(self._unknown)
        return self._local() + self._remote

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    def wait_listening(self, timeout: float) -> bool:
        """Wait until the listener listens (tests, and a start-up that wants it before serving)."""
        return self._listening.wait(timeout)

    def _listen(self) -> None:
        delays = iter(RECONNECT_AFTER)
        while not self._stopping.is_set():
            try:
                self._conn = self._connect(self._conninfo)
                self._conn.execute(f"LISTEN {CHANNEL}")
                self._remote += 1  # whatever happened while not listening is unknown: revalidate once
                self._listening.set()
                delays = iter(RECONNECT_AFTER)
                while not self._stopping.is_set():
                    for _ in self._conn.notifies(timeout=LISTEN_WAKEUP):
                        self._remote += 1
            except Exception as exc:  # any failure: not listening; try again
                self._listening.clear()
                if not self._stopping.is_set():
                    log.warning("store watch: not listening for changes (%s); readers ask the database", exc)
            finally:
                self._listening.clear()
                conn, self._conn = self._conn, None
                if conn is not None:
                    with contextlib.suppress(Exception):  # closing a broken connection
                        conn.close()
            self._stopping.wait(next(delays, RECONNECT_AFTER[-1]))

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)


def _psycopg_connect(conninfo: str) -> Any:
    import psycopg

    return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)


def notify_statement() -> str:
    """The SQL that ``Store.apply`` runs (PostgreSQL only) when a source's entries changed."""
    return f"SELECT pg_notify('{CHANNEL}', :source)"


def for_url(url: Any, local: Callable[[], int]) -> Watch:
    """The watch for a database URL (a SQLAlchemy ``URL``); ``local`` counts this process's changes."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or "mode=memory" in database:
            return LocalWatch(local)
        return SqliteWatch(local, database, uri=database.startswith("file:"))
    if backend == "postgresql":
        return PostgresWatch(local, url.set(drivername="postgresql").render_as_string(hide_password=False))
    return Watch(local)
