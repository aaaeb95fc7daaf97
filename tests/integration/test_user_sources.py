"""Issue 14: sources kept in the database, the admin token, the session cookie and CSRF, the sources
API, the URL check, ``feedsvc sources export|import`` — over a real SQLite file and the real app."""

from __future__ import annotations

import logging
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedsvc import cli, config
from feedsvc.errors import UnsafeURL
from feedsvc.service import Service
from feedsvc.store import Store
from feedsvc.user_sources import check_url, effective
from feedsvc.web.auth import ensure_token, token_path
from tests.postgres import BACKENDS, database_url

TOKEN = "admin-s3cret"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
CONFIG = """
[service]
data_dir = "data"
refresh_token_env = "FEEDSVC_T"
{extra}
[[sources]]
name = "configured"
url = "https://configured.example/"
"""


def settings_for(tmp_path: Path, extra: str = "", token: str | None = TOKEN) -> config.Settings:
    path = tmp_path / "feedsvc.toml"
    path.write_text(CONFIG.format(extra=extra), encoding="utf-8")
    return config.load(path, environ={"FEEDSVC_T": token} if token else {})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


@pytest.fixture
def app(tmp_path: Path, store: Store) -> Flask:
    return Service(settings_for(tmp_path), store=store, scheduled=False).app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_the_api_adds_changes_and_deletes_database_sources_and_the_app_follows(client: FlaskClient, app: Flask) -> None:
    body = {"name": "blog", "url": "https://93.184.215.14/", "interval": "2h", "selectors": {"item": ""}}
    assert client.post("/api/sources", json=body).status_code == 401
    created = client.post("/api/sources", json=body, headers=BEARER)
    assert created.status_code == 201, created.json
    assert created.json["definition"] == {"name": "blog", "url": "https://93.184.215.14/", "interval": "2h"}
    assert app.extensions["feedsvc"].settings.source("blog") is not None
    listed = {s["name"]: s["origin"] for s in client.get("/api/sources").json["sources"]}
    assert listed == {"configured": "config", "blog": "database"}
    assert client.post("/api/sources", json=body, headers=BEARER).status_code == 409
    clash = client.post("/api/sources", json={**body, "name": "configured"}, headers=BEARER)
    assert clash.status_code == 409 and "config file" in clash.json["error"]

    changed = client.patch("/api/sources/blog", json={"title": "The blog", "interval": None}, headers=BEARER)
    assert changed.status_code == 200, changed.json
    assert changed.json["definition"] == {"name": "blog", "title": "The blog", "url": "https://93.184.215.14/"}
    assert app.extensions["feedsvc"].settings.source("blog").title == "The blog"
    assert client.get("/api/sources/blog/definition").json["origin"] == "database"
    assert client.get("/api/sources/configured/definition").json["origin"] == "config"
    assert client.patch("/api/sources/configured", json={"title": "x"}, headers=BEARER).status_code == 409
    bad = client.patch("/api/sources/blog", json={"timezone": "Asia/Shangai"}, headers=BEARER)
    assert bad.status_code == 400 and "unknown zone 'Asia/Shangai'" in bad.json["error"]

    assert client.delete("/api/sources/blog").status_code == 401
    assert client.delete("/api/sources/blog", headers=BEARER).status_code == 204
    assert client.delete("/api/sources/blog", headers=BEARER).status_code == 404
    assert app.extensions["feedsvc"].settings.source("blog") is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/",
        "http://localhost/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ],
)
def test_urls_from_users_never_reach_private_addresses_by_default(client: FlaskClient, url: str) -> None:
    with pytest.raises(UnsafeURL):
        check_url(url, allow_private=False)
    answer = client.post("/api/sources", json={"name": "sneaky", "url": url}, headers=BEARER)
    assert answer.status_code == 400 and "private" in answer.json["error"]
    preview = client.post("/api/preview", json={"url": url}, headers=BEARER)
    assert preview.json["error"].startswith("URL refused")
    check_url(url, allow_private=True)  # the config may allow them


@pytest.mark.parametrize("url", ["file:///etc/passwd", "/etc/passwd", "ftp://example.org/", "gopher://x/", "data/x"])
def test_only_http_urls_from_users(client: FlaskClient, url: str) -> None:
    answer = client.post("/api/sources", json={"name": "local", "url": url}, headers=BEARER)
    assert answer.status_code == 400
    assert "expected an http:// or https:// URL" in answer.json["error"]


