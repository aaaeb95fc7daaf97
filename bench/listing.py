"""The listing endpoints at 10,000 sources: `/`, `/api/sources`, `/metrics`, cold and warm `/feeds/all.atom`.

    python3 -m bench.listing [--sources 10000] [--entries 20] [--runs 3] [--tree DIR] [--json]

Fills a throw-away SQLite database through the store's own tables (``--sources`` sources, each with
``--entries`` entries and a status: one in ten failing, one in twenty never attempted), writes a
config naming every source, starts the real ``python -m feedsvc serve --no-scheduler`` process on a
free port, and times each request from a fresh connection (median of ``--runs``; all.atom's first
request is the cold one, before any other request of the process). Then it reads the resident
memory of the service's processes (the granian supervisor and its worker, summed). Last, another
process changes the oldest entry of one source (far outside all.atom's newest 50), then adds an
entry newer than every other, and all.atom is timed after each (the first request after a change
finds out whether the feed must be rendered again).

``--tree DIR`` fills and serves with the feedsvc of another checkout (e.g. the main branch, for
the figures before a change): this file imports nothing from ``bench`` or the tests, so it runs
as a plain script against that tree's ``feedsvc``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_BATCH = 20_000
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_SUMMARY = "众所周知,不管是文本还是视觉领域,各种生成模型正在以无法阻挡的势头发展。" * 2
PATHS = ("/", "/api/sources", "/metrics")


def name_of(n: int) -> str:
    return f"s{n:05d}"


def fill(db: Path, count: int, per_source: int) -> None:
    """``count`` sources with ``per_source`` entries each, bulk-inserted through the store's tables."""
    from sqlalchemy import insert

    from feedsvc.store import Store
    from feedsvc.store.schema import entries, sources

    store = Store(f"sqlite:///{db}")
    engine = store._engine
    attempted = _EPOCH + timedelta(days=400)
    with engine.begin() as conn:
        conn.execute(insert(sources), [_source_row(n, attempted) for n in range(count)])
    rows: list[dict[str, Any]] = []
    for k in range(per_source):
        for n in range(count):
            rows.append(_entry_row(n, k, count))
            if len(rows) >= _BATCH:
                with engine.begin() as conn:
                    conn.execute(insert(entries), rows)
                rows = []
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(entries), rows)
    store.close()


def _source_row(n: int, attempted: datetime) -> dict[str, Any]:
    never = n % 20 == 7  # never attempted
    failing = n % 10 == 3
    return {
        "name": name_of(n),
        "last_attempt": None if never else attempted,
        "last_success": None if never or failing else attempted,
        "last_error": "HTTP 503 Service Unavailable" if failing else None,
        "consecutive_failures": 2 if failing else 0,
        "posts_on_page": None if never else 20,
        "version": 0 if never else 1,
    }


