"""Outside tools the benchmarks drive: nginx (a static server on a free local port) and wrk.

Both are Debian packages; ``missing()`` says how to install what is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTALL_HINT = "apt-get update && apt-get install -y --no-install-recommends nginx-light wrk"


def median_ms(run: Callable[[], object], runs: int) -> float:
    """The median wall time of ``runs`` calls of ``run``, in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """A database URL for ``backend``: an SQLite file in ``workdir``, or a new database on a throwaway
    PostgreSQL cluster (``tests/postgres.py``) that lives as long as the context."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'feedsvc.db'}"
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.postgres import throwaway_cluster

    with throwaway_cluster() as server:
        yield server.new_database_url()


def missing(*tools: str) -> list[str]:
    """The tools of ``tools`` not on PATH (nginx is looked for in /usr/sbin too)."""
    return [tool for tool in tools if which(tool) is None]


def which(tool: str) -> str | None:
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/local/sbin:/sbin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answering(url: str, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status < 500:
                    return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}: no answer within {timeout:g} s")
        time.sleep(0.05)


def stop(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_NGINX_CONF = """\
daemon off;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    types {{ text/plain txt; text/html html; application/atom+xml atom; }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/plain text/html application/atom+xml;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


@contextmanager
def nginx(root: Path, workdir: Path, workers: str = "auto") -> Iterator[str]:
    """nginx serving the files under ``root`` on a free local port: yields its base URL."""
    binary = which("nginx")
    if binary is None:
        raise RuntimeError(f"nginx is not installed: {INSTALL_HINT}")
    prefix = workdir / "nginx"
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    _readable(root)
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(_NGINX_CONF.format(workers=workers, prefix=prefix, port=port, root=root), encoding="utf-8")
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{base}/", process=process)
        yield base
    finally:
        stop(process)


def _readable(root: Path) -> None:
    """nginx's workers run as an unprivileged user when started as root: open the tree for reading."""
    for path in (root, *root.parents):
        if path == Path("/tmp") or path == Path("/"):
            break
        path.chmod(path.stat().st_mode | 0o755)


@dataclass(frozen=True, slots=True)
class Load:
    """One wrk run: requests per second and latency percentiles (seconds)."""

    requests_per_second: float
    p50: float
    p99: float
    errors: int


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk(
    url: str, seconds: float, connections: int = 16, threads: int = 2, headers: dict[str, str] | None = None
) -> Load:
    """Load ``url`` with wrk for ``seconds``; non-2xx/3xx answers and socket errors count as errors."""
    binary = which("wrk")
    if binary is None:
        raise RuntimeError(f"wrk is not installed: {INSTALL_HINT}")
    command = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> Load:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    if not (rate and p50 and p99):
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Load(
        requests_per_second=float(rate[1]),
        p50=float(p50[1]) * _UNITS[p50[2]],
        p99=float(p99[1]) * _UNITS[p99[2]],
        errors=errors,
    )


def child(what: str, *args: str) -> Any:
    """Run ``python -m bench.child WHAT ARGS...`` in a process of its own; its JSON answer."""
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-m", "bench.child", what, *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench.child {what} {' '.join(args)} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout)
