"""The refresh pipeline: extract + diff per snapshot, and full refresh cycles of many sources.

A cycle runs in a child process (``bench.child cycle``) so its CPU time and peak RSS are its own.
The sources' pages are files under one local HTTP server (nginx when installed, else Python's
http.server): before each measured cycle half the files are rewritten with newer posts (200 with
changes), the other half stay as they were (304 to the remembered validators).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import pages, tools
from bench.stats import Figure, timed
from feedsvc import differ, extract
from feedsvc.config import Source
from feedsvc.feeds import formats
from feedsvc.model import Diff, Known, Snapshot, SourceStatus
from feedsvc.store import Store

ZONE = "Asia/Shanghai"
NOW = datetime(2023, 7, 20, 12, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SnapshotCost:
    name: str
    posts: int
    extract_diff: Figure  # seconds


def seed_costs(workdir: Path, repeats: int) -> list[SnapshotCost]:
    """Extract + diff of each seed, against what the store knows after the seeds before it."""
    costs: list[SnapshotCost] = []
    with Store(f"sqlite:///{workdir / 'seeds.db'}") as store:
        for path in pages.SEEDS:
            snapshot = Snapshot(path.as_uri(), path.read_text(encoding="utf-8"), "text/plain", NOW)
            known = store.known("seeds")

            def step(snapshot: Snapshot = snapshot, known: Known = known) -> Diff:
                posts = extract.posts(snapshot, "auto")
                return differ.diff(known, posts, seen_at=NOW, zone=ZoneInfo(ZONE), source="seeds")

            diff = step()
            store.apply("seeds", diff, SourceStatus(NOW, ok=True, posts_on_page=diff.seen))
            costs.append(SnapshotCost(path.name, diff.seen, timed(step, repeats, inner=20)))
    return costs


@dataclass(frozen=True, slots=True)
class PageCost:
    posts: int
    page_bytes: int
    extract: Figure
    extract_diff: Figure
    render_50: Figure
    render_all: Figure


def big_page_cost(posts: int, repeats: int) -> PageCost:
    """Extract, extract + diff (nothing known yet: every post is new), and feed rendering of one big page."""
    html = pages.byline_html(posts)
    snapshot = Snapshot("https://kexue.example/", html, "text/html", NOW)
    zone = ZoneInfo(ZONE)
    found = extract.posts(snapshot, "byline")
    if len(found) != posts:
        raise RuntimeError(f"the {posts}-post page yields {len(found)} posts")
    diff = differ.diff(Known(), found, seen_at=NOW, zone=zone, source="big")
    source = Source(name="big", title="big", url="https://kexue.example/", timezone=ZONE)
    entries = sorted(diff.new, key=lambda e: e.published or e.first_seen, reverse=True)
    return PageCost(
        posts=posts,
        page_bytes=len(html.encode()),
        extract=timed(lambda: extract.posts(snapshot, "byline"), repeats),
        extract_diff=timed(
            lambda: differ.diff(Known(), extract.posts(snapshot, "byline"), seen_at=NOW, zone=zone, source="big"),
            repeats,
        ),
        render_50=timed(lambda: formats.atom(source, entries[:50], "http://127.0.0.1", "127.0.0.1"), repeats, inner=5),
        render_all=timed(lambda: formats.atom(source, entries, "http://127.0.0.1", "127.0.0.1"), repeats),
    )


@dataclass(frozen=True, slots=True)
class CycleCost:
    sources: int
    server: str
    wall: Figure  # seconds
    cpu: Figure  # seconds, user + system, of the refreshing process
    rss_mb: Figure  # peak resident set of the refreshing process
    first_wall: float  # the cold cycle that stored every source's first page (all 200)


def cycle_cost(workdir: Path, sources: int, repeats: int) -> CycleCost:
    site = workdir / f"site-{sources}"
    site.mkdir(parents=True)
    seeds = [path.read_bytes() for path in pages.SEEDS]
    names = [f"s{i:05d}" for i in range(sources)]
    base_mtime = 1_700_000_000
    for name in names:
        _write(site / f"{name}.txt", seeds[0], base_mtime)
    db = workdir / f"cycle-{sources}.db"
    with _site_server(site, workdir) as (base, server):
        first = _child_cycle(db, base, sources, expect_changed=sources)
        runs: list[dict[str, float]] = []
        for r in range(1, repeats + 1):
            page = seeds[1 + (r - 1) % (len(seeds) - 1)]
            for name in names[::2]:  # the even half changes, the odd half answers 304
                _write(site / f"{name}.txt", page, base_mtime + 10 * r)
            runs.append(_child_cycle(db, base, sources, expect_changed=len(names[::2])))
    return CycleCost(
        sources=sources,
        server=server,
        wall=Figure.of([run["wall"] for run in runs]),
        cpu=Figure.of([run["cpu"] for run in runs]),
        rss_mb=Figure.of([run["rss_mb"] for run in runs]),
        first_wall=first["wall"],
    )


def step_costs(workdir: Path, sources: int) -> dict[str, float]:
    """CPU ms per refresh in each step (fetch, extract, diff, each store call), one thread, half 304."""
    site = workdir / f"steps-{sources}"
    site.mkdir(parents=True)
    seeds = [path.read_bytes() for path in pages.SEEDS]
    names = [f"s{i:05d}" for i in range(sources)]
    for name in names:
        _write(site / f"{name}.txt", seeds[0], 1_700_000_000)
    db = workdir / f"steps-{sources}.db"
    with _site_server(site, workdir) as (base, _server):
        _child_cycle(db, base, sources, expect_changed=sources)
        for name in names[::2]:
            _write(site / f"{name}.txt", seeds[1], 1_700_000_010)
        measured: dict[str, float] = tools.child("steps", str(db), base, str(sources))
    return measured


def _write(path: Path, body: bytes, mtime: int) -> None:
    path.write_bytes(body)
    os.utime(path, (mtime, mtime))


def _child_cycle(db: Path, base: str, sources: int, expect_changed: int) -> dict[str, float]:
    result: dict[str, float] = tools.child("cycle", str(db), base, str(sources))
    if result["errors"] or result["fetched"] != expect_changed or result["not_modified"] != sources - expect_changed:
        raise RuntimeError(f"refresh cycle of {sources} sources: unexpected outcome {result}")
    return result


@contextmanager
def _site_server(root: Path, workdir: Path) -> Iterator[tuple[str, str]]:
    """nginx when installed (it stays out of the way of the measured process), else Python's http.server."""
    if tools.which("nginx") is not None:
        with tools.nginx(root, workdir / f"nginx-{root.name}") as base:
            yield base, "nginx"
        return
    port = tools.free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        tools.wait_until_answering(f"{base}/", process=process)
        yield base, "python http.server"
    finally:
        tools.stop(process)
