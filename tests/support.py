"""Real parts for tests: a local HTTP server serving snapshots, and the real service process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "fixtures" / "seeds").glob("*.txt"))
TOKEN = "test-token-123"


@dataclass
class Page:
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    status: int = 200


@dataclass
class SnapshotServer:
    """Serves ``page`` at every path on 127.0.0.1:<free port>; counts requests."""

    page: Page = field(default_factory=lambda: Page(b""))
    requests: int = 0
    url: str = ""

    def serve(self, body: bytes, content_type: str = "text/plain; charset=utf-8", status: int = 200) -> None:
        self.page = Page(body, content_type, status)


@contextmanager
def snapshot_server() -> Iterator[SnapshotServer]:
    state = SnapshotServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests += 1
            page = state.page
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            self.wfile.write(page.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with local_http(Handler) as base:
        state.url = f"{base}/blog/"
        yield state


@contextmanager
def local_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served on 127.0.0.1 at a free port from a thread; yields ``http://127.0.0.1:PORT``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60) -> None:
    """Return once ``condition()`` is true; fail naming ``what`` after ``timeout`` seconds (generous:
    the machine is shared, and a passing test never waits that long)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


@dataclass(frozen=True, slots=True)
class Arrival:
    name: str  # the request's path, without slashes: the source's name
    seed: int  # which of SEEDS it was served
    at: float  # time.time() when it arrived (comparable with the store's lease times)
    clock: float  # time.monotonic() when it arrived (for gaps between requests)


@dataclass
class RecordingSite:
    """Serves ``SEEDS[seed]`` at every path and records each request's arrival; the next request for
    ``hold`` waits (before it is answered) until ``release`` is set."""

    url: str = ""
    seed: int = 0
    arrivals: list[Arrival] = field(default_factory=list)
    hold: str | None = None
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, name: str | None = None) -> list[Arrival]:
        """The arrivals for ``name`` (every one when None), in order."""
        with self.lock:
            return [arrival for arrival in self.arrivals if name is None or arrival.name == name]

    def times(self, name: str | None = None) -> list[float]:
        """When the requests for ``name`` (every one when None) arrived, on the monotonic clock."""
        return [arrival.clock for arrival in self.of(name)]

    def fetched(self, name: str, seed: int) -> bool:
        return any(arrival.seed == seed for arrival in self.of(name))


@contextmanager
def recording_site(hold_for: float = 60) -> Iterator[RecordingSite]:
    """A ``RecordingSite`` on a free local port; a held request waits at most ``hold_for`` seconds."""
    site = RecordingSite()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            clock, at, name = time.monotonic(), time.time(), self.path.strip("/")
            with site.lock:
                seed = site.seed
                site.arrivals.append(Arrival(name, seed, at, clock))
                holding = site.hold == name
                if holding:
                    site.hold = None
            if holding:
                site.held.set()
                site.release.wait(timeout=hold_for)
            body = SEEDS[seed].read_bytes()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the instance that asked was killed meanwhile

        def log_message(self, format: str, *args: object) -> None:
            pass

    with local_http(Handler) as base:
        site.url = base
        try:
            yield site
        finally:
            site.release.set()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Tests refresh one local host many times in a row: no politeness gaps unless a test asks for them.
NO_GAPS = 'manual_refresh_gap = "0s"\nhost_gap = "0s"'


def write_config(directory: Path, port: int, sources: str, service: str = NO_GAPS) -> Path:
    path = directory / "feedsvc.toml"
    path.write_text(
        f"""
[service]
bind = "127.0.0.1:{port}"
data_dir = "data"
base_url = "http://127.0.0.1:{port}"
refresh_token_env = "FEEDSVC_TEST_TOKEN"
{service}
{sources}
""",
        encoding="utf-8",
    )
    return path


@dataclass
class Response:
    status: int
    headers: Message  # case-insensitive, as HTTP headers are
    body: bytes

    def json(self) -> dict[str, object]:
        return json.loads(self.body)


def http(method: str, url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> Response:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Response(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def refresh(self, name: str, attempts: int = 50) -> Response:
        """POST a manual refresh; a 409 (the scheduler's run holds the source) is retried."""
        for _ in range(attempts):
            answer = http("POST", f"{self.base_url}/api/sources/{name}/refresh", {"Authorization": f"Bearer {TOKEN}"})
            if answer.status != 409:
                return answer
            time.sleep(0.1)
        return answer

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@contextmanager
def running_service(config: Path, log_dir: Path, extra_args: tuple[str, ...] = ()) -> Iterator[Service]:
    """The real ``python -m feedsvc serve`` process; waits until it answers, stops it with SIGTERM."""
    env = {**os.environ, "FEEDSVC_TEST_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    log_path = log_dir / "service.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "--config", str(config), "serve", *extra_args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
    port = _port_of(config)
    service = Service(process, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"service exited with {process.returncode}:\n{service.log()}")
            try:
                if http("GET", f"{service.base_url}/healthz", timeout=2).status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"service did not answer within 30 s:\n{service.log()}")
            time.sleep(0.1)
        yield service
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _port_of(config: Path) -> int:
    for line in config.read_text(encoding="utf-8").splitlines():
        if line.startswith("bind"):
            return int(line.split(":")[-1].strip().strip('"'))
    raise AssertionError("no bind line in config")
