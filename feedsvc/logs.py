"""Logging for every feedsvc process (the CLI's, and granian's worker, which starts afresh).

Text lines, or JSON objects one a line (``--log-format json``, passed to granian's worker as
``$FEEDSVC_LOG_FORMAT``), on stderr at ``$FEEDSVC_LOG_LEVEL``. feedsvc's own line per refresh says
what happened; APScheduler's per-run lines ("Running job", "executed successfully") are left out:
it speaks at WARNING and above only. waitress's "Task queue depth is N" (one per request queued
while every thread is busy) is kept to one line a minute, which counts the ones left out.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

LEVEL_ENV = "FEEDSVC_LOG_LEVEL"
FORMAT_ENV = "FEEDSVC_LOG_FORMAT"
FORMATS = ("text", "json")
QUEUE_WARNINGS_EVERY = 60.0  # seconds: waitress's queue-depth warnings, at most one line per this


class AtMostEvery(logging.Filter):
    """Lets one record through per ``period`` seconds; the next one let through says how many were
    left out meanwhile. For a logger that repeats one warning under load."""

    def __init__(self, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.period = period
        self._clock = clock
        self._lock = threading.Lock()
        self._last: float | None = None
        self._suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            now = self._clock()
            if self._last is not None and now - self._last < self.period:
                self._suppressed += 1
                return False
            self._last, suppressed, self._suppressed = now, self._suppressed, 0
        if suppressed:
            record.msg = f"{record.getMessage()} ({suppressed} more like it in the previous {self.period:g} s left out)"
            record.args = ()
        return True


def rate_limit(logger: str, period: float) -> AtMostEvery:
    """Keep ``logger`` to one record per ``period`` seconds (replacing an earlier limit of ours)."""
    target = logging.getLogger(logger)
    for old in [f for f in target.filters if isinstance(f, AtMostEvery)]:
        target.removeFilter(old)
    limit = AtMostEvery(period)
    target.addFilter(limit)
    return limit


class JSONLines(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message (+ exception)."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = {
            "time": moment.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(log_format: str | None = None) -> None:
    """Log to stderr as text (default) or JSON lines; leaves a host's own handlers (a test runner's) alone."""
    log_format = log_format or os.environ.get(FORMAT_ENV) or "text"
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "feedsvc", False)]:
        root.removeHandler(old)  # ours, from an earlier call in this process
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        if log_format == "json":
            handler.setFormatter(JSONLines())
        else:
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handler.feedsvc = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(os.environ.get(LEVEL_ENV, "INFO"))
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)  # retries: the refresh line tells
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    rate_limit("waitress.queue", QUEUE_WARNINGS_EVERY)
