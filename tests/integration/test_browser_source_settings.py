"""``fetch``, ``wait_for`` and ``full_text`` on sources kept in the database: the add-site form, the API,
export and import carry them (no browser is started: nothing here is refreshed)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from feedsvc import config, sources_io
from feedsvc.service import Service
from feedsvc.store import Store

TOKEN = "admin-s3cret"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
URL = "https://93.184.215.14/news"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    path = tmp_path / "feedsvc.toml"
    path.write_text('[service]\ndata_dir = "data"\nrefresh_token_env = "FEEDSVC_T"\n', encoding="utf-8")
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as store:
        yield Service(config.load(path, environ={"FEEDSVC_T": TOKEN}), store=store, scheduled=False)


@pytest.fixture
def client(service: Service) -> FlaskClient:
    return service.app.test_client()


def _signed_in(client: FlaskClient) -> None:
    form = client.get("/admin/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]  # type: ignore[index]
    assert client.post("/admin/login", data={"token": TOKEN, "csrf_token": csrf}).status_code == 302


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]


def test_the_add_site_form_stores_the_fetch_choice_and_shows_it_when_editing(
    client: FlaskClient, service: Service
) -> None:
    _signed_in(client)
    page = client.get("/admin/sources/new").get_data(as_text=True)
    assert '<option value="http" selected>http</option>' in page and 'name="wait_for"' in page
    fields = {"csrf_token": _csrf(page), "name": "app", "url": URL, "layout": "auto", "fetch": "browser"}
    assert client.post("/admin/sources", data={**fields, "wait_for": "ul.news li"}).status_code == 302
    definition = client.get("/api/sources/app/definition").json["definition"]
    assert definition == {"name": "app", "url": URL, "fetch": "browser", "wait_for": "ul.news li"}
    source = service.settings.source("app")
    assert source is not None and (source.fetch, source.wait_for) == ("browser", "ul.news li")
    edit = client.get("/admin/sources/app/edit").get_data(as_text=True)
    assert '<option value="browser" selected>browser</option>' in edit and 'value="ul.news li"' in edit
    # back to a plain fetch: the form still sends wait_for, which only the browser uses
    back = {**fields, "csrf_token": _csrf(edit), "fetch": "http", "wait_for": "ul.news li"}
    assert client.post("/admin/sources/app", data=back).status_code == 302
    assert client.get("/api/sources/app/definition").json["definition"] == {"name": "app", "url": URL}


def test_the_add_site_form_turns_full_text_on_and_off(client: FlaskClient, service: Service) -> None:
    _signed_in(client)
    page = client.get("/admin/sources/new").get_data(as_text=True)
    assert 'name="full_text"' in page and 'id="full_text" value="true" checked' not in page
    fields = {"csrf_token": _csrf(page), "name": "blog", "url": URL, "layout": "auto", "fetch": "http"}
    assert client.post("/admin/sources", data={**fields, "full_text": "true"}).status_code == 302
    definition = client.get("/api/sources/blog/definition").json["definition"]
    assert definition == {"name": "blog", "url": URL, "full_text": True}
    source = service.settings.source("blog")
    assert source is not None and source.full_text
    edit = client.get("/admin/sources/blog/edit").get_data(as_text=True)
    assert 'id="full_text" value="true" checked' in edit
    assert client.post("/admin/sources/blog", data={**fields, "csrf_token": _csrf(edit)}).status_code == 302  # unticked
    assert client.get("/api/sources/blog/definition").json["definition"] == {"name": "blog", "url": URL}
    source = service.settings.source("blog")
    assert source is not None and not source.full_text


def test_the_api_refuses_a_bad_fetch_setting_naming_it(client: FlaskClient) -> None:
    bad = client.post("/api/sources", json={"name": "app", "url": URL, "fetch": "chrome"}, headers=BEARER)
    assert bad.status_code == 400 and "sources.app.fetch: expected one of 'http', 'browser'" in bad.json["error"]
    body = {"name": "app", "url": URL, "fetch": "browser", "wait_for": "ul["}
    bad = client.post("/api/sources", json=body, headers=BEARER)
    assert bad.status_code == 400 and "sources.app.wait_for: not a CSS selector" in bad.json["error"]


def test_export_and_import_carry_fetch_and_wait_for(client: FlaskClient, service: Service, tmp_path: Path) -> None:
    body = {"name": "app", "url": URL, "fetch": "browser", "wait_for": "li.post"}
    assert client.post("/api/sources", json=body, headers=BEARER).status_code == 201
    exported = sources_io.export(service.store.definitions())
    (table,) = tomllib.loads(exported)["sources"]
    assert table == body
    assert service.catalog.delete("app") is None
    path = tmp_path / "exported.toml"
    path.write_text(exported, encoding="utf-8")
    said: list[str] = []
    assert sources_io.import_file(path, service.catalog, False, said.append) == 0
    assert said == ["app: added"]
    source = service.settings.source("app")
    assert source is not None and (source.fetch, source.wait_for) == ("browser", "li.post")
