from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsvc.config import Source
from feedsvc.model import Lease, SourceState
from feedsvc.refresh import instances, status
from feedsvc.refresh.instances import Identity, Liveness
from feedsvc.store import Store

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


def test_a_lease_shows_who_holds_the_source_and_refreshing_only_while_its_holder_lives(tmp_path: Path) -> None:
    me = Identity("here", 1, "me")
    with Store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        store.beat("abc", "otherhost", 7)
        liveness = Liveness(store, timedelta(seconds=5), me)
        known = store.instances()
        live = instances.describe(Lease("otherhost:7:abc:3", T0 + timedelta(minutes=2)), known, liveness, T0)
        assert live == {
            "owner": "otherhost:7:abc:3",
            "instance": "abc",
            "host": "otherhost",
            "pid": 7,
            "until": "2026-11-23T12:02:00Z",
            "alive": True,
        }
        gone = instances.describe(Lease("otherhost:8:zzz:1", T0 + timedelta(minutes=2)), known, liveness, T0)
        assert gone is not None and gone["alive"] is False  # no such instance: it stopped or was found dead
        expired = instances.describe(Lease("otherhost:7:abc:3", T0), known, liveness, T0 + timedelta(seconds=1))
        assert expired is not None and expired["alive"] is False
        assert instances.describe(None, known, liveness, T0) is None
    state = SourceState("s", last_attempt=T0)
    assert status.describe(SOURCE, state, None, CAP, T0, lease=live)["refreshing"] is True
    assert status.describe(SOURCE, state, None, CAP, T0, lease=gone)["refreshing"] is False
    assert status.describe(SOURCE, state, None, CAP, T0, running=True)["lease"] is None
