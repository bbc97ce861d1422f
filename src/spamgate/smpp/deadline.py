"""One event-loop timer that fires at a pure session's earliest deadline.

The sessions (:mod:`spamgate.smpp.session`, :mod:`spamgate.smpp.esme`) do no I/O: they say
when they next need the clock (``get_timer()``) and act in ``handle_timer(now)``. Their
transports keep one of these each and re-arm it after every step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["DeadlineTimer"]


class DeadlineTimer:
    """``arm(when)`` after every session step; ``on_due(now)`` runs at the deadline.

    An armed timer is moved only when a nearer deadline comes: one that fires before a later
    deadline finds nothing due, and the step it runs re-arms it. ``arm(None)`` cancels.
    """

    __slots__ = ("_handle", "_loop", "_on_due", "_when")

    def __init__(self, loop: asyncio.AbstractEventLoop, on_due: Callable[[float], None]) -> None:
        self._loop = loop
        self._on_due = on_due
        self._handle: asyncio.TimerHandle | None = None
        self._when = 0.0

    def arm(self, when: float | None) -> None:
        if when is None:
            self.cancel()
            return
        if self._handle is not None:
            if self._when <= when:
                return  # the armed timer fires first; the step it runs re-arms for later
            self._handle.cancel()
        self._when = when
        self._handle = self._loop.call_at(when, self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        self._handle = None
        self._on_due(max(self._loop.time(), self._when))
