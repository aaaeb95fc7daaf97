"""The small holes of issue 12 (rows 8, 10, 11), through the real app, a local site and a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from feedsvc import refresh
from feedsvc.config import Settings, Source
from feedsvc.service import Service
from feedsvc.store import Store
from tests.support import SEEDS, SnapshotServer, snapshot_server

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def site() -> Iterator[SnapshotServer]:
    with snapshot_server() as server:
        server.serve(SEEDS[0].read_bytes())
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


def _settings(site: SnapshotServer) -> Settings:
    source = Source(name="kexue", title="科学空间", url=site.url, timezone="Asia/Shanghai", timeout=5)
    return Settings(sources=(source,), refresh_token=TOKEN, host_gap=timedelta(0), manual_refresh_gap=timedelta(0))


@pytest.mark.parametrize("limit", ["²", "١٢", "1" * 5000, "0", "-1", "1e3", " 5", "\uff15"])
def test_a_limit_that_is_not_ascii_digits_is_a_400_with_a_message(
    site: SnapshotServer, store: Store, limit: str
) -> None:
    client = Service(_settings(site), store=store, scheduled=False).app.test_client()
    answer = client.get("/feeds/kexue.atom", query_string={"limit": limit})
    assert answer.status_code == 400
    assert b"limit: expected a whole number" in answer.data


def test_a_huge_but_ascii_limit_is_cut(site: SnapshotServer, store: Store) -> None:
    client = Service(_settings(site), store=store, scheduled=False).app.test_client()
    assert client.get("/feeds/kexue.atom?limit=999999999").status_code == 200


@pytest.mark.parametrize("charset", ["zlib", "base64", "rot13", "hex", "bz2", "uu", "quopri"])
def test_a_codec_that_is_not_a_text_encoding_is_refused_clearly(
    site: SnapshotServer, store: Store, charset: str
) -> None:
    gbk = SEEDS[0].read_text(encoding="utf-8").encode("gbk")  # not UTF-8: nothing to fall back on
    site.serve(gbk, f"text/plain; charset={charset}")
    result = refresh.run(store, _settings(site).sources[0], datetime(2026, 11, 23, tzinfo=UTC))
    assert result.error_kind == "decode", result
    assert "not a text encoding" in (result.error or "")
    # UTF-8 bytes under such a label are read as UTF-8, as a browser does with a label it cannot use
    site.serve(SEEDS[0].read_bytes(), f"text/plain; charset={charset}")
    result = refresh.run(store, _settings(site).sources[0], datetime(2026, 11, 24, tzinfo=UTC))
    assert result.ok and result.new == 8, result


def _full_from_now_on(store: Store) -> None:
    """The real database file may grow no more: every connection opened from now on has max_page_count set."""
    engine = store._engine
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    engine.dispose()


def test_a_full_disk_is_a_503_with_the_error_in_status_and_readyz_failing(site: SnapshotServer, store: Store) -> None:
    settings = _settings(site)
    client = Service(settings, store=store, scheduled=False).app.test_client()
    assert client.post("/api/sources/kexue/refresh", headers=AUTH).status_code == 200
    assert client.get("/readyz").status_code == 200

    _full_from_now_on(store)
    big = "".join(
        f"Post {i} {'long title ' * 20}\nBy someone | 2023-07-{1 + i % 28:02d} | 1位读者 | 引用{'text ' * 400}\n"
        for i in range(200)
    )
    site.serve(big.encode("utf-8"))
    answer = client.post("/api/sources/kexue/refresh", headers=AUTH)

    assert answer.status_code == 503, (answer.get_json(), client.get("/api/sources/kexue").get_json())
    assert "full" in answer.get_json()["error"]
    status = client.get("/api/sources/kexue").get_json()
    assert status["healthy"] is False
    assert "full" in (status.get("store_error") or status["last_error"] or "")
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "full" in ready.get_json()["database"]
    assert len(store.entries("kexue", limit=1000)) == 8  # all or nothing: the failed apply stored nothing
