"""``feedsvc sources export`` and ``feedsvc sources import FILE``: the database's sources as TOML.

The export is ``[[sources]]`` tables, as the config file writes them, so it can be pasted into a
config file or imported into another database. Import reads the same (a whole config file works:
only its ``[[sources]]`` are read), checks each source as the web and the API do (http(s) only,
no private address unless ``allow_private_addresses``), skips names the config file uses, and
leaves sources already in the database alone unless ``--replace``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from feedsvc.errors import ConfigError, NameTaken
from feedsvc.user_sources import FIELDS, Catalog


def export(definitions: dict[str, dict[str, Any]]) -> str:
    """The definitions as TOML ``[[sources]]`` tables, in name order."""
    blocks = ["# feedsvc sources kept in the database (`feedsvc sources export`)"]
    for name in sorted(definitions):
        table = definitions[name]
        lines = ["[[sources]]"]
        lines += [f"{key} = {_value(table[key])}" for key in FIELDS if key in table]
        selectors = table.get("selectors")
        if selectors:
            lines.append("[sources.selectors]")
            lines += [f"{key} = {_value(value)}" for key, value in selectors.items()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # JSON's string escapes are valid TOML basic strings


def import_file(path: Path, catalog: Catalog, replace: bool, say: Callable[[str], None]) -> int:
    """Add (or with ``replace`` also change) the file's sources; returns how many were refused."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    tables = raw.get("sources", [])
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{path}: no [[sources]] tables to import")
    existing = catalog.store.definitions()
    refused = 0
    for index, table in enumerate(tables):
        name = table.get("name") if isinstance(table, dict) else None
        try:
            if isinstance(name, str) and name in existing:
                if not replace:
                    say(f"{name}: already in the database, left as it is (--replace to overwrite)")
                    continue
                catalog.update(name, table, whole=True)
                say(f"{name}: replaced")
            else:
                catalog.create(table)
                say(f"{name}: added")
        except NameTaken as exc:
            refused += 1
            say(f"{name}: skipped: {exc}")
        except ConfigError as exc:
            refused += 1
            say(f"{name if isinstance(name, str) else f'sources[{index}]'}: refused: {exc}")
    return refused
