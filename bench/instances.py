"""How close together several instances sharing one database ask one host: the host gap across instances.

    python -m bench.instances [--backend postgresql|sqlite] [--instances 3] [--requests 200] [--gap 1]
                              [--code DIR]

Starts ``--instances`` real ``feedsvc worker`` processes on one database (a throwaway PostgreSQL
cluster, ``tests/postgres.py``, or an SQLite file) with ``--requests`` sources, all on one local
host, all due at start, ``host_gap = --gap`` seconds. This process is the site: it notes when each
request arrives (``time.monotonic()`` in its handler, one clock for every instance) and answers
with a sample page. Once every source was fetched, it prints as JSON the gaps between consecutive
arrivals: min, median, and how many were closer than ``host_gap``. ``--code DIR`` runs the
instances from another checkout of the package (e.g. an export of an older commit), for a before
and after on the same machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
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
PAGE = sorted((ROOT / "fixtures" / "seeds").glob("*.txt"))[0]  # the first seed, served at every path


@contextmanager
def _site() -> Iterator[tuple[str, list[float]]]:
    """A local site answering every path with a sample page; yields its URL and the arrival times."""
    body = PAGE.read_bytes()
    arrivals: list[float] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            arrived = time.monotonic()
            with lock:
                arrivals.append(arrived)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", arrivals
    finally:
        server.shutdown()
        server.server_close()


def _config(workdir: Path, name: str, url: str, site: str, requests: int, gap: float) -> Path:
    sources = "".join(
        f'\n[[sources]]\nname = "s{n:04d}"\nurl = "{site}/s{n:04d}"\ninterval = "1d"\n' for n in range(requests)
    )
    conf = workdir / f"{name}.toml"
    gap_text = f"{gap:g}s" if float(gap).is_integer() else f"{round(gap * 1000)}ms"
    conf.write_text(
        f"""
[service]
bind = "127.0.0.1:{tools.free_port()}"
data_dir = "{workdir / "data"}"
database_url = "{url}"
host_gap = "{gap_text}"
{sources}""",
        encoding="utf-8",
    )
    return conf


def measure(backend: str, instances: int, requests: int, gap: float, code: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="feedsvc-instances-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        url = stack.enter_context(tools.database(backend, workdir))
        site, arrivals = stack.enter_context(_site())
        log = stack.enter_context((workdir / "instances.log").open("wb"))
        for i in range(instances):
            conf = _config(workdir, f"i{i}", url, site, requests, gap)
            command = [sys.executable, "-m", "feedsvc", "--config", str(conf), "worker"]
            env = {"FEEDSVC_LOG_LEVEL": "WARNING", "PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"}
            process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env)
            stack.callback(tools.stop, process)
        deadline = time.monotonic() + requests * gap * 2 + 120
        while len(arrivals) < requests:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(arrivals)} of {requests} requests arrived; see the instances' log")
            time.sleep(0.2)
        times = sorted(arrivals[:requests])
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return {
        "backend": backend,
        "instances": instances,
        "requests": len(times),
        "host_gap_s": gap,
        "min_gap_ms": round(min(gaps) * 1000, 1),
        "median_gap_ms": round(statistics.median(gaps) * 1000, 1),
        "closer_than_host_gap": sum(1 for g in gaps if g < gap),
        "gaps": len(gaps),
        "requests_per_s": round((len(times) - 1) / (times[-1] - times[0]), 3),
        "code": str(code),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instances", description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200, help="sources, each fetched once (default 200)")
    parser.add_argument("--gap", type=float, default=1.0, help="host_gap in seconds (default 1)")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout the instances run (default this one)")
    args = parser.parse_args(argv)
    result = measure(args.backend, args.instances, args.requests, args.gap, args.code.resolve())
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
