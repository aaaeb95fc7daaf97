"""Real ``feedsvc serve`` processes sharing one database: the host gap holds across them, and a
dead instance's lease is freed within the heartbeat bound while a live one's is never taken.

The local site (``tests.support.recording_site``) records when each request arrived
(``time.monotonic()`` in its handler, one clock for every instance's requests); ``-s`` prints the figures measured.
"""

from __future__ import annotations

import itertools
import os
import signal
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from feedsvc.refresh.instances import MISSED_BEATS
from tests.postgres import BACKENDS, database_url
from tests.support import ROOT, RecordingSite, Service, free_port, http, recording_site, running_service, wait_for

HOST_GAP = 0.3  # seconds
# An instance ends its turn at a host once the site has answered, after the site stamped the request:
# the next stamp comes at least host_gap later by construction. The tolerance covers only the two
# clocks' granularity (the database's microseconds, the sleep's rounding), not any scheduling delay.
STAMP_TOLERANCE = 0.010
HEARTBEAT = 0.5  # seconds: an instance silent for MISSED_BEATS of them is dead
LEASE = 60.0  # seconds: far longer than any wait here, so a takeover is never a lease that ran out


def write_config(
    directory: Path, db_url: str, site: RecordingSite, names: list[str], interval: str, timeout: int
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    blocks = "".join(
        f'\n[[sources]]\nname = "{name}"\nurl = "{site.url}/{name}"\ninterval = "{interval}"\ntimeout = {timeout}\n'
        for name in names
    )
    path = directory / "feedsvc.toml"
    path.write_text(
        f"""
[service]
bind = "127.0.0.1:{free_port()}"
database_url = "{db_url}"
refresh_token_env = "FEEDSVC_TEST_TOKEN"
server = "waitress"
min_interval = "1s"
host_gap = "{int(HOST_GAP * 1000)}ms"
heartbeat = "{int(HEARTBEAT * 1000)}ms"
lease = "{LEASE:g}s"
{blocks}""",
        encoding="utf-8",
    )
    return path


def test_three_instances_never_ask_one_host_closer_than_the_host_gap(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    db_url = database_url(request, "postgresql", tmp_path / "unused.sqlite3")
    names = [f"s{n:02d}" for n in range(36)]  # all due at start: each instance's workers want them at once
    with recording_site() as site, ExitStack() as stack:
        services = [
            stack.enter_context(
                running_service(write_config(tmp_path / f"i{n}", db_url, site, names, "1h", 20), tmp_path / f"i{n}")
            )
            for n in range(3)
        ]
        wait_for(lambda: len(site.times()) >= len(names), "every source to be fetched once")
        times = sorted(site.times())
        refreshed_by = [s.log().count("refresh source=") for s in services]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    print(
        f"\n{len(times)} requests to one host by 3 instances (refreshes per instance {refreshed_by}), "
        f"host_gap {HOST_GAP} s: min gap {min(gaps) * 1000:.1f} ms, median {statistics.median(gaps) * 1000:.1f} ms, "
        f"{sum(g < HOST_GAP for g in gaps)} closer than host_gap"
    )
    assert sum(1 for count in refreshed_by if count) >= 2, "one instance did all the work: nothing was shared"
    assert min(gaps) >= HOST_GAP - STAMP_TOLERANCE, f"two requests {min(gaps) * 1000:.1f} ms apart"


def lease_of(service: Service, name: str) -> dict[str, object] | None:
    answer = http("GET", f"{service.base_url}/api/sources/{name}")
    assert answer.status == 200
    lease = answer.json()["lease"]
    assert lease is None or isinstance(lease, dict)
    return lease


@pytest.mark.parametrize(
    ("backend", "stop"),
    [
        *((backend, signal.SIGKILL) for backend in BACKENDS),  # its pid is gone: freed at once (same host)
        ("postgresql", signal.SIGSTOP),  # frozen: its pid lives, its heartbeat stops: freed after the bound
    ],
    ids=["sqlite-killed", "postgresql-killed", "postgresql-frozen"],
)
def test_a_live_instances_lease_is_kept_and_a_dead_ones_is_freed_within_the_heartbeat_bound(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, stop: signal.Signals
) -> None:
    db_url = database_url(request, backend, tmp_path / "shared.sqlite3")
    bound = HEARTBEAT * MISSED_BEATS
    with recording_site() as site, ExitStack() as stack:
        with site.lock:
            site.hold = "alpha"
        services = [
            stack.enter_context(
                running_service(write_config(tmp_path / f"i{n}", db_url, site, ["alpha"], "5s", 30), tmp_path / f"i{n}")
            )
            for n in range(2)
        ]
        assert site.held.wait(timeout=30), "nobody fetched alpha"
        lease = lease_of(services[0], "alpha")
        assert lease is not None and lease["alive"] is True
        assert [lease_of(s, "alpha") for s in services] == [lease] * 2  # both name the same holder
        (holder,) = [s for s in services if s.process.pid == lease["pid"]]
        (other,) = [s for s in services if s is not holder]
        status = http("GET", f"{other.base_url}/api/sources/alpha").json()
        assert status["refreshing"] is True  # the other instance holds it: not "idle"

        # Alive and beating: the other instance, checking every 0.5 s, never takes alpha however long
        # the fetch lasts (three heartbeat bounds here)
        watched_until = time.monotonic() + 3 * bound
        wait_for(lambda: time.monotonic() > watched_until, "three heartbeat bounds", 3 * bound + 5)
        assert len(site.times("alpha")) == 1 and "freed the lease" not in other.log()
        busy = http("POST", f"{other.base_url}/api/sources/alpha/refresh", {"Authorization": "Bearer test-token-123"})
        assert busy.status == 409 and busy.json()["held_by"]["owner"] == lease["owner"]

        holder.process.send_signal(stop)
        if stop == signal.SIGKILL:
            holder.process.wait(timeout=10)
        stopped_at = time.monotonic()
        # freed because its instance is dead, long before the lease (60 s) would have run out
        wait_for(lambda: len(site.times("alpha")) > 1, "the other instance to take alpha", LEASE / 2)
        taken_after = site.times("alpha")[1] - stopped_at
        print(f"\n[{backend}] alpha taken over {taken_after:.2f} s after {stop.name} (heartbeat bound {bound:g} s)")
        if stop == signal.SIGSTOP:  # its last beat was at most one heartbeat before it froze
            assert taken_after >= bound - HEARTBEAT, "taken while the holder's heartbeat was fresh"
        assert f"freed the lease on alpha held by {lease['owner']}" in other.log()
        wait_for(lambda: lease_of(other, "alpha") is None, "the takeover refresh to finish")
        assert "refresh source=alpha outcome=ok" in other.log()
        site.release.set()
        if stop == signal.SIGSTOP:
            holder.process.send_signal(signal.SIGCONT)  # back: its row is written again; stopped cleanly below


def test_feedsvc_refresh_keeps_the_host_gap_between_sources_of_one_host(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """``feedsvc refresh`` goes through the runner and the shared host gate, as the service does."""
    db_url = database_url(request, "sqlite", tmp_path / "cli.sqlite3")
    names = [f"s{n}" for n in range(6)]
    with recording_site() as site:
        config = write_config(tmp_path / "cli", db_url, site, names, "1h", 20)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", "--config", str(config), "refresh"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        times = sorted(site.times())
    assert done.returncode == 0, done.stderr
    assert len(times) == len(names) and len(done.stdout.splitlines()) == len(names)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= HOST_GAP - STAMP_TOLERANCE, f"two requests {min(gaps) * 1000:.1f} ms apart"
