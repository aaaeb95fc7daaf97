"""TOML config -> frozen dataclasses. Every error names its key path.

    [service]  bind, data_dir, database_url, base_url, refresh_token_env, ...
    [[sources]] name, title, url, layout, interval, timezone, language, ...

Relative paths (data_dir, local-file source urls) are resolved against the config
file's directory, so the service behaves the same whatever directory it starts in.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedsvc import extract, filters, urls
from feedsvc.errors import ConfigError
from feedsvc.extract.selectors import FIELDS as SELECTOR_FIELDS
from feedsvc.extract.selectors import Selectors, invalid

LAYOUTS = ("auto", *extract.LAYOUTS)
RESERVED_NAME = "all"  # /feeds/all.atom is every source in one feed
SERVERS = ("waitress", "granian")
DEFAULT_SERVER = "granian"  # by measurement: docs/performance.md, *What the numbers show*
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DURATION = re.compile(r"^(\d+)\s*(ms|s|m|h|d)$")
_UNITS = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MAX_DURATION = timedelta(days=3650)  # any duration setting
MAX_TIMEOUT = 600.0  # seconds: sources.timeout
MAX_BYTES = 1_000_000_000  # sources.max_bytes
MAX_KEEP = 1_000_000  # sources.keep
FETCHES = ("http", "browser")  # sources.fetch: a plain request, or headless Chromium (browser.py)
MAX_BROWSER_PAGES = 16  # service.browser_pages
MAX_FULL_TEXT_PER_REFRESH = 1000  # sources.full_text_per_refresh


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    title: str
    url: str  # http(s) URL, or an absolute local file path
    layout: str = "auto"
    interval: timedelta = timedelta(hours=1)
    timezone: str = "UTC"
    language: str = "en"
    max_bytes: int = 5_000_000
    timeout: float = 20.0
    keep: int = 1000  # newest entries kept; older ones become tombstones
    selectors: Selectors | None = None  # [sources.selectors]: CSS selectors for an HTML page
    lease: timedelta | None = None  # service.lease: how long a refresh may hold the source; None: from timeout
    secret: bool = False  # publish no URL of this source anywhere (feeds, OPML, pages, status)
    allow_private_addresses: bool = False  # service.allow_private_addresses (outbound.py)
    local_root: Path | None = None  # service.local_root: where a local file source must be (resolved)
    user_added: bool = False  # kept in the database (browser, API, import): its URL's host gets no exemption
    include: tuple[str, ...] = ()  # filters.py: show only entries one of these matches
    exclude: tuple[str, ...] = ()  # filters.py: never show entries one of these matches
    fetch: str = "http"  # or "browser": rendered in headless Chromium, for a list a script builds
    wait_for: str | None = None  # fetch = "browser": the CSS selector to wait for, instead of the network idle
    full_text: bool = False  # fetch each new entry's own page (same site) and serve its main text as content
    full_text_per_refresh: int = 10  # at most this many article pages fetched by one refresh

    @property
    def public_url(self) -> str | None:
        """The URL that may be shown to readers: None for a secret or local source; never userinfo."""
        if self.secret or self.is_local:
            return None
        return urls.redact(self.url)

    @property
    def lease_length(self) -> timedelta:
        """How long one refresh holds the source before another instance may take it over."""
        return self.lease or timedelta(seconds=self.timeout * 3 + 60)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_local(self) -> bool:
        return not self.url.startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class Settings:
    bind_host: str = "127.0.0.1"
    bind_port: int = 8080
    data_dir: Path = Path("data")
    database_url: str = "sqlite:///data/feedsvc.db"
    base_url: str = "http://127.0.0.1:8080"
    refresh_token: str | None = None
    refresh_token_env: str = "FEEDSVC_REFRESH_TOKEN"
    threads: int = 8
    server: str = DEFAULT_SERVER  # or "waitress"
    sources: tuple[Source, ...] = field(default_factory=tuple)
    hub: str | None = None  # WebSub hub: advertised in every feed, pinged when a feed changes
    publish_dir: Path | None = None  # every feed also written here as a static file
    workers: int = 4  # scheduled refreshes running at once (slow ones step aside: refresh/dispatch.py)
    host_gap: timedelta = timedelta(seconds=1)  # between two requests to one host
    max_backoff: timedelta = timedelta(hours=6)  # longest wait after repeated failures
    manual_refresh_gap: timedelta = timedelta(seconds=10)  # between two manual refreshes of one source
    shutdown_grace: timedelta = timedelta(seconds=30)  # how long SIGTERM waits for running refreshes
    heartbeat: timedelta = timedelta(seconds=5)  # how often an instance records it is alive (3 missed: dead)
    allow_private_addresses: bool = False  # outbound requests may reach loopback/private/link-local addresses
    local_root: Path | None = None  # local file sources must be under this directory
    # what sources kept in the database (feedsvc/user_sources.py) are checked with
    min_interval: timedelta = timedelta(minutes=1)
    lease: timedelta | None = None
    browser_pages: int = 2  # pages rendering at once in the process's browser (fetch = "browser")
    metrics_per_source: bool = False  # /metrics also has series labelled by source (one set per source)

    _by_name: dict[str, Source] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {source.name: source for source in self.sources})

    def source(self, name: str) -> Source | None:
        return self._by_name.get(name)

    @property
    def tag_authority(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"


DEFAULTS = Settings()  # every service setting's default, stated once: in the dataclass above


class Current:
    """The settings in force, shared by every part of one service; a reload swaps them.

    One reference assignment: a reader sees the old settings or the new, never a mix. Parts that
    keep something derived from the settings (the host gap) are told through ``on_swap``.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._listeners: list[Callable[[Settings], None]] = []

    @property
    def settings(self) -> Settings:
        return self._settings

    def swap(self, settings: Settings) -> None:
        self._settings = settings
        for listener in self._listeners:
            listener(settings)

    def on_swap(self, listener: Callable[[Settings], None]) -> None:
        self._listeners.append(listener)


