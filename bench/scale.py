"""Scheduling at scale: the real ``feedsvc serve`` process (waitress, SQLite) with many sources.

    python -m bench.scale idle [--sources 10000] [--seconds 60] [--package DIR]
    python -m bench.scale slow [--slow 10] [--healthy 170] [--seconds 60] [--package DIR]
    python -m bench.scale queue [--connections 256] [--seconds 40] [--package DIR]
    python -m bench.scale reload [--sources 10000] [--package DIR]

``idle``: ``--sources`` sources on a local seed server, every one refreshed just before the start
(interval 1 day), so nothing is due: after a 15 s settling time, the service's CPU time (from
``/proc/<pid>/stat``) and its log lines over ``--seconds``, both per minute, and the requests the
site received (none expected).

``slow``: ``--slow`` sources on hosts that trickle the page at 100 B/s (127.0.0.2, .3, ...: one
host each, as the host gap counts hosts by name) and ``--healthy`` sources with a 1-minute interval
on healthy hosts (127.0.1.1, ...: ten sources each); a new database, so all are due at once.
Counts the healthy sources refreshed within ``--seconds`` of the service answering, and the
"maximum number of running instances" warnings in its log.

``queue``: wrk with ``--connections`` connections against one cached feed for ``--seconds``; counts
waitress's "Task queue depth" warnings and all log lines (needs wrk).

``reload``: ``--sources`` sources as for ``idle``; while one client asks for a feed over and over
(one connection, one request at a time), the config file changes one source's URL and the service
gets SIGHUP. Measures how long until the log says the reload was applied and until the moved
source's new URL is requested (read at once, not at its next due time), and the slowest request
answered from the SIGHUP to a second after the reload.

``--package DIR`` runs the service (and fills its database) from another checkout's ``feedsvc``
package (e.g. ``/work/main`` for the figures before a change); the default is this one's. Prints
one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench import tools

ROOT = Path(__file__).resolve().parent.parent
PAGE = sorted((ROOT / "fixtures" / "seeds").glob("*.txt"))[0].read_bytes()
SETTLE = 15.0  # seconds after the service answers before the idle measurement starts
TRICKLE_BYTES_PER_SECOND = 100

# Marks every source refreshed now, through the package under test's own store (its schema).
FILL = """
import sys
from datetime import UTC, datetime
from feedsvc.model import Diff, SourceStatus
from feedsvc.store import Store
with Store(sys.argv[1]) as store:
    now = datetime.now(UTC)
    for name in sys.argv[2].split(","):
        store.apply(name, Diff(), SourceStatus(now, ok=True))
