"""Local file sources (issue 12, row 7), through ``refresh.run`` on real files, FIFOs and devices.

Regular files only, read up to ``max_bytes + 1`` bytes; ``local_root`` keeps sources under one
directory, checked on the resolved path at start-up and at every read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedsvc import config, refresh
from feedsvc.config import Source
from feedsvc.errors import ConfigError
from feedsvc.store import Store
from tests.support import SEEDS

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'feedsvc.db'}") as opened:
        yield opened


def _run(store: Store, path: Path | str, **extra: object) -> refresh.RefreshResult:
    source = Source(name="local", title="Local", url=str(path), timezone="Asia/Shanghai", timeout=5, **extra)  # type: ignore[arg-type]
    return refresh.run(store, source, NOW)


def test_a_regular_file_is_read(store: Store, tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(SEEDS[0].read_bytes())
    assert _run(store, page).new == 8


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_refused_instead_of_hanging_the_refresh(store: Store, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = _run(store, fifo)
    assert result.error is not None and "not a regular file (a FIFO)" in result.error
    assert store.entries("local") == []


@pytest.mark.parametrize(
    ("path", "kind"), [("/dev/zero", "a character device"), ("/dev/urandom", "a character device")]
)
def test_a_device_is_refused(store: Store, path: str, kind: str) -> None:
    if not Path(path).exists():
        pytest.skip(f"no {path}")
    result = _run(store, path)
    assert result.error is not None and f"not a regular file ({kind})" in result.error


def test_a_directory_is_refused(store: Store, tmp_path: Path) -> None:
    result = _run(store, tmp_path)
    assert result.error is not None and "not a regular file (a directory)" in result.error


def test_a_symlink_out_of_local_root_is_refused_at_read_time(store: Store, tmp_path: Path) -> None:
    root, outside = tmp_path / "pages", tmp_path / "private.txt"
    root.mkdir()
    outside.write_bytes(SEEDS[0].read_bytes())
    (root / "link.txt").symlink_to(outside)
    result = _run(store, root / "link.txt", local_root=root.resolve())
    assert result.error is not None and "outside local_root" in result.error
    assert store.entries("local") == []


def test_local_root_is_checked_at_start_up(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    path = tmp_path / "feedsvc.toml"
    path.write_text(
        '[service]\nlocal_root = "pages"\n[[sources]]\nname = "etc"\nurl = "../../etc/passwd"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"^sources\.etc\.url: .* is outside service\.local_root"):
        config.load(path, {})


def test_a_file_larger_than_max_bytes_is_refused(store: Store, tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(SEEDS[0].read_bytes())
    result = _run(store, page, max_bytes=1000)
    assert result.error is not None and "more than the 1000" in result.error
