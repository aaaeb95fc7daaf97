"""Every feed as a static file in ``publish_dir``, so a reverse proxy or CDN can serve it alone.

    write(settings, store, names) -> [Path]     <name>.atom, .rss, .json (and .gz of each), all.atom

Each file is written to a temporary file in the same directory and renamed over the old one
(atomic on POSIX): a server reading the directory sees the old bytes or the new, never half.
The bytes are exactly those the web app serves (``render.render`` with the default limit).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from feedsvc.config import Settings
from feedsvc.errors import PublishError
from feedsvc.feeds import formats, render
from feedsvc.feeds.render import Format
from feedsvc.store import Store

# Held while rendering and writing: two refreshes publishing at once (all.atom is shared by every
# source) write in the order they rendered, so the newest bytes are the ones left on disk.
_WRITING = threading.Lock()


def write(settings: Settings, store: Store, names: Iterable[str]) -> list[Path]:
    """Write the feeds of ``names`` (and the combined feed) to ``settings.publish_dir``."""
    directory = settings.publish_dir
    if directory is None:
        return []
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"service.publish_dir: cannot create {directory}: {exc.strerror or exc}") from None
    written: list[Path] = []
    targets = [(name, format) for name in names for format in Format]
    if settings.sources:
        targets.append((formats.ALL, Format.ATOM))
    with _WRITING:
        for name, format in targets:
            rendered = render.render(settings, store, name, format)
            path = directory / f"{name}.{format.value}"
            written.append(_replace(path, rendered.body))
            written.append(_replace(path.with_name(path.name + ".gz"), rendered.gzipped))
    return written


def _replace(path: Path, data: bytes) -> Path:
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise PublishError(f"service.publish_dir: cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise PublishError(f"service.publish_dir: cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
