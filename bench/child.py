"""Measurements that need a process of their own (CPU time, peak RSS); each prints one JSON object.

python -m bench.child cycle DB BASE_URL SOURCES    one refresh of every source, as the scheduler would
python -m bench.child store DB SOURCES LEVELS      fill the store to each level, measure at each
"""

from __future__ import annotations

import json
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from feedsvc import refresh, scheduler
from feedsvc.config import Source
from feedsvc.store import Store


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cycle(db: Path, base: str, count: int) -> dict[str, float]:
    """Refresh ``count`` sources once, with the scheduler's number of workers."""
    sources = [
        Source(name=f"s{i:05d}", title=f"s{i:05d}", url=f"{base}/s{i:05d}.txt", layout="auto", timezone="Asia/Shanghai")
        for i in range(count)
    ]
    store = Store(f"sqlite:///{db}")
    now = datetime.now(UTC)
    wall, cpu = time.perf_counter(), cpu_seconds()
    with ThreadPoolExecutor(scheduler.WORKERS) as pool:
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


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "cycle":
        db, base, count = args
        print(json.dumps(cycle(Path(db), base, int(count))))
    elif command == "store":
        from bench import store_scale

        db, count, levels = args
        print(json.dumps(store_scale.measure(Path(db), int(count), [int(n) for n in levels.split(",")])))
    else:
        raise SystemExit(f"unknown measurement {command!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
