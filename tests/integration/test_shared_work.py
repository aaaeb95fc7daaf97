"""``refresh.run_if_due``: several instances (owners) on one real database refresh a source once per interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from feedsvc import refresh
from feedsvc.config import Source
from feedsvc.store import Store
from tests.postgres import BACKENDS, PostgresServer, database_url
from tests.support import SEEDS, snapshot_server

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
INSTANCES = ("host-a:1:aaaa", "host-b:2:bbbb", "host-c:3:cccc")


@pytest.mark.parametrize("backend", BACKENDS)
def test_instances_checking_in_turn_fetch_once_per_interval(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    url = database_url(request, backend, tmp_path / "feedsvc.db")
    stores = [Store(url) for _ in INSTANCES]
    try:
        with snapshot_server() as site:
            site.serve(SEEDS[0].read_bytes())
            source = Source(name="kexue", title="kexue", url=site.url, interval=timedelta(minutes=30))
            ran_at = []
            for step in range(36):  # 3 hours = 6 intervals; each instance checks every 5 minutes
                now = START + timedelta(minutes=5 * step)
                for store, owner in zip(stores, INSTANCES, strict=True):
                    result = refresh.run_if_due(store, source, now, owner)
                    if result is not None:
                        assert result.ok, result.error
                        ran_at.append(now)
            assert ran_at == [START + k * source.interval for k in range(6)]
            assert site.requests == 6
            assert stores[2].state("kexue").last_success == START + 5 * source.interval
    finally:
        for store in stores:
            store.close()


def test_an_unreachable_database_is_logged_not_raised_to_the_scheduler(
    postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = postgres.new_database_url()
    name = url.rsplit("/", 1)[1]
    with Store(url) as store, snapshot_server() as site:
        site.serve(SEEDS[0].read_bytes())
        source = Source(name="kexue", title="kexue", url=site.url)
        with psycopg.connect(postgres.url().replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        assert refresh.run_if_due(store, source, START, INSTANCES[0]) is None
    assert site.requests == 0
    assert "cannot check whether kexue is due: store claim 'kexue'" in caplog.text
