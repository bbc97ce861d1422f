"""The registry: operators, accounts, sender numbers and the status of every number.

So far it holds the invalid-number registry (:mod:`spamgate.registry.number_status`): the
allocation status of Korean numbers, a 2-bit array over the 010 range plus a map for the rest.
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
