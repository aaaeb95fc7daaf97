"""Logging for every feedsvc process (the CLI's, and granian's worker, which starts afresh)."""

from __future__ import annotations

import logging
import os
import sys

LEVEL_ENV = "FEEDSVC_LOG_LEVEL"


def configure() -> None:
    """One line per record on stderr, at ``$FEEDSVC_LOG_LEVEL`` (INFO by default)."""
    logging.basicConfig(
        level=os.environ.get(LEVEL_ENV, "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)  # retries: the refresh line tells
