"""The store: the only code with SQL (SQLAlchemy Core; SQLite, or PostgreSQL for several instances)."""

from feedsvc.store.store import Store

__all__ = ["Store"]
