"""Hostile clients against the real process (issue 12, rows 4 and 12): idle sockets, token guessing.

``python -m feedsvc serve`` runs under waitress with its limits (web/waitress_limits.py).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support import TOKEN, Service, free_port, http, running_service, snapshot_server, write_config

IDLE_SOCKETS = 150  # more than waitress's default connection_limit (100)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with snapshot_server() as site:
        site.serve(b"nothing here")
        sources = f'[[sources]]\nname = "kexue"\nurl = "{site.url}"\ninterval = "1d"\n'
        config = write_config(tmp_path, free_port(), sources)
        with running_service(config, tmp_path) as running:
            yield running


def test_idle_and_half_sent_requests_do_not_shut_real_clients_out(service: Service) -> None:
    port = int(service.base_url.rsplit(":", 1)[1])
    with ExitStack() as stack:
        for i in range(IDLE_SOCKETS):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
            if i % 2:
                sock.sendall(b"GET /feeds/kexue.atom HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # headers never finished
        answer = http("GET", f"{service.base_url}/healthz", timeout=20)  # while every idle socket is open
        assert answer.status == 200


def test_wrong_tokens_are_throttled_per_client(service: Service) -> None:
    url = f"{service.base_url}/api/sources/kexue/refresh"
    codes = [http("POST", url, {"Authorization": "Bearer wrong"}).status for _ in range(12)]
    assert codes[:10] == [401] * 10
    assert codes[10:] == [429, 429]
    answer = http("POST", url, {"Authorization": f"Bearer {TOKEN}"})
    assert answer.status == 429 and int(answer.headers["Retry-After"]) >= 1  # even the right one, for a while
