"""Outbound requests as a security boundary (issue 12, row 1), through the real pipeline.

Real local HTTP servers on 127.0.0.1, a real SQLite file, ``refresh.run``: a source's site
redirects to another local port (a stand-in for an intranet service) or to the cloud metadata
address; the redirect is refused, nothing is published, the stored entries stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from feedsvc import fetch, outbound, refresh
from feedsvc.config import Source
from feedsvc.errors import AddressRefused
from feedsvc.model import Validators
from feedsvc.store import Store
from tests.support import SEEDS, local_http

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SECRET_PAGE = SEEDS[1].read_bytes()  # the "intranet" page: a listing that must never be published


@dataclass
class Site:
    """Serves the good listing, or a redirect to ``location`` when it is set; remembers Host headers."""

    page: bytes = b""
    location: str | None = None
    requests: int = 0
    hosts: list[str] = field(default_factory=list)
    url: str = ""


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests += 1
            site.hosts.append(self.headers.get("Host", ""))
            if site.location is not None and self.path != "/secret":
                self.send_response(302)
                self.send_header("Location", site.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(site.page)))
            self.end_headers()
            self.wfile.write(site.page)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def sites() -> Iterator[tuple[Site, Site]]:
    """The source's site, and a second local service (another port) holding a 'secret' page."""
    source_site, internal = Site(page=SEEDS[0].read_bytes()), Site(page=SECRET_PAGE)
    with local_http(_handler(source_site)) as base, local_http(_handler(internal)) as internal_base:
        source_site.url = f"{base}/blog/"
        internal.url = f"{internal_base}/secret"
        yield source_site, internal


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


def _source(url: str, **extra: object) -> Source:
    return Source(name="kexue", title="科学空间", url=url, timezone="Asia/Shanghai", timeout=5, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "target",
    [
        "internal",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/",
        "http://0.0.0.0:9/",
        "file:///etc/passwd",
    ],
)
def test_a_redirect_to_an_internal_address_is_refused_and_nothing_is_published(
    sites: tuple[Site, Site], store: Store, target: str
) -> None:
    site, internal = sites
    source = _source(site.url)
    first = refresh.run(store, source, NOW)
    assert first.ok and first.new == 8, first.error  # the configured local host and port are exempt
    before = store.entries("kexue", limit=1000)

    site.location = internal.url if target == "internal" else target
    result = refresh.run(store, source, NOW + timedelta(hours=1))

    assert result.error is not None and result.error_kind == "refused", result
    assert "refused" in result.error or "only http(s)" in result.error, result.error
    assert internal.requests == 0  # never even connected
    assert store.entries("kexue", limit=1000) == before
    assert store.state("kexue").last_error == result.error


def test_a_redirect_within_the_configured_host_and_port_is_followed(sites: tuple[Site, Site], store: Store) -> None:
    site, _ = sites
    site.location = site.url.replace("/blog/", "/secret")  # same host and port: what the config author named
    result = refresh.run(store, _source(site.url), NOW)
    assert result.ok and result.new == 8, result.error


def test_allow_private_addresses_lets_redirects_reach_internal_hosts(sites: tuple[Site, Site], store: Store) -> None:
    site, internal = sites
    site.location = internal.url
    result = refresh.run(store, _source(site.url, allow_private_addresses=True), NOW)
    assert result.ok, result.error
    assert internal.requests == 1


def test_a_url_typed_by_a_user_gets_no_exemption(sites: tuple[Site, Site]) -> None:
    site, _ = sites
    with pytest.raises(AddressRefused, match="loopback"):
        fetch.get(_source(site.url), Validators(), NOW, policy=outbound.for_user_url())
    assert site.requests == 0
    with pytest.raises(AddressRefused, match="link-local"):
        outbound.check("http://169.254.169.254/", outbound.for_user_url())
    with pytest.raises(AddressRefused, match="only http"):
        outbound.check("gopher://example.org/", outbound.for_user_url())


def test_the_connection_goes_to_the_checked_address_whatever_the_host_name(sites: tuple[Site, Site]) -> None:
    """Pinned: the host name is never resolved again (``.invalid`` never resolves), yet Host keeps it."""
    site, _ = sites
    port = site.url.split(":")[2].split("/")[0]
    with outbound.pinned_session("127.0.0.1") as session:
        answer = session.get(f"http://pinned.invalid:{port}/blog/", timeout=5)
    assert answer.status_code == 200
    assert site.hosts[-1] == f"pinned.invalid:{port}"


def test_each_checked_address_is_tried_in_turn(sites: tuple[Site, Site]) -> None:
    """As a resolver's several answers are: ``localhost`` may answer ::1 first to a server on 127.0.0.1 only."""
    site, _ = sites
    port = site.url.split(":")[2].split("/")[0]
    with outbound.pinned_session(("::1", "127.0.0.1")) as session:
        answer = session.get(f"http://localhost:{port}/blog/", timeout=5)
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.0.1", True),
        ("172.16.0.1", True),
        ("169.254.169.254", True),
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("240.0.0.1", True),
        ("::1", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("::ffff:127.0.0.1", True),
        ("100.64.0.1", True),  # carrier-grade NAT: not global
        ("93.184.215.14", False),
        ("2606:4700::6810:84e5", False),
    ],
)
def test_which_addresses_are_refused(address: str, refused: bool) -> None:
    assert (outbound.refused_address(address) is not None) is refused
