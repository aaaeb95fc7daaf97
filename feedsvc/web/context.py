"""How a view reaches the running service: ``service()``, the one ``app.extensions`` entry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from feedsvc.service import Service

EXTENSION = "feedsvc"


def service() -> Service:
    found: Service = current_app.extensions[EXTENSION]
    return found