def load(path: str | os.PathLike[str], environ: dict[str, str] | None = None) -> Settings:
    """Read and validate a config file; raise ConfigError naming the key on any problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse(raw, base_dir=path.resolve().parent, environ=os.environ if environ is None else environ)


def parse(raw: dict[str, Any], base_dir: Path, environ: Any) -> Settings:
    _only(raw, "", {"service", "sources"})
    service = _table(raw, "service", "service")
    _only(
        service,
        "service.",
        set(SERVICE_KEYS),
    )
    host, port = _bind(_get(service, "service.bind", str, "127.0.0.1:8080"))
    data_dir = base_dir / _get(service, "service.data_dir", str, "data")
    database_url = _get(service, "service.database_url", str, f"sqlite:///{data_dir / 'feedsvc.db'}")
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", database_url):
        raise ConfigError(f"service.database_url: expected sqlite:/// or postgresql:// URL, got {database_url!r}")
    base_url = _get(service, "service.base_url", str, f"http://{host}:{port}").rstrip("/")
    if urlsplit(base_url).scheme not in ("http", "https"):
        raise ConfigError(f"service.base_url: expected an http(s) URL, got {base_url!r}")
    token_env = _get(service, "service.refresh_token_env", str, "FEEDSVC_REFRESH_TOKEN")
    threads = _get(service, "service.threads", int, 8)
    if not 1 <= threads <= 64:
        raise ConfigError(f"service.threads: expected 1..64, got {threads}")
    hub = _get(service, "service.hub", str, None)
    if hub is not None and urlsplit(hub).scheme not in ("http", "https"):
        raise ConfigError(f"service.hub: expected an http(s) URL, got {hub!r}")
    if hub is not None:
        _check_http_url(hub, "service.hub")
    publish_dir = _get(service, "service.publish_dir", str, None)

    min_interval = _duration(_get(service, "service.min_interval", str, "1m"), "service.min_interval")
    lease_text = _get(service, "service.lease", str, None)
    lease = None if lease_text is None else _duration(lease_text, "service.lease")
    server = _get(service, "service.server", str, DEFAULT_SERVER)
    if server not in SERVERS:
        raise ConfigError(f"service.server: expected one of {', '.join(SERVERS)}, got {server!r}")

    allow_private = _flag(service, "service.allow_private_addresses")
    local_root_text = _get(service, "service.local_root", str, None)
    local_root = None if local_root_text is None else (base_dir / local_root_text).resolve()
    limits = {"allow_private_addresses": allow_private, "local_root": local_root}

    raw_sources = raw.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError("sources: expected an array of tables ([[sources]])")
    sources = tuple(_source(item, i, base_dir, min_interval, lease, limits) for i, item in enumerate(raw_sources))
    seen: set[str] = set()
    for source in sources:  # one pass: at 10,000 sources a count per name took seconds
        if source.name in seen:
            raise ConfigError(f"sources.{source.name}: name used twice")
        seen.add(source.name)
    return Settings(
        bind_host=host,
        bind_port=port,
        data_dir=data_dir,
        database_url=database_url,
        base_url=base_url,
        refresh_token=(environ.get(token_env) or "").strip() or None,  # a pasted token's spaces never match
        refresh_token_env=token_env,
        threads=threads,
        server=server,
        sources=sources,
        hub=hub,
        publish_dir=None if publish_dir is None else base_dir / publish_dir,
        allow_private_addresses=allow_private,
        local_root=local_root,
        min_interval=min_interval,
        lease=lease,
        metrics_per_source=_flag(service, "service.metrics_per_source"),
        **_service_extra(service),
    )


_SERVICE_EXTRA = (
    "workers", "host_gap", "max_backoff", "manual_refresh_gap", "shutdown_grace", "browser_pages", "heartbeat",
)  # fmt: skip
SERVICE_KEYS = (
    "server",
    "bind",
    "data_dir",
    "database_url",
    "base_url",
    "refresh_token_env",
    "threads",
    "lease",
    "min_interval",
    "hub",
    "publish_dir",
    "allow_private_addresses",
    "local_root",
    "metrics_per_source",
    *_SERVICE_EXTRA,
)


def _service_extra(service: dict[str, Any]) -> dict[str, Any]:
    """The scheduling and politeness settings of [service]."""
    workers = _get(service, "service.workers", int, DEFAULTS.workers)
    if not 1 <= workers <= 64:
        raise ConfigError(f"service.workers: expected 1..64, got {workers}")
    browser_pages = _get(service, "service.browser_pages", int, DEFAULTS.browser_pages)
    if not 1 <= browser_pages <= MAX_BROWSER_PAGES:
        raise ConfigError(f"service.browser_pages: expected 1..{MAX_BROWSER_PAGES}, got {browser_pages}")
    durations = {
        key: _duration(_get(service, f"service.{key}", str, _format(getattr(DEFAULTS, key))), f"service.{key}", True)
        for key in ("host_gap", "max_backoff", "manual_refresh_gap", "shutdown_grace")
    }
    durations["heartbeat"] = _duration(
        _get(service, "service.heartbeat", str, _format(DEFAULTS.heartbeat)), "service.heartbeat"
    )
    if durations["max_backoff"] < timedelta(minutes=1):
        raise ConfigError(f"service.max_backoff: at least 1m, got {durations['max_backoff']}")
    return {"workers": workers, "browser_pages": browser_pages, **durations}


def parse_source(item: Any, settings: Settings, key: str = "source") -> Source:
    """One ``[[sources]]`` table from elsewhere than the config file (the database, an import, the API).

    Checked as the config's own, with the service's ``min_interval``, ``lease`` and limits; only
    http(s) URLs (local files only from the config file); the source is marked ``user_added``.
    """
    if isinstance(item, dict):
        url = item.get("url")
        if isinstance(url, str) and not url.startswith(("http://", "https://")):
            name = item.get("name")
            where = f"sources.{name}" if isinstance(name, str) and _NAME.match(name) else key
            raise ConfigError(f"{where}.url: expected an http:// or https:// URL, got {url!r}")
    limits = {
        "allow_private_addresses": settings.allow_private_addresses,
        "local_root": settings.local_root,
        "user_added": True,
    }
    return _source(item, 0, Path.cwd(), settings.min_interval, settings.lease, limits, key=key)


def _source(
    item: Any,
    index: int,
    base_dir: Path,
    min_interval: timedelta,
    lease: timedelta | None,
    limits: dict[str, Any],
    key: str | None = None,
) -> Source:
    if not isinstance(item, dict):
        raise ConfigError(f"{key or f'sources[{index}]'}: expected a table")
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        where = key or f"sources[{index}]"
        raise ConfigError(f"{where}.name: expected lowercase letters, digits, '-' or '_', got {name!r}")
    key = f"sources.{name}"
    if name == RESERVED_NAME:
        raise ConfigError(f"{key}: the name {RESERVED_NAME!r} is reserved for the combined feed /feeds/all.atom")
    _only(
        item,
        f"{key}.",
        {"name", "title", "url", "layout", "interval", "timezone", "language", "max_bytes", "timeout", "keep"}
        | {"selectors", "secret", "include", "exclude", "fetch", "wait_for", "full_text", "full_text_per_refresh"},
    )
    url = _get(item, f"{key}.url", str, None)
    if url is None:
        raise ConfigError(f"{key}.url: missing")
    if url.startswith("file://"):
        url = url.removeprefix("file://")
    if url.startswith(("http://", "https://")):
        _check_http_url(url, f"{key}.url")
    else:
        if "://" in url:
            raise ConfigError(f"{key}.url: only http(s) URLs and local file paths are supported, got {url!r}")
        url = str((base_dir / url).resolve())
        root = limits["local_root"]
        if root is not None and not Path(url).is_relative_to(root):
            raise ConfigError(f"{key}.url: {url} is outside service.local_root ({root})")
    layout = _get(item, f"{key}.layout", str, "auto")
    if layout not in LAYOUTS:
        raise ConfigError(f"{key}.layout: unknown layout {layout!r} (expected one of {', '.join(LAYOUTS)})")
    selectors = parse_selectors(item["selectors"], f"{key}.selectors") if "selectors" in item else None
    if layout == "selectors" and selectors is None:
        raise ConfigError(f"{key}.layout: 'selectors' needs a [sources.selectors] table with at least 'item'")
    timezone = _get(item, f"{key}.timezone", str, "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{key}.timezone: unknown zone {timezone!r}") from None
    interval = _duration(_get(item, f"{key}.interval", str, "1h"), f"{key}.interval")
    if interval < min_interval:
        raise ConfigError(f"{key}.interval: at least {_format(min_interval)} (service.min_interval), got {interval}")
    max_bytes = _get(item, f"{key}.max_bytes", int, 5_000_000)
    timeout = float(_get(item, f"{key}.timeout", (int, float), 20.0))
    keep = _get(item, f"{key}.keep", int, 1000)
    for what, value, highest in (
        ("max_bytes", max_bytes, MAX_BYTES),
        ("timeout", timeout, MAX_TIMEOUT),
        ("keep", keep, MAX_KEEP),
    ):
        if not 0 < value <= highest:  # also refuses nan (every comparison with nan is false)
            raise ConfigError(f"{key}.{what}: expected more than 0 and at most {highest:g}, got {value!r}")
    include, exclude = (_filters(item, f"{key}.{which}", which) for which in ("include", "exclude"))
    fetch, wait_for = parse_fetch(item, key, url)
    full_text = _flag(item, f"{key}.full_text")
    if full_text and not url.startswith(("http://", "https://")):
        raise ConfigError(f"{key}.full_text: needs an http(s) url (articles are fetched from the source's site)")
    per_refresh = _get(item, f"{key}.full_text_per_refresh", int, 10)
    if not 0 <= per_refresh <= MAX_FULL_TEXT_PER_REFRESH:
        raise ConfigError(
            f"{key}.full_text_per_refresh: expected 0..{MAX_FULL_TEXT_PER_REFRESH}, got {per_refresh!r}"
        )
    return Source(
        name=name,
        title=_get(item, f"{key}.title", str, name),
        url=url,
        layout=layout,
        interval=interval,
        timezone=timezone,
        language=_get(item, f"{key}.language", str, "en"),
        max_bytes=max_bytes,
        timeout=timeout,
        keep=keep,
        selectors=selectors,
        lease=lease,
        secret=_flag(item, f"{key}.secret"),
        include=include,
        exclude=exclude,
        fetch=fetch,
        wait_for=wait_for,
        full_text=full_text,
        full_text_per_refresh=per_refresh,
        **limits,
    )


def parse_fetch(item: dict[str, Any], key: str, url: str) -> tuple[str, str | None]:
    """``fetch`` ("http" or "browser") and ``wait_for`` (a CSS selector, only with the browser)."""
    fetch = _get(item, f"{key}.fetch", str, "http")
    if fetch not in FETCHES:
        raise ConfigError(f"{key}.fetch: expected one of {', '.join(repr(f) for f in FETCHES)}, got {fetch!r}")
    if fetch == "browser" and not url.startswith(("http://", "https://")):
        raise ConfigError(f'{key}.fetch: "browser" needs an http(s) url; a local file is read as it is')
    wait_for = _get(item, f"{key}.wait_for", str, None)
    if wait_for is None:
        return fetch, None
    if fetch != "browser":
        raise ConfigError(f'{key}.wait_for: only used with fetch = "browser" (the page is not rendered otherwise)')
    problem = invalid(wait_for)
    if problem:
        raise ConfigError(f"{key}.wait_for: not a CSS selector ({problem}): {wait_for!r}")
    return fetch, wait_for.strip()


def _filters(item: dict[str, Any], key: str, which: str) -> tuple[str, ...]:
    """``include`` / ``exclude``: a list of patterns, each checked now (a bad one names its index)."""
    value = item.get(which, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(text, str) for text in value):
        raise ConfigError(f"{key}: expected a list of regular expressions, got {value!r}")
    for index, text in enumerate(value):
        try:
            filters.rule(text)
        except ValueError as exc:
            raise ConfigError(f"{key}[{index}]: {exc}: {text!r}") from None
    return tuple(value)


def parse_selectors(table: Any, key: str) -> Selectors:
    """``[sources.selectors]`` (at key path ``key``): CSS selectors, each checked by the parser that will run it."""
    if not isinstance(table, dict):
        raise ConfigError(f"{key}: expected a table")
    _only(table, f"{key}.", set(SELECTOR_FIELDS))
    values = {}
    for field_name in SELECTOR_FIELDS:
        value = _get(table, f"{key}.{field_name}", str, None)
        if value is None:
            continue
        problem = invalid(value)
        if problem:
            raise ConfigError(f"{key}.{field_name}: not a CSS selector Lexbor accepts ({problem}): {value!r}")
        values[field_name] = value
    if "item" not in values:
        raise ConfigError(f"{key}.item: missing (the selector of one post's element)")
    return Selectors(**values)


def _only(table: dict[str, Any], prefix: str, allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{prefix}{key}: unknown setting (expected one of {', '.join(sorted(allowed))})")


def _table(raw: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: expected a table")
    return value


def _get(table: dict[str, Any], path: str, kind: type | tuple[type, ...], default: Any) -> Any:
    key = path.rsplit(".", 1)[-1]
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{path}: expected {names}, got {value!r}")
    return value


def _check_http_url(url: str, path: str) -> None:
    """An http(s) URL with a host and a valid port, or ConfigError naming ``path``."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # ValueError for a port that is not a number in 0..65535
    except ValueError as exc:
        raise ConfigError(f"{path}: not a valid URL ({exc}): {urls.redact(url)!r}") from None
    if not parts.hostname:
        raise ConfigError(f"{path}: the URL has no host: {urls.redact(url)!r}")


