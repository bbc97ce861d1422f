"""The write-ahead spool: accepted messages are on disk before their submit_sm_resp is written.

``SpoolForwarder`` is a ``Forwarder``: ``forward(items)`` returns only once the items' records
are written and fsynced (``os.fdatasync``). Group commit: calls that arrive while a sync is running
are written together by the next one, so one sync covers many messages under load. A failed write
raises ``ForwardError(ESME_RSYSERR)``, so the reseller is told and nothing is acknowledged that is
not durable.

Where the sync runs depends on the disk. While syncs take under ``INLINE_SYNC_BELOW`` (2 ms,
moving average; an SSD takes 0.3-1 ms) the write and the sync run on the event loop itself:
handed to a worker thread, each one waited 5-10 ms for the GIL and the loop's wake-up while the
loop was busy judging, and that wait was most of a submit_sm_resp's latency at 2,000 msg/s. On a
slower disk the sync runs in a worker thread, so the loop goes on reading and judging meanwhile;
the thread's own timings bring it back once the disk is fast again. On a fast disk with no commit
in flight, ``forward`` commits at once instead of a loop turn or two later (once a turn: the
turn's later calls share the next group commit); that took 3 ms off the median latency.

The file is append-only. A record is ``length (4 octets, big-endian) | crc32 (4) | JSON``:

* ``{"t": "msg", "id": …, "parts": […], "system_id": …, "account": …, "pdus": [hex, …],
  "text": …, "data_coding": …, "verdict": {…}, "label": …, "tlvs": [[tag, hex], …],
  "received_at": …}`` — one accepted message (the PDUs as received, re-encoded);
* ``{"t": "ack", "id": …}`` — the message was forwarded upstream (``ack``).

On open, the file is scanned: a torn or corrupt tail (a crash in the middle of a write) is cut
off, and ``pending()`` lists the messages without an ack, oldest first — what a forwarder must
(re)send after a restart (at least once; ``id`` is the dedupe key); ``item_from_record`` turns
one back into a ``ForwardItem``. Newly spooled items are also handed to the callbacks given to
``add_listener`` (the drainer), once durable.

Compaction (``compact``, or ``maybe_compact`` past a size threshold when acked records dominate)
rewrites the file with only the pending records: they are copied to a temporary file in a worker
thread while appends go on; then, with appends held back for that moment only, the records
appended meanwhile are copied after them, the file is fsynced, renamed over the spool and the
directory fsynced. A crash at any point leaves either the old or the new file, both complete.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import orjson

from spamgate.domain.verdict import Action, SymbolResult, Verdict
from spamgate.smpp.forward import ForwardError, ForwardItem
from spamgate.smpp.pdu import CommandStatus, DataSm, SubmitMulti, SubmitSm, Tlv, decode, encode
from spamgate.smpp.session import MessagePdu

__all__ = ["SpoolForwarder", "SpoolRecord", "item_from_record"]

log = logging.getLogger(__name__)
_HEAD: Final = struct.Struct(">II")
_MAX_RECORD: Final = 16 * 1024 * 1024

SpoolRecord = dict[str, Any]
Listener = Callable[[Sequence[ForwardItem]], None]


def _record(payload: SpoolRecord) -> bytes:
    # orjson: the same compact UTF-8 JSON as json.dumps, in a fourteenth of the time (one
    # record per accepted message, written on the event loop).
    body = orjson.dumps(payload)
    return _HEAD.pack(len(body), zlib.crc32(body)) + body


def _message_record(item: ForwardItem) -> bytes:
    return _record(
        {
            "t": "msg",
            "id": item.message_id,
            "parts": list(item.part_ids),
            "system_id": item.system_id,
            "account": item.account,
            "pdus": [encode(p).hex() for p in item.pdus],
            "text": item.text,
            "data_coding": item.data_coding,
            "verdict": item.verdict.to_dict(),
            "label": item.label,
            "tlvs": [[t.tag, t.value.hex()] for t in item.tlvs],
            "received_at": item.received_at,
        }
    )


def _verdict_from_dict(data: dict[str, Any]) -> Verdict:
    symbols = tuple(
        SymbolResult(
            name=s["name"],
            score=float(s["score"]),
            description=s.get("description", ""),
            evidence=s.get("evidence"),
            group=s.get("group", ""),
        )
        for s in data.get("symbols", ())
    )
    return Verdict(
        action=Action(data["action"]),
        score=float(data["score"]),
        symbols=symbols,
        spam_probability=data.get("spam_probability"),
        policy=data.get("policy", "default"),
        model=data.get("model"),
        reason=data.get("reason"),
    )


def item_from_record(record: SpoolRecord) -> ForwardItem:
    """The ``ForwardItem`` a ``msg`` record was written from; ``ValueError`` if it is broken."""
    try:
        pdus: list[MessagePdu] = []
        for hexed in record["pdus"]:
            pdu = decode(bytes.fromhex(hexed))
            if not isinstance(pdu, SubmitSm | DataSm | SubmitMulti):
                raise ValueError(f"spooled PDU is a {pdu.command_id.name.lower()}")
            pdus.append(pdu)
        return ForwardItem(
            message_id=record["id"],
            part_ids=tuple(record["parts"]),
            system_id=record["system_id"],
            account=record.get("account", ""),
            pdus=tuple(pdus),
            text=record.get("text", ""),
            data_coding=int(record["data_coding"]),
            verdict=_verdict_from_dict(record["verdict"]),
            label=record.get("label", ""),
            tlvs=tuple(Tlv(int(tag), bytes.fromhex(v)) for tag, v in record.get("tlvs", ())),
            received_at=float(record.get("received_at", 0.0)),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"spool record is incomplete: {exc}") from exc
    except Exception as exc:  # a PduError or a bad hex string: the record is unusable
        raise ValueError(f"spool record cannot be decoded: {exc}") from exc


def _read_record(fd: int, offset: int) -> SpoolRecord:
    length, _ = _HEAD.unpack(os.pread(fd, _HEAD.size, offset))
    record: SpoolRecord = orjson.loads(os.pread(fd, length, offset + _HEAD.size))
    return record


class _Batch:
    """Records of one ``_append`` call: (message id or None for acks, kind, bytes)."""

    __slots__ = ("future", "records")

    def __init__(self, records: list[tuple[str, str, bytes]], future: asyncio.Future[None]) -> None:
        self.records = records
        self.future = future


#: Seconds: a commit's write and sync run on the event loop while their moving average is
#: below this, in a worker thread otherwise (see the module docstring).
INLINE_SYNC_BELOW: Final = 0.002
_SYNC_SMOOTHING: Final = 0.2  # weight of the newest sync in the moving average


class SpoolForwarder:
    """Durable forwarder on one append-only file (see the module docstring)."""

    def __init__(self, path: Path, *, capacity: int | None = None) -> None:
        self.path = path
        #: Unforwarded messages the spool takes at most (None: no bound); beyond it ``forward``
        #: refuses with ESME_RMSGQFUL, so a backlog (carriers down or slower than the
        #: resellers) slows the resellers down instead of filling the disk.
        self.capacity = capacity
        path.parent.mkdir(parents=True, exist_ok=True)
        self._pending: dict[str, int] = {}  # unacked message id -> offset of its record
        self._records = 0  # records in the file (msg and ack)
        good = self._scan()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        if os.fstat(self._fd).st_size > good:
            log.warning("spool %s: cutting a torn tail at offset %d", path, good)
            os.ftruncate(self._fd, good)
        self._size = good
        self._batches: list[_Batch] = []
        self._flushing = False
        self._task: asyncio.Task[None] | None = None
        self._io_lock = asyncio.Lock()
        self._committed_this_turn = False
        self._listeners: list[Listener] = []
        self._compacting = False
        self.syncs = 0
        self.compactions = 0
        #: moving average of a commit's write + sync, seconds
        self.sync_seconds = 0.0
        #: commits written on the event loop (the rest went through a worker thread)
        self.inline_syncs = 0

    def _scan(self) -> int:
        """Read every whole record; return the offset after the last good one."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        pos = 0
        while pos + _HEAD.size <= len(data):
            length, crc = _HEAD.unpack_from(data, pos)
            start = pos + _HEAD.size
            body = data[start : start + length]
            if length > _MAX_RECORD or len(body) < length or zlib.crc32(body) != crc:
                break
            try:
                record = orjson.loads(body)
            except ValueError:
                break
            if record.get("t") == "msg":
                self._pending[record["id"]] = pos
            elif record.get("t") == "ack":
                self._pending.pop(record.get("id"), None)
            self._records += 1
            pos = start + length
        return pos

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        """Messages spooled and not acked."""
        return len(self._pending)

    def is_pending(self, message_id: str) -> bool:
        return message_id in self._pending

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(items)`` with every batch of items once it is durable."""
        self._listeners.append(listener)

    def pending(self) -> list[SpoolRecord]:
        """Unacked messages' records, oldest first (read back from the file)."""
        return [_read_record(self._fd, offset) for offset in self._pending.values()]

    async def forward(self, items: Sequence[ForwardItem]) -> None:
        capacity = self.capacity
        if capacity is not None and len(self._pending) + len(items) > capacity:
            raise ForwardError(f"spool full ({capacity:,} messages not yet forwarded)")
        await self._append([(item.message_id, "msg", _message_record(item)) for item in items])
        for listener in self._listeners:
            try:
                listener(items)
            except Exception:  # the items are durable; a drainer restart picks them up
                log.exception("spool %s: a listener failed", self.path)

    async def ack(self, message_ids: Sequence[str]) -> None:
        """Record that these messages were forwarded upstream (durably, like ``forward``).

        Ids that are not pending (already acked, or unknown) are skipped.
        """
        records = [
            (mid, "ack", _record({"t": "ack", "id": mid}))
            for mid in dict.fromkeys(message_ids)
            if mid in self._pending
        ]
        if records:
            await self._append(records)

    async def _append(self, records: list[tuple[str, str, bytes]]) -> None:
        """Append ``records`` with the next group commit."""
        loop = asyncio.get_running_loop()
        if (
            not self._flushing
            and not self._committed_this_turn
            and not self._io_lock.locked()
            and self._syncs_inline
        ):
            # Nothing in flight and a fast disk: commit now rather than a loop turn or two later
            # (at most once a turn: appends later in the same turn share the next group commit).
            # _commit does not suspend on this path, so no other append can slip in.
            self._committed_this_turn = True
            loop.call_soon(self._new_turn)
            await self._commit(records)
            return
        future: asyncio.Future[None] = loop.create_future()
        self._batches.append(_Batch(records, future))
        if not self._flushing:
            self._flushing = True
            self._task = loop.create_task(self._flush_loop())
        await future

    def _new_turn(self) -> None:
        self._committed_this_turn = False

    @property
    def _syncs_inline(self) -> bool:
        return self.sync_seconds < INLINE_SYNC_BELOW

    async def _flush_loop(self) -> None:
        try:
            while self._batches:
                async with self._io_lock:
                    batches, self._batches = self._batches, []
                    try:
                        await self._commit([r for b in batches for r in b.records])
                    except ForwardError as error:
                        for batch in batches:
                            if not batch.future.done():
                                batch.future.set_exception(error)
                        continue
                for batch in batches:
                    if not batch.future.done():
                        batch.future.set_result(None)
        finally:
            self._flushing = False

    async def _commit(self, records: list[tuple[str, str, bytes]]) -> None:
        """Write and sync ``records`` at the end of the file and book them: on the event loop
        while syncs are fast, in a worker thread otherwise. A failed write is cut off again and
        raised as ``ForwardError(ESME_RSYSERR)``."""
        data = b"".join(r[2] for r in records)
        inline = self._syncs_inline
        try:
            if inline:
                took = self._write(self._fd, data)
            else:
                took = await asyncio.to_thread(self._write, self._fd, data)
        except OSError as exc:
            raise self._write_failed(exc) from None
        offset = self._size
        pending = self._pending
        for message_id, kind, record in records:
            if kind == "msg":
                pending[message_id] = offset
            else:
                pending.pop(message_id, None)
            offset += len(record)
        self._records += len(records)
        self._size = offset
        self.syncs += 1
        self.inline_syncs += inline
        self.sync_seconds += _SYNC_SMOOTHING * (took - self.sync_seconds)

    def _write_failed(self, exc: OSError) -> ForwardError:
        """Cut the failed write off; returns the error to answer with."""
        log.error("spool %s: write failed: %s", self.path, exc)
        error = ForwardError(
            f"spool write failed: {exc.strerror}", command_status=CommandStatus.ESME_RSYSERR
        )
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            log.exception("spool %s: cannot cut the failed write", self.path)
        return error

    @staticmethod
    def _write(fd: int, data: bytes) -> float:
        """Append ``data`` and sync; returns the seconds it took."""
        started = time.perf_counter()
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fdatasync(fd)
        return time.perf_counter() - started

    # -- compaction ---------------------------------------------------------------------------

    def should_compact(self, min_size: int, max_live_share: float = 0.5) -> bool:
        """True when the file is past ``min_size`` and pending records are a minor share."""
        if self._compacting or self._size < min_size or not self._records:
            return False
        return len(self._pending) / self._records <= max_live_share

    async def maybe_compact(
        self, min_size: int = 64 * 1024 * 1024, max_live_share: float = 0.5
    ) -> bool:
        if not self.should_compact(min_size, max_live_share):
            return False
        return await self.compact()

    async def compact(self) -> bool:
        """Rewrite the file with only pending records (see the module docstring)."""
        if self._compacting or self._fd < 0:
            return False
        self._compacting = True
        tmp = self.path.with_name(self.path.name + ".compact")
        try:
            async with self._io_lock:
                snap_end = self._size
                snapshot = list(self._pending.items())
            copied = await asyncio.to_thread(self._copy_pending, snapshot, tmp)
            async with self._io_lock:
                # Appends wait here; only the tail written since the snapshot is copied now.
                new_fd, tail = await asyncio.to_thread(self._swap_in, tmp, copied[1], snap_end)
                base = copied[1]
                pending: dict[str, int] = {}
                for message_id, offset in self._pending.items():
                    if offset >= snap_end:
                        pending[message_id] = base + offset - snap_end
                    else:
                        pending[message_id] = copied[0][message_id]
                old_fd, self._fd = self._fd, new_fd
                os.close(old_fd)
                self._pending = pending
                self._size = base + tail
                self._records = len(pending)  # ack records in the tail are few; counted as live
                self.compactions += 1
            log.info(
                "spool %s: compacted to %d octets (%d pending)", self.path, self._size, len(pending)
            )
            return True
        except OSError as exc:
            log.error("spool %s: compaction failed, keeping the old file: %s", self.path, exc)
            tmp.unlink(missing_ok=True)
            return False
        finally:
            self._compacting = False

    def _copy_pending(
        self, snapshot: list[tuple[str, int]], tmp: Path
    ) -> tuple[dict[str, int], int]:
        """Copy the snapshot's records to ``tmp`` (worker thread); new offsets and length."""
        offsets: dict[str, int] = {}
        pos = 0
        with tmp.open("wb") as out:
            for message_id, offset in snapshot:
                (length,) = struct.unpack(">I", os.pread(self._fd, 4, offset))
                record = os.pread(self._fd, _HEAD.size + length, offset)
                out.write(record)
                offsets[message_id] = pos
                pos += len(record)
            out.flush()
            os.fdatasync(out.fileno())
        return offsets, pos

    def _swap_in(self, tmp: Path, base: int, snap_end: int) -> tuple[int, int]:
        """Append the tail since ``snap_end``, fsync, rename over the spool, fsync the directory."""
        tail = self._size - snap_end
        fd = os.open(tmp, os.O_RDWR | os.O_APPEND)
        try:
            pos = snap_end
            while pos < self._size:
                chunk = os.pread(self._fd, min(1 << 20, self._size - pos), pos)
                self._write(fd, chunk)
                pos += len(chunk)
            os.fdatasync(fd)
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except BaseException:
            os.close(fd)
            raise
        return fd, tail

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
