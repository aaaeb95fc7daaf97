"""Config reload without a restart (SIGHUP, ``POST /api/reload``): sources are added, changed, removed.

The new file is read and validated first; a bad one changes nothing. Then one swap of
``config.Current`` (every part reads the settings from it), then ``on_reload(old, new)`` (the
service syncs the scheduler's jobs and reads a moved page at once).
Service settings that only a restart can apply (bind, database, threads, workers) are reported.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from feedsvc import config
from feedsvc.config import Current, Settings

log = logging.getLogger("feedsvc.refresh.reload")

RESTART_ONLY = ("bind_host", "bind_port", "data_dir", "database_url", "threads", "workers")


@dataclass(frozen=True, slots=True)
class Report:
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    needs_restart: tuple[str, ...]  # settings that changed in the file but apply only after a restart


class Reloader:
    def __init__(
        self,
        path: str | Path,
        current: Current,
        on_reload: Callable[[Settings, Settings], None] | None = None,
        merge: Callable[[Settings], Settings] | None = None,
    ) -> None:
        self.path = Path(path)
        self._current = current
        self._on_reload = on_reload
        self._merge = merge  # the file's settings -> with the database's sources (user_sources)
        self._lock = threading.Lock()

    def reload(self) -> Report:
        """Read the config file again and apply it; ConfigError (and no change) when it is bad."""
        with self._lock:
            old = self._current.settings
            new = config.load(self.path)
            if self._merge is not None:
                new = self._merge(new)
            self._current.swap(new)
            if self._on_reload is not None:
                self._on_reload(old, new)
            report = compare(old, new)
        log.info(
            "reloaded %s: added=%s changed=%s removed=%s needs_restart=%s",
            self.path,
            ",".join(report.added) or "-",
            ",".join(report.changed) or "-",
            ",".join(report.removed) or "-",
            ",".join(report.needs_restart) or "-",
        )
        return report


def touched(old: Settings, new: Settings) -> set[str]:
    """The sources a reload added, removed or changed in any way."""
    before = {source.name: source for source in old.sources}
    after = {source.name: source for source in new.sources}
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def moved(old: Settings, new: Settings) -> list[str]:
    """Sources whose page is read differently now (another URL, layout or selectors): their next
    refresh should not wait for the interval counted from a fetch of the old page."""
    before = {source.name: source for source in old.sources}
    return [
        source.name
        for source in new.sources
        if source.name in before
        and (source.url, source.layout, source.selectors)
        != (before[source.name].url, before[source.name].layout, before[source.name].selectors)
    ]


def compare(old: Settings, new: Settings) -> Report:
    before = {source.name: source for source in old.sources}
    after = {source.name: source for source in new.sources}
    return Report(
        added=tuple(sorted(set(after) - set(before))),
        changed=tuple(sorted(name for name in set(after) & set(before) if after[name] != before[name])),
        removed=tuple(sorted(set(before) - set(after))),
        needs_restart=tuple(key for key in RESTART_ONLY if getattr(old, key) != getattr(new, key)),
    )
