import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from feedsvc.refresh import recovery
from feedsvc.refresh.instances import Identity, Liveness
from feedsvc.store import Store
from feedsvc.store.schema import instances
from feedsvc.store.store import make_engine

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
HEARTBEAT = timedelta(seconds=5)


def silence(url: str, instance: str, for_: timedelta) -> None:
    """Make ``instance``'s latest heartbeat ``for_`` old, as if it had stopped beating then."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            silent_since = datetime.now(UTC) - for_
            conn.execute(update(instances).where(instances.c.id == instance).values(heartbeat_at=silent_since))
    finally:
        engine.dispose()


def test_leases_of_dead_instances_are_freed_on_any_host_and_live_ones_kept(tmp_path: Path) -> None:
    host = socket.gethostname()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    me = Identity(host, os.getpid(), "current")
    owners = {
        "killed": f"{host}:{dead_pid}:aaaa:1",  # its process is gone: freed without asking the heartbeats
        "restarted": f"{host}:{os.getpid()}:bbbb:1",  # our pid, another id: a previous life of this container
        "parent": f"{host}:{os.getppid()}:cccc:1",  # alive and beating: may still be refreshing
        "reused-pid": f"{host}:{os.getppid()}:eeee:1",  # a live pid, but no such instance: the pid was reused
        "elsewhere": "otherhost:7:dddd:1",  # another machine, beating
        "elsewhere-silent": "otherhost:8:ffff:1",  # another machine, silent for longer than 3 heartbeats
        "elsewhere-gone": "otherhost:9:gggg:1",  # another machine that stopped (its row deleted)
        "mine": f"{me.owner}:1",
        "tool": "another-instance",  # names no instance: left to expire
    }
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with Store(url) as store:
        store.beat("cccc", host, os.getppid())
        store.beat("dddd", "otherhost", 7)
        store.beat("ffff", "otherhost", 8)
        silence(url, "ffff", 4 * HEARTBEAT)
        for source, owner in owners.items():
            assert store.claim(source, owner, NOW, HOUR)
        freed = recovery.release_dead_leases(store, Liveness(store, HEARTBEAT, me))
        assert sorted(freed) == ["elsewhere-gone", "elsewhere-silent", "killed", "restarted", "reused-pid"]
        assert store.leases() == {name: owners[name] for name in ("parent", "elsewhere", "mine", "tool")}
        assert sorted(store.instances()) == ["cccc", "dddd"]  # the silent one is forgotten


def test_a_heartbeat_just_within_the_bound_keeps_the_lease(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with Store(url) as store:
        store.beat("slow", "otherhost", 7)
        silence(url, "slow", 2 * HEARTBEAT)  # two beats missed, the third not yet
        assert store.claim("kexue", "otherhost:7:slow:1", NOW, HOUR)
        liveness = Liveness(store, HEARTBEAT, Identity("here", 1, "me"))
        assert recovery.release_dead_leases(store, liveness) == []
        assert liveness.free_if_dead("kexue") is None
        silence(url, "slow", 3 * HEARTBEAT + timedelta(seconds=1))
        assert liveness.free_if_dead("kexue") == "otherhost:7:slow:1"
        assert store.lease("kexue") is None


def test_the_lease_of_a_zombie_process_is_freed(tmp_path: Path) -> None:
    # a child that exited but was not reaped yet: kill(pid, 0) still reaches it, yet it refreshes nothing
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        stat = Path(f"/proc/{child.pid}/stat")
        while stat.read_text().rpartition(")")[2].split()[0] != "Z":
            assert datetime.now(UTC) < deadline, "the child never exited"
            time.sleep(0.01)
        host = socket.gethostname()
        with Store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
            store.beat("zzzz", host, child.pid)  # its heartbeat is fresh: only the zombie check finds it dead
            assert store.claim("zombie", f"{host}:{child.pid}:zzzz:1", NOW, HOUR)
            liveness = Liveness(store, HEARTBEAT, Identity(host, os.getpid(), "me"))
            assert recovery.release_dead_leases(store, liveness) == ["zombie"]
    finally:
        child.wait()
