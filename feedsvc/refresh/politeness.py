"""A minimum gap between requests to one host, shared by every refresh of this process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit


class HostGate:
    """``wait(url)`` returns once ``gap`` seconds have passed since the previous request to the host.

    Callers take turns: each gets the next free slot of its host, so N sources on one host are
    spread ``gap`` apart however many workers run them.
    """

    def __init__(
        self,
        gap: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.gap = gap
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free: dict[str, float] = {}

    def wait(self, url: str) -> float:
        """Block until the host of ``url`` may be asked again; return the seconds waited."""
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_free.get(host, now))
            self._next_free[host] = slot + self.gap
        waited = slot - now
        if waited > 0:
            self._sleep(waited)
        return waited
