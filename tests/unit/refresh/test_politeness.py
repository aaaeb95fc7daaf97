from pathlib import Path

import psycopg
import pytest

from feedsvc.refresh.politeness import POLL, HostGate, SharedHostGate
from feedsvc.store import Store
from tests.postgres import PostgresServer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_requests_to_one_host_are_spaced_by_the_gap_and_other_hosts_do_not_wait() -> None:
    time = FakeTime()
    gate = HostGate(2.0, clock=time.clock, sleep=time.sleep)
    assert gate.wait("http://a.example/x") == 0
    assert gate.wait("https://A.example:8443/y") == 2.0  # same host, any port or scheme
    assert gate.wait("http://b.example/") == 0
    time.now += 10
    assert gate.wait("http://a.example/z") == 0
    assert time.slept == [2.0]


def test_a_zero_gap_never_sleeps() -> None:
    time = FakeTime()
    gate = HostGate(0, clock=time.clock, sleep=time.sleep)
    assert [gate.wait("http://a.example/") for _ in range(3)] == [0, 0, 0]
    assert time.slept == []


def test_gates_of_several_instances_take_turns_through_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'feedsvc.db'}"
    with Store(url) as one, Store(url) as other:
        slept: list[float] = []
        first, second = SharedHostGate(one, 10.0, sleep=slept.append), SharedHostGate(other, 10.0, sleep=slept.append)
        assert first.wait("http://a.example/x") == 0
        assert 9.0 < second.wait("https://A.example:8443/y") <= 10.0  # the other instance's request counts
        # the sleeps here take no time: the second request was "answered" at once, a gap before this
        assert 9.0 < first.wait("http://a.example/z") <= 10.0
        assert second.wait("http://b.example/") == 0
        assert len(slept) == 2


def test_a_turn_held_by_another_instance_is_waited_for_and_the_gap_counts_from_its_end(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'feedsvc.db'}"
    with Store(url) as one, Store(url) as other:
        slept: list[float] = []
        holder = SharedHostGate(one, 10.0, sleep=slept.append)
        asker = SharedHostGate(other, 10.0, sleep=lambda s: (slept.append(s), turn.release()))
        with holder.turn("http://a.example/") as turn:  # its request is under way until released
            assert turn.waited == 0
            waited = asker.wait("http://a.example/")
        assert slept[0] == POLL  # asked while the turn was held, then again once it ended
        assert 9.0 < waited - POLL <= 10.0 and len(slept) == 2


def test_a_zero_gap_never_asks_the_store(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as store:
        gate = SharedHostGate(store, 0.0, sleep=lambda s: None)
        assert [gate.wait("http://a.example/") for _ in range(3)] == [0, 0, 0]
        gate.gap = 10.0  # a reload
        assert gate.wait("http://a.example/") == 0  # nothing was reserved before
        assert gate.wait("http://a.example/") > 9.0


def test_without_the_store_the_process_keeps_the_gap_and_warns_once(
    postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = postgres.new_database_url()
    with Store(url) as store:
        time = FakeTime()
        gate = SharedHostGate(store, 2.0, sleep=time.sleep, clock=time.clock)
        assert gate.wait("http://a.example/") == 0
        with psycopg.connect(postgres.url().replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        assert gate.wait("http://a.example/") == 2.0  # still a gap after the store's own slot
        assert gate.wait("http://a.example/") == 2.0
    warnings = [r for r in caplog.records if "host gap kept by this process only" in r.getMessage()]
    assert len(warnings) == 1
