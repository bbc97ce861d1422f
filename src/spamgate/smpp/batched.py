"""Bytes written to a connection during one event-loop iteration leave in one ``send``.

A judged batch answers hundreds of submits at once, receipts come in bursts behind the
carrier's answers, and a busy ESME submits in bursts: one ``send`` per PDU costs a system call
here and a wake-up in the peer for each. Every SMPP endpoint of ours (the gateway's
connections, its carrier links, the simulators) writes through one of these.
"""

from __future__ import annotations

import asyncio

__all__ = ["BatchedWriter"]


class BatchedWriter:
    """``write`` queues; the queue goes to the transport at the end of the loop iteration
    (``flush_now`` sends it at once, e.g. before closing the transport)."""

    __slots__ = ("_loop", "_out", "transport")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._out: list[bytes] = []
        self.transport: asyncio.Transport | None = None

    def write(self, data: bytes) -> None:
        transport = self.transport
        if data and transport is not None and not transport.is_closing():
            if not self._out:
                self._loop.call_soon(self.flush_now)
            self._out.append(data)

    def flush_now(self) -> None:
        out = self._out
        if not out:
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(data)
