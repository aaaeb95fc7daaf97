"""Several real ``feedsvc`` processes on one database: shared work, identical feeds, takeover, roles.

Run on SQLite and on the test PostgreSQL cluster. The seeds are served one after another by a
local HTTP server that records every request; ``-s`` prints the figures measured.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from feedsvc.store.schema import sources
from feedsvc.store.store import make_engine
from tests.atom_checks import assert_valid_atom, parse_feed
from tests.e2e.test_service import distinct_posts
from tests.postgres import BACKENDS, database_url
from tests.support import (
    ROOT,
    SEEDS,
    TOKEN,
    RecordingSite,
    Service,
    free_port,
    http,
    recording_site,
    running_service,
    wait_for,
)

INTERVAL = 2.0  # seconds, each source's
LEASE = 3.0  # seconds, longer than each source's timeout (2 s)
NAMES = ("alpha", "beta", "gamma")
PUBLIC_URL = "https://feeds.example.test"  # every instance sits behind the same proxy


def write_instance_config(directory: Path, db_url: str, site: RecordingSite) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    blocks = "".join(
        f"""
[[sources]]
name = "{name}"
url = "{site.url}/{name}"
interval = "{INTERVAL:g}s"
timeout = 2
timezone = "Asia/Shanghai"
language = "zh-CN"
"""
        for name in NAMES
    )
    path = directory / "feedsvc.toml"
    path.write_text(
        f"""
