"""What a browser-rendered refresh costs: time (cold and warm) and the browser's memory.

    python3 -m bench.browser [--runs N] [--json]        (from the repository root)

Serves the tests' script app (``tests/app_shell.py``: an app shell whose script fetches a JSON
file and builds a list of three posts, plus an image, a video and a web font that are never
requested) on 127.0.0.1, and refreshes it with ``refresh.run`` into a real SQLite file:

    cold        the first browser refresh of the process: Chromium starts
    warm idle   later refreshes, read once the network is idle (the default)
    warm wait   later refreshes with ``wait_for`` (read once the list's element exists)
    http        the same list served as plain HTML, with ``fetch = "http"``: the baseline

Memory: the resident set (RSS) of every Chromium process under this one, summed, and their
proportional share (PSS, shared pages divided among the processes sharing them: the honest
total), sampled after each refresh; the Python process's RSS before and after.
Needs Debian's ``chromium`` and Playwright. The recorded figures are in ``bench/browser.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedsvc import browser, refresh
from feedsvc.config import Source
from feedsvc.store import Store
from tests.app_shell import app_shell_sites, chromium_processes

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def _kib(pid: int, field: str) -> int:
    """A ``/proc`` memory figure of ``pid`` in KiB (``VmRSS`` from status, ``Pss`` from smaps_rollup)."""
    source = "status" if field.startswith("Vm") else "smaps_rollup"
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def browser_memory() -> dict[str, float]:
    """MiB: Chromium's processes under this one, RSS summed and PSS summed; how many processes."""
    pids = [pid for pid, _ in chromium_processes()]
    return {
        "processes": len(pids),
        "rss_mib": sum(_kib(pid, "VmRSS") for pid in pids) / 1024,
        "pss_mib": sum(_kib(pid, "Pss") for pid in pids) / 1024,
    }


def timed(run: Callable[[], refresh.RefreshResult]) -> float:
    started = time.perf_counter()
    result = run()
    elapsed = time.perf_counter() - started
    if not result.ok or result.seen != 3:
        raise SystemExit(f"refresh failed: {result.error} (seen {result.seen})")
    return elapsed


def measure(runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, app_shell_sites() as (app, _), Store(f"sqlite:///{tmp}/b.db") as store:
        rendered = Source(name="app", title="app", url=app.url, fetch="browser")
        waiting = Source(name="wait", title="wait", url=app.url, fetch="browser", wait_for="li.post")
        plain = Source(name="plain", title="plain", url=app.url + "static")
        clock = iter(NOW + timedelta(minutes=n) for n in range(10_000))
        python_before = _kib(os.getpid(), "VmRSS") / 1024
        cold = timed(lambda: refresh.run(store, rendered, next(clock)))
        after_cold = browser_memory()
        idle, wait, http, samples = [], [], [], []
        for _ in range(runs):
            idle.append(timed(lambda: refresh.run(store, rendered, next(clock))))
            wait.append(timed(lambda: refresh.run(store, waiting, next(clock))))
            http.append(timed(lambda: refresh.run(store, plain, next(clock))))
            samples.append(browser_memory())
        python_after = _kib(os.getpid(), "VmRSS") / 1024
        asked = app.paths()
        browser.close_shared()
    return {
        "runs": runs,
        "cold_s": cold,
        "warm_idle_s": _spread(idle),
        "warm_wait_for_s": _spread(wait),
        "http_s": _spread(http),
        "browser_after_cold": after_cold,
        "browser_peak": {key: max(sample[key] for sample in samples) for key in ("processes", "rss_mib", "pss_mib")},
        "python_rss_mib": {"before": python_before, "after": python_after},
        "blocked_never_asked": not {"/banner.png", "/clip.mp4", "/serif.woff2"} & set(asked),
    }


def _spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p90": ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))],
        "min": ordered[0],
        "max": ordered[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="warm refreshes of each kind (default 20)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = measure(args.runs)
    if args.json:
        print(json.dumps(figures, indent=1))
        return
    print(f"cold (Chromium starts): {figures['cold_s'] * 1000:.0f} ms")
    kinds = (("warm_idle_s", "warm, network idle"), ("warm_wait_for_s", "warm, wait_for"), ("http_s", "http"))
    for key, label in kinds:
        spread = figures[key]
        print(
            f"{label}: median {spread['median'] * 1000:.0f} ms, p90 {spread['p90'] * 1000:.0f} ms "
            f"({figures['runs']} runs, {spread['min'] * 1000:.0f} to {spread['max'] * 1000:.0f} ms)"
        )
    for key, label in (("browser_after_cold", "browser after the first render"), ("browser_peak", "browser, peak")):
        memory = figures[key]
        print(
            f"{label}: {memory['processes']} processes, RSS {memory['rss_mib']:.0f} MiB summed, "
            f"PSS {memory['pss_mib']:.0f} MiB"
        )
    python = figures["python_rss_mib"]
    print(f"python process RSS: {python['before']:.0f} MiB before, {python['after']:.0f} MiB after")
    print(f"images, fonts, media never requested: {figures['blocked_never_asked']}")


if __name__ == "__main__":
    main()
