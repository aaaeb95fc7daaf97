"""Every way a site misbehaves: stored entries unchanged, feed still served, a clear status, recovery.

A real local HTTP server misbehaves on demand; the real app (Flask test client), refresher and
SQLite store do the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from feedsvc.config import Settings, Source
from feedsvc.refresh.runner import Runner
from feedsvc.service import Service
from feedsvc.store import Store
from tests.atom_checks import assert_valid_atom, parse_feed
from tests.misbehaving import BEHAVIOURS, MisbehavingSite, misbehaving_site
from tests.support import SEEDS

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TIMEOUT = 0.5
MAX_BYTES = 200_000

# What the status must say for each misbehaviour (words an operator can act on), and its kind.
EXPECTED: dict[str, tuple[tuple[str, ...], str]] = {
    "slow": (("still arriving after", "a trickle"), "timeout"),
    "hang": ((f"no answer within {TIMEOUT:g} s",), "timeout"),
    "error-500": (("HTTP 500", "3 attempts"), "http"),
    "too-many-requests": (("HTTP 429", "Retry-After"), "http"),
    "unavailable": (("HTTP 503", "Retry-After"), "http"),
    "redirect-loop": (("redirects", "loop"), "fetch"),
    "huge": ((f"more than the {MAX_BYTES} bytes allowed",), "too-large"),
    "huge-declared": (("bytes declared", f"{MAX_BYTES} allowed"), "too-large"),
    "wrong-type": (("not a page but 'image/png'",), "fetch"),
    "truncated": (("closed before the whole page arrived",), "fetch"),
    "reset": (("reset the connection",), "fetch"),
    "empty": (("answered 200 with an empty page",), "fetch"),
    "login": (("no posts found",), "extract"),
    "one-post": (("shows 1 post where it usually shows 8", "nothing was stored"), "layout-change"),
}


def test_every_behaviour_is_covered() -> None:
    assert set(EXPECTED) == set(BEHAVIOURS) - {"ok"}


@dataclass
class Rig:
    site: MisbehavingSite
    client: FlaskClient
    refresher: Runner
    store: Store

    def refresh(self) -> tuple[int, dict[str, Any]]:
        answer = self.client.post("/api/sources/kexue/refresh", headers=AUTH)
        return answer.status_code, answer.get_json()

    def status(self) -> dict[str, Any]:
        answer = self.client.get("/api/sources/kexue")
        assert answer.status_code == 200
        return answer.get_json()

    def feed_ids(self) -> list[str]:
        answer = self.client.get("/feeds/kexue.atom")
        assert answer.status_code == 200
        assert_valid_atom(answer.data)
        return [entry.id for entry in parse_feed(answer.data).entries]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with misbehaving_site(SEEDS[0].read_bytes()) as site:
        # a trickle or a hang outlasts every deadline of the fetch, however loaded the machine (released at the end)
        site.hang_seconds = 60
        source = Source(name="kexue", title="科学空间", url=site.url, timezone="Asia/Shanghai", timeout=TIMEOUT)
        source = Source(**{**_fields(source), "max_bytes": MAX_BYTES})
        settings = Settings(
            sources=(source,),
            refresh_token=TOKEN,
            host_gap=timedelta(0),
            manual_refresh_gap=timedelta(0),
        )
        store = Store(f"sqlite:///{tmp_path / 'feedsvc.db'}")
        service = Service(settings, store=store, scheduled=False)
        try:
            yield Rig(site, service.app.test_client(), service.runner, store)
        finally:
            store.close()


def _fields(source: Source) -> dict[str, Any]:
    return {name: getattr(source, name) for name in source.__dataclass_fields__}


@pytest.mark.parametrize("behaviour", sorted(EXPECTED))
def test_a_misbehaving_site_changes_nothing_and_says_what_is_wrong(rig: Rig, behaviour: str) -> None:
    for _ in range(3):  # the usual page, seen a few times: the layout guard learns its size
        code, body = rig.refresh()
        assert code == 200 and body["error"] is None, body
    entries_before = rig.store.entries("kexue", limit=1000)
    ids_before = rig.feed_ids()
    good = rig.status()
    assert good["healthy"] and good["posts_on_page"] == 8 and good["entries_stored"] == len(entries_before)

    rig.site.behave(behaviour)
    code, body = rig.refresh()
    words, kind = EXPECTED[behaviour]

    assert code == 502, body
    for word in words:
        assert word in body["error"], body["error"]
    assert rig.store.entries("kexue", limit=1000) == entries_before
    assert rig.feed_ids() == ids_before
    bad = rig.status()
    assert bad["healthy"] is False
    assert bad["last_error"] == body["error"]
    assert bad["consecutive_failures"] == 1
    assert bad["last_success"] == good["last_success"]
    assert bad["entries_stored"] == good["entries_stored"]
    metrics = rig.client.get("/metrics").get_data(as_text=True)
    assert f'feedsvc_refreshes_total{{outcome="{kind}"}} 1.0' in metrics
    assert 'feedsvc_sources{state="failing"} 1.0' in metrics

    rig.site.behave("ok")
    code, body = rig.refresh()
    assert code == 200 and body["error"] is None, body
    healed = rig.status()
    assert healed["healthy"] and healed["consecutive_failures"] == 0 and healed["last_error"] is None
    assert rig.feed_ids() == ids_before


def test_a_short_retry_after_is_waited_for_within_the_refresh(rig: Rig) -> None:
    rig.site.retry_after = "0"
    rig.site.behave("unavailable")
    code, body = rig.refresh()
    assert code == 502 and "HTTP 503" in body["error"] and "3 attempts" in body["error"]
    assert rig.site.requests == 3  # retried in place, not given up on


def test_a_long_retry_after_is_honoured_by_the_schedule(rig: Rig) -> None:
    rig.site.retry_after = "14400"  # four hours: longer than the backoff after one failure (2 x 1h)
    rig.site.behave("too-many-requests")
    before = datetime.now(UTC)
    code, _ = rig.refresh()
    assert code == 502
    assert rig.site.requests == 1  # no retry inside the refresh when the site asks for hours
    until = datetime.fromisoformat(rig.status()["backing_off_until"])
    assert before + timedelta(seconds=14400) <= until <= datetime.now(UTC) + timedelta(seconds=14400)
    deferred = rig.refresher.scheduled("kexue")
    assert deferred is not None and deferred.deferred_until == until
    assert rig.site.requests == 1


def test_conditional_get_remembers_validators_and_a_304_costs_no_parsing(rig: Rig) -> None:
    rig.site.etag = '"v1"'
    code, body = rig.refresh()
    assert code == 200 and body["new"] == 8
    assert rig.site.last_headers.get("If-None-Match") is None
    ids = rig.feed_ids()

    rig.site.good = b"not a listing at all: parsing this would fail"  # a 304 must not even look at it
    code, body = rig.refresh()
    assert code == 200 and body["not_modified"] is True and body["error"] is None
    assert rig.site.last_headers.get("If-None-Match") == '"v1"'
    assert rig.site.last_headers.get("If-Modified-Since") == rig.site.last_modified
    assert rig.feed_ids() == ids
    assert rig.status()["healthy"]


def test_requests_name_feedsvc_and_accept_compression(rig: Rig) -> None:
    rig.refresh()
    agent = rig.site.last_headers.get("User-Agent", "")
    assert agent.startswith("feedsvc/") and "+http" in agent
    assert "br" in rig.site.last_headers.get("Accept-Encoding", "")
    assert "gzip" in rig.site.last_headers.get("Accept-Encoding", "")


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_compressed_pages_are_read_and_capped_after_decompression(rig: Rig, encoding: str) -> None:
    rig.site.encoding = encoding
    code, body = rig.refresh()
    assert code == 200 and body["new"] == 8, body
    rig.site.good = b"x" * (MAX_BYTES * 3)  # compresses to almost nothing: a decompression bomb
    code, body = rig.refresh()
    assert code == 502 and f"more than the {MAX_BYTES} bytes allowed" in body["error"]
    assert rig.status()["entries_stored"] == 8
