"""The registry database: URLs, SQLite settings, migrations that match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from spamgate.config import Settings
from spamgate.errors import ConfigError
from spamgate.registry.models import Base
from spamgate.store.db import Database, database_url, normalize_url, redacted


def test_urls() -> None:
    assert normalize_url("postgresql://u:pw@h/db") == "postgresql+psycopg://u:pw@h/db"
    assert normalize_url("postgres://u@h:5433/db") == "postgresql+psycopg://u@h:5433/db"
    assert normalize_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    for bad in ("mysql://u@h/db", "postgresql+asyncpg://u@h/db", "nonsense"):
        with pytest.raises(ConfigError):
            normalize_url(bad)
    assert "pw" not in redacted("postgresql+psycopg://u:pw@h/db")


def test_settings_pick_the_database(tmp_path: Path) -> None:
    assert database_url(Settings(data_dir=tmp_path)).endswith(f"{tmp_path}/spamgate.db")
    dsn = Settings(data_dir=tmp_path, database_url="postgresql://u@h/db")
    assert database_url(dsn) == "postgresql+psycopg://u@h/db"
    assert "u@h" not in repr(dsn)  # the DSN (and any password) stays out of reprs


def test_sqlite_is_created_migrated_wal_with_foreign_keys(tmp_path: Path) -> None:
    db = Database.open(Settings(data_dir=tmp_path / "fresh"))
    try:
        assert (tmp_path / "fresh" / "spamgate.db").is_file()
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            state = conn.execute(text("SELECT version, audit_seq FROM registry_state")).one()
            assert tuple(state) == (0, 0)
    finally:
        db.dispose()


def test_migrations_match_the_models(db_url: str) -> None:
    db = Database.open(db_url)
    try:
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        db.dispose()


def test_foreign_keys_are_enforced(db_url: str) -> None:
    db = Database.open(db_url)
    try:
        with pytest.raises(Exception, match=r"(?i)foreign key"), db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (operator_id, name, business_number, "
                    "identity_evidence, status, trust_tier, send_secret, created_at, updated_at) "
                    "VALUES (12345, 'x', '1248100998', '{}', 'active', 'new', 's', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
    finally:
        db.dispose()
