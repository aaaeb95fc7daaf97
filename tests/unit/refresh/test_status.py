from datetime import UTC, datetime, timedelta

from feedsvc.config import Source
from feedsvc.model import SourceState
from feedsvc.refresh import status

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SOURCE = Source(name="s", title="S", url="http://s.example/", interval=timedelta(minutes=10))
CAP = timedelta(hours=6)


def test_a_healthy_source_runs_an_interval_after_its_last_attempt_or_at_the_next_check() -> None:
    state = SourceState("s", last_attempt=T0)
    assert status.next_run(SOURCE, state, T0 + timedelta(minutes=3), CAP) == T0 + timedelta(minutes=10)
    late = T0 + timedelta(minutes=12)  # the machine slept: the next check is the next run
    assert status.next_run(SOURCE, state, late, CAP) == late
    assert status.next_run(SOURCE, state, None, CAP) is None  # no scheduler in this process


def test_a_backing_off_source_runs_when_its_backoff_ends() -> None:
    state = SourceState("s", last_attempt=T0, consecutive_failures=3)  # allowed at T0 + 80 min
    tick = T0 + timedelta(minutes=10)
    assert status.next_run(SOURCE, state, tick, CAP) == T0 + timedelta(minutes=80)
    assert status.next_run(SOURCE, state, tick + timedelta(minutes=1), CAP) == T0 + timedelta(minutes=80)


def test_describe_says_what_is_wrong_in_json_ready_values() -> None:
    state = SourceState(
        "s",
        last_attempt=T0,
        last_success=T0 - timedelta(hours=1),
        last_error="http://s.example/: HTTP 500",
        consecutive_failures=1,
        posts_on_page=8,
        entries_stored=30,
        recent_posts=(8, 8, 8),
    )
    described = status.describe(SOURCE, state, T0 + timedelta(minutes=10), CAP, now=T0)
    assert described["healthy"] is False
    assert described["last_error"] == "http://s.example/: HTTP 500"
    assert described["last_success"] == "2026-11-23T11:00:00Z"
    assert described["backing_off_until"] == "2026-11-23T12:20:00Z"
    assert described["next_run"] == "2026-11-23T12:20:00Z"
    assert (described["posts_on_page"], described["usual_posts_on_page"], described["entries_stored"]) == (8, 8, 30)
