"""A real local HTTP server that misbehaves on demand, the way real sites do.

``site.behave(name)`` picks what every following request gets; ``site.requests`` counts them.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli

LOGIN_PAGE = b"""<!doctype html><html><head><title>Sign in</title></head><body>
<h1>Please sign in to continue</h1><form><input name="user"><input name="password" type="password">
<p>Are you a robot? Solve the captcha below.</p></form></body></html>"""


@dataclass
class MisbehavingSite:
    good: bytes = b""  # the real page, served by "ok"
    behaviour: str = "ok"
    retry_after: str = "3600"
    hang_seconds: float = 3.0  # how long "hang" and "slow" keep a request open
    delay: float = 0.0  # seconds every request waits before its behaviour
    encoding: str | None = None  # "gzip" or "br": "ok" sends the page compressed so
    etag: str | None = None  # when set, "ok" sends it with Last-Modified and answers 304 to it
    last_modified: str = "Mon, 23 Nov 2026 08:00:00 GMT"
    requests: int = 0
    url: str = ""
    last_headers: dict[str, str] = field(default_factory=dict)
    arrived: threading.Event = field(default_factory=threading.Event)  # set at each request
    release: threading.Event = field(default_factory=threading.Event)  # ends a "hang" early

    def behave(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.arrived.clear()
        self.release.clear()


BEHAVIOURS = (
    "ok",  # the good page
    "slow",  # headers at once, then the body a trickle that never ends in time
    "hang",  # accepts the connection, never answers
    "error-500",  # HTTP 500 every time
    "too-many-requests",  # HTTP 429 with Retry-After
    "unavailable",  # HTTP 503 with Retry-After
    "redirect-loop",  # 302 to itself, forever
    "huge",  # a body larger than the cap, no Content-Length
    "huge-declared",  # a Content-Length larger than the cap
    "wrong-type",  # a PNG where a page should be
    "truncated",  # Content-Length promises more than is sent, then the connection closes
    "reset",  # the connection is reset (RST) before any answer
    "empty",  # 200 with an empty body
    "login",  # a login / captcha page instead of the listing
    "one-post",  # the listing cut down to its first post (a redesign or a block page)
)


@contextmanager
def misbehaving_site(good: bytes) -> Iterator[MisbehavingSite]:
    site = MisbehavingSite(good=good)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            site.requests += 1
            site.last_headers = dict(self.headers.items())
            site.arrived.set()
            if site.delay:
                time.sleep(site.delay)
            getattr(self, "_" + site.behaviour.replace("-", "_"))()

        def _send(
            self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8", **extra: str
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def _ok(self) -> None:
            if site.encoding is not None:
                packed = (
                    gzip.compress(site.good, 1) if site.encoding == "gzip" else brotli.compress(site.good, quality=1)
                )
                self._send(200, packed, Content_Encoding=site.encoding)
            elif site.etag is None:
                self._send(200, site.good)
            elif self.headers.get("If-None-Match") == site.etag:
                self.send_response(304)
                self.send_header("ETag", site.etag)
                self.end_headers()
            else:
                self._send(200, site.good, ETag=site.etag, Last_Modified=site.last_modified)

        def _slow(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Connection", "close")
            self.end_headers()
            deadline = time.monotonic() + site.hang_seconds
            while time.monotonic() < deadline and not site.release.is_set():
                try:
                    self.wfile.write(site.good[:16])
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.05)
            self.close_connection = True

        def _hang(self) -> None:
            site.release.wait(site.hang_seconds)
            self.close_connection = True

        def _error_500(self) -> None:
            self._send(500, b"Internal Server Error")

        def _too_many_requests(self) -> None:
            self._send(429, b"slow down", Retry_After=site.retry_after)

        def _unavailable(self) -> None:
            self._send(503, b"down for maintenance", Retry_After=site.retry_after)

        def _redirect_loop(self) -> None:
            self.send_response(302)
            self.send_header("Location", self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _huge(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(64):  # 64 x 64 KiB = 4 MiB, far over the test cap
                    self.wfile.write(b"x" * 65536)
            except OSError:
                pass
            self.close_connection = True

        def _huge_declared(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(50_000_000))
            self.end_headers()
            self.close_connection = True

        def _wrong_type(self) -> None:
            self._send(200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "image/png")

        def _truncated(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(site.good) * 2))
            self.end_headers()
            self.wfile.write(site.good[: len(site.good) // 3])
            self.wfile.flush()
            self.close_connection = True

        def _reset(self) -> None:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()  # with linger 0: an RST, not a FIN
            self.close_connection = True

        def _empty(self) -> None:
            self._send(200, b"")

        def _login(self) -> None:
            self._send(200, LOGIN_PAGE, "text/html; charset=utf-8")

        def _one_post(self) -> None:
            first = "\n".join(site.good.decode("utf-8").splitlines()[:4]) + "\n"
            self._send(200, first.encode("utf-8"))

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # resets and aborted transfers are the point here

    server = Server(("127.0.0.1", 0), Handler)
    site.url = f"http://127.0.0.1:{server.server_address[1]}/blog/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.release.set()
        server.shutdown()
        server.server_close()
