"""The persistent id map of the upstream leg (SQLite under the data dir).

Three tables, one file (``<data-dir>/spool/upstream.db``, WAL, ``synchronous=NORMAL``: a commit
survives the process being killed, the OS crashing may lose the last ones):

* ``ids`` — the carrier's message_id (per namespace, i.e. per carrier) → the message_id spamgate
  gave the reseller and the reseller's system_id. Receipts can come days later, so it must
  survive restarts; rows older than ``retention`` seconds are pruned.
* ``acked`` — our message ids the carrier acknowledged (submit_sm_resp OK): after a crash, a
  message still pending in the spool but listed here is not sent again (the dedupe set).
* ``receipts`` — receipts kept until the reseller took them (deliver_sm_resp OK): the carrier's
  deliver_sm is answered only once its row is committed.

All SQLite work runs in one worker thread; writes queued while a transaction runs are committed
together by the next one (group commit). Recent mappings are also kept in a bounded in-memory
cache, so the common case (a receipt seconds after the submit) needs no thread hop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = ["IdMap", "KeptReceipt", "Mapping"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS ids (
    ns TEXT NOT NULL, carrier_id TEXT NOT NULL, our_id TEXT NOT NULL,
    system_id TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (ns, carrier_id));
CREATE INDEX IF NOT EXISTS ids_created ON ids (created);
CREATE TABLE IF NOT EXISTS acked (our_id TEXT PRIMARY KEY, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS acked_created ON acked (created);
CREATE TABLE IF NOT EXISTS receipts (
    rid INTEGER PRIMARY KEY, ns TEXT NOT NULL, carrier_id TEXT NOT NULL,
    system_id TEXT NOT NULL, our_id TEXT NOT NULL, pdu BLOB NOT NULL, created REAL NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Mapping:
    """Where a carrier message_id leads back to."""

    our_id: str
    system_id: str


@dataclass(frozen=True, slots=True)
class KeptReceipt:
    """A receipt waiting for the reseller (``our_id``/``system_id`` empty while unmapped)."""

    rid: int
    ns: str
    carrier_id: str
    system_id: str
    our_id: str
    pdu: bytes
    created: float


_Op = Callable[[sqlite3.Connection], Any]


class IdMap:
    """See the module docstring. ``await open()`` first, ``await close()`` at the end."""

    def __init__(
        self,
        path: Path,
        *,
        retention: float = 7 * 86_400.0,
        cache_size: int = 200_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.retention = retention
        self.cache_size = cache_size
        self._clock = clock
        self._cache: dict[tuple[str, str], Mapping] = {}
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="spamgate-idmap")
        self._db: sqlite3.Connection | None = None
        self._queue: list[tuple[_Op, asyncio.Future[Any]]] = []
        self._running = False
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._open)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            db = self._db
            await self._call(lambda _: None)  # let queued writes finish
            await asyncio.get_running_loop().run_in_executor(self._executor, db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    # -- group commit -------------------------------------------------------------------------

    async def _call(self, op: _Op) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((op, future))
        if not self._running:
            self._running = True
            self._task = loop.create_task(self._run())
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    results = await loop.run_in_executor(self._executor, self._transaction, batch)
                except Exception as exc:  # the whole transaction failed: every caller hears it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        if isinstance(result, BaseException):
                            future.set_exception(result)
                        else:
                            future.set_result(result)
        finally:
            self._running = False

    def _transaction(self, batch: list[tuple[_Op, asyncio.Future[Any]]]) -> list[Any]:
        db = self._db
        if db is None:
            raise RuntimeError("the id map is closed")
        results: list[Any] = []
        db.execute("BEGIN")
        try:
            for op, _ in batch:
                try:
                    db.execute("SAVEPOINT op")
                    results.append(op(db))
                    db.execute("RELEASE op")
                except sqlite3.Error as exc:  # one bad op fails alone
                    db.execute("ROLLBACK TO op")
                    db.execute("RELEASE op")
                    results.append(exc)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return results

    # -- ids ----------------------------------------------------------------------------------

    def _remember(self, key: tuple[str, str], mapping: Mapping) -> None:
        cache = self._cache
        cache[key] = mapping
        if len(cache) > self.cache_size:
            del cache[next(iter(cache))]

    def remember(self, entries: Sequence[tuple[str, str, str, str]]) -> None:
        """Cache ``(ns, carrier_id, our_id, system_id)`` rows now, ahead of :meth:`record`."""
        for ns, carrier_id, our_id, system_id in entries:
            self._remember((ns, carrier_id), Mapping(our_id, system_id))

    async def record(
        self, entries: Sequence[tuple[str, str, str, str]], acked: Sequence[str]
    ) -> None:
        """Store ``(ns, carrier_id, our_id, system_id)`` rows, mark ``acked`` ids; durably."""
        now = self._clock()
        self.remember(entries)

        def op(db: sqlite3.Connection) -> None:
            db.executemany(
                "INSERT OR REPLACE INTO ids VALUES (?, ?, ?, ?, ?)",
                [(*e, now) for e in entries],
            )
            db.executemany("INSERT OR IGNORE INTO acked VALUES (?, ?)", [(i, now) for i in acked])

        await self._call(op)

    def cached(self, ns: str, carrier_id: str) -> Mapping | None:
        """The mapping if it is in the in-memory cache (no thread hop, no SQLite)."""
        return self._cache.get((ns, carrier_id))

    async def lookup(self, ns: str, carrier_id: str) -> Mapping | None:
        cached = self._cache.get((ns, carrier_id))
        if cached is not None:
            return cached

        def op(db: sqlite3.Connection) -> Mapping | None:
            row = db.execute(
                "SELECT our_id, system_id FROM ids WHERE ns = ? AND carrier_id = ?",
                (ns, carrier_id),
            ).fetchone()
            return None if row is None else Mapping(row[0], row[1])

        found: Mapping | None = await self._call(op)
        if found is not None:
            self._remember((ns, carrier_id), found)
        return found

    async def acked_among(self, our_ids: Sequence[str]) -> set[str]:
        """Which of ``our_ids`` the carrier already acknowledged."""

        def op(db: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            ids = list(our_ids)
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT our_id FROM acked WHERE our_id IN ({marks})", chunk)  # noqa: S608
                found.update(r[0] for r in rows)
            return found

        result: set[str] = await self._call(op)
        return result

    async def prune(self) -> int:
        """Drop mappings and dedupe marks older than the retention; returns rows removed."""
        cutoff = self._clock() - self.retention

        def op(db: sqlite3.Connection) -> int:
            a = db.execute("DELETE FROM ids WHERE created < ?", (cutoff,)).rowcount
            b = db.execute("DELETE FROM acked WHERE created < ?", (cutoff,)).rowcount
            return int(a + b)

        removed: int = await self._call(op)
        return removed

    # -- receipts -----------------------------------------------------------------------------

    async def keep_receipt(
        self, ns: str, carrier_id: str, system_id: str, our_id: str, pdu: bytes
    ) -> int:
        """Store a receipt until the reseller takes it; returns its row id."""
        now = self._clock()

        def op(db: sqlite3.Connection) -> int:
            cur = db.execute(
                "INSERT INTO receipts (ns, carrier_id, system_id, our_id, pdu, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (ns, carrier_id, system_id, our_id, pdu, now),
            )
            return int(cur.lastrowid or 0)

        rid: int = await self._call(op)
        return rid

    async def drop_receipts(self, rids: Sequence[int]) -> None:
        def op(db: sqlite3.Connection) -> None:
            db.executemany("DELETE FROM receipts WHERE rid = ?", [(r,) for r in rids])

        await self._call(op)

    async def kept_receipts(self, limit: int = 100_000) -> list[KeptReceipt]:
        """Receipts kept from an earlier run, oldest first."""

        def op(db: sqlite3.Connection) -> list[KeptReceipt]:
            rows = db.execute(
                "SELECT rid, ns, carrier_id, system_id, our_id, pdu, created FROM receipts"
                " ORDER BY rid LIMIT ?",
                (limit,),
            )
            return [KeptReceipt(*row) for row in rows]

        kept: list[KeptReceipt] = await self._call(op)
        return kept
