"""Config of publishing: the WebSub hub, the static publish directory, the reserved name ``all``."""

import re
from pathlib import Path

import pytest

from feedsvc.errors import ConfigError
from tests.unit.test_config import load

SOURCE = '[[sources]]\nname = "blog"\nurl = "https://blog.example/"\n'


def test_hub_and_publish_dir(tmp_path: Path) -> None:
    settings = load(tmp_path, f'[service]\nhub = "https://hub.example/"\npublish_dir = "public"\n{SOURCE}')
    assert settings.hub == "https://hub.example/"
    assert settings.publish_dir == tmp_path / "public"  # relative to the config file


def test_both_are_off_by_default(tmp_path: Path) -> None:
    settings = load(tmp_path, SOURCE)
    assert settings.hub is None and settings.publish_dir is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[service]\nhub = "ftp://hub.example/"\n', "service.hub: expected an http(s) URL"),
        ("[service]\nhub = 3\n", "service.hub: expected str"),
        ("[service]\npublish_dir = true\n", "service.publish_dir: expected str"),
        ('[[sources]]\nname = "all"\nurl = "https://x.example/"\n', "sources.all: the name 'all' is reserved"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load(tmp_path, text)
