"""Start-up after a crash: give back the leases that dead processes of this host still hold.

A lease names its owner ``host:pid:nonce`` (``refresh.OWNER``). When the process holding it was
killed (SIGKILL, power loss) its transaction was rolled back, so nothing half-written remains;
only the lease would keep the source from refreshing until it expires. A lease of this host
whose pid is gone, or whose pid is ours but whose nonce is not (a restarted container), is freed.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

from feedsvc.store import Store

log = logging.getLogger("feedsvc.refresh.recovery")


def release_dead_leases(store: Store, me: str) -> list[str]:
    """Free the leases held by dead processes of this host; return the sources freed."""
    host = socket.gethostname()
    freed = []
    for source, owner in store.leases().items():
        owner_host, _, rest = owner.partition(":")
        pid_text, _, _nonce = rest.partition(":")
        if owner_host != host or owner == me or not pid_text.isdigit():
            continue
        if _alive(int(pid_text)) and int(pid_text) != os.getpid():
            continue
        if store.release(source, owner):
            freed.append(source)
            log.warning("freed the lease on %s held by %s, a process that is gone", source, owner)
    return freed


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs. A zombie (dead, not yet reaped: common in containers,
    whose first process may never reap) counts as dead, though ``kill(pid, 0)`` still reaches it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return False
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
