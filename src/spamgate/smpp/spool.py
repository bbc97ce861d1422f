"""The write-ahead spool: accepted messages are on disk before their submit_sm_resp is written.

``SpoolForwarder`` is a ``Forwarder``: ``forward(items)`` returns only once the items' records
are written and fsynced (``os.fdatasync``). Group commit: calls that arrive while a sync is running
are written together by the next one, so one sync covers many messages under load; the sync runs
in a worker thread, never on the event loop. A failed write raises ``ForwardError(ESME_RSYSERR)``,
so the reseller is told and nothing is acknowledged that is not durable.

The file is append-only. A record is ``length (4 octets, big-endian) | crc32 (4) | JSON``:

* ``{"t": "msg", "id": …, "parts": […], "system_id": …, "account": …, "pdus": [hex, …],
  "text": …, "data_coding": …, "verdict": {…}, "label": …, "tlvs": [[tag, hex], …],
  "received_at": …}`` — one accepted message (the PDUs as received, re-encoded);
* ``{"t": "ack", "id": …}`` — the message was forwarded upstream (``ack``).

On open, the file is scanned: a torn or corrupt tail (a crash in the middle of a write) is cut
off, and ``pending()`` lists the messages without an ack, oldest first — what a forwarder must
(re)send after a restart (at least once; ``id`` is the dedupe key). Compaction (dropping acked
records) is left to the upstream slice; ``size`` tells how large the file has grown.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from spamgate.smpp.forward import ForwardError, ForwardItem
from spamgate.smpp.pdu import CommandStatus, encode

__all__ = ["SpoolForwarder", "SpoolRecord"]

log = logging.getLogger(__name__)
_HEAD: Final = struct.Struct(">II")
_MAX_RECORD: Final = 16 * 1024 * 1024

SpoolRecord = dict[str, Any]


def _record(payload: SpoolRecord) -> bytes:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
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


class SpoolForwarder:
    """Durable forwarder on one append-only file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._pending: dict[str, int] = {}  # unacked message id -> offset of its record
        good = self._scan()
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if os.fstat(self._fd).st_size > good:
            log.warning("spool %s: cutting a torn tail at offset %d", path, good)
            os.ftruncate(self._fd, good)
        self._size = good
        self._next_offset = good  # where the next appended record will start
        self._buffer: list[bytes] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._flushing = False
        self._task: asyncio.Task[None] | None = None
        self.syncs = 0

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
                record = json.loads(body)
            except ValueError:
                break
            if record.get("t") == "msg":
                self._pending[record["id"]] = pos
            elif record.get("t") == "ack":
                self._pending.pop(record.get("id"), None)
            pos = start + length
        return pos

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        """Messages spooled and not acked."""
        return len(self._pending)

    def pending(self) -> list[SpoolRecord]:
        """Unacked messages' records, oldest first (read back from the file)."""
        out: list[SpoolRecord] = []
        with self.path.open("rb") as fh:
            for offset in self._pending.values():
                fh.seek(offset)
                length, _ = _HEAD.unpack(fh.read(_HEAD.size))
                out.append(json.loads(fh.read(length)))
        return out

    async def forward(self, items: Sequence[ForwardItem]) -> None:
        data = [_message_record(item) for item in items]
        offsets = await self._append(data)
        for item, offset in zip(items, offsets, strict=True):
            self._pending[item.message_id] = offset

    async def ack(self, message_ids: Sequence[str]) -> None:
        """Record that these messages were forwarded upstream (durably, like ``forward``)."""
        await self._append([_record({"t": "ack", "id": mid}) for mid in message_ids])
        for mid in message_ids:
            self._pending.pop(mid, None)

    async def _append(self, records: list[bytes]) -> list[int]:
        """Append ``records`` with the next group commit; returns their file offsets."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        offsets = []
        for record in records:
            offsets.append(self._next_offset)
            self._next_offset += len(record)
        self._buffer.extend(records)
        self._waiters.append(future)
        if not self._flushing:
            self._flushing = True
            self._task = loop.create_task(self._flush_loop())
        await future
        return offsets

    async def _flush_loop(self) -> None:
        try:
            while self._buffer:
                data = b"".join(self._buffer)
                waiters = self._waiters
                self._buffer = []
                self._waiters = []
                try:
                    await asyncio.to_thread(self._write, data)
                except OSError as exc:
                    log.error("spool %s: write failed: %s", self.path, exc)
                    error = ForwardError(
                        f"spool write failed: {exc.strerror}",
                        command_status=CommandStatus.ESME_RSYSERR,
                    )
                    # Offsets of everything queued assumed this write: fail it all, start over.
                    waiters += self._waiters
                    self._buffer = []
                    self._waiters = []
                    try:
                        os.ftruncate(self._fd, self._size)
                    except OSError:
                        log.exception("spool %s: cannot cut the failed write", self.path)
                    self._next_offset = self._size
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(error)
                    continue
                self._size += len(data)
                self.syncs += 1
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            self._flushing = False

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fdatasync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
