"""Outbound requests as a security boundary: which addresses feedsvc may connect to, and pinning.

A site is not trusted: its redirects may point anywhere, its host name may resolve to anything.
Every hop of a request (the first URL and each redirect) goes through ``check``:

    only http(s), a host is required
    the host is resolved once; every address it resolves to must be public (``ipaddress``'s
    ``is_global``, and not multicast): loopback, private, link-local (the 169.254.169.254
    metadata service), unspecified, reserved and multicast addresses are refused
    the connection then goes to the checked address (``pinned_session``), so a second DNS
    answer cannot swap in an internal address; the Host header, SNI and the certificate
    check still use the host name

Exemptions: the very host and port the config names for a source (the config author is
trusted: a source may be an intranet page on purpose), and ``[service]
allow_private_addresses = true``. A URL typed by a user (the add-site page or API) gets no
exemption: ``for_user_url()``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import connection, connectionpool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.retry import Retry

from feedsvc.errors import AddressRefused
from feedsvc.urls import SCHEMES, redact

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Policy:
    """Where requests may go: public addresses, plus the exempt ``(host, port)`` pairs."""

    allow_private: bool = False
    exempt: frozenset[tuple[str, int]] = frozenset()


def for_source(url: str, allow_private: bool = False) -> Policy:
    """The policy of a configured source: its own host and port are exempt (the config author named them)."""
    origin = _origin(url)
    return Policy(allow_private, frozenset({origin}) if origin is not None else frozenset())


def for_user_url() -> Policy:
    """The policy for a URL typed by a user (add-site page, API): no exemption at all."""
    return Policy(allow_private=False)


def check(url: str, policy: Policy) -> tuple[str, ...]:
    """The addresses to connect to for ``url``, in DNS order; ``AddressRefused`` when ``url`` may not be fetched."""
    parts = _split(url)
    host = parts.hostname or ""
    port = _port(parts)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"{redact(url)}: host name not found (DNS): {host}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise AddressRefused(f"{redact(url)}: host name not found (DNS): {host}")
    if policy.allow_private or (host.lower(), port) in policy.exempt:
        return tuple(addresses)
    for address in addresses:
        reason = refused_address(address)
        if reason is not None:
            raise AddressRefused(
                f"{redact(url)}: refused to connect to {address} ({reason}): only public addresses may be "
                "fetched, apart from the host and port a source's url names "
                "(or set [service] allow_private_addresses = true)"
            )
    return tuple(addresses)


def refused_address(address: str) -> str | None:
    """Why ``address`` is not a public unicast address, or None when it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local, e.g. a cloud metadata service", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return f"a {kind} address"
    if not ip.is_global:
        return "not a public address"
    return None


def pinned_session(addresses: str | Sequence[str], retry: Retry | None = None) -> requests.Session:
    """A session whose every connection goes to one of ``addresses``, tried in order (Host, SNI and
    certificate use the URL's host): never to an address that was not checked.

    ``trust_env`` is off: no proxy from the environment may take the request elsewhere.
    """
    session = requests.Session()
    session.trust_env = False
    adapter = _PinnedAdapter((addresses,) if isinstance(addresses, str) else tuple(addresses), max_retries=retry or 0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _PinnedAdapter(HTTPAdapter):
    def __init__(self, addresses: tuple[str, ...], **kwargs: object) -> None:
        self._addresses = addresses
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
        addresses = self._addresses

        class PinnedHTTP(connection.HTTPConnection):
            def _new_conn(self) -> socket.socket:
                return _connect_first(self, addresses, connection.HTTPConnection._new_conn)

        class PinnedHTTPS(connection.HTTPSConnection):
            def _new_conn(self) -> socket.socket:
                return _connect_first(self, addresses, connection.HTTPConnection._new_conn)

        http_pool = type("PinnedHTTPPool", (connectionpool.HTTPConnectionPool,), {"ConnectionCls": PinnedHTTP})
        https_pool = type("PinnedHTTPSPool", (connectionpool.HTTPSConnectionPool,), {"ConnectionCls": PinnedHTTPS})
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}


def _connect_first(
    conn: connection.HTTPConnection,
    addresses: tuple[str, ...],
    new_conn: Callable[[connection.HTTPConnection], socket.socket],
) -> socket.socket:
    """urllib3's own connect, to each checked address in turn (as it would try each DNS answer)."""
    for index, address in enumerate(addresses):
        conn._dns_host = address  # what urllib3 connects to; conn.host (Host, SNI, certificate) is kept
        try:
            return new_conn(conn)
        except (NewConnectionError, ConnectTimeoutError):
            if index == len(addresses) - 1:
                raise
    raise NewConnectionError(conn, "no address to connect to")


def _origin(url: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            return None
        return parts.hostname.lower(), _port(parts)
    except ValueError:
        return None


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a bad port
    except ValueError:
        raise AddressRefused(f"{redact(url)}: not a valid URL") from None
    if parts.scheme not in SCHEMES:
        raise AddressRefused(f"{redact(url)}: only http(s) URLs are fetched, not {parts.scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise AddressRefused(f"{redact(url)}: the URL has no host")
    return parts


def _port(parts: SplitResult) -> int:
    return parts.port or _DEFAULT_PORTS.get(parts.scheme, 80)
