import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsvc.refresh import recovery
from feedsvc.store import Store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_only_leases_of_dead_processes_of_this_host_are_freed(tmp_path: Path) -> None:
    host = socket.gethostname()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    me = f"{host}:{os.getpid()}:current"
    owners = {
        "killed": f"{host}:{dead_pid}:aaaa",  # its process is gone
        "restarted": f"{host}:{os.getpid()}:bbbb",  # our pid, another nonce: a previous life of this container
        "parent": f"{host}:{os.getppid()}:cccc",  # alive: may still be refreshing
        "elsewhere": f"otherhost:{dead_pid}:dddd",  # another machine: not ours to judge
        "mine": me,
    }
    with Store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        for source, owner in owners.items():
            assert store.claim(source, owner, NOW, HOUR)
        assert sorted(recovery.release_dead_leases(store, me)) == ["killed", "restarted"]
        assert store.leases() == {name: owners[name] for name in ("parent", "elsewhere", "mine")}


def test_the_lease_of_a_zombie_process_is_freed(tmp_path: Path) -> None:
    # a child that exited but was not reaped yet: kill(pid, 0) still reaches it, yet it refreshes nothing
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        stat = Path(f"/proc/{child.pid}/stat")
        while stat.read_text().rpartition(")")[2].split()[0] != "Z":
            assert datetime.now(UTC) < deadline, "the child never exited"
            time.sleep(0.01)
        owner = f"{socket.gethostname()}:{child.pid}:zzzz"
        with Store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
            assert store.claim("zombie", owner, NOW, HOUR)
            assert recovery.release_dead_leases(store, "me") == ["zombie"]
    finally:
        child.wait()
