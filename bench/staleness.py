"""How long after another instance's refresh every instance serves the new bytes.

    python -m bench.staleness [--backend postgresql|sqlite] [--instances 3] [--refreshes 100] [--granian]

Starts ``--instances`` real ``feedsvc serve --no-scheduler`` processes (waitress; with ``--granian``
one more under granian, whose app runs in a worker process of its own) on one database: a
throwaway PostgreSQL cluster (``tests/postgres.py``) or an SQLite file. This process stands for
another instance: it applies a refresh that adds an entry through its own ``Store`` and notes when
the commit returned; one poller per instance asks that instance for the feed back to back (one
keep-alive connection, ``If-None-Match`` with the ETag it holds) and notes when the new bytes first
came back, pausing ``--pause`` between requests. A refresh's staleness is the slowest instance's delay; refreshes are a
second apart. Prints the percentiles (milliseconds) as JSON.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import tools
from feedsvc.model import Diff, Entry, SourceStatus
from feedsvc.store import Store

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "bench"
PATH = f"/feeds/{SOURCE}.atom"
T0 = datetime(2024, 5, 1, tzinfo=UTC)


def _entry(n: int) -> Entry:
    moment = T0 + timedelta(minutes=n)
    return Entry(
        source=SOURCE,
        identity=f"post-{n}",
        title=f"Post {n}",
        summary=f"Text of post {n}",
        first_seen=moment,
        updated=moment,
        published=moment,
        link=f"https://bench.example/{n}",
    )


def _refresh(store: Store, n: int) -> None:
    store.apply(SOURCE, Diff(new=(_entry(n),), seen=1), SourceStatus(datetime.now(UTC), ok=True))


def _config(workdir: Path, name: str, port: int, url: str, server: str) -> Path:
    conf = workdir / f"{name}.toml"
    conf.write_text(
        f"""
[service]
bind = "127.0.0.1:{port}"
data_dir = "{workdir / "data"}"
database_url = "{url}"
base_url = "http://feeds.example"
server = "{server}"

[[sources]]
name = "{SOURCE}"
title = "Staleness benchmark"
url = "{workdir / "absent.txt"}"
interval = "1d"
""",
        encoding="utf-8",
    )
    return conf


class _Poller(threading.Thread):
    """Asks one instance for the feed back to back; records when each awaited ETag stops being served."""

    def __init__(self, base_port: int, pause: float) -> None:
        super().__init__(daemon=True)
        self.port = base_port
        self.pause = pause
        self.etag = ""
        self.changed_at: dict[str, float] = {}  # old ETag -> when another one was first served
        self.stop = threading.Event()
        self.requests = 0

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self.stop.is_set():
            try:
                conn.request("GET", PATH, headers={"If-None-Match": self.etag} if self.etag else {})
                answer = conn.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException):
                if self.stop.is_set():
                    break
                raise
            self.requests += 1
            if answer.status == 200:
                etag = answer.getheader("ETag") or ""
                if etag != self.etag:
                    self.changed_at[self.etag] = time.perf_counter()
                    self.etag = etag
            if self.pause:
                time.sleep(self.pause)
        conn.close()


def measure(backend: str, instances: int, refreshes: int, granian: bool, gap: float, pause: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="feedsvc-stale-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        url = stack.enter_context(tools.database(backend, workdir))
        store = stack.enter_context(Store(url))
        _refresh(store, 0)
        servers = ["waitress"] * instances + (["granian"] if granian else [])
        pollers = []
        log = stack.enter_context((workdir / "instances.log").open("wb"))
        for i, server in enumerate(servers):
            port = tools.free_port()
            conf = _config(workdir, f"i{i}", port, url, server)
            command = [sys.executable, "-m", "feedsvc", "--config", str(conf), "serve", "--no-scheduler"]
            env = {"FEEDSVC_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
            process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
            stack.callback(tools.stop, process)
            tools.wait_until_answering(f"http://127.0.0.1:{port}/healthz", process=process)
            pollers.append(_Poller(port, pause))
        for poller in pollers:
            poller.start()
            stack.callback(poller.join, 10)
            stack.callback(poller.stop.set)
        deadline = time.monotonic() + 30
        while not all(p.etag for p in pollers) or len({p.etag for p in pollers}) != 1:
            if time.monotonic() > deadline:
                raise RuntimeError("the instances never served the same feed")
            time.sleep(0.01)
        delays: list[float] = []
        missed = 0
        for n in range(1, refreshes + 1):
            time.sleep(gap)
            old = pollers[0].etag
            _refresh(store, n)
            committed = time.perf_counter()
            deadline = time.monotonic() + 10
            while not all(old in p.changed_at for p in pollers):
                if time.monotonic() > deadline:
                    missed += 1
                    break
                time.sleep(0.001)
            else:
                delays.append(max(0.0, max(p.changed_at[old] for p in pollers) - committed))
        polled = sum(p.requests for p in pollers)
    ordered = sorted(delays)

    def pct(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2) if ordered else float("nan")

    return {
        "backend": backend,
        "instances": servers,
        "refreshes": refreshes,
        "missed": missed,
        "p50_ms": round(statistics.median(ordered) * 1000, 2) if ordered else None,
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
        "polled_requests": polled,
        "pause_ms": pause * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.staleness", description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--instances", type=int, default=3, help="waitress instances (default 3)")
    parser.add_argument("--granian", action="store_true", help="and one instance under granian")
    parser.add_argument("--refreshes", type=int, default=100)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between refreshes (default 0.2)")
    parser.add_argument(
        "--pause", type=float, default=0.001, help="seconds a poller waits between its requests (default 0.001)"
    )
    args = parser.parse_args(argv)
    result = measure(args.backend, args.instances, args.refreshes, args.granian, args.gap, args.pause)
    print(json.dumps(result))
    return 1 if result["missed"] else 0


if __name__ == "__main__":
    sys.exit(main())
