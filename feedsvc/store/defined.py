"""Sources kept in the database: added from the browser, the API or ``feedsvc sources import``.

The store keeps each one as the plain ``[[sources]]`` table it was given (JSON); checking it is the
config module's business (``config.parse_source``), so the store never imports config.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from feedsvc.store.schema import defined_sources


def all_definitions(conn: Connection) -> dict[str, dict[str, Any]]:
    rows = conn.execute(select(defined_sources.c.name, defined_sources.c.definition_json).order_by("name"))
    return {row.name: json.loads(row.definition_json) for row in rows}


def stamp(conn: Connection) -> tuple[int, datetime | None]:
    """(how many, latest change): cheap to ask often, changes whenever a definition does."""
    row = conn.execute(select(func.count(), func.max(defined_sources.c.updated_at))).one()
    latest = row[1]
    return int(row[0]), latest


def create(conn: Connection, name: str, definition: dict[str, Any], now: datetime) -> bool:
    """False (and no change) when ``name`` is already defined."""
    if conn.scalar(select(defined_sources.c.name).where(defined_sources.c.name == name)) is not None:
        return False
    conn.execute(
        insert(defined_sources).values(name=name, definition_json=_json(definition), created_at=now, updated_at=now)
    )
    return True


def replace(conn: Connection, name: str, definition: dict[str, Any], now: datetime) -> bool:
    """False (and no change) when ``name`` is not defined."""
    result = conn.execute(
        update(defined_sources)
        .where(defined_sources.c.name == name)
        .values(definition_json=_json(definition), updated_at=now)
    )
    return result.rowcount == 1


def remove(conn: Connection, name: str) -> bool:
    return conn.execute(delete(defined_sources).where(defined_sources.c.name == name)).rowcount == 1


def _json(definition: dict[str, Any]) -> str:
    return json.dumps(definition, ensure_ascii=False, sort_keys=True)
