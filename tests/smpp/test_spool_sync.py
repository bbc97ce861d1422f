"""Where the spool's group commit syncs: on the event loop while the disk is fast, in a worker
thread while it is slow, and back again once it is fast."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest
from test_spool_compaction import _item

from spamgate.smpp.spool import INLINE_SYNC_BELOW, SpoolForwarder


class _Disk:
    """Stands in for ``os.fdatasync``: takes ``delay`` seconds, notes the calling thread."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.threads: list[int] = []
        self._real = os.fdatasync

    def __call__(self, fd: int) -> None:
        self.threads.append(threading.get_ident())
        self._real(fd)
        time.sleep(self.delay)


def test_sync_runs_on_the_loop_while_fast_in_a_thread_while_slow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = _Disk()
    monkeypatch.setattr(os, "fdatasync", disk)

    async def run() -> tuple[SpoolForwarder, int, list[int], list[int], list[int], int]:
        spool = SpoolForwarder(tmp_path / "s.wal")
        loop_thread = threading.get_ident()
        for i in range(5):
            await spool.forward([_item(f"fast{i}")])
        fast = list(disk.threads)
        disk.threads.clear()
        disk.delay = 4 * INLINE_SYNC_BELOW
        # The loop keeps running while a slow sync is in a thread: count its ticks.
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.get_running_loop().create_task(ticker())
        for i in range(6):
            await spool.forward([_item(f"slow{i}")])
        task.cancel()
        slow = list(disk.threads)
        disk.threads.clear()
        disk.delay = 0.0
        for i in range(30):
            await spool.forward([_item(f"again{i}")])
        again = list(disk.threads)
        return spool, loop_thread, fast, slow, again, ticks

    spool, loop_thread, fast, slow, again, ticks = asyncio.run(run())
    assert fast == [loop_thread] * 5, "a fast disk is synced on the loop"
    # The first slow sync still runs inline (nothing measured it yet); the average then passes
    # the bar and the next ones go to a worker thread.
    assert slow[0] == loop_thread
    assert all(t != loop_thread for t in slow[2:]), slow
    assert ticks > 10, "the loop ran while the slow syncs were in a thread"
    # Fast again: the thread's own timings bring the average down and the syncs come back.
    assert again[-5:] == [loop_thread] * 5
    assert spool.sync_seconds < INLINE_SYNC_BELOW
    assert spool.syncs == 41 and 0 < spool.inline_syncs < 41
    spool.close()
    # Every message is durable and readable whichever way it was synced.
    reopened = SpoolForwarder(tmp_path / "s.wal")
    assert len(reopened.pending()) == 41
    reopened.close()


def test_a_failed_inline_write_is_refused_and_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spamgate.smpp.forward import ForwardError

    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    async def run() -> SpoolForwarder:
        spool = SpoolForwarder(tmp_path / "s.wal")
        await spool.forward([_item("kept")])
        monkeypatch.setattr(os, "fdatasync", broken)
        with pytest.raises(ForwardError):
            await spool.forward([_item("lost")])
        await asyncio.sleep(0)
        # Three at once: the first fails on the loop, the other two in their group commit.
        failed = await asyncio.gather(
            *(spool.forward([_item(f"lost{i}")]) for i in range(3)), return_exceptions=True
        )
        assert all(isinstance(f, ForwardError) for f in failed), failed
        monkeypatch.undo()
        await spool.forward([_item("after")])
        return spool

    spool = asyncio.run(run())
    spool.close()
    reopened = SpoolForwarder(tmp_path / "s.wal")
    assert [r["id"] for r in reopened.pending()] == ["kept", "after"]
    reopened.close()


def test_an_idle_spool_commits_at_once_and_a_busy_turn_shares_one_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = _Disk()
    monkeypatch.setattr(os, "fdatasync", disk)

    async def run() -> tuple[SpoolForwarder, int, int]:
        spool = SpoolForwarder(tmp_path / "s.wal")
        # Alone in its loop turn: durable before forward() returns, without a turn in between.
        forward = spool.forward([_item("alone")])
        with pytest.raises(StopIteration):
            forward.send(None)  # ran to its end: it never waited for a loop turn
        alone = spool.syncs
        await asyncio.sleep(0)
        # Twenty at once: the first commits at once, the rest share one group commit.
        await asyncio.gather(*(spool.forward([_item(f"m{i}")]) for i in range(20)))
        return spool, alone, spool.syncs

    spool, alone, after = asyncio.run(run())
    assert alone == 1
    assert after == 3, after
    assert len(spool.pending()) == 21
    spool.close()
