"""The real ``feedsvc serve`` process killed mid-refresh, stopped mid-refresh, and reloaded by SIGHUP.

Each test runs under both servers (waitress, and granian, whose worker process runs the service):
metrics, ``next_run``, ``/readyz``, dead-lease recovery, reload and shutdown grace must not differ.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from feedsvc.store import Store
from tests.atom_checks import assert_valid_atom, parse_feed
from tests.misbehaving import misbehaving_site
from tests.support import NO_GAPS, SEEDS, Service, free_port, http, running_service, write_config


def source_toml(name: str, url: str, timeout: int = 20) -> str:
    return f"""
[[sources]]
name = "{name}"
url = "{url}"
interval = "1h"
timezone = "Asia/Shanghai"
timeout = {timeout}
"""


SERVERS = pytest.mark.parametrize("server", ["waitress", "granian"])


def service_lines(server: str, extra: str = "") -> str:
    return f'{NO_GAPS}\nserver = "{server}"\n{extra}'


def kill_hard(service: Service) -> int:
    """SIGKILL the service and any worker process it started (a crash takes them all)."""
    subprocess.run(["pkill", "-KILL", "-P", str(service.process.pid)], check=False)
    service.process.send_signal(signal.SIGKILL)
    return service.process.wait(10)


def feed_ids(service: Service, name: str = "kexue") -> list[str]:
    feed = http("GET", f"{service.base_url}/feeds/{name}.atom")
    assert feed.status == 200
    assert_valid_atom(feed.body)
    return [entry.id for entry in parse_feed(feed.body).entries]


def in_background(service: Service, name: str = "kexue") -> threading.Thread:
    def refresh() -> None:
        with contextlib.suppress(OSError):  # the process is killed under it: that is the point
            service.refresh(name)

    thread = threading.Thread(target=refresh, daemon=True)
    thread.start()
    return thread


@SERVERS
def test_sigkill_mid_refresh_loses_and_duplicates_nothing(tmp_path: Path, server: str) -> None:
    with misbehaving_site(SEEDS[0].read_bytes()) as site:
        cfg = write_config(tmp_path, free_port(), source_toml("kexue", site.url), service=service_lines(server))
        with running_service(cfg, tmp_path) as service:
            assert service.refresh("kexue").json()["error"] is None
            before = feed_ids(service)
            site.good = SEEDS[1].read_bytes()
            site.hang_seconds = 60
            site.behave("slow")  # the new page trickles in: the refresh is mid-flight
            in_background(service)
            assert site.arrived.wait(10)
            assert kill_hard(service) == -signal.SIGKILL
        site.release.set()
        site.behave("ok")

        with running_service(cfg, tmp_path) as service:
            # the dead process's lease is freed at start-up: no 409 for the lease's two minutes
            answer = http("POST", f"{service.base_url}/api/sources/kexue/refresh", _auth())
            assert answer.status == 200, answer.body
            after = feed_ids(service)
            assert len(after) == len(set(after)), "an entry was duplicated"
            assert set(before) < set(after), "an entry was lost, or the new page was not read"
            assert "freed the lease on kexue" in service.log()
            status = http("GET", f"{service.base_url}/api/sources/kexue").json()
            assert status["healthy"] is True and status["entries_stored"] == len(after)
            assert status["next_run"] is not None and status["last_error"] is None
            ready = http("GET", f"{service.base_url}/readyz")
            assert ready.status == 200 and ready.json()["scheduler"] == "running"
            metrics = http("GET", f"{service.base_url}/metrics").body.decode()
            assert 'feedsvc_refreshes_total{outcome="ok"}' in metrics
            assert "feedsvc_refresh_duration_seconds_count " in metrics
            assert "feedsvc_entries_stored " + str(len(after)) in metrics


@SERVERS
def test_sigterm_lets_a_running_refresh_finish(tmp_path: Path, server: str) -> None:
    with misbehaving_site(SEEDS[0].read_bytes()) as site:
        site.delay = 1.5  # the page arrives well after it is asked for
        cfg = write_config(tmp_path, free_port(), source_toml("kexue", site.url), service=service_lines(server))
        with running_service(cfg, tmp_path) as service:
            assert site.arrived.wait(10)  # the scheduler's first refresh is at the site
            assert service.stop(timeout=20) == 0
            assert "stopped" in service.log()
        with Store(f"sqlite:///{tmp_path / 'data' / 'feedsvc.db'}") as store:
            state = store.state("kexue")
            assert state.last_error is None and state.entries_stored == 8


@SERVERS
def test_sigterm_waits_no_longer_than_the_grace_for_a_hung_refresh(tmp_path: Path, server: str) -> None:
    with misbehaving_site(SEEDS[0].read_bytes()) as site:
        site.hang_seconds = 60
        site.behave("hang")
        lines = service_lines(server, 'shutdown_grace = "1s"')
        cfg = write_config(tmp_path, free_port(), source_toml("kexue", site.url), service=lines)
        with running_service(cfg, tmp_path) as service:
            assert site.arrived.wait(10)  # the scheduler's first refresh hangs at the site
            started = time.monotonic()
            exit_code = service.stop(timeout=20)
            assert time.monotonic() - started < 10
            assert exit_code == 1
            assert "stopped with refreshes still running: kexue" in service.log()


@SERVERS
def test_sighup_reloads_sources_without_a_restart(tmp_path: Path, server: str) -> None:
    with misbehaving_site(SEEDS[0].read_bytes()) as site:
        port = free_port()
        cfg = write_config(tmp_path, port, source_toml("kexue", site.url), service=service_lines(server))
        with running_service(cfg, tmp_path) as service:
            pid = service.process.pid
            local = SEEDS[2].resolve()
            (tmp_path / "feedsvc.toml").write_text("[[sources]]\nname = 'broken'\n", encoding="utf-8")
            service.process.send_signal(signal.SIGHUP)  # a bad file: logged, nothing changes
            deadline = time.monotonic() + 20
            while "config not reloaded" not in service.log() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "config not reloaded" in service.log()
            sources = http("GET", f"{service.base_url}/api/sources").json()["sources"]
            assert [s["name"] for s in sources] == ["kexue"] and sources[0]["next_run"] is not None
            write_config(tmp_path, port, source_toml("second", str(local)), service=service_lines(server))
            service.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 20
            names: list[str] = []
            while time.monotonic() < deadline:
                names = [s["name"] for s in http("GET", f"{service.base_url}/api/sources").json()["sources"]]
                if names == ["second"]:
                    break
                time.sleep(0.1)
            assert names == ["second"]
            assert http("GET", f"{service.base_url}/feeds/kexue.atom").status == 404
            assert service.refresh("second").status == 200
            assert len(feed_ids(service, "second")) == 8
            assert service.process.pid == pid and service.process.poll() is None
            assert "reloaded" in service.log()


def _auth() -> dict[str, str]:
    from tests.support import TOKEN

    return {"Authorization": f"Bearer {TOKEN}"}


def test_sigkill_at_random_moments_of_busy_refreshing_keeps_each_post_once(tmp_path: Path) -> None:
    from tests.e2e.test_service import distinct_posts

    rng = random.Random(4)
    with misbehaving_site(SEEDS[0].read_bytes()) as site:
        cfg = write_config(tmp_path, free_port(), source_toml("kexue", site.url))
        for _ in range(2):
            with running_service(cfg, tmp_path) as service:
                stop = threading.Event()

                def hammer(service: Service = service, stop: threading.Event = stop) -> None:
                    for seed in itertools.cycle(SEEDS):
                        if stop.is_set():
                            return
                        site.good = seed.read_bytes()
                        with contextlib.suppress(OSError):
                            service.refresh("kexue", attempts=1)

                worker = threading.Thread(target=hammer, daemon=True)
                worker.start()
                time.sleep(rng.uniform(0.2, 0.8))  # somewhere in fetch, diff or the store's transaction
                kill_hard(service)  # the server and its worker process, as a crash takes both
                stop.set()
                worker.join(10)

        assert site.requests >= 2  # every round was killed while refreshing, not while idle

        with running_service(cfg, tmp_path) as service:
            for seed in SEEDS:
                site.good = seed.read_bytes()
                assert service.refresh("kexue").status == 200
            ids = feed_ids(service)
            assert len(ids) == len(set(ids)) == len(distinct_posts())


def test_a_killed_granian_supervisor_leaves_no_worker_serving_behind(tmp_path: Path) -> None:
    def alive(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] not in ("Z", "X")
        except FileNotFoundError:
            return False

    with misbehaving_site(SEEDS[0].read_bytes()) as site:
        cfg = write_config(tmp_path, free_port(), source_toml("kexue", site.url), service=service_lines("granian"))
        with running_service(cfg, tmp_path) as service:
            pid = service.process.pid
            children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            workers = [child for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]
            assert workers, "granian started no worker process"
            service.process.send_signal(signal.SIGKILL)  # the supervisor alone, as the OOM killer might
            assert service.process.wait(10) == -signal.SIGKILL
            deadline = time.monotonic() + 60
            while any(alive(worker) for worker in workers):
                assert time.monotonic() < deadline, "the worker outlived its supervisor"
                time.sleep(0.1)