def test_the_browser_signs_in_once_and_every_form_needs_its_csrf_token(client: FlaskClient) -> None:
    page = client.get("/admin/sources/new")
    assert page.status_code == 302 and "/admin/login" in page.headers["Location"]
    form = client.get("/admin/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]  # type: ignore[index]
    assert client.post("/admin/login", data={"token": "wrong", "csrf_token": csrf}).status_code == 401
    signed = client.post("/admin/login", data={"token": TOKEN, "csrf_token": csrf, "next": "//evil.example/"})
    assert signed.status_code == 302 and signed.headers["Location"] == "/"
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    form = client.get("/admin/sources/new").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]  # type: ignore[index]
    data = {"name": "blog", "url": "https://93.184.215.14/", "layout": "auto"}
    assert client.post("/admin/sources", data=data).status_code == 403  # no CSRF token: nothing saved
    assert client.post("/admin/sources", data={**data, "csrf_token": "forged"}).status_code == 403
    assert client.get("/api/sources/blog").status_code == 404
    saved = client.post("/admin/sources", data={**data, "csrf_token": csrf})
    assert saved.status_code == 302 and saved.headers["Location"] == "/sources/blog"
    assert client.get("/api/sources/blog").status_code == 200


def test_a_generated_admin_token_is_private_and_its_place_is_logged_never_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(tmp_path, token=None)
    with caplog.at_level(logging.DEBUG, logger="feedsvc"):
        token = ensure_token(settings)
    path = token_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == token and len(token) >= 32
    assert str(path) in caplog.text and token not in caplog.text
    assert ensure_token(settings) == token  # kept across restarts


def test_the_config_file_wins_a_name_and_reload_keeps_database_sources(tmp_path: Path, store: Store) -> None:
    settings = settings_for(tmp_path)
    now = datetime.now(UTC)
    store.define("configured", {"name": "configured", "url": "https://other.example/"}, now, create=True)
    store.define("extra", {"name": "extra", "url": "https://extra.example/"}, now, create=True)
    merged = effective(settings, store)
    assert [s.name for s in merged.sources] == ["configured", "extra"]
    assert merged.source("configured").url == "https://configured.example/"

    service = Service(settings, store=store, scheduled=False, config_path=tmp_path / "feedsvc.toml")
    assert service.settings.source("extra") is not None
    report = service.reload()
    assert report.removed == () and service.settings.source("extra") is not None
    assert service.runner.manual("extra") is not None  # the runner reads the same settings


def test_export_then_import_into_another_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "one"
    first.mkdir()
    cfg = first / "feedsvc.toml"
    cfg.write_text(CONFIG.format(extra=""), encoding="utf-8")
    source = tmp_path / "in.toml"
    source.write_text(
        """
[[sources]]
name = "shop"
title = "Shop \\"news\\" — 新闻"
url = "https://93.184.215.14/news"
interval = "2h"
timezone = "Asia/Shanghai"
layout = "selectors"
exclude = ["^Sponsored", "author:(?i)bot$"]
full_text = true
full_text_per_refresh = 3
[sources.selectors]
item = "li.news"
title = "a"

[[sources]]
name = "configured"
url = "https://93.184.215.14/"

[[sources]]
name = "local"
url = "/etc/passwd"
""",
        encoding="utf-8",
    )
    assert cli.main(["--config", str(cfg), "sources", "import", str(source)]) == 1
    out = capsys.readouterr().out
    assert "shop: added" in out and "configured: skipped" in out and "local: refused" in out
    assert cli.main(["--config", str(cfg), "sources", "export"]) == 0
    exported = capsys.readouterr().out

    second = tmp_path / "two"
    second.mkdir()
    cfg2 = second / "feedsvc.toml"
    cfg2.write_text(CONFIG.format(extra=""), encoding="utf-8")
    (second / "exported.toml").write_text(exported, encoding="utf-8")
    assert cli.main(["--config", str(cfg2), "sources", "import", str(second / "exported.toml")]) == 0
    assert capsys.readouterr().out == "shop: added\n"
    assert cli.main(["--config", str(cfg2), "sources", "export"]) == 0
    assert capsys.readouterr().out == exported
    with Store(f"sqlite:///{second / 'data' / 'feedsvc.db'}") as store:
        shop = effective(config.load(cfg2, environ={}), store).source("shop")
    assert shop is not None and shop.title == 'Shop "news" — 新闻' and shop.selectors.item == "li.news"
    assert shop.exclude == ("^Sponsored", "author:(?i)bot$")  # filters survive the round trip
    assert (shop.full_text, shop.full_text_per_refresh) == (True, 3)
    assert "full_text = true\nfull_text_per_refresh = 3\n" in exported


