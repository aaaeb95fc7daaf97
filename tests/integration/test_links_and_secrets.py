"""Links out and secrets (issue 12, rows 3 and 6), through the real pipeline and the real app.

Row 3: a page whose post links are ``" \\x01javascript:alert(7)"`` and ``file:///etc/passwd``:
no feed format, page or OPML carries them (one function, ``urls.link``, decides).
Row 6: a source URL with a user name, password and API key: the password is published nowhere;
a ``secret = true`` source publishes no URL at all, not even in its error status.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from feedsvc import refresh
from feedsvc.config import Settings, Source
from feedsvc.service import Service
from feedsvc.store import Store
from tests.atom_checks import assert_valid_atom
from tests.feed_checks import assert_valid_json_feed, assert_valid_rss
from tests.support import ROOT, SEEDS, snapshot_server

NOW = datetime(2023, 7, 21, tzinfo=UTC)
BYLINE_HTML = (ROOT / "fixtures" / "html" / "typecho_byline.html").read_text(encoding="utf-8")
PUBLIC_PATHS = (
    "/",
    "/sources/{name}",
    "/feeds/{name}.atom",
    "/feeds/{name}.rss",
    "/feeds/{name}.json",
    "/feeds/all.atom",
    "/opml",
    "/opml?format=rss",
    "/api/sources",
    "/api/sources/{name}",
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


def _everything_public(client: FlaskClient, name: str) -> str:
    seen = []
    for path in PUBLIC_PATHS:
        answer = client.get(path.format(name=name))
        assert answer.status_code == 200, path
        seen.append(answer.get_data(as_text=True))
    return "\n".join(seen)


def test_control_characters_do_not_smuggle_javascript_or_file_links_into_any_output(store: Store) -> None:
    page = BYLINE_HTML.replace('href="https://kexue.example/archives/9738"', 'href=" \x01javascript:alert(7)"', 1)
    page = page.replace('href="https://kexue.example/archives/9708"', 'href="file:///etc/passwd"', 1)
    with snapshot_server() as site:
        site.serve(page.encode("utf-8"), "text/html; charset=utf-8")
        source = Source(name="evil", title="Evil", url=site.url, layout="byline", timezone="Asia/Shanghai")
        result = refresh.run(store, source, NOW)
    assert result.ok, result.error
    stored = {entry.link for entry in store.entries("evil")}
    assert any(link and ("javascript:" in link or link.startswith("file:")) for link in stored), stored  # the bait

    settings = Settings(base_url="http://feeds.example.org", sources=(source,))
    client = Service(settings, store=store, scheduled=False).app.test_client()
    assert_valid_atom(client.get("/feeds/evil.atom").data)
    assert_valid_rss(client.get("/feeds/evil.rss").data)
    assert_valid_json_feed(client.get("/feeds/evil.json").data)
    published = _everything_public(client, "evil")
    for bad in ("javascript:", "file:", "/etc/passwd", "\x01"):
        assert bad not in published, bad
    json_items = json.loads(client.get("/feeds/evil.json").data)["items"]
    assert all(item.get("url", "http").startswith("http") for item in json_items)


@pytest.mark.parametrize("secret", [False, True])
def test_credentials_in_a_source_url_are_never_published(store: Store, secret: bool) -> None:
    with snapshot_server() as site:
        site.serve(SEEDS[0].read_bytes())
        url = site.url.replace("http://", "http://reader:hunter2@") + "?api_key=SEKRIT"
        source = Source(name="kexue", title="科学空间", url=url, timezone="Asia/Shanghai", secret=secret)
        settings = Settings(base_url="http://feeds.example.org", sources=(source,), refresh_token="t")
        client = Service(settings, store=store, scheduled=False).app.test_client()
        assert refresh.run(store, source, NOW).ok
        published = _everything_public(client, "kexue")
        site.serve(b"down", status=500)  # and the error status names no secret either
        failed = refresh.run(store, source, datetime(2023, 7, 22, tzinfo=UTC))
        assert failed.error is not None and "HTTP 500" in failed.error
        published += _everything_public(client, "kexue")
    # a dead site: the connection error (urllib3's words name the path and query) names no secret
    dead = refresh.run(store, source, datetime(2023, 7, 23, tzinfo=UTC))
    assert dead.error is not None
    published += _everything_public(client, "kexue") + dead.error
    for leaked in ("hunter2", "reader:", "reader@"):
        assert leaked not in published, leaked
    host = site.url.split("/")[2]
    if secret:
        assert "SEKRIT" not in published and host not in published
        assert "url secret" in failed.error
    else:
        assert f"http://{host}/blog/?api_key=SEKRIT" in published  # the source's own page link stays usable
