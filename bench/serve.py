"""Requests per second for a cached feed and for a 304, under the production server (granian, or waitress).

    python3 bench/serve.py [--duration 5] [--connections 8] [--server granian|waitress] [--server-threads 8]
                           [--client auto|wrk|python] [--json]

Starts the real ``python -m feedsvc serve`` process on a free 127.0.0.1 port with a throw-away
database, fills it from the sample snapshot (``feedsvc refresh``), then drives it with ``wrk``
when it is installed (``--client auto``, the default), else with a small concurrent Python client:
one keep-alive HTTP/1.1 connection per client thread, each sending requests back to back for
``--duration`` seconds. Each scenario's status is checked once before it is measured. Scenarios:

    get        GET /feeds/kexue.atom                      200, the cached bytes (read in full)
    get-gzip   GET /feeds/kexue.atom, Accept-Encoding gzip 200, the cached gzip bytes
    304        GET /feeds/kexue.atom, If-None-Match       304, no body

Client and server share the machine, so the figures are a floor for the server, not a ceiling.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "fixtures" / "seeds" / "002_3482fcadb6435611.txt"
PATH = "/feeds/kexue.atom"


@dataclass(frozen=True)
class Result:
    scenario: str
    status: int
    requests: int
    errors: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    body_bytes: int


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per scenario (default 5)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent client connections (default 8)")
    parser.add_argument("--server", choices=("granian", "waitress"), default="granian", help="web server")
    parser.add_argument("--server-threads", type=int, default=8, help="server threads (default 8)")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto", help="load generator")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    wrk = shutil.which("wrk") if args.client in ("auto", "wrk") else None
    if args.client == "wrk" and wrk is None:
        parser.error("--client wrk: wrk is not installed")

    with (
        tempfile.TemporaryDirectory(prefix="feedsvc-bench-") as scratch,
        _service(Path(scratch), args.server_threads, args.server) as (host, port),
    ):
        etag = _etag(host, port)
        scenarios = {
            "get": ({}, 200),
            "get-gzip": ({"Accept-Encoding": "gzip"}, 200),
            "304": ({"If-None-Match": etag}, 304),
        }
        results = []
        for name, (headers, status) in scenarios.items():
            _, failed, _ = _drive(host, port, headers, status, args.connections, min(0.5, args.duration))  # warm up
            if failed:
                raise SystemExit(f"{name}: {failed} answers were not HTTP {status}: nothing to measure")
            if wrk is not None:
                results.append(_wrk(wrk, name, host, port, headers, status, args.connections, args.duration))
            else:
                results.append(_measure(name, host, port, headers, status, args.connections, args.duration))
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=1))
    else:
        client = "wrk" if wrk is not None else "python client"
        print(f"feedsvc serve ({args.server}, {args.server_threads} threads), {client}, {args.connections} keep-alive "
              f"connections, {args.duration:g} s per scenario, GET {PATH}")  # fmt: skip
        print(f"{'scenario':<10} {'status':>6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'bytes':>7} {'errors':>6}")
        for r in results:
            print(
                f"{r.scenario:<10} {r.status:>6} {r.requests_per_second:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}"
                f" {r.body_bytes:>7} {r.errors:>6}"
            )
    return 1 if any(r.errors for r in results) else 0


class _service:
    """The real service process on a free port, with the sample snapshot already ingested."""

    def __init__(self, directory: Path, threads: int, server: str = "granian") -> None:
        self.port = _free_port()
        self.config = directory / "feedsvc.toml"
        self.config.write_text(
            f"""
[service]
bind = "127.0.0.1:{self.port}"
data_dir = "data"
threads = {threads}
server = "{server}"

[[sources]]
name = "kexue"
title = "科学空间 (bench)"
url = "{SNAPSHOT}"
interval = "1d"
timezone = "Asia/Shanghai"
language = "zh-CN"
""",
            encoding="utf-8",
        )
        self.log = directory / "service.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> tuple[str, int]:
        command = [sys.executable, "-m", "feedsvc", "--config", str(self.config)]
        env = {**os.environ, "FEEDSVC_LOG_LEVEL": "WARNING"}
        subprocess.run([*command, "refresh"], cwd=ROOT, env=env, check=True, capture_output=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen([*command, "serve"], cwd=ROOT, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return "127.0.0.1", self.port
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the service did not start:\n{self.log.read_text(errors='replace')}")
            time.sleep(0.1)

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _measure(
    name: str, host: str, port: int, headers: dict[str, str], status: int, connections: int, duration: float
) -> Result:
    started = time.perf_counter()
    latencies, errors, body_bytes = _drive(host, port, headers, status, connections, duration)
    seconds = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]
    return Result(
        scenario=name,
        status=status,
        requests=len(latencies),
        errors=errors,
        seconds=round(seconds, 3),
        requests_per_second=round(len(latencies) / seconds, 1),
        p50_ms=round(statistics.median(ordered) * 1000, 3),
        p99_ms=round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        body_bytes=body_bytes,
    )


def _wrk(
    wrk: str,
    name: str,
    host: str,
    port: int,
    headers: dict[str, str],
    status: int,
    connections: int,
    duration: float,
) -> Result:
    header_args = [arg for key, value in headers.items() for arg in ("-H", f"{key}: {value}")]
    command = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", *header_args]
    out = subprocess.run([*command, f"http://{host}:{port}{PATH}"], capture_output=True, text=True, check=True).stdout
    requests = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if requests is None or rate is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    non_2xx_3xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non_2xx_3xx[1]) if non_2xx_3xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    seconds = float(requests[2]) / (1000 if requests[3] == "ms" else 1)
    return Result(
        scenario=name,
        status=status,
        requests=int(requests[1]),
        errors=errors,
        seconds=round(seconds, 3),
        requests_per_second=float(rate[1]),
        p50_ms=_wrk_latency(out, "50%"),
        p99_ms=_wrk_latency(out, "99%"),
        body_bytes=_body_size(host, port, headers),
    )


def _wrk_latency(out: str, percentile: str) -> float:
    found = re.search(rf"^\s*{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if found is None:
        return 0.0
    value, unit = float(found[1]), found[2]
    return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 3)


def _body_size(host: str, port: int, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", PATH, headers=headers)
        return len(conn.getresponse().read())
    finally:
        conn.close()


def _drive(
    host: str, port: int, headers: dict[str, str], status: int, connections: int, duration: float
) -> tuple[list[float], int, int]:
    """``connections`` threads, each on one keep-alive connection, for ``duration`` seconds."""
    latencies: list[float] = []
    errors = [0]
    sizes: list[int] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + duration

    def client() -> None:
        mine: list[float] = []
        failed = 0
        conn = http.client.HTTPConnection(host, port, timeout=10)
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            try:
                conn.request("GET", PATH, headers=headers)
                answer = conn.getresponse()
                body = answer.read()
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
                continue
            if answer.status != status:
                failed += 1
                continue
            mine.append(time.perf_counter() - began)
            if not sizes:
                sizes.append(len(body))
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0], sizes[0] if sizes else 0


def _etag(host: str, port: int) -> str:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", PATH)
        answer = conn.getresponse()
        answer.read()
        etag = answer.getheader("ETag")
    finally:
        conn.close()
    if answer.status != 200 or not etag:
        raise SystemExit(f"GET {PATH}: HTTP {answer.status}, ETag {etag!r}: nothing to benchmark")
    return etag


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
