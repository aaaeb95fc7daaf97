"""A site that is down for a day, polled by the real refresh on a simulated clock.

The scheduler's ticks are simulated (every ``interval`` of a fake clock), everything else is
real: the refresher, urllib3's retries, the SQLite store, and a local server answering 500
that counts the requests it received.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsvc.config import Current, Settings, Source
from feedsvc.fetch import RETRIES
from feedsvc.refresh import backoff
from feedsvc.refresh.runner import Runner
from feedsvc.store import Store
from tests.misbehaving import misbehaving_site
from tests.support import SEEDS

START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Day:
    ticks: int  # scheduler ticks in the simulated period
    attempts: int  # refreshes that reached the site
    requests: int  # HTTP requests the site received
    recovered_after: timedelta | None  # from the site's return to the first successful refresh


def simulate(tmp_path: Path, hours: int = 24, interval: timedelta = timedelta(minutes=10)) -> Day:
    """The site answers 500 for ``hours``, then comes back; tick the scheduler until it is seen again."""
    clock = [START]
    with misbehaving_site(SEEDS[0].read_bytes()) as site:
        source = Source(name="kexue", title="k", url=site.url, timezone="Asia/Shanghai", interval=interval)
        settings = Settings(sources=(source,), host_gap=timedelta(0), manual_refresh_gap=timedelta(0))
        store = Store(f"sqlite:///{tmp_path / 'feedsvc.db'}")
        refresher = Runner(Current(settings), store, clock=lambda: clock[0])
        try:
            site.behave("error-500")
            down_until = START + timedelta(hours=hours)
            ticks = attempts = 0
            while clock[0] < down_until:
                result = refresher.scheduled("kexue")
                assert (result is not None and not result.ok) or result.deferred_until is not None
                attempts += result.deferred_until is None
                ticks += 1
                clock[0] += interval
            requests = site.requests
            site.behave("ok")
            recovered = None
            for _ in range(100):
                result = refresher.scheduled("kexue")
                if result is not None and result.deferred_until is None and result.ok:
                    recovered = clock[0] - down_until
                    break
                clock[0] += interval
            return Day(ticks, attempts, requests, recovered)
        finally:
            store.close()


def test_a_site_down_for_a_day_is_asked_far_less_than_every_tick(tmp_path: Path) -> None:
    day = simulate(tmp_path)
    assert day.ticks == 144
    assert day.requests == day.attempts * (RETRIES + 1)  # each attempt: the first request and its retries
    # backoff doubles the wait after each failure up to its cap: ~log2(cap / interval) attempts to reach the
    # cap, then one per cap period
    cap = int(backoff.DEFAULT_CAP / timedelta(minutes=10))
    assert day.attempts <= cap.bit_length() + 1 + 24 // 6
    assert day.requests < 144 / 4
    # and once the site is back, the backoff delays recovery by at most one capped wait
    assert day.recovered_after is not None and day.recovered_after <= backoff.DEFAULT_CAP
