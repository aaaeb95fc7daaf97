"""WebSub publisher ping (W3C WebSub, section 7): tell the hub that feeds changed.

    publish(hub, topics, timeout) -> [error, ...]   one POST per topic; failures returned, never raised

The body is ``hub.mode=publish&hub.url=<topic>`` (form-encoded), what hubs expect from
publishers; ``hub.topic`` is sent too, for hubs that read that name. A hub answering 2xx
accepted the ping. Redirects are not followed (a redirect could point the ping at an internal
address: outbound.py), so a hub that moved is reported, to be fixed in the config.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable
from urllib.parse import urlencode

from feedsvc import __version__

TIMEOUT = 5.0  # per ping; pings run under the refresh lease
USER_AGENT = f"feedsvc/{__version__} (WebSub publisher)"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirects, urllib.request.ProxyHandler({}))


def publish(hub: str, topics: Iterable[str], timeout: float = TIMEOUT) -> list[str]:
    """Ping ``hub`` once per topic; return what went wrong (empty when every ping was accepted)."""
    errors: list[str] = []
    for topic in topics:
        body = urlencode({"hub.mode": "publish", "hub.url": topic, "hub.topic": topic}).encode("ascii")
        request = urllib.request.Request(
            hub,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT},
        )
        try:
            with _OPENER.open(request, timeout=timeout) as answer:
                answer.read(4096)
        except urllib.error.HTTPError as exc:
            errors.append(f"hub {hub}: HTTP {exc.code} for {topic}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            errors.append(f"hub {hub}: {type(exc).__name__}: {reason} for {topic}")
    return errors
