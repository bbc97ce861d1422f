"""The registry for an operator judging offline: ``spamgate check`` and ``spamgate scan``.

They judge with the same registry rules as the HTTP API and the gateway (sender numbers,
certification, suspension, theft protection, block lists, recipient number status) whenever the
data dir has a registry: its SQLite database, a PostgreSQL named by ``database_url``, or a
number-status snapshot (``spamgate numbers import``; the database is then created on first use,
as everywhere else). A data dir with none of these judges without the registry, as before.

An operator's check is not a submission, so per-send proofs do not apply:
:attr:`~spamgate.checks.registry_view.SendAuth.OFFLINE` (no ``PER_SEND_AUTH_FAILED``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from spamgate.config import Settings
from spamgate.errors import ConfigError
from spamgate.registry.number_status import snapshot_path

if TYPE_CHECKING:
    from spamgate.registry.service import Registry

__all__ = ["has_registry", "open_for_judging"]

#: spamgate.store.db.SQLITE_FILENAME, without importing SQLAlchemy for a data dir with no registry.
_SQLITE_FILENAME: Final = "spamgate.db"


def has_registry(settings: Settings) -> bool:
    """Whether ``settings`` name a registry database or the data dir holds registry data."""
    data_dir = Path(settings.data_dir)
    return bool(
        settings.database_url
        or (data_dir / _SQLITE_FILENAME).is_file()
        or snapshot_path(data_dir).is_file()
    )


def open_for_judging(settings: Settings) -> Registry | None:
    """The registry to judge with offline (proofs not checked), or None when there is none.

    The snapshot the checks read is built here, so a database that cannot be used fails at
    once with :class:`~spamgate.errors.ConfigError` (never half-way through a batch).
    """
    if not has_registry(settings):
        return None
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from spamgate.registry.service import Registry
    from spamgate.store.db import database_url, redacted

    registry: Registry | None = None
    try:
        registry = Registry.open(settings)
        registry.cache.per_send = False
        registry.view()
    except (SQLAlchemyError, CommandError, OSError) as exc:
        if registry is not None:
            registry.close()
        where = redacted(database_url(settings))
        raise ConfigError(
            f"cannot use the registry database {where}: {type(exc).__name__}", key="database_url"
        ) from None
    return registry
