from datetime import UTC, datetime, timedelta

import pytest

from feedsvc.model import SourceState
from feedsvc.refresh import backoff

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TEN = timedelta(minutes=10)


@pytest.mark.parametrize(
    ("failures", "wait"),
    [(0, timedelta(0)), (1, 2 * TEN), (2, 4 * TEN), (3, 8 * TEN), (5, 32 * TEN), (6, timedelta(hours=6))],
)
def test_the_wait_doubles_per_failure_up_to_the_cap(failures: int, wait: timedelta) -> None:
    assert backoff.delay(failures, TEN, timedelta(hours=6)) == wait


def test_the_cap_never_shortens_the_interval_and_huge_counts_do_not_overflow() -> None:
    assert backoff.delay(3, timedelta(days=1), timedelta(hours=6)) == timedelta(days=1)
    assert backoff.delay(10_000, TEN, timedelta(hours=6)) == timedelta(hours=6)


def test_a_healthy_source_is_always_due() -> None:
    state = SourceState("s", last_attempt=T0, consecutive_failures=0)
    assert backoff.next_allowed(state, TEN) is None
    assert backoff.due(state, T0, TEN)


def test_a_failing_source_waits_after_its_last_attempt() -> None:
    state = SourceState("s", last_attempt=T0, consecutive_failures=2)
    assert backoff.next_allowed(state, TEN) == T0 + 4 * TEN
    assert not backoff.due(state, T0 + 4 * TEN - timedelta(seconds=1), TEN)
    assert backoff.due(state, T0 + 4 * TEN, TEN)


def test_retry_after_wins_when_it_is_later_and_applies_even_without_failures() -> None:
    later = T0 + timedelta(hours=3)
    failing = SourceState("s", last_attempt=T0, consecutive_failures=1, retry_after_until=later)
    assert backoff.next_allowed(failing, TEN) == later
    asked = SourceState("s", last_attempt=T0, retry_after_until=later)
    assert backoff.next_allowed(asked, TEN) == later
