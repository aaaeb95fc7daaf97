"""Freeing what dead instances left: their leases and their rows in ``instances``.

A lease names its owner ``host:pid:id:run`` (``refresh.OWNER``, ``refresh/instances.py``). When
the process holding it was killed (SIGKILL, power loss) its transaction was rolled back, so nothing
half-written remains; only the lease would keep the source from refreshing until it expires. At
start every lease whose owner ``Liveness`` judges dead is freed, on any host: this host's dead
pids at once, other hosts' instances once their heartbeat is older than the bound. Later, a claim
that finds a dead instance's lease frees it too (``refresh.run``), so a dead lease never lasts
longer than the heartbeat bound while someone wants the source.
"""

from __future__ import annotations

import logging

from feedsvc.refresh.instances import Liveness
from feedsvc.store import Store

log = logging.getLogger("feedsvc.refresh.recovery")


def release_dead_leases(store: Store, liveness: Liveness) -> list[str]:
    """Free the leases held by dead instances (and forget those instances); return the sources freed."""
    known = store.instances()
    freed = []
    for source, owner in store.leases().items():
        if liveness.alive(owner, known):
            continue
        if store.release(source, owner):
            freed.append(source)
            log.warning("freed the lease on %s held by %s, an instance that is gone", source, owner)
    for instance in known.values():
        owner = f"{instance.host}:{instance.pid}:{instance.id}"
        if not liveness.alive(owner, known) and store.forget_instance(instance.id):
            log.info("forgot instance %s, silent for %s", owner, instance.heartbeat_age)
    return freed
