"""Session-wide real parts: a throwaway PostgreSQL cluster, started only when a test asks for it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.postgres import PostgresMissing, PostgresServer, throwaway_cluster


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of our own; skipped without the binaries, except under CI where that fails."""
    with ExitStack() as stack:
        try:
            server = stack.enter_context(throwaway_cluster())
        except PostgresMissing as exc:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"CI must run the PostgreSQL tests: {exc}")
            pytest.skip(f"PostgreSQL tests skipped: {exc}")
        yield server
