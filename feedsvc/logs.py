"""Logging for every feedsvc process (the CLI's, and granian's worker, which starts afresh).

Text lines, or JSON objects one a line (``--log-format json``, passed to granian's worker as
``$FEEDSVC_LOG_FORMAT``), on stderr at ``$FEEDSVC_LOG_LEVEL``. feedsvc's own line per refresh says
what happened; APScheduler's per-run lines ("Running job", "executed successfully") are left out:
it speaks at WARNING and above only.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

LEVEL_ENV = "FEEDSVC_LOG_LEVEL"
FORMAT_ENV = "FEEDSVC_LOG_FORMAT"
FORMATS = ("text", "json")


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
