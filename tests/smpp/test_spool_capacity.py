"""The spool's bound on unforwarded messages: refused with ESME_RMSGQFUL, room again once
messages are acked."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from test_spool_compaction import _item

from spamgate.smpp import CommandStatus
from spamgate.smpp.forward import ForwardError
from spamgate.smpp.spool import SpoolForwarder


def test_a_full_spool_refuses_queue_full_until_messages_are_acked(tmp_path: Path) -> None:
    async def run() -> SpoolForwarder:
        spool = SpoolForwarder(tmp_path / "s.wal", capacity=3)
        await spool.forward([_item("a"), _item("b")])
        with pytest.raises(ForwardError) as refused:
            await spool.forward([_item("c"), _item("d")])  # the batch would pass the bound
        assert refused.value.command_status == CommandStatus.ESME_RMSGQFUL
        await spool.forward([_item("c")])
        with pytest.raises(ForwardError):
            await spool.forward([_item("d")])
        await spool.ack(["a"])  # forwarded upstream: room for one more
        await spool.forward([_item("d")])
        return spool

    spool = asyncio.run(run())
    assert [r["id"] for r in spool.pending()] == ["b", "c", "d"]
    spool.close()
    unbounded = SpoolForwarder(tmp_path / "s.wal")
    assert unbounded.capacity is None
    unbounded.close()
