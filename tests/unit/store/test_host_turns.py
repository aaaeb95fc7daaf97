"""``Store.claim_host_slot`` (the host gap across instances) and the ``instances`` heartbeat rows, on each backend."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from feedsvc.store import Store

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
GAP = timedelta(seconds=1)
HOLD = timedelta(seconds=30)


def test_a_turn_is_one_holders_until_it_ends_and_the_next_comes_a_gap_after_the_end(store: Store) -> None:
    first = store.take_host_turn("a.example", "a", HOLD, T0)
    assert (first.taken, first.at, first.wait) == (True, T0, 0.0)
    assert store.take_host_turn("b.example", "b", HOLD, T0).taken  # another host: its own turn
    busy = store.take_host_turn("a.example", "b", HOLD, T0 + GAP)
    assert (busy.taken, busy.at, busy.holder, busy.wait) == (False, T0, "a", 0.0)  # a's slot: past, ask again
    assert not store.end_host_turn("a.example", "b", GAP, T0)  # not b's to end
    answered = T0 + 2 * GAP  # the site answered a's request then
    assert store.end_host_turn("a.example", "a", GAP, answered)
    second = store.take_host_turn("a.example", "b", HOLD, answered)
    assert (second.taken, second.at, second.wait) == (True, answered + GAP, 1.0)
    assert store.take_host_turn("a.example", "c", HOLD, answered).at == answered + GAP  # b's slot, still ahead
    later = answered + timedelta(minutes=5)
    assert store.end_host_turn("a.example", "b", GAP, later)
    assert store.take_host_turn("a.example", "c", HOLD, later + timedelta(minutes=1)).wait == 0.0


def test_a_turn_never_ended_is_taken_once_its_hold_has_passed(store: Store) -> None:
    assert store.take_host_turn("a.example", "dead", HOLD, T0).taken
    assert not store.take_host_turn("a.example", "b", HOLD, T0 + HOLD - timedelta(seconds=1)).taken
    after = store.take_host_turn("a.example", "b", HOLD, T0 + HOLD + timedelta(seconds=1))
    assert after.taken and after.wait == 0.0
    assert not store.end_host_turn("a.example", "dead", GAP, T0 + HOLD)  # too late: it is b's now


def test_a_turn_whose_holder_was_found_dead_is_taken_at_once(store: Store) -> None:
    assert store.take_host_turn("a.example", "dead", HOLD, T0).taken
    assert not store.take_host_turn("a.example", "b", HOLD, T0 + GAP, dead="someone-else").taken
    taken = store.take_host_turn("a.example", "b", HOLD, T0 + GAP, dead="dead")
    assert taken.taken and taken.at == T0 + GAP


def test_without_a_time_given_the_database_clock_decides(store: Store) -> None:
    hour = timedelta(hours=1)
    first = store.take_host_turn("a.example", "a", HOLD)
    assert first.taken and first.wait == 0.0 and first.at == first.now
    assert abs(first.now - datetime.now(UTC)) < timedelta(minutes=1)  # the test cluster runs on this machine
    assert store.end_host_turn("a.example", "a", hour)
    second = store.take_host_turn("a.example", "b", HOLD)
    assert second.taken and first.at + hour < second.at <= second.now + hour
    assert hour.total_seconds() - 60 < second.wait <= hour.total_seconds()


def test_concurrent_askers_from_several_stores_hold_the_turn_one_at_a_time(db_url: str) -> None:
    stores = [Store(db_url) for _ in range(3)]  # three instances, each with its own connections
    holding: list[str] = []
    overlaps: list[tuple[str, str]] = []
    taken = 0
    lock = threading.Lock()

    def ask(store: Store, holder: str) -> None:
        nonlocal taken
        turns = 0
        while turns < 5:
            if not store.take_host_turn("a.example", holder, HOLD, T0).taken:
                continue
            with lock:
                overlaps.extend((holder, other) for other in holding)
                holding.append(holder)
            with lock:
                holding.remove(holder)
                taken += 1
            assert store.end_host_turn("a.example", holder, timedelta(0), T0)
            turns += 1

    try:
        threads = [threading.Thread(target=ask, args=(s, f"h{i}-{n}")) for i, s in enumerate(stores) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for store in stores:
            store.close()
    assert taken == 45 and overlaps == []


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
