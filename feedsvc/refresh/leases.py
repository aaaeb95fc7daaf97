"""Keeping a source's lease while its refresh runs, however long that takes.

``refresh`` claims a source for ``lease``; ``kept`` renews that claim every third of the lease
until the refresh ends. A live instance never loses its source to another in the middle of a
slow fetch, and a dead one stops renewing: its lease runs out at most ``lease`` after it died,
and the next instance to check takes the source over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from feedsvc.errors import StoreError
from feedsvc.store import Store

log = logging.getLogger("feedsvc.refresh.leases")


@contextmanager
def kept(store: Store, source: str, owner: str, lease: timedelta) -> Iterator[None]:
    """Renew ``owner``'s lease on ``source`` every ``lease / 3`` while the body runs (then stop, before release)."""
    done = threading.Event()

    def renew() -> None:
        while not done.wait(lease.total_seconds() / 3):
            try:
                if not store.claim(source, owner, datetime.now(UTC), lease):
                    log.warning("lease on %s lost to another instance while refreshing it", source)
                    return
            except StoreError as exc:  # the database is away: try again, the lease may still hold
                log.warning("cannot renew the lease on %s: %s", source, exc)

    renewer = threading.Thread(target=renew, name=f"lease {source}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()
