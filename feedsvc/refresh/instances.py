"""Who this process is among the instances sharing a database, and whether a lease's owner is alive.

Each process gets a random ``id`` at start (``ME``); its leases are named ``host:pid:id:run``
(``refresh.OWNER`` plus a run number), so people still read the host and pid, while the id is
what survives PID reuse and zombies. The process registers in the store's ``instances`` table and
beats there every ``heartbeat`` (``refresh/heartbeat.py``). An owner is dead when

- it is another process of this host whose pid is gone or a zombie, or is our own pid with
  another id (a previous life of this container): the fast path, no heartbeat needed;
- its instance row is missing (it stopped cleanly, or was found dead before), or its heartbeat
  is older than ``MISSED_BEATS`` heartbeats, on the database's clock.

An owner that names no instance (``host:pid:id``, a tool's or test's own name) is never judged:
its lease ends when it expires.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from feedsvc.errors import StoreError
from feedsvc.model import Instance, Lease
from feedsvc.store import Store

log = logging.getLogger("feedsvc.refresh.instances")

MISSED_BEATS = 3  # heartbeats an instance may miss before it is taken for dead


@dataclass(frozen=True, slots=True)
class Identity:
    """One process among the instances: its host, pid and random id."""

    host: str
    pid: int
    id: str

    @property
    def owner(self) -> str:
        """The lease owner prefix of this process: ``host:pid:id``."""
        return f"{self.host}:{self.pid}:{self.id}"


ME = Identity(socket.gethostname(), os.getpid(), uuid.uuid4().hex[:16])


def holder(owner: str) -> Identity | None:
    """The instance a lease owner names (``host:pid:id[:run]``), or None for any other name."""
    parts = owner.split(":")
    if len(parts) < 3 or not parts[1].isdigit() or not parts[0] or not parts[2]:
        return None
    return Identity(parts[0], int(parts[1]), parts[2])


class Liveness:
    """Judges lease owners alive or dead, as ``me`` sees them; ``heartbeat`` is the beat period."""

    def __init__(self, store: Store, heartbeat: timedelta, me: Identity = ME) -> None:
        self.store = store
        self.heartbeat = heartbeat
        self.me = me

    @property
    def bound(self) -> timedelta:
        """How old a heartbeat may be before its instance counts as dead."""
        return self.heartbeat * MISSED_BEATS

    def alive(self, owner: str, known: dict[str, Instance] | None = None) -> bool:
        """Whether the instance ``owner`` names still runs (True for owners that name none).

        ``known`` is ``store.instances()`` when the caller has read it already; a store that
        cannot be read counts every owner alive (a lease is never freed on a guess).
        """
        who = holder(owner)
        if who is None or who.id == self.me.id:
            return True
        if who.host == self.me.host and (who.pid == self.me.pid or not pid_alive(who.pid)):
            return False
        if known is None:
            try:
                known = self.store.instances()
            except StoreError as exc:
                log.warning("cannot read the instances to judge the owner of a lease: %s", exc)
                return True
        row = known.get(who.id)
        return row is not None and row.heartbeat_age <= self.bound

    def free_if_dead(self, source: str) -> str | None:
        """Free the lease on ``source`` when a dead instance holds it; return that owner (else None)."""
        try:
            lease = self.store.lease(source)
            if lease is None or self.alive(lease.owner):
                return None
            freed = self.store.release(source, lease.owner)
        except StoreError as exc:
            log.warning("cannot free the lease on %s: %s", source, exc)
            return None
        if freed:
            log.warning("freed the lease on %s held by %s, an instance that is gone", source, lease.owner)
            return lease.owner
        return None


def describe(
    lease: Lease | None, known: dict[str, Instance], liveness: Liveness, now: datetime
) -> dict[str, Any] | None:
    """A lease for the status JSON: who holds it and whether that holder is alive (None when free)."""
    if lease is None:
        return None
    who = holder(lease.owner)
    expired = lease.until is not None and lease.until <= now
    return {
        "owner": lease.owner,
        "instance": who.id if who else None,
        "host": who.host if who else None,
        "pid": who.pid if who else None,
        "until": None if lease.until is None else lease.until.isoformat().replace("+00:00", "Z"),
        "alive": not expired and liveness.alive(lease.owner, known),
    }


_PROC = Path("/proc/self/stat")


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host still runs. A zombie (dead, not yet reaped: common in
    containers, whose first process may never reap) counts as dead, though ``kill(pid, 0)`` still reaches it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        if _PROC.exists():  # a system with /proc: no such process
            return False
        stat = ""
    except OSError:
        stat = ""
    if stat:
        state = stat.rpartition(")")[2].split()[:1]  # the field after the command name, which may hold spaces
        return state not in (["Z"], ["X"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