@pytest.mark.parametrize("backend", BACKENDS)
def test_definitions_on_every_backend(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> None:
    url = database_url(request, backend, tmp_path / "feedsvc.db")
    now = datetime(2024, 5, 1, tzinfo=UTC)
    with Store(url) as db:
        assert db.definitions() == {} and db.definitions_stamp() == (0, None)
        assert db.define("b", {"name": "b", "url": "https://b.example/", "title": "新闻"}, now, create=True)
        assert not db.define("b", {"name": "b", "url": "https://x.example/"}, now, create=True)
        assert not db.define("c", {"name": "c", "url": "https://c.example/"}, now, create=False)
        later = now.replace(hour=1)
        assert db.define("b", {"name": "b", "url": "https://b2.example/"}, later, create=False)
        assert db.definitions() == {"b": {"name": "b", "url": "https://b2.example/"}}
        assert db.definitions_stamp() == (1, later)
        assert db.undefine("b") and not db.undefine("b")
        assert db.definitions() == {}


def test_the_preview_never_hands_the_admin_page_a_javascript_link(tmp_path: Path, store: Store) -> None:
    from http.server import BaseHTTPRequestHandler

    from tests.support import local_http

    page = b"<html><body>" + b"".join(
        b'<article><h2><a href="javascript:alert(%d)">Post %d</a></h2><time datetime="2024-05-0%d">x</time></article>'
        % (n, n, n)
        for n in range(1, 5)
    ) + b"</body></html>"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            pass

    settings = settings_for(tmp_path, "allow_private_addresses = true")
    client = Service(settings, store=store, scheduled=False).app.test_client()
    with local_http(Handler) as base:
        wanted = {"url": f"{base}/list", "layout": "selectors", "selectors": {"item": "article", "title": "h2 a"}}
        answer = client.post("/api/preview", json=wanted, headers=BEARER).json
    assert answer["posts"], answer
    assert all(post["link"] == f"{base}/list" and not post["own_link"] for post in answer["posts"])


def test_the_edit_form_keeps_settings_it_does_not_show(client: FlaskClient) -> None:
    body = {"name": "blog", "url": "https://93.184.215.14/", "keep": 50, "layout": "selectors"}
    body["selectors"] = {"item": "li"}
    assert client.post("/api/sources", json=body, headers=BEARER).status_code == 201
    form = client.get("/admin/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]  # type: ignore[index]
    assert client.post("/admin/login", data={"token": TOKEN, "csrf_token": csrf}).status_code == 302
    form = client.get("/admin/sources/blog/edit").get_data(as_text=True)
    assert 'value="li"' in form and 'value="https://93.184.215.14/"' in form
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]  # type: ignore[index]
    fields = {"csrf_token": csrf, "name": "blog", "url": "https://93.184.215.14/", "layout": "auto", "title": "New"}
    assert client.post("/admin/sources/blog", data=fields).status_code == 302  # selectors emptied: gone
    definition = client.get("/api/sources/blog/definition").json["definition"]
    assert definition == {"name": "blog", "url": "https://93.184.215.14/", "keep": 50, "title": "New"}


def test_a_database_source_is_refused_a_private_address_at_every_refresh(tmp_path: Path, store: Store) -> None:
    """Its host resolved public when it was saved, private now (DNS rebinding): the refresh refuses,
    where a config file source naming that very host and port would be exempt."""
    from tests.support import SEEDS, snapshot_server

    with snapshot_server() as site:
        site.serve(SEEDS[0].read_bytes())
        now = datetime.now(UTC)
        store.define("rebound", {"name": "rebound", "url": site.url}, now, create=True)
        service = Service(settings_for(tmp_path), store=store, scheduled=False)
        source = service.settings.source("rebound")
        assert source is not None and source.user_added
        result = service.runner.refresh_now(source)
        assert not result.ok and "refused to connect to 127.0.0.1" in (result.error or "")
        assert site.requests == 0


def test_a_secret_sources_definition_hides_its_url_from_readers(client: FlaskClient) -> None:
    body = {"name": "keyed", "url": "https://user:pw@93.184.215.14/feed?key=s3cret", "secret": True}
    assert client.post("/api/sources", json=body, headers=BEARER).status_code == 201
    public = client.get("/api/sources/keyed/definition").json["definition"]
    assert public["url"] is None and public["secret"] is True
    admin = client.get("/api/sources/keyed/definition", headers=BEARER).json["definition"]
    assert admin["url"] == body["url"]
    assert "s3cret" not in client.get("/api/sources").get_data(as_text=True)
