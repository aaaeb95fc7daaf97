"""Config values out of range are refused at start-up, naming the setting (issue 12, rows 9 and 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc import config
from feedsvc.errors import ConfigError


def _load(
    tmp_path: Path, source: str = "", service: str = "", environ: dict[str, str] | None = None
) -> config.Settings:
    path = tmp_path / "feedsvc.toml"
    path.write_text(
        f'[service]\n{service}\n[[sources]]\nname = "blog"\nurl = "https://blog.example/"\n{source}\n', encoding="utf-8"
    )
    return config.load(path, environ or {})


@pytest.mark.parametrize(
    ("line", "setting"),
    [
        ('interval = "99999999999d"', "sources.blog.interval"),
        ('interval = "3651d"', "sources.blog.interval"),
        ("timeout = nan", "sources.blog.timeout"),
        ("timeout = inf", "sources.blog.timeout"),
        ("timeout = 1e308", "sources.blog.timeout"),
        ("timeout = -inf", "sources.blog.timeout"),
        ("max_bytes = 99999999999999", "sources.blog.max_bytes"),
        ("keep = 99999999999", "sources.blog.keep"),
    ],
)
def test_source_values_out_of_range_name_the_setting(tmp_path: Path, line: str, setting: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{setting}: "):
        _load(tmp_path, line)


@pytest.mark.parametrize(
    "url", ["http://", "https://", "http://:80/", "http://user@/", "http://host:99999/", "http://host:port/"]
)
def test_a_url_needs_a_host_and_a_valid_port(tmp_path: Path, url: str) -> None:
    path = tmp_path / "feedsvc.toml"
    path.write_text(f'[[sources]]\nname = "blog"\nurl = "{url}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^sources\.blog\.url: "):
        config.load(path, {})


@pytest.mark.parametrize("line", ['host_gap = "99999999999999999999d"', 'max_backoff = "999999d"'])
def test_service_durations_are_bounded(tmp_path: Path, line: str) -> None:
    with pytest.raises(ConfigError, match=rf"^service\.{line.split()[0]}: at most"):
        _load(tmp_path, service=line)


def test_the_refresh_token_is_trimmed(tmp_path: Path) -> None:
    settings = _load(tmp_path, environ={"FEEDSVC_REFRESH_TOKEN": "  s3cret\n"})
    assert settings.refresh_token == "s3cret"
    assert _load(tmp_path, environ={"FEEDSVC_REFRESH_TOKEN": " \n"}).refresh_token is None


def test_the_outbound_and_local_file_settings(tmp_path: Path) -> None:
    settings = _load(tmp_path, "secret = true", 'allow_private_addresses = true\nlocal_root = "pages"')
    (source,) = settings.sources
    assert source.secret and source.allow_private_addresses and settings.allow_private_addresses
    assert source.local_root == settings.local_root == (tmp_path / "pages").resolve()
    assert source.public_url is None
