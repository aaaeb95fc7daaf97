"""Wrong-token attempts throttled per client address: a guessing client is answered 429.

    Throttle.blocked(client, now) -> seconds to wait, or 0
    Throttle.failed(client, now)  one more wrong token from ``client``

At most ``failures`` wrong tokens per ``window`` seconds from one address; the table of addresses
is bounded (the oldest are forgotten first), so a flood of addresses cannot grow memory.
Behind a reverse proxy the address is the proxy's: throttle there too (docs/security.md).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque

FAILURES = 10  # wrong tokens allowed per window from one address
WINDOW = 60.0  # seconds
CLIENTS = 10_000  # addresses remembered


class Throttle:
    def __init__(self, failures: int = FAILURES, window: float = WINDOW, clients: int = CLIENTS) -> None:
        self.failures, self.window, self.clients = failures, window, clients
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def blocked(self, client: str, now: float) -> int:
        """Whole seconds ``client`` must wait before its next attempt counts; 0 when it may try now."""
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.failures:
                return 0
            return max(1, math.ceil(times[0] + self.window - now))

    def failed(self, client: str, now: float) -> None:
        with self._lock:
            times = self._recent(client, now)
            times.append(now)
            self._seen[client] = times
            self._seen.move_to_end(client)
            while len(self._seen) > self.clients:
                self._seen.popitem(last=False)

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._seen.get(client, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times
