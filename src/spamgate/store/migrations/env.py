"""Alembic environment for spamgate's registry database.

The URL comes from spamgate's settings (``SPAMGATE_DATABASE_URL``, else the SQLite file under
``SPAMGATE_DATA_DIR``), or from the connection :func:`spamgate.store.db.migrate` passes in.
On PostgreSQL an advisory lock serialises concurrent first starts.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from spamgate.config import Settings
from spamgate.registry.models import Base
from spamgate.store.db import database_url, make_engine

#: Arbitrary but fixed: "spamgate" as a 64-bit number would do; any constant works.
_PG_MIGRATION_LOCK = 0x5350414D47415445

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = config.attributes.get("url") or database_url(Settings())
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.attributes.get("url") or database_url(Settings()))
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
