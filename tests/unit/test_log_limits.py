"""Repeated warnings kept to one line per period, with a count of those left out (logs.AtMostEvery)."""

from __future__ import annotations

import logging

from feedsvc import logs


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_one_line_per_period_then_one_that_counts_the_rest() -> None:
    clock = Clock()
    logger = logging.getLogger("feedsvc.tests.noisy")
    logger.propagate = False
    kept = Kept()
    logger.addHandler(kept)
    limit = logs.AtMostEvery(60, clock)
    logger.addFilter(limit)
    try:
        for depth in range(1, 1001):
            logger.warning("Task queue depth is %d", depth)
        clock.now += 59
        logger.warning("Task queue depth is %d", 7)
        clock.now += 1
        logger.warning("Task queue depth is %d", 3)
        clock.now += 600
        logger.warning("Task queue depth is %d", 1)
    finally:
        logger.removeFilter(limit)
        logger.removeHandler(kept)
    assert kept.lines == [
        "Task queue depth is 1",
        "Task queue depth is 3 (1000 more like it in the previous 60 s left out)",
        "Task queue depth is 1",
    ]


def test_configure_limits_waitress_queue_warnings_once() -> None:
    logs.configure()
    logs.configure()  # again (granian's worker, a test): still one limit
    limits = [f for f in logging.getLogger("waitress.queue").filters if isinstance(f, logs.AtMostEvery)]
    assert len(limits) == 1 and limits[0].period == logs.QUEUE_WARNINGS_EVERY