[service]
bind = "127.0.0.1:{port}"
database_url = "{db_url}"
base_url = "{PUBLIC_URL}"
refresh_token_env = "FEEDSVC_TEST_TOKEN"
lease = "{LEASE:g}s"
min_interval = "1s"
# waitress: these tests find the killed instance by its lease owner's pid and read its "web only"
# start line, both of the serving process itself; under granian the refreshing process is the worker
server = "waitress"
{blocks}""",
        encoding="utf-8",
    )
    return path


def lease_of(db_url: str, name: str) -> tuple[str | None, datetime | None]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(sources.c.lease_owner, sources.c.lease_until).where(sources.c.name == name)).one()
    finally:
        engine.dispose()
    return row.lease_owner, row.lease_until


def feeds_of(services: list[Service], name: str) -> list[tuple[bytes, str]]:
    answers = [http("GET", f"{s.base_url}/feeds/{name}.atom") for s in services]
    assert all(a.status == 200 for a in answers)
    return [(a.body, a.headers["ETag"]) for a in answers]


def entry_ids(body: bytes) -> list[str]:
    return [entry.id for entry in parse_feed(body).entries]


@pytest.mark.parametrize("backend", BACKENDS)
def test_three_instances_share_the_work_serve_the_same_feeds_and_take_over(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    db_url = database_url(request, backend, tmp_path / "shared.sqlite3")
    expected = len(distinct_posts())
    with recording_site(hold_for=30) as site, ExitStack() as stack:
        services = [
            stack.enter_context(
                running_service(write_instance_config(tmp_path / f"i{n}", db_url, site), tmp_path / f"i{n}")
            )
            for n in range(3)
        ]

        # The seeds one after another: the next as soon as every source has fetched this one.
        for seed in range(len(SEEDS)):
            with site.lock:
                site.seed = seed
            wait_for(lambda seed=seed: all(site.fetched(n, seed) for n in NAMES), f"every source to fetch seed {seed}")
        for name in NAMES:
            wait_for(lambda name=name: len(entry_ids(feeds_of(services, name)[0][0])) == expected, f"{name}'s feed")
        ended = time.time()

        for name in NAMES:
            copies = feeds_of(services, name)
            assert len(set(copies)) == 1, f"instances serve different bytes or ETags for {name}"
            body = copies[0][0]
            assert_valid_atom(body)
            ids = entry_ids(body)
            assert len(ids) == len(set(ids)) == expected

        # Once per interval in total: fetch times are at least an interval apart (less the time a job
        # takes from its check to the request), so n fetches span at least (n - 1) intervals.
        for name in NAMES:
            times = [f.at for f in site.of(name) if f.at <= ended]
            gaps = [b - a for a, b in itertools.pairwise(times)]
            span = times[-1] - times[0]
            print(
                f"\n[{backend}] {name}: {len(times)} fetches by 3 instances, {len(SEEDS)} seeds, "
                f"{span:.1f} s from first to last = {span / INTERVAL:.2f} intervals of {INTERVAL:g} s: "
                f"{(len(times) - 1) / (span / INTERVAL):.2f} fetches per interval; min gap {min(gaps):.2f} s"
            )
            assert len(times) - 1 <= span / INTERVAL + 0.5, f"{name} fetched more than once per interval"
            assert min(gaps) >= INTERVAL / 2, f"{name} fetched twice within one interval"

        # Kill the instance that is fetching alpha, mid-refresh; another frees its lease and takes alpha over.
        before = {name: feeds_of(services[:1], name)[0] for name in NAMES}
        with site.lock:
            site.hold = "alpha"
        site.held.wait(timeout=3 * INTERVAL)
        assert site.held.is_set(), "nobody fetched alpha"
        owner, lease_until = lease_of(db_url, "alpha")
        assert owner is not None and lease_until is not None
        pid = int(owner.split(":")[1])
        (victim,) = [s for s in services if s.process.pid == pid]
        fetches_before_kill = len(site.of("alpha"))
        victim.process.send_signal(signal.SIGKILL)
        killed_at = time.time()
        victim.process.wait(timeout=10)
        site.release.set()
        survivors = [s for s in services if s is not victim]
        refreshes_before = sum(s.log().count("refresh source=alpha ") for s in survivors)

        wait_for(lambda: len(site.of("alpha")) > fetches_before_kill, "another instance to fetch alpha", 30)
        taken_over = site.of("alpha")[fetches_before_kill].at
        print(
            f"[{backend}] takeover: alpha fetched again {taken_over - killed_at:.2f} s after the kill "
            f"(lease {LEASE:g} s, {lease_until.timestamp() - killed_at:.2f} s of it left at the kill)"
        )
        # its process is gone: the next check frees its lease (refresh/instances.py) unless the lease ran out first
        freed = any(f"freed the lease on alpha held by {owner}" in s.log() for s in survivors)
        assert freed or taken_over >= lease_until.timestamp(), "alpha was taken while a live lease ran"
        wait_for(lambda: lease_of(db_url, "alpha")[0] is None, "the new refresh of alpha to finish")
        assert sum(s.log().count("refresh source=alpha outcome=ok") for s in survivors) > refreshes_before

        for name in NAMES:
            copies = feeds_of(survivors, name)
            assert copies == [before[name]] * 2, f"{name}'s feed changed or differs after the kill"
        assert all(s.process.poll() is None for s in survivors)


def test_web_only_and_worker_roles_split_the_work(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    with recording_site(hold_for=30) as site:
        web_config = write_instance_config(tmp_path / "web", db_url, site)
        worker_config = write_instance_config(tmp_path / "worker", db_url, site)
        worker_log = tmp_path / "worker.log"
        env = {**os.environ, "FEEDSVC_TEST_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
        with (
            running_service(web_config, web_config.parent, ("--no-scheduler",)) as web,
            worker_log.open("wb") as log,
        ):
            worker = subprocess.Popen(
                [sys.executable, "-m", "feedsvc", "--config", str(worker_config), "worker"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=ROOT,
            )
            try:
                wait_for(lambda: all(entry_ids(feeds_of([web], name)[0][0]) for name in NAMES), "the worker's entries")
            finally:
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(timeout=20) == 0
            assert web.process.poll() is None
        assert "web only" in web.log() and "refresh source=" not in web.log()
        logged = worker_log.read_text(encoding="utf-8")
        assert "refresh source=alpha outcome=ok" in logged and "stopped" in logged
