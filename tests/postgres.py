"""A throwaway PostgreSQL cluster for the tests: ``initdb`` into a temp dir, ``pg_ctl start`` on a free port.

The server binaries come from Debian's ``postgresql`` package (``/usr/lib/postgresql/<major>/bin``)
or from ``PATH``. initdb refuses to run as root, so under root the cluster runs as the ``postgres``
user, in a temp dir that user owns. Each test that wants a database gets a fresh one
(``new_database_url``); the whole cluster is stopped and deleted at the end of the session.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import free_port

SUPERUSER = "postgres"
# Durability is worthless for a cluster deleted after the tests; these settings make it fast.
_FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


@dataclass(frozen=True)
class PostgresServer:
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database_url(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def binaries() -> Path:
    """The directory holding initdb and pg_ctl; PostgresMissing when there is none."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: _major(p.parent.parent.name))
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    raise PostgresMissing("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")


@contextmanager
def throwaway_cluster() -> Iterator[PostgresServer]:
    bin_dir = binaries()
    as_user = _unprivileged_prefix()
    workdir = Path(tempfile.mkdtemp(prefix="feedsvc-pg-"))
    if as_user:
        shutil.chown(workdir, SUPERUSER, SUPERUSER)
    data = workdir / "data"
    port = free_port()
    try:
        _run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8"])
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' {_FAST}"
        pg_ctl = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data)]
        _run([*pg_ctl, "-l", str(workdir / "log"), "-o", options, "-w", "-t", "60", "start"])
        try:
            yield PostgresServer(port)
        finally:
            _run([*pg_ctl, "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _unprivileged_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PostgresMissing(f"running as root and there is no {SUPERUSER!r} user to run initdb as") from None
    return ["runuser", "-u", SUPERUSER, "--"]


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd="/")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _major(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


BACKENDS = ("sqlite", "postgresql")


def database_url(request: pytest.FixtureRequest, backend: str, sqlite_path: Path) -> str:
    """A fresh, empty database of ``backend`` for one test (PostgreSQL: on the session's cluster)."""
    if backend == "sqlite":
        return f"sqlite:///{sqlite_path}"
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")
        return server.new_database_url()
    raise ValueError(f"unknown backend {backend!r}")
