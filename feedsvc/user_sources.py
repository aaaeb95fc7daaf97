"""Sources kept in the database beside the config file's: the effective source list.

    effective(settings, store)   the config file's sources, then the database's (config wins a name)
    Catalog                      adds, changes and removes database sources; tells the running service

Sources come from the browser (``/admin``), the JSON API (``/api/sources``) or ``feedsvc sources
import``: each is the same ``[[sources]]`` table the config file holds, checked by
``config.parse_source`` with the service's ``min_interval`` and ``lease``. Their URLs are untrusted
input: http(s) only, never a local file, and no private, loopback, link-local or metadata address
unless ``allow_private_addresses`` is on (``check_url``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from feedsvc import config, outbound
from feedsvc.config import Settings, Source
from feedsvc.errors import AddressRefused, ConfigError, NameTaken, UnknownSource, UnsafeURL
from feedsvc.extract.selectors import FIELDS as SELECTOR_FIELDS
from feedsvc.store import Store

log = logging.getLogger("feedsvc.sources")

FIELDS = (
    "name", "title", "url", "layout", "interval", "timezone", "language", "max_bytes", "timeout", "keep", "secret",
    "include", "exclude", "fetch", "wait_for", "full_text", "full_text_per_refresh",
)  # fmt: skip
WATCH_EVERY = 5.0  # seconds between two looks for sources another process added, changed or removed


def effective(settings: Settings, store: Store) -> Settings:
    """``settings`` with the database's sources after the config file's; the file wins on a name clash."""
    return merged(settings, store.definitions())


def merged(settings: Settings, definitions: dict[str, dict[str, Any]]) -> Settings:
    names = {source.name for source in settings.sources}
    added: list[Source] = []
    for name, table in definitions.items():
        if name in names:
            continue  # shadowed by the config file's source of that name
        try:
            added.append(config.parse_source(table, settings, key=f"sources.{name}"))
        except ConfigError as exc:  # e.g. min_interval raised since it was saved: skipped, said once per merge
            log.warning("database source %s skipped: %s", name, exc)
    return replace(settings, sources=(*settings.sources, *added))


def check_url(url: str, allow_private: bool) -> None:
    """UnsafeURL unless ``url`` is http(s) and its host resolves only to public addresses (or
    ``allow_private``): the outbound check every fetch of a user's URL makes again, per hop."""
    try:
        outbound.check(url, outbound.Policy(allow_private=allow_private))
    except AddressRefused as exc:  # the config file's exemption for a source's own host is not for users
        reason = str(exc).replace(", apart from the host and port a source's url names", " for a URL users add")
        raise UnsafeURL(f"url: {reason}") from None


def table_of(source: Source) -> dict[str, Any]:
    """The ``[[sources]]`` table that gives ``source`` back (defaults left out), for export and edit forms."""
    default = Source(name=source.name, title=source.name, url=source.url)
    table: dict[str, Any] = {"name": source.name, "url": source.url}
    if source.title != source.name:
        table["title"] = source.title
    if source.layout != default.layout:
        table["layout"] = source.layout
    if source.interval != default.interval:
        table["interval"] = config._format(source.interval)
    for field in ("timezone", "language", "max_bytes", "keep"):
        if getattr(source, field) != getattr(default, field):
            table[field] = getattr(source, field)
    if source.timeout != default.timeout:
        table["timeout"] = int(source.timeout) if source.timeout.is_integer() else source.timeout
    if source.secret:
        table["secret"] = True
    if source.fetch != default.fetch:
        table["fetch"] = source.fetch
    if source.wait_for is not None:
        table["wait_for"] = source.wait_for
    for which in ("include", "exclude"):
        if getattr(source, which):
            table[which] = list(getattr(source, which))
    if source.full_text:
        table["full_text"] = True
    if source.full_text_per_refresh != default.full_text_per_refresh:
        table["full_text_per_refresh"] = source.full_text_per_refresh
    if source.selectors is not None:
        table["selectors"] = {f: getattr(source.selectors, f) for f in SELECTOR_FIELDS if getattr(source.selectors, f)}
    return table


