"""The registry's SQL database: engine and sessions from settings, migrations on first use.

* **SQLite by default**: the file ``<data_dir>/spamgate.db``, in WAL mode (readers never wait
  for the writer), with foreign keys enforced and a 5 s busy timeout. Every transaction starts
  with ``BEGIN IMMEDIATE``: SQLite then serialises writers up front instead of failing one of two
  transactions that both read and then write (the audit chain reads its head, then appends).
* **PostgreSQL by DSN**: ``SPAMGATE_DATABASE_URL`` (``postgresql+psycopg://user@host/db``; the
  plain ``postgresql://`` and ``postgres://`` spellings are mapped to the psycopg 3 driver).
* **Alembic owns the schema.** The migrations ship inside the package
  (``spamgate/store/migrations``) and :meth:`Database.open` applies any that are missing, so the
  database is created and migrated on first use; code and tests never call ``create_all``.
  Concurrent first starts are safe: SQLite serialises them with ``BEGIN IMMEDIATE``, PostgreSQL
  with an advisory lock taken in ``env.py``.

The DSN may carry a password: it is never logged (:func:`redacted`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from spamgate.config import Settings
from spamgate.errors import ConfigError

__all__ = ["Database", "database_url", "migrate", "normalize_url", "redacted"]

log = logging.getLogger(__name__)

SQLITE_FILENAME = "spamgate.db"
_SQLITE_BUSY_MS = 5000


def normalize_url(url: str) -> str:
    """Map PostgreSQL spellings to the psycopg 3 driver; refuse anything but SQLite/PostgreSQL."""
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise ConfigError("not a database URL", key="database_url") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise ConfigError(
                f"PostgreSQL driver {driver!r} is not supported; use postgresql+psycopg://",
                key="database_url",
            )
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite" or driver not in ("", "pysqlite"):
        raise ConfigError(
            f"unsupported database {parsed.drivername!r}: use sqlite:/// or postgresql+psycopg://",
            key="database_url",
        )
    return parsed.render_as_string(hide_password=False)


def database_url(settings: Settings) -> str:
    """The URL ``settings`` name: ``database_url`` if set, else ``<data_dir>/spamgate.db``."""
    if settings.database_url:
        return normalize_url(settings.database_url)
    path = Path(settings.data_dir).resolve() / SQLITE_FILENAME
    return URL.create("sqlite", database=str(path)).render_as_string()


def redacted(url: str) -> str:
    """``url`` with any password masked, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module: the "begin" hook below emits BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode except on power loss
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url`` with spamgate's connection settings (see the module docstring)."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    options.setdefault("pool_pre_ping", True)
    return create_engine(url, **options)


def _migrations_dir() -> Path:
    # The package is installed as files (setuptools package-data), so this is a real folder.
    return Path(str(resources.files("spamgate.store") / "migrations"))


def alembic_config(connection: Any | None = None, url: str | None = None) -> Any:
    """An Alembic :class:`~alembic.config.Config` for the shipped migrations.

    With ``connection`` the migrations run on it (in its transaction); otherwise ``env.py``
    connects to ``url`` (default: the URL the environment's :class:`Settings` name).
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    if url is not None:
        config.attributes["url"] = url
    return config


def migrate(engine: Engine) -> None:
    """Apply every migration not yet applied (a no-op on an up-to-date database)."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


_migrated: set[str] = set()
_migrate_lock = threading.Lock()


class Database:
    """An engine and a session factory for one database, migrated to the latest schema.

    ``Database.open(settings)`` is the usual way in; :meth:`session` is a unit of work that
    commits on success and rolls back on any exception.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.url.get_backend_name()

    @classmethod
    def open(cls, settings: Settings | str, *, upgrade: bool = True) -> Database:
        """Connect to the database ``settings`` (or a URL) name; migrate it unless told not to.

        Migration runs once per URL per process; later opens only connect.
        """
        url = database_url(settings) if isinstance(settings, Settings) else normalize_url(settings)
        engine = make_engine(url)
        database = cls(engine)
        if upgrade:
            with _migrate_lock:
                if url not in _migrated:
                    log.info("migrating database %s", redacted(url))
                    migrate(engine)
                    _migrated.add(url)
        return database

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed when the block ends, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection (tests, shutdown)."""
        self.engine.dispose()
