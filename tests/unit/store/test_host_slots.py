"""``Store.claim_host_slot`` (the host gap across instances) and the ``instances`` heartbeat rows, on each backend."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsvc.store import Store
from tests.postgres import BACKENDS, database_url

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
GAP = timedelta(seconds=1)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request, request.param, tmp_path / "feedsvc.sqlite3")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store(db_url) as opened:
        yield opened


def test_slots_of_one_host_are_a_gap_apart_and_hosts_are_independent(store: Store) -> None:
    first = store.claim_host_slot("a.example", GAP, T0)
    assert (first.at, first.wait) == (T0, 0.0)
    second = store.claim_host_slot("a.example", GAP, T0)
    assert (second.at, second.wait) == (T0 + GAP, 1.0)
    assert store.claim_host_slot("b.example", GAP, T0).at == T0
    later = T0 + timedelta(minutes=5)  # idle for longer than the gap: no wait
    assert store.claim_host_slot("a.example", GAP, later).at == later
    assert store.claim_host_slot("a.example", timedelta(seconds=3), later).at == later + GAP
    assert store.claim_host_slot("a.example", GAP, later).at == later + GAP + timedelta(seconds=3)


def test_without_a_time_given_the_database_clock_decides(store: Store) -> None:
    hour = timedelta(hours=1)
    first = store.claim_host_slot("a.example", hour)
    second = store.claim_host_slot("a.example", hour)
    assert first.wait == 0.0 and first.at == first.now
    assert abs(first.now - datetime.now(UTC)) < timedelta(minutes=1)  # the test cluster runs on this machine
    assert second.at == first.at + hour
    assert hour.total_seconds() - 60 < second.wait <= hour.total_seconds()


def test_concurrent_claims_from_several_stores_never_share_a_slot(db_url: str) -> None:
    stores = [Store(db_url) for _ in range(3)]  # three instances, each with its own connections
    slots: list[datetime] = []
    lock = threading.Lock()

    def claim(store: Store) -> None:
        for _ in range(10):
            slot = store.claim_host_slot("a.example", GAP, T0)
            with lock:
                slots.append(slot.at)

    try:
        threads = [threading.Thread(target=claim, args=(s,)) for s in stores for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for store in stores:
            store.close()
    assert sorted(slots) == [T0 + k * GAP for k in range(90)]


def test_an_instance_registers_beats_and_is_forgotten(store: Store) -> None:
    assert store.instances() == {}
    store.beat("abc", "host-a", 42)
    (registered,) = store.instances().values()
    assert (registered.id, registered.host, registered.pid) == ("abc", "host-a", 42)
    assert timedelta(0) <= registered.heartbeat_age < timedelta(minutes=1)
    store.beat("abc", "host-a", 42)
    again = store.instances()["abc"]
    assert again.started_at == registered.started_at and again.heartbeat_at >= registered.heartbeat_at
    assert store.forget_instance("abc") and not store.forget_instance("abc")
    assert store.instances() == {}


def test_a_lease_names_its_owner_and_end(store: Store) -> None:
    assert store.lease("kexue") is None
    assert store.claim("kexue", "host-a:42:abc:1", T0, timedelta(minutes=2))
    lease = store.lease("kexue")
    assert lease is not None and (lease.owner, lease.until) == ("host-a:42:abc:1", T0 + timedelta(minutes=2))
    assert store.state("kexue").lease == lease
    assert store.release("kexue", "host-a:42:abc:1") and store.lease("kexue") is None
