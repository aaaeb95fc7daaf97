"""``service.lease`` and ``service.min_interval``: the settings that let several instances share the work."""

from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc import config
from feedsvc.errors import ConfigError

SOURCE = '[[sources]]\nname = "a"\nurl = "https://example.org/"\n'


def load(tmp_path: Path, text: str) -> config.Settings:
    path = tmp_path / "feedsvc.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path, environ={})


def test_the_lease_defaults_to_three_timeouts_and_a_minute(tmp_path: Path) -> None:
    (source,) = load(tmp_path, SOURCE + "timeout = 5\n").sources
    assert source.lease is None
    assert source.lease_length == timedelta(seconds=75)


def test_a_service_lease_applies_to_every_source(tmp_path: Path) -> None:
    settings = load(tmp_path, '[service]\nlease = "90s"\n' + SOURCE + SOURCE.replace('"a"', '"b"'))
    assert [s.lease_length for s in settings.sources] == [timedelta(seconds=90)] * 2


def test_min_interval_lowers_the_shortest_interval(tmp_path: Path) -> None:
    (source,) = load(tmp_path, '[service]\nmin_interval = "1s"\n' + SOURCE + 'interval = "3s"\n').sources
    assert source.interval == timedelta(seconds=3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[service]\nlease = "0s"\n' + SOURCE, "service.lease: must be positive"),
        ("[service]\nlease = 30\n" + SOURCE, "service.lease: expected str"),
        ('[service]\nmin_interval = "soon"\n' + SOURCE, "service.min_interval: expected a duration"),
        ('[service]\nmin_interval = "10s"\n' + SOURCE + 'interval = "5s"\n', r"sources.a.interval: at least 10s"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, text)