def _entry_row(n: int, k: int, count: int) -> dict[str, Any]:
    # entries of all sources interleave in time: the newest of every source are a few minutes apart
    published = _EPOCH + timedelta(minutes=(10_000 - k) * count // 100 + n)
    return {
        "source": name_of(n),
        "identity": f"https://site{n}.example/posts/{k}",
        "title": f"第{k}篇:生成模型与扩散方程的笔记 ({name_of(n)})",
        "summary": f"{_SUMMARY}{k}",
        "author": "苏剑林",
        "link": f"https://site{n}.example/posts/{k}",
        "title_derived": False,
        "published": published,
        "date_evidence": "page",
        "first_seen": published,
        "updated": published,
        "sort_at": published,
    }


def change(db: Path, kind: str) -> None:
    """Another process's refresh of the first source: its oldest entry corrected, or a new newest entry."""
    from dataclasses import replace

    from feedsvc.model import Diff, SourceStatus
    from feedsvc.store import Store

    store = Store(f"sqlite:///{db}")
    now = datetime.now(UTC)
    name = name_of(0)
    if kind == "old":
        oldest = store.entries(name, limit=1000)[-1]
        diff = Diff(changed=(replace(oldest, title=oldest.title + " (corrected)", updated=now),), seen=1)
    else:
        newest = store.entries(name, limit=1)[0]
        later = now + timedelta(days=3650)
        fresh = replace(newest, identity=f"{newest.identity}/new", first_seen=later, updated=later, published=later)
        diff = Diff(new=(fresh,), seen=1)
    store.apply(name, diff, SourceStatus(now, ok=True))
    store.close()


def config(directory: Path, port: int, count: int) -> Path:
    path = directory / "feedsvc.toml"
    lines = [f'[service]\nbind = "127.0.0.1:{port}"\ndata_dir = "data"\n']
    for n in range(count):
        lines.append(f'[[sources]]\nname = "{name_of(n)}"\nurl = "https://site{n}.example/"\ninterval = "1d"\n')
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str) -> tuple[float, int, int]:
    """Seconds, HTTP status and body bytes of one GET on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        started = time.perf_counter()
        conn.request("GET", path)
        answer = conn.getresponse()
        body = answer.read()
        return time.perf_counter() - started, answer.status, len(body)
    finally:
        conn.close()


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def measure(count: int, per_source: int, runs: int, tree: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree), "FEEDSVC_LOG_LEVEL": "WARNING"}
    results: dict[str, Any] = {"sources": count, "entries": count * per_source, "tree": str(tree)}
    with tempfile.TemporaryDirectory(prefix="feedsvc-listing-") as scratch:
        directory = Path(scratch)
        (directory / "data").mkdir()
        started = time.perf_counter()
        db = directory / "data" / "feedsvc.db"
        script = [sys.executable, __file__]
        subprocess.run([*script, "fill", str(db), str(count), str(per_source)], cwd=tree, env=env, check=True)
        results["fill_seconds"] = round(time.perf_counter() - started, 1)
        port = _free_port()
        path = config(directory, port, count)
        log = directory / "service.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "feedsvc", "--config", str(path), "serve", "--no-scheduler"],
                cwd=tree,
                env=env,
                stdout=out,
                stderr=out,
            )
        try:
            _wait_ready(process, port, log)
            results["rss_mb_started"] = round(_tree_rss_mb(process.pid), 1)
            cold, status, size = _get(port, "/feeds/all.atom")
            _check(status, "/feeds/all.atom")
            warm = [_get(port, "/feeds/all.atom")[0] for _ in range(runs)]
            results["/feeds/all.atom"] = {
                "cold_ms": round(cold * 1000, 1),
                "warm_ms": round(statistics.median(warm) * 1000, 2),
                "bytes": size,
            }
            for endpoint in PATHS:
                timings = []
                for _ in range(runs):
                    seconds, status, size = _get(port, endpoint)
                    _check(status, endpoint)
                    timings.append(seconds)
                results[endpoint] = {
                    "ms": round(statistics.median(timings) * 1000, 1),
                    "best_ms": round(min(timings) * 1000, 1),
                    "bytes": size,
                }
            results["rss_mb"] = round(_tree_rss_mb(process.pid), 1)
            results["load_average"] = round(os.getloadavg()[0], 2)  # the machine's: other work skews the times
            for kind in ("old", "new"):
                subprocess.run([*script, "change", str(db), kind], cwd=tree, env=env, check=True)
                time.sleep(0.1)  # the service's watch reads SQLite's data_version at most every 5 ms
                seconds, status, size = _get(port, "/feeds/all.atom")
                _check(status, "/feeds/all.atom")
                results[f"/feeds/all.atom after a change ({kind})"] = {"ms": round(seconds * 1000, 1), "bytes": size}
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return results


def _check(status: int, path: str) -> None:
    if status != 200:
        raise SystemExit(f"GET {path}: HTTP {status}")


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 300
    while True:
        try:
            if _get(port, "/healthz")[1] == 200:
                return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the service did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["fill"]:
        _, db, count, per_source = args_in
        fill(Path(db), int(count), int(per_source))
        return 0
    if args_in[:1] == ["change"]:
        _, db, kind = args_in
        change(Path(db), kind)
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.listing", description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=int, default=10_000, help="sources (default 10000)")
    parser.add_argument("--entries", type=int, default=20, help="entries per source (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="requests per endpoint; the median is shown")
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout whose feedsvc is measured")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(args_in)
    results = measure(args.sources, args.entries, args.runs, args.tree.resolve())
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    print(f"{results['sources']} sources, {results['entries']} entries, feedsvc from {results['tree']}")
    all_atom = results["/feeds/all.atom"]
    print(f"{'request':<20} {'ms':>9} {'best ms':>9} {'bytes':>10}")
    print(f"{'all.atom (cold)':<20} {all_atom['cold_ms']:>9} {'':>9} {all_atom['bytes']:>10}")
    print(f"{'all.atom (warm)':<20} {all_atom['warm_ms']:>9} {'':>9} {all_atom['bytes']:>10}")
    for endpoint in PATHS:
        found = results[endpoint]
        print(f"{endpoint:<20} {found['ms']:>9} {found['best_ms']:>9} {found['bytes']:>10}")
    for kind, label in (("old", "all.atom, old change"), ("new", "all.atom, new entry")):
        after = results[f"/feeds/all.atom after a change ({kind})"]
        print(f"{label:<20} {after['ms']:>9} {'':>9} {after['bytes']:>10}")
    print(f"service RSS: {results['rss_mb_started']} MB started, {results['rss_mb']} MB after serving them")
    print(f"load average (1 min) at the end: {results['load_average']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