"""


@contextmanager
def site(address: str, trickle: bool = False) -> Iterator[tuple[str, list[int]]]:
    """The seed page at http://<address>:<port>/<anything>; with ``trickle``, at 100 B/s. Yields the
    base URL and a one-item list counting requests."""
    counted = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            counted[0] += 1
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            try:
                if not trickle:
                    self.wfile.write(PAGE)
                    return
                for start in range(len(PAGE)):
                    self.wfile.write(PAGE[start : start + 1])
                    self.wfile.flush()
                    time.sleep(1 / TRICKLE_BYTES_PER_SECOND)
            except OSError:
                pass  # the client gave up (its deadline): as a real slow site would see it

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((address, 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{address}:{server.server_address[1]}/", counted
    finally:
        server.shutdown()
        server.server_close()


def _config(workdir: Path, port: int, sources: list[tuple[str, str, str]]) -> Path:
    blocks = "".join(
        f'[[sources]]\nname = "{name}"\nurl = "{url}"\ninterval = "{interval}"\ntimezone = "Asia/Shanghai"\n'
        for name, url, interval in sources
    )
    conf = workdir / "feedsvc.toml"
    conf.write_text(
        f'[service]\nbind = "127.0.0.1:{port}"\ndata_dir = "{workdir / "data"}"\nserver = "waitress"\n'
        f'refresh_token_env = "BENCH_TOKEN"\n{blocks}',
        encoding="utf-8",
    )
    return conf


def _env(package: Path) -> dict[str, str]:
    return {"PYTHONPATH": str(package), "PATH": "/usr/bin:/bin", "BENCH_TOKEN": "bench", "FEEDSVC_LOG_LEVEL": "INFO"}


@contextmanager
def _service(workdir: Path, conf: Path, package: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    log_path = workdir / "service.log"
    with log_path.open("wb") as log:
        command = [sys.executable, "-m", "feedsvc", "--config", str(conf), "serve"]
        process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=_env(package))
        try:
            yield process, log_path
        except RuntimeError:
            sys.stderr.write(log_path.read_text(encoding="utf-8", errors="replace")[-3000:])
            raise
        finally:
            tools.stop(process, timeout=120)


def _mark_refreshed(workdir: Path, package: Path, names: list[str]) -> None:
    """A new database in ``workdir/data`` where every one of ``names`` was refreshed just now (none due)."""
    (workdir / "data").mkdir()
    database = f"sqlite:///{workdir / 'data' / 'feedsvc.db'}"
    fill = [sys.executable, "-c", FILL, database, ",".join(names)]
    subprocess.run(fill, cwd=workdir, env=_env(package), check=True)  # cwd: not this checkout's package


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def idle(count: int, seconds: float, package: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="feedsvc-scale-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        base, requests = stack.enter_context(site("127.0.0.1"))
        names = [f"s{n:05d}" for n in range(count)]
        port = tools.free_port()
        conf = _config(workdir, port, [(name, f"{base}{name}", "1d") for name in names])
        _mark_refreshed(workdir, package, names)
        started = time.monotonic()
        process, log_path = stack.enter_context(_service(workdir, conf, package))
        tools.wait_until_answering(f"http://127.0.0.1:{port}/healthz", timeout=120, process=process)
        start_seconds = time.monotonic() - started
        time.sleep(SETTLE)
        cpu, lines, asked = _cpu_seconds(process.pid), _lines(log_path), requests[0]
        time.sleep(seconds)
        cpu, lines = _cpu_seconds(process.pid) - cpu, _lines(log_path) - lines
        per_minute = 60 / seconds
        return {
            "scenario": "idle",
            "package": str(package),
            "sources": count,
            "seconds": seconds,
            "start_seconds": round(start_seconds, 1),
            "cpu_seconds_per_minute": round(cpu * per_minute, 2),
            "log_lines_per_minute": round(lines * per_minute, 1),
            "site_requests": requests[0] - asked,
        }


def slow(slow_hosts: int, healthy: int, seconds: float, package: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="feedsvc-scale-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        sources: list[tuple[str, str, str]] = []
        for n in range(slow_hosts):
            base, _ = stack.enter_context(site(f"127.0.0.{n + 2}", trickle=True))
            sources.append((f"slow{n:02d}", f"{base}slow{n:02d}", "1m"))
        healthy_names = [f"ok{n:03d}" for n in range(healthy)]
        bases = [stack.enter_context(site(f"127.0.1.{h + 1}"))[0] for h in range((healthy + 9) // 10)]
        sources += [(name, f"{bases[n // 10]}{name}", "1m") for n, name in enumerate(healthy_names)]
        port = tools.free_port()
        conf = _config(workdir, port, sources)
        process, log_path = stack.enter_context(_service(workdir, conf, package))
        tools.wait_until_answering(f"http://127.0.0.1:{port}/healthz", timeout=120, process=process)
        time.sleep(seconds)
        with sqlite3.connect(workdir / "data" / "feedsvc.db") as db:
            refreshed = {
                name for (name,) in db.execute("SELECT name FROM sources WHERE last_success IS NOT NULL")
            }
        log = log_path.read_text(encoding="utf-8", errors="replace")
        return {
            "scenario": "slow",
            "package": str(package),
            "slow_hosts": slow_hosts,
            "healthy_sources": healthy,
            "seconds": seconds,
            "healthy_refreshed": len(refreshed & set(healthy_names)),
            "max_instances_warnings": log.count("maximum number of running instances"),
            "log_lines": log.count("\n"),
        }


def queue(connections: int, seconds: float, package: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="feedsvc-scale-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        base, _ = stack.enter_context(site("127.0.0.1"))
        port = tools.free_port()
        conf = _config(workdir, port, [("feed", f"{base}feed", "1d")])
        process, log_path = stack.enter_context(_service(workdir, conf, package))
        tools.wait_until_answering(f"http://127.0.0.1:{port}/healthz", timeout=120, process=process)
        url = f"http://127.0.0.1:{port}/feeds/feed.atom"
        tools.wait_until_answering(url)
        lines = _lines(log_path)
        load = tools.wrk(url, seconds, connections=connections)
        log = log_path.read_text(encoding="utf-8", errors="replace")
        return {
            "scenario": "queue",
            "package": str(package),
            "connections": connections,
            "seconds": seconds,
            "requests_per_second": load.requests_per_second,
            "queue_warning_lines": log.count("Task queue depth"),
            "log_lines": _lines(log_path) - lines,
        }


def reload(count: int, package: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="feedsvc-scale-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        base, requests = stack.enter_context(site("127.0.0.1"))
        names = [f"s{n:05d}" for n in range(count)]
        port = tools.free_port()
        sources = [(name, f"{base}{name}", "1d") for name in names]
        conf = _config(workdir, port, sources)
        _mark_refreshed(workdir, package, names)
        process, log_path = stack.enter_context(_service(workdir, conf, package))
        tools.wait_until_answering(f"http://127.0.0.1:{port}/healthz", timeout=120, process=process)
        time.sleep(SETTLE)
        timings: list[tuple[float, float]] = []  # (sent at, seconds to the answer)
        stop = threading.Event()

        def ask() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while not stop.is_set():
                sent = time.monotonic()
                connection.request("GET", f"/feeds/{names[0]}.atom")
                connection.getresponse().read()
                timings.append((sent, time.monotonic() - sent))
            connection.close()

        asker = threading.Thread(target=ask, daemon=True)
        asker.start()
        time.sleep(2.0)
        sources[1] = (names[1], f"{base}moved", "1d")
        _config(workdir, port, sources)
        lines_before, asked_before = _lines(log_path), requests[0]
        signalled = time.monotonic()
        os.kill(process.pid, signal.SIGHUP)
        applied = fetched = None
        while time.monotonic() - signalled < 60 and (applied is None or fetched is None):
            if applied is None and b"reloaded" in log_path.read_bytes().split(b"\n", lines_before)[-1]:
                applied = time.monotonic() - signalled
            if fetched is None and requests[0] > asked_before:
                fetched = time.monotonic() - signalled
            time.sleep(0.005)
        time.sleep(1.0)
        stop.set()
        asker.join()
        window_end = signalled + (applied or 60) + 1.0
        during = [took for sent, took in timings if signalled - 0.5 <= sent <= window_end]
        before = [took for sent, took in timings if sent < signalled - 0.5]
        return {
            "scenario": "reload",
            "package": str(package),
            "sources": count,
            "reload_applied_seconds": None if applied is None else round(applied, 3),
            "moved_source_fetched_seconds": None if fetched is None else round(fetched, 3),
            "requests_during_reload": len(during),
            "slowest_request_during_reload_ms": round(max(during, default=0) * 1000, 1),
            "median_request_before_ms": round(sorted(before)[len(before) // 2] * 1000, 2) if before else None,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    parser.add_argument("scenario", choices=("idle", "slow", "queue", "reload"))
    parser.add_argument("--sources", type=int, default=10_000, help="idle, reload: sources (default 10000)")
    parser.add_argument("--slow", type=int, default=10, help="slow: trickling hosts (default 10)")
    parser.add_argument("--healthy", type=int, default=170, help="slow: healthy sources (default 170)")
    parser.add_argument("--connections", type=int, default=256, help="queue: wrk connections (default 256)")
    parser.add_argument("--seconds", type=float, help="measured seconds (default 60; queue: 40)")
    parser.add_argument("--package", type=Path, default=ROOT, help="the checkout whose feedsvc runs")
    args = parser.parse_args(argv)
    package = args.package.resolve()
    if args.scenario == "idle":
        result = idle(args.sources, args.seconds or 60.0, package)
    elif args.scenario == "slow":
        result = slow(args.slow, args.healthy, args.seconds or 60.0, package)
    elif args.scenario == "reload":
        result = reload(args.sources, package)
    else:
        result = queue(args.connections, args.seconds or 40.0, package)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
