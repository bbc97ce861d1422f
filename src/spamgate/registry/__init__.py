"""The registry: operators, accounts, sender numbers and the status of every number.

* :mod:`~spamgate.registry.service` — :class:`Registry`, every operation with roles, tenancy
  and the audit log (the API, the CLI and the gateway all use it);
* :mod:`~spamgate.registry.models` (tables), :mod:`~spamgate.registry.repository` (tenancy-scoped
  queries), :mod:`~spamgate.registry.certification` (the lifecycle table),
  :mod:`~spamgate.registry.auth` (tokens, argon2), :mod:`~spamgate.registry.audit` (the
  hash chain), :mod:`~spamgate.registry.persend` (per-send proofs) and
  :mod:`~spamgate.registry.redis_nonces` (their nonces shared by several nodes),
  :mod:`~spamgate.registry.view` (the cached snapshot the checks read),
  :mod:`~spamgate.registry.judging` (the registry ``spamgate check``/``scan`` judge with),
  :mod:`~spamgate.registry.demo` (the ``serve --demo`` chain);
* :mod:`~spamgate.registry.number_status` — the invalid-number registry: the allocation status
  of Korean numbers, a 2-bit array over the 010 range plus a map for the rest.

Only the number-status names are re-exported here, so importing this package stays light (no
SQLAlchemy); import the others from their modules.
"""

from spamgate.registry.number_status import (
    BadLine,
    ImportResult,
    NumberStatus,
    NumberStatusError,
    NumberStatusRegistry,
    NumberStatusTable,
    SnapshotError,
    StatusCounts,
    StatusFileError,
    StatusLookup,
    import_csv,
    import_into,
    load_from,
    snapshot_path,
)

__all__ = [
    "BadLine",
    "ImportResult",
    "NumberStatus",
    "NumberStatusError",
    "NumberStatusRegistry",
    "NumberStatusTable",
    "SnapshotError",
    "StatusCounts",
    "StatusFileError",
    "StatusLookup",
    "import_csv",
    "import_into",
    "load_from",
    "snapshot_path",
]
