"""Storage backends. So far: the registry's SQL database (SQLite by default, PostgreSQL by DSN)."""

from spamgate.store.db import Database, database_url, migrate, normalize_url

__all__ = ["Database", "database_url", "migrate", "normalize_url"]