def _flag(table: dict[str, Any], path: str) -> bool:
    """A true/false setting, false when absent."""
    value = table.get(path.rsplit(".", 1)[-1], False)
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: expected true or false, got {value!r}")
    return value


def _bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"service.bind: expected HOST:PORT, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _duration(value: str, path: str, allow_zero: bool = False) -> timedelta:
    match = _DURATION.match(value.strip())
    if not match:
        raise ConfigError(f"{path}: expected a duration like '30m', '1h' or '1d', got {value!r}")
    if len(match[1]) > 9:  # also keeps int() far from Python's int-string limit
        raise ConfigError(f"{path}: at most {_format(MAX_DURATION)}, got {value!r}")
    duration = timedelta(**{_UNITS[match[2]]: int(match[1])})
    if duration > MAX_DURATION:
        raise ConfigError(f"{path}: at most {_format(MAX_DURATION)}, got {value!r}")
    if not duration and not allow_zero:
        raise ConfigError(f"{path}: must be positive, got {value!r}")
    return duration


def _format(duration: timedelta) -> str:
    """``1m``, ``90s``, ``2h``: the shortest exact form, as the config writes durations."""
    if duration % timedelta(seconds=1):
        return f"{duration // timedelta(milliseconds=1)}ms"
    seconds = int(duration.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
