"""The [service] settings of scheduling and politeness: defaults, parsing, errors naming the key."""

from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc import config
from feedsvc.errors import ConfigError


def load(tmp_path: Path, service: str) -> config.Settings:
    path = tmp_path / "feedsvc.toml"
    path.write_text(f"[service]\n{service}\n", encoding="utf-8")
    return config.load(path, environ={})


def test_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path, "")
    assert settings.workers == 4
    assert settings.host_gap == timedelta(seconds=1)
    assert settings.max_backoff == timedelta(hours=6)
    assert settings.manual_refresh_gap == timedelta(seconds=10)
    assert settings.shutdown_grace == timedelta(seconds=30)


def test_values_are_read(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        'workers = 2\nhost_gap = "5s"\nmax_backoff = "1d"\nmanual_refresh_gap = "1m"\nshutdown_grace = "0s"',
    )
    assert (settings.workers, settings.host_gap, settings.max_backoff) == (2, timedelta(seconds=5), timedelta(days=1))
    assert (settings.manual_refresh_gap, settings.shutdown_grace) == (timedelta(minutes=1), timedelta(0))


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("workers = 0", "service.workers"),
        ('host_gap = "soon"', "service.host_gap"),
        ('max_backoff = "10s"', "service.max_backoff"),
        ("manual_refresh_gap = 10", "service.manual_refresh_gap"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, line: str, key: str) -> None:
    with pytest.raises(ConfigError, match=f"^{key}: "):
        load(tmp_path, line)
