"""DeadlineTimer: one loop timer at a session's earliest deadline."""

from __future__ import annotations

import asyncio

from spamgate.smpp.deadline import DeadlineTimer


def test_moves_only_to_a_nearer_deadline_and_cancels_on_none() -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        fired: list[float] = []
        timer = DeadlineTimer(loop, fired.append)
        start = loop.time()
        timer.arm(start + 0.2)
        timer.arm(start + 5.0)  # later: the armed one stays
        timer.arm(start + 0.05)  # nearer: moved
        await asyncio.sleep(0.1)
        assert len(fired) == 1 and fired[0] >= start + 0.05  # never before its deadline
        await asyncio.sleep(0.2)
        assert len(fired) == 1  # the 0.2 s timer was replaced, not kept beside
        timer.arm(loop.time() + 0.05)
        timer.arm(None)  # nothing due any more: cancelled
        await asyncio.sleep(0.1)
        assert len(fired) == 1
        timer.arm(loop.time() + 0.02)
        timer.cancel()
        await asyncio.sleep(0.05)
        assert len(fired) == 1

    asyncio.run(run())
