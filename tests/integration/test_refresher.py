"""Manual refresh under pressure, POST /api/refresh, config reload, readiness, and the scheduler's
tick: the real app, refresher, scheduler and store against a real local site."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from feedsvc import config
from feedsvc.refresh import schedule
from feedsvc.refresh.dispatch import Dispatcher
from feedsvc.refresh.runner import Runner
from feedsvc.service import Service
from feedsvc.store import Store
from tests.misbehaving import MisbehavingSite, misbehaving_site
from tests.support import SEEDS, wait_for

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def config_text(site_url: str, names: tuple[str, ...] = ("kexue",), interval: str = "10m", gap: str = "60s") -> str:
    blocks = "".join(
        f'[[sources]]\nname = "{name}"\nurl = "{site_url}{name}"\ninterval = "{interval}"\ntimezone = "Asia/Shanghai"\n'
        for name in names
    )
    return f'[service]\nrefresh_token_env = "T"\nhost_gap = "0s"\nmanual_refresh_gap = "{gap}"\n{blocks}'


@dataclass
class Rig:
    site: MisbehavingSite
    service: Service
    app: Flask
    refresher: Runner
    store: Store
    path: Path

    def post(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
        answer = self.app.test_client().post(url, headers=AUTH if headers is None else headers)
        return answer.status_code, answer.get_json(), dict(answer.headers)


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    monkeypatch.setenv("T", TOKEN)  # a reload reads the token's variable again
    with misbehaving_site(SEEDS[0].read_bytes()) as site:
        path = tmp_path / "feedsvc.toml"
        path.write_text(config_text(site.url), encoding="utf-8")
        settings = config.load(path)
        store = Store(settings.database_url)
        service = Service(settings, config_path=path, store=store, scheduled=False)
        try:
            yield Rig(site, service, service.app, service.runner, store, path)
        finally:
            store.close()


def test_concurrent_refreshes_of_one_source_share_one_run(rig: Rig) -> None:
    rig.site.delay = 0.5
    answers: list[tuple[int, Any, dict[str, str]]] = []
    first = threading.Thread(target=lambda: answers.append(rig.post("/api/sources/kexue/refresh")))
    first.start()
    assert rig.site.arrived.wait(10)  # the first refresh is at the site now
    second = rig.post("/api/sources/kexue/refresh")
    first.join(10)
    assert rig.site.requests == 1
    assert second[0] == answers[0][0] == 200
    assert second[1] == answers[0][1] and second[1]["new"] == 8


def test_a_manual_refresh_during_a_scheduled_run_waits_then_fetches_afresh(rig: Rig) -> None:
    rig.site.delay = 0.5
    scheduled = threading.Thread(target=rig.refresher.scheduled, args=("kexue",))
    scheduled.start()
    assert rig.site.arrived.wait(10)  # the scheduled run is at the site now
    code, body, _ = rig.post("/api/sources/kexue/refresh")
    scheduled.join(10)
    assert code == 200 and body["error"] is None
    assert rig.site.requests == 2  # one after the other, never at once


def test_a_scheduled_tick_during_a_manual_refresh_shares_it(rig: Rig) -> None:
    rig.site.delay = 0.5
    answers: list[tuple[int, Any, dict[str, str]]] = []
    manual = threading.Thread(target=lambda: answers.append(rig.post("/api/sources/kexue/refresh")))
    manual.start()
    assert rig.site.arrived.wait(10)
    shared = rig.refresher.scheduled("kexue")
    manual.join(10)
    assert rig.site.requests == 1
    assert shared is not None and shared.new == answers[0][1]["new"] == 8


def test_manual_refreshes_closer_than_the_gap_get_429_with_retry_after(rig: Rig) -> None:
    assert rig.post("/api/sources/kexue/refresh")[0] == 200
    code, body, headers = rig.post("/api/sources/kexue/refresh")
    assert code == 429
    assert 0 < int(headers["Retry-After"]) <= 60
    assert "retry in" in body["error"]
    assert rig.site.requests == 1


def test_a_refresh_held_by_another_live_instance_answers_409_naming_it(rig: Rig) -> None:
    rig.store.beat("abc", "otherhost", 1)  # another instance, alive: it beats
    assert rig.store.claim("kexue", "otherhost:1:abc:7", datetime.now(UTC), timedelta(minutes=5))
    code, body, _ = rig.post("/api/sources/kexue/refresh")
    assert code == 409 and "already running" in body["error"] and "otherhost:1:abc:7" in body["error"]
    assert body["held_by"] == {"owner": "otherhost:1:abc:7", "instance": "abc", "host": "otherhost", "pid": 1}
    status = rig.app.test_client().get("/api/sources/kexue").get_json()
    assert status["refreshing"] is True
    assert status["lease"]["owner"] == "otherhost:1:abc:7" and status["lease"]["alive"] is True
    assert "being refreshed by otherhost" in rig.app.test_client().get("/sources/kexue").get_data(as_text=True)
    assert rig.site.requests == 0


def test_a_lease_left_by_a_stopped_instance_neither_shows_as_refreshing_nor_blocks_a_refresh(rig: Rig) -> None:
    rig.store.beat("abc", "otherhost", 1)
    assert rig.store.claim("kexue", "otherhost:1:abc:7", datetime.now(UTC), timedelta(minutes=5))
    rig.store.forget_instance("abc")  # it stopped (or was found dead): its row is gone, its lease remains
    status = rig.app.test_client().get("/api/sources/kexue").get_json()
    assert status["refreshing"] is False and status["lease"]["alive"] is False
    assert "left by otherhost" in rig.app.test_client().get("/sources/kexue").get_data(as_text=True)
    code, body, _ = rig.post("/api/sources/kexue/refresh")
    assert code == 200 and body["new"] > 0
    assert rig.site.requests == 1
    assert rig.app.test_client().get("/api/sources/kexue").get_json()["lease"] is None


def test_post_refresh_refreshes_every_source(rig: Rig) -> None:
    rig.path.write_text(config_text(rig.site.url, ("kexue", "other")), encoding="utf-8")
    assert rig.post("/api/reload")[0] == 200
    code, body, _ = rig.post("/api/refresh")
    assert code == 200
    assert sorted(answer["source"] for answer in body["sources"]) == ["kexue", "other"]
    assert all(answer["status"] == 200 and answer["new"] == 8 for answer in body["sources"])
    assert rig.site.requests == 2
    code, body, _ = rig.post("/api/refresh")  # both within the manual gap now: refused, not a plain 200
    assert code == 429
    assert [answer["status"] for answer in body["sources"]] == [429, 429]
    assert [answer["outcome"] for answer in body["sources"]] == ["too-soon", "too-soon"]
    assert (body["refreshed"], body["failed"], body["refused"]) == (0, 0, 2)
    assert rig.post("/api/refresh", headers={})[0] == 401


def scheduler_of(rig: Rig, first_run_in: timedelta = timedelta(seconds=1)) -> BackgroundScheduler:
    """The service's scheduler, as ``Service(scheduled=True)`` builds it, on the rig's runner."""
    dispatcher = Dispatcher(rig.refresher.scheduled, workers=1)
    rig.service.dispatcher = dispatcher
    return schedule.build(rig.refresher, dispatcher, first_run_in)


def test_reload_adds_changes_and_removes_sources_and_their_schedule(rig: Rig) -> None:
    jobs = scheduler_of(rig)
    jobs.start(paused=True)
    rig.service.jobs = jobs
    schedule.sync(jobs, rig.refresher, rig.refresher.settings)
    client = rig.app.test_client()
    try:
        assert rig.store.due(datetime.now(UTC)) == ["kexue"]  # never refreshed: due at once
        assert [job.id for job in jobs.get_jobs()] == [schedule.TICK]  # one job, whatever the sources
        assert rig.post("/api/reload", headers={})[0] == 401

        rig.path.write_text("[[sources]]\nname = 'broken'\n", encoding="utf-8")  # no url: refused
        code, body, _ = rig.post("/api/reload")
        assert code == 400 and "sources.broken.url" in body["error"]
        assert rig.store.due(datetime.now(UTC)) == ["kexue"]

        rig.path.write_text(config_text(rig.site.url, ("fresh",), interval="30m"), encoding="utf-8")
        code, body, _ = rig.post("/api/reload")
        assert code == 200
        assert (body["added"], body["removed"], body["changed"]) == (["fresh"], ["kexue"], [])
        assert rig.store.due(datetime.now(UTC)) == ["fresh"]  # kexue is no longer scheduled
        assert rig.store.state("kexue").next_due is None
        assert client.get("/feeds/kexue.atom").status_code == 404
        assert client.get("/feeds/fresh.atom").status_code == 200
        assert [s["name"] for s in client.get("/api/sources").get_json()["sources"]] == ["fresh"]
        assert rig.post("/api/sources/fresh/refresh")[0] == 200
        attempted = rig.store.state("fresh").last_attempt
        assert attempted is not None and rig.store.state("fresh").next_due == attempted + timedelta(minutes=30)

        rig.path.write_text(config_text(rig.site.url, ("fresh",), interval="2h"), encoding="utf-8")
        code, body, _ = rig.post("/api/reload")
        assert code == 200, body
        assert body["changed"] == ["fresh"]
        fresh = rig.refresher.settings.source("fresh")
        assert fresh is not None and fresh.interval == timedelta(hours=2)
        assert rig.store.state("fresh").next_due == attempted + timedelta(hours=2)  # the new interval counts
        assert client.get("/api/sources/fresh").get_json()["next_run"] == status_time(attempted + timedelta(hours=2))
    finally:
        jobs.shutdown(wait=False)


def status_time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_readyz_needs_the_database_and_a_running_scheduler(rig: Rig) -> None:
    client = rig.app.test_client()
    assert client.get("/readyz").get_json() == {"ready": True, "database": "ok", "scheduler": "absent"}
    jobs = scheduler_of(rig)
    rig.service.jobs = jobs
    stopped = client.get("/readyz")
    assert stopped.status_code == 503 and stopped.get_json()["scheduler"] == "stopped"
    jobs.start(paused=True)
    try:
        assert client.get("/readyz").status_code == 200
    finally:
        jobs.shutdown(wait=False)
    assert client.get("/healthz").status_code == 200


def test_a_tick_long_overdue_refreshes_a_due_source_once_then_sleeps_until_it_is_due(rig: Rig) -> None:
    # the first tick was due two hours ago (the machine slept): it runs once, not once per missed period
    jobs = scheduler_of(rig, first_run_in=-timedelta(hours=2))
    ticks = threading.Semaphore(0)
    events: list[JobExecutionEvent] = []

    def executed(event: JobExecutionEvent) -> None:
        events.append(event)
        ticks.release()

    jobs.add_listener(executed, EVENT_JOB_EXECUTED)
    schedule.sync(None, rig.refresher, rig.refresher.settings)
    jobs.start()
    try:
        assert ticks.acquire(timeout=15)
        wait_for(lambda: rig.store.state("kexue").last_success is not None, "the due source's refresh")
        state = rig.store.state("kexue")
        assert state.last_attempt is not None and state.next_due == state.last_attempt + timedelta(minutes=10)
        next_tick = schedule.next_tick(jobs)
        assert next_tick is not None and next_tick > datetime.now(UTC)
        assert next_tick <= datetime.now(UTC) + schedule.MAX_TICK  # at most MAX_TICK ahead
        assert len(events) == 1 and rig.site.requests == 1
    finally:
        jobs.shutdown(wait=True)
        assert rig.service.dispatcher is not None
        rig.service.dispatcher.close()


def test_metrics_count_refreshes_and_feed_requests(rig: Rig) -> None:
    client = rig.app.test_client()
    rig.post("/api/sources/kexue/refresh")
    client.get("/feeds/kexue.atom")
    client.get("/feeds/kexue.atom")
    client.get("/feeds/nope.atom")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'feedsvc_refreshes_total{outcome="ok"} 1.0' in text
    assert "feedsvc_refresh_duration_seconds_count 1.0" in text
    assert "feedsvc_entries_stored 8.0" in text
    assert 'feedsvc_feed_requests_total{status="200"} 2.0' in text
    assert 'feedsvc_sources{state="ok"} 1.0' in text and 'feedsvc_sources{state="never"} 0.0' in text
    assert "nope" not in text and "source=" not in text
    # another service has its own registry: counts start at zero
    other = Service(rig.refresher.settings, store=rig.store, scheduled=False).app
    assert "feedsvc_refreshes_total{" not in other.test_client().get("/metrics").get_data(as_text=True)


def test_metrics_per_source_when_the_setting_asks_for_them(rig: Rig) -> None:
    """``metrics_per_source = true`` in the file, applied by a reload: series labelled by source."""
    text = config_text(rig.site.url, ("kexue", "other"))
    rig.path.write_text(text.replace("[service]\n", "[service]\nmetrics_per_source = true\n"), encoding="utf-8")
    assert rig.post("/api/reload")[0] == 200
    client = rig.app.test_client()
    rig.post("/api/sources/kexue/refresh")
    client.get("/feeds/kexue.atom")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'feedsvc_refreshes_total{outcome="ok",source="kexue"} 1.0' in text
    assert 'feedsvc_refresh_duration_seconds_count{source="kexue"} 1.0' in text
    assert 'feedsvc_entries_stored{source="kexue"} 8.0' in text
    assert 'feedsvc_entries_stored{source="other"} 0.0' in text
    assert 'feedsvc_consecutive_failures{source="kexue"} 0.0' in text
    assert 'feedsvc_feed_requests_total{source="kexue",status="200"} 1.0' in text
    assert 'feedsvc_sources{state="ok"} 1.0' in text and 'feedsvc_sources{state="never"} 1.0' in text


def test_a_reload_that_moves_a_page_reads_it_at_once(rig: Rig) -> None:
    jobs = scheduler_of(rig)
    jobs.start(paused=True)  # no scheduled run: only the reload can fetch
    rig.service.jobs = jobs
    try:
        assert rig.post("/api/sources/kexue/refresh")[0] == 200
        assert rig.site.requests == 1
        moved = config_text(rig.site.url, ("kexue",)).replace(f"{rig.site.url}kexue", f"{rig.site.url}moved")
        rig.path.write_text(moved, encoding="utf-8")
        assert rig.post("/api/reload")[0] == 200
        wait_for(lambda: rig.site.requests == 2, "the moved page to be fetched")
        wait_for(lambda: not rig.refresher.running(), "the refresh to finish")
        assert rig.store.state("kexue").last_error is None
        rig.path.write_text(moved.replace('interval = "10m"', 'interval = "20m"'), encoding="utf-8")
        assert rig.post("/api/reload")[0] == 200  # only the interval changed: nothing is fetched
        assert rig.site.requests == 2
    finally:
        jobs.shutdown(wait=False)


def test_a_closed_runner_starts_no_scheduled_run(rig: Rig) -> None:
    rig.refresher.close()  # what Service.stop does first: jobs already queued then do nothing
    assert rig.refresher.scheduled("kexue") is None
    assert rig.site.requests == 0