def clean(table: dict[str, Any]) -> dict[str, Any]:
    """A table as a form or an API call sends it: empty strings and nulls mean "the default"."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if value is None or value == [] or (isinstance(value, str) and not value.strip()):
            continue
        if key == "selectors" and isinstance(value, dict):
            value = {k: v.strip() if isinstance(v, str) else v for k, v in value.items() if v not in (None, "")}
            if not value:
                continue
            if table.get("layout") not in (None, "", "auto", "selectors"):
                continue  # selectors are used only by "auto" and "selectors"
        if key == "wait_for" and table.get("fetch") != "browser":
            continue  # only the browser waits for an element (a form sends the field either way)
        out[key] = value.strip() if isinstance(value, str) else value
    return out


class Catalog:
    """The config file's settings plus the database's sources; ``on_change`` gets each new effective list."""

    def __init__(self, file_settings: Settings, store: Store, clock: Callable[[], datetime] | None = None) -> None:
        self._file = file_settings
        self.store = store
        self.on_change: Callable[[Settings], None] | None = None
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._stamp: tuple[int, datetime | None] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def file_settings(self) -> Settings:
        return self._file

    def effective(self) -> Settings:
        self._stamp = self.store.definitions_stamp()
        return effective(self._file, self.store)

    def with_file(self, file_settings: Settings) -> Settings:
        """The reload's merge: the config file read again, with the database's sources."""
        self._file = file_settings
        return self.effective()

    def origin(self, name: str) -> str | None:
        """``config``, ``database`` or None."""
        if self._file.source(name) is not None:
            return "config"
        return "database" if name in self.store.definitions() else None

    def definition(self, name: str) -> dict[str, Any]:
        found = self.store.definitions().get(name)
        if found is None:
            raise UnknownSource(f"no source named {name!r} in the database")
        return found

    def check(self, table: dict[str, Any]) -> Source:
        """The source ``table`` defines; ConfigError (UnsafeURL) naming the problem."""
        if not isinstance(table, dict):
            raise ConfigError("source: expected a JSON object / TOML table")
        unknown = sorted(set(table) - {*FIELDS, "selectors"})
        if unknown:
            raise ConfigError(f"source.{unknown[0]}: unknown setting (expected one of {', '.join(FIELDS)}, selectors)")
        source = config.parse_source(table, self._file, key="source")
        check_url(source.url, self._file.allow_private_addresses)
        return source

    def create(self, table: dict[str, Any]) -> Source:
        table = clean(table)
        source = self.check(table)
        if self._file.source(source.name) is not None:
            raise NameTaken(f"sources.{source.name}: the config file already has a source of that name")
        with self._lock:
            if not self.store.define(source.name, table, self._clock(), create=True):
                raise NameTaken(f"sources.{source.name}: a source of that name already exists")
        log.info("source %s added to the database", source.name)
        self.changed()
        return source

    def update(self, name: str, changes: dict[str, Any], whole: bool = False) -> Source:
        """Change a database source: ``changes`` over its table (a null removes a setting), or all of it."""
        if self._file.source(name) is not None:
            raise NameTaken(f"sources.{name}: defined in the config file, which the web cannot change")
        current = self.definition(name)
        table = dict(changes) if whole else {**current, **changes}
        table["name"] = name if "name" not in changes or not changes["name"] else changes["name"]
        if table["name"] != name:
            raise ConfigError(f"sources.{name}.name: a source cannot be renamed (delete it and add it again)")
        table = clean(table)
        source = self.check(table)
        with self._lock:
            if not self.store.define(name, table, self._clock(), create=False):
                raise UnknownSource(f"no source named {name!r} in the database")
        log.info("source %s changed in the database", name)
        self.changed()
        return source

    def delete(self, name: str) -> None:
        if self._file.source(name) is not None:
            raise NameTaken(f"sources.{name}: defined in the config file, which the web cannot change")
        if not self.store.undefine(name):
            raise UnknownSource(f"no source named {name!r} in the database")
        log.info("source %s removed from the database", name)
        self.changed()

    def changed(self) -> None:
        """Tell the running service the effective sources (after a write here or in another process)."""
        if self.on_change is not None:
            self.on_change(self.effective())

    # -- sources another process (an instance, `feedsvc sources import`) changed ----------------

    def watch(self, every: float = WATCH_EVERY) -> None:
        """Look for changes made elsewhere every ``every`` seconds, in a daemon thread, until ``stop``."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._watch, args=(every,), name="feedsvc-sources", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _watch(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                if self.store.definitions_stamp() != self._stamp:
                    self.changed()
            except Exception as exc:  # a database hiccup: try again next time, never kill the thread
                log.warning("database sources not re-read: %s", exc)
