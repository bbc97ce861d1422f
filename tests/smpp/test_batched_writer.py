"""BatchedWriter: what is written in one loop iteration leaves in one transport write."""

from __future__ import annotations

import asyncio

from spamgate.smpp.batched import BatchedWriter


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closing


def test_one_write_per_iteration_in_order_and_none_after_close() -> None:
    async def run() -> None:
        writer = BatchedWriter(asyncio.get_running_loop())
        transport = _Transport()
        writer.write(b"lost")  # no transport yet: nothing to queue for
        writer.transport = transport  # type: ignore[assignment]
        for part in (b"a", b"", b"bc", b"d"):
            writer.write(part)
        assert transport.writes == []  # not before the iteration ends
        await asyncio.sleep(0)
        assert transport.writes == [b"abcd"]
        writer.write(b"e")
        writer.flush_now()  # e.g. before closing: at once
        assert transport.writes == [b"abcd", b"e"]
        await asyncio.sleep(0)  # the scheduled flush finds nothing left
        assert transport.writes == [b"abcd", b"e"]
        writer.write(b"f")
        transport.closing = True
        await asyncio.sleep(0)
        assert transport.writes == [b"abcd", b"e"]  # a closing transport takes nothing

    asyncio.run(run())
