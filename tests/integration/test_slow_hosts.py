"""A trickling site delays only itself: the real service's scheduler (one tick, the dispatcher, the
runner, a SQLite file) against real local sites on separate loopback addresses (separate hosts)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from feedsvc.config import Settings, Source
from feedsvc.refresh.dispatch import SLOW_AFTER
from feedsvc.service import Service
from feedsvc.store import Store
from tests.support import SEEDS, wait_for

PAGE = SEEDS[0].read_bytes()


@contextmanager
def site(address: str, trickle: threading.Event | None = None) -> Iterator[str]:
    """The seed page at http://<address>:<port>/; with ``trickle``, the body comes a byte every
    0.1 s until ``trickle`` is set, then the rest at once."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            sent = 0
            if trickle is not None:
                while not trickle.wait(0.1) and sent < len(PAGE) - 1:
                    self.wfile.write(PAGE[sent : sent + 1])
                    self.wfile.flush()
                    sent += 1
            self.wfile.write(PAGE[sent:])

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((address, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{address}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_with_one_worker_a_trickling_host_does_not_hold_back_the_other_hosts(tmp_path: Path) -> None:
    released = threading.Event()
    with (
        site("127.0.0.2", trickle=released) as slow_url,
        site("127.0.0.3") as fast_url,
        site("127.0.0.4") as other_url,
    ):
        # timeout 60 s: the trickle's fetch deadline (4 x timeout) lies far beyond the test's end
        sources = (
            Source(name="slow", title="slow", url=slow_url, timezone="Asia/Shanghai", timeout=60),
            Source(name="fast", title="fast", url=fast_url, timezone="Asia/Shanghai"),
            Source(name="fast2", title="fast2", url=f"{fast_url}again", timezone="Asia/Shanghai"),
            Source(name="other", title="other", url=other_url, timezone="Asia/Shanghai"),
        )
        settings = Settings(sources=sources, workers=1, host_gap=timedelta(0), refresh_token="t")
        store = Store(f"sqlite:///{tmp_path / 'feedsvc.db'}")
        service = Service(settings, store=store, first_run_in=timedelta(0))
        service.start()
        try:
            healthy = ("fast", "fast2", "other")
            wait_for(
                lambda: all(store.state(name).last_success is not None for name in healthy),
                "the healthy hosts' sources to be refreshed",
                timeout=SLOW_AFTER * 6,
            )
            assert store.state("slow").last_attempt is None  # still arriving: nothing recorded yet
            assert service.dispatcher is not None and service.dispatcher.running() == ["slow"]
            assert [store.state(name).entries_stored for name in healthy] == [8, 8, 8]
            released.set()
            wait_for(lambda: store.state("slow").last_success is not None, "the slow page to arrive")
            assert store.state("slow").entries_stored == 8
        finally:
            released.set()
            assert service.stop(grace=60)
            store.close()
