"""The first hour: where the config is found, how logs look, what a failed start says.

    find_config(given, environ, cwd)   --config / $FEEDSVC_CONFIG, else the first that exists of
                                       ./feedsvc.toml, ./config/feedsvc.toml,
                                       $XDG_CONFIG_HOME/feedsvc/feedsvc.toml, /etc/feedsvc/feedsvc.toml
    explain(exc, settings)             one line naming the problem and the fix, for the errors a new
                                       user meets first (port in use, data directory, database locked)
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Mapping
from pathlib import Path

from feedsvc.config import Settings
from feedsvc.errors import ConfigError, FeedsvcError, StoreError
from feedsvc.store import Store
from feedsvc.web.auth import ensure_token

SYSTEM_CONFIG = Path("/etc/feedsvc/feedsvc.toml")


def config_candidates(environ: Mapping[str, str], cwd: Path) -> list[Path]:
    xdg = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".config")
    user = Path(xdg) / "feedsvc" / "feedsvc.toml"
    return [cwd / "feedsvc.toml", cwd / "config" / "feedsvc.toml", user, SYSTEM_CONFIG]


def find_config(given: str | None, environ: Mapping[str, str], cwd: Path) -> Path:
    """The config file to read; ConfigError saying where it looked when there is none."""
    if given:
        return Path(given)
    if environ.get("FEEDSVC_CONFIG"):
        return Path(environ["FEEDSVC_CONFIG"])
    candidates = config_candidates(environ, cwd)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise ConfigError(
        f"no config file: looked for {looked}; pass --config FILE or set FEEDSVC_CONFIG "
        "(a sample is config/feedsvc.toml in the source tree)"
    )


def preflight(settings: Settings) -> None:
    """What ``feedsvc serve`` checks in its own process before any server starts (granian's worker
    would otherwise meet these deep inside, with a traceback): the port, the database (opened and
    migrated once), the admin token (made at the first start; the log says where)."""
    check_port(settings)
    Store(settings.database_url).close()
    ensure_token(settings)


def check_port(settings: Settings) -> None:
    """ConfigError naming the fix when ``bind`` cannot be listened on (in use, not allowed), before
    any server starts: granian reports it from deep inside with a traceback, waitress after start-up."""
    try:
        host, port = settings.bind_host, settings.bind_port
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"service.bind: cannot resolve {settings.bind_host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as exc:
            raise bind_problem(exc, settings) from None


def bind_problem(exc: OSError, settings: Settings) -> FeedsvcError:
    where = f"{settings.bind_host}:{settings.bind_port}"
    if exc.errno == errno.EADDRINUSE:
        return ConfigError(
            f"service.bind: {where} is already in use (another feedsvc?): stop that process, "
            "or set [service] bind to a free port"
        )
    if exc.errno == errno.EACCES:
        return ConfigError(f"service.bind: not allowed to listen on {where}: use a port above 1023")
    return ConfigError(f"service.bind: cannot listen on {where}: {exc.strerror or exc}")


def explain(exc: FeedsvcError, settings: Settings | None) -> str:
    """The line to print for ``exc``: with the fix when it is one of the usual start-up problems."""
    text = str(exc)
    if isinstance(exc, StoreError) and settings is not None:
        lowered = text.lower()
        data_dir = settings.data_dir
        if "database is locked" in lowered:
            return (
                f"the database {settings.database_url.split('///', 1)[-1]} is locked by another process "
                "(a long write, or a tool holding it open): stop that process and start again"
            )
        if any(
            sign in lowered
            for sign in ("unable to open database", "permission denied", "readonly database", "not a directory")
        ):
            user = _user()
            return (
                f"cannot read and write the data directory {data_dir} as user {user}: "
                f"fix its permissions (e.g. chown -R {user} {data_dir}) or set [service] data_dir "
                f"to a writable directory ({text})"
            )
    return f"{type(exc).__name__}: {text}"


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):  # pragma: no cover - not on POSIX, or a uid without a name
        return str(os.getuid())
