"""The store at scale: entries bulk-inserted through the store's tables, then measured at each level.

One probe source always holds ``PROBE_ENTRIES`` entries (its ``keep``), the other sources share the
rest, so newest-50 and a refresh's transaction see the same source whatever the table's size.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.child import peak_rss_mb
from feedsvc.model import DateEvidence, Diff, Entry, SourceStatus
from feedsvc.store import Store
from feedsvc.store.schema import entries, sources

PROBE = "probe"
PROBE_ENTRIES = 1000
NEW_PER_REFRESH = 5
_BATCH = 20_000
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_SUMMARY = "众所周知,不管是文本还是视觉领域,各种生成模型正在以无法阻挡的势头发展。" * 3


_RAW_NEWEST = "SELECT * FROM entries WHERE source = ? ORDER BY sort_at DESC, first_seen DESC, identity LIMIT 50"


def _row(source: str, n: int) -> dict[str, Any]:
    published = _EPOCH + timedelta(hours=n)
    return {
        "source": source,
        "identity": f"https://kexue.example/{source}/archives/{n}",
        "title": f"第{n}篇:生成模型与扩散方程的笔记",
        "summary": f"{_SUMMARY}{n}",
        "author": "苏剑林",
        "link": f"https://kexue.example/{source}/archives/{n}",
        "title_derived": False,
        "published": published,
        "date_evidence": DateEvidence.PAGE.value,
        "first_seen": published,
        "updated": published,
        "sort_at": published,
    }


def _entry(source: str, n: int, now: datetime) -> Entry:
    row = _row(source, n)
    return Entry(
        source=source,
        identity=row["identity"],
        title=row["title"],
        summary=row["summary"],
        first_seen=now,
        updated=now,
        published=now,
        date_evidence=DateEvidence.PAGE,
        author=row["author"],
        link=row["link"],
    )


def measure(db: Path, source_count: int, levels: list[int]) -> list[dict[str, float]]:
    """Fill ``db`` up to each of ``levels`` entries (ascending) and measure the store there."""
    store = Store(f"sqlite:///{db}")
    engine = store._engine  # bulk filling goes through the store's own tables and engine
    others = [f"s{i:05d}" for i in range(source_count - 1)]
    with engine.begin() as conn:
        conn.execute(insert(sources), [{"name": name} for name in [PROBE, *others]])
        conn.execute(insert(entries), [_row(PROBE, n) for n in range(PROBE_ENTRIES)])
    stored = PROBE_ENTRIES
    next_n = 0
    results: list[dict[str, float]] = []
    for level in levels:
        started = time.perf_counter()
        while stored < level:
            batch: list[dict[str, Any]] = []
            while len(batch) < _BATCH and stored + len(batch) < level:
                batch.append(_row(others[next_n % len(others)], next_n // len(others)))
                next_n += 1
            with engine.begin() as conn:
                conn.execute(insert(entries), batch)
            stored += len(batch)
        fill = time.perf_counter() - started
        results.append({"entries": stored, "fill_seconds": fill, **_measure_level(store, db, stored)})
    store.close()
    return results


def _measure_level(store: Store, db: Path, stored: int) -> dict[str, float]:
    newest = []
    for _ in range(200):
        started = time.perf_counter()
        got = store.entries(PROBE, limit=50)
        newest.append(time.perf_counter() - started)
    if len(got) != 50:
        raise RuntimeError(f"newest-50 returned {len(got)} entries")
    raw = []  # the index query alone, through the driver: rows as tuples, no model objects
    with store._engine.connect() as conn:
        driver = conn.connection.dbapi_connection
        assert driver is not None
        for _ in range(200):
            started = time.perf_counter()
            driver.execute(_RAW_NEWEST, (PROBE,)).fetchall()
            raw.append(time.perf_counter() - started)
    known = []
    for _ in range(5):
        started = time.perf_counter()
        store.known(PROBE)
        known.append(time.perf_counter() - started)
    applies = []
    for round_ in range(20):
        now = datetime.now(UTC)
        fresh = tuple(_entry(PROBE, 10_000_000 + stored + round_ * NEW_PER_REFRESH + k, now) for k in range(5))
        started = time.perf_counter()
        store.apply(PROBE, Diff(new=fresh, seen=len(fresh)), SourceStatus(now, ok=True), keep=PROBE_ENTRIES)
        applies.append(time.perf_counter() - started)
    with store._engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    size = os.path.getsize(db)
    return {
        "newest50_ms": statistics.median(newest) * 1000,
        "newest50_ms_low": min(newest) * 1000,
        "newest50_ms_high": max(newest) * 1000,
        "newest50_raw_ms": statistics.median(raw) * 1000,
        "known_ms": statistics.median(known) * 1000,
        "apply_ms": statistics.median(applies) * 1000,
        "apply_ms_low": min(applies) * 1000,
        "apply_ms_high": max(applies) * 1000,
        "db_bytes": size,
        "bytes_per_entry": size / stored,
        "rss_mb": peak_rss_mb(),
    }
