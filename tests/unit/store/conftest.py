"""The store tests' database: a fresh one per test, on each backend (an SQLite file, a database on the
test PostgreSQL cluster)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc.store import Store
from tests.postgres import BACKENDS, database_url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database per test, on each backend; the SQLite file in folders that do not exist yet."""
    return database_url(request, request.param, tmp_path / "data" / "nested" / "feedsvc.sqlite3")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store(db_url) as opened:
        yield opened
