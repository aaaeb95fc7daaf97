"""The store: the only code with SQL (SQLAlchemy Core; SQLite now, PostgreSQL later)."""

from feedsvc.store.store import Store

__all__ = ["Store"]
