"""Measurements that need a process of their own (CPU time, peak RSS); each prints one JSON object.

python -m bench.child cycle DB BASE_URL SOURCES    one refresh of every source, as the scheduler would
python -m bench.child store DB SOURCES LEVELS      fill the store to each level, measure at each
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedsvc import refresh
from feedsvc.config import Settings, Source
from feedsvc.store import Store


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cycle(db: Path, base: str, count: int) -> dict[str, float]:
    """Refresh ``count`` sources once, with the scheduler's number of workers."""
    sources = _sources(base, count)
    store = Store(f"sqlite:///{db}")
    now = datetime.now(UTC)
    wall, cpu = time.perf_counter(), cpu_seconds()
    with ThreadPoolExecutor(Settings().workers) as pool:
        results = list(pool.map(lambda source: refresh.run(store, source, now), sources))
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    store.close()
    errors = [r.error for r in results if not r.ok]
    return {
        "wall": wall,
        "cpu": cpu,
        "rss_mb": peak_rss_mb(),
        "fetched": sum(1 for r in results if r.ok and not r.not_modified),
        "not_modified": sum(1 for r in results if r.not_modified),
        "new": sum(r.new for r in results),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,  # type: ignore[dict-item]
    }


STEPS = (
    ("fetch", "fetch", "get"),
    ("extract", "extract", "posts"),
    ("diff", "differ", "diff"),
)
STORE_STEPS = ("claim", "validators", "known", "apply", "release")


def steps(db: Path, base: str, count: int) -> dict[str, float]:
    """CPU milliseconds per refresh spent in each step: one thread, every step's calls timed with thread_time."""
    spent: dict[str, float] = {}

    def timed(label: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return call(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.thread_time() - started

        return wrapper

    sources = _sources(base, count)
    store = Store(f"sqlite:///{db}")
    for name in STORE_STEPS:
        if hasattr(store, name):  # steps that a later refresh.run no longer takes are left out
            setattr(store, name, timed(name, getattr(store, name)))
    for label, module, function in STEPS:
        owner = getattr(refresh, module, None)
        if owner is not None and hasattr(owner, function):
            setattr(owner, function, timed(label, getattr(owner, function)))
    now = datetime.now(UTC)
    started = time.thread_time()
    results = [refresh.run(store, source, now) for source in sources]
    total = time.thread_time() - started
    store.close()
    if any(not r.ok for r in results):
        raise SystemExit(f"refresh failed: {next(r.error for r in results if not r.ok)}")
    per = {label: seconds / count * 1000 for label, seconds in spent.items()}
    per["total"] = total / count * 1000
    return per


def _sources(base: str, count: int) -> list[Source]:
    return [
        Source(name=f"s{i:05d}", title=f"s{i:05d}", url=f"{base}/s{i:05d}.txt", layout="auto", timezone="Asia/Shanghai")
        for i in range(count)
    ]


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "cycle":
        db, base, count = args
        print(json.dumps(cycle(Path(db), base, int(count))))
    elif command == "steps":
        db, base, count = args
        print(json.dumps(steps(Path(db), base, int(count))))
    elif command == "store":
        from bench import store_scale

        db, count, levels = args
        print(json.dumps(store_scale.measure(Path(db), int(count), [int(n) for n in levels.split(",")])))
    else:
        raise SystemExit(f"unknown measurement {command!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
