"""This instance's heartbeat: its row in ``instances``, written every ``heartbeat`` by a thread.

``start`` registers the instance (one write, before the scheduler starts, so its first lease
already names a registered instance), then beats in the background; ``stop`` ends the thread and
deletes the row, so other instances free a lease it may have left at once, without waiting for
its heartbeat to age. A beat that fails (the database is away) is logged and tried again at the
next one; a row another instance deleted (it judged this one dead) is written again.
``after_beat`` runs after each beat in the background (the service frees dead instances' leases
there: the scheduler only offers sources no lease holds, so it would not find them by itself).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from feedsvc.errors import StoreError
from feedsvc.refresh.instances import ME, Identity
from feedsvc.store import Store

log = logging.getLogger("feedsvc.refresh.heartbeat")


class Heartbeat:
    """Beats for ``me`` every ``period()`` (read at each beat: a reload may change it)."""

    def __init__(
        self,
        store: Store,
        period: Callable[[], timedelta],
        me: Identity = ME,
        after_beat: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.period = period
        self.me = me
        self.after_beat = after_beat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Register now (a failure is logged: the beats go on trying), then beat in the background."""
        self._beat()
        self._thread = threading.Thread(target=self._run, name="feedsvc-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and delete this instance's row (nothing when it never started)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        try:
            self.store.forget_instance(self.me.id)
        except StoreError as exc:
            log.warning("cannot delete this instance's row (others will find its heartbeat old): %s", exc)

    def _run(self) -> None:
        while not self._stop.wait(self.period().total_seconds()):
            self._beat()
            if self.after_beat is not None:
                try:
                    self.after_beat()
                except Exception:  # the next beat tries again; the heartbeat itself must go on
                    log.exception("after the heartbeat")

    def _beat(self) -> None:
        try:
            self.store.beat(self.me.id, self.me.host, self.me.pid)
        except StoreError as exc:
            log.warning("heartbeat not recorded: %s", exc)
