"""``refresh.run_if_due``: several instances (owners) on one real database refresh a source once per interval."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import psycopg
import pytest

from feedsvc import refresh
from feedsvc.config import Source
from feedsvc.store import Store
from tests.postgres import BACKENDS, PostgresServer, database_url
from tests.support import SEEDS, local_http, snapshot_server

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
    assert "cannot check whether kexue is due: store " in caplog.text and "'kexue'" in caplog.text


@dataclass
class SlowSite:
    url: str
    arrived: threading.Event
    release: threading.Event


@contextmanager
def slow_site() -> Iterator[SlowSite]:
    """Answers each request with the first seed, but only once ``release`` is set."""
    site = SlowSite("", threading.Event(), threading.Event())

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.arrived.set()
            site.release.wait(timeout=30)
            body = SEEDS[0].read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with local_http(Slow) as base:
        site.url = f"{base}/"
        try:
            yield site
        finally:
            site.release.set()


def test_two_runs_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    """The scheduler's run and a manual one in the same process: the second finds the source busy."""
    with slow_site() as site, Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as store, ThreadPoolExecutor(1) as pool:
        source = Source(name="kexue", title="kexue", url=site.url)
        scheduled = pool.submit(refresh.run_if_due, store, source, START)
        assert site.arrived.wait(timeout=20)
        manual = refresh.run(store, source, START)
        site.release.set()
        assert manual.busy and not manual.ok
        first = scheduled.result(timeout=20)
        assert first is not None and first.ok and first.new > 0


def test_a_refresh_longer_than_its_lease_keeps_the_source_until_it_ends(tmp_path: Path) -> None:
    lease = timedelta(seconds=3)
    with slow_site() as site, Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as store, ThreadPoolExecutor(1) as pool:
        source = Source(name="kexue", title="kexue", url=site.url, timeout=30, lease=lease)
        started = datetime.now(UTC)
        running = pool.submit(refresh.run, store, source, started)
        assert site.arrived.wait(timeout=20)
        attempts = 0
        while datetime.now(UTC) < started + lease + timedelta(seconds=2):  # past the first lease's end
            assert not store.claim(source.name, "another-instance", datetime.now(UTC), lease)
            attempts += 1
            time.sleep(0.2)
        site.release.set()
        assert running.result(timeout=20).ok
        assert attempts > 5
        assert store.claim(source.name, "another-instance", datetime.now(UTC), lease)  # released at the end
