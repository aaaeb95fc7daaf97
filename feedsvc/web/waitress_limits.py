"""The limits waitress runs with: idle and slow clients cannot starve real requests.

waitress reads requests asynchronously, so a client sending headers slowly holds no worker thread,
but its default ``connection_limit`` (100) lets 100 idle sockets shut everyone else out for its
default ``channel_timeout`` (120 s). These bound that; a reverse proxy in front (rate limits, TLS,
slow-client buffering) is still the real protection: docs/security.md.
"""

from __future__ import annotations

from typing import Any

WAITRESS: dict[str, Any] = {
    "connection_limit": 1000,  # open connections accepted at once (default 100)
    "channel_timeout": 30,  # seconds a connection may stay idle or trickle a request (default 120)
    "cleanup_interval": 5,  # how often idle connections are looked for (default 30)
    "max_request_header_size": 64 * 1024,  # bytes of request headers (default 256 KiB)
    "max_request_body_size": 1024 * 1024,  # bytes of request body: the API takes none (default 1 GiB)
    "backlog": 1024,  # connections the kernel queues before they are accepted
    "asyncore_use_poll": True,  # poll(), not select(): more than 1024 sockets stay usable
}
