"""Campaigns caught before anyone reports them: ``BULK_BURST`` and ``RECIPIENT_SWEEP``.

The pipeline feeds every batch, in submission order, to bounded sliding windows — in this
process (:mod:`spamgate.model.bursts`) or shared by every gateway through Redis
(:mod:`spamgate.model.bursts_redis`, ``SPAMGATE_REDIS_URL``) — before the checks run, and
publishes what the windows hold for each message as facts; this check, free of I/O, compares
them with the thresholds below (policy TOML, ``[checks.bursts.options]``):

* ``BULK_BURST`` — the same content (links, numbers, names, spacing and symbols disregarded) from
  at least ``min_senders`` different sender numbers, or (when ``min_recipients`` is set) to at
  least that many recipients, within ``window_minutes``. Legitimate bulk mail comes from one
  registered number, so the many-senders rule is the strong one.
* ``RECIPIENT_SWEEP`` — one account (or sender) sending to at least ``sweep_min_recipients``
  distinct numbers in the window, of which at least ``sweep_sequential_share`` sit in sequential
  ranges or at least ``sweep_invalid_share`` are invalid: number-range blasting.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from spamgate.checks.base import Check, Hit, Options, SymbolDef
from spamgate.checks.context import CheckContext
from spamgate.model.bursts import BurstState, SweepState

__all__ = ["BURST_FACT", "SWEEP_FACT", "BurstCheck", "BurstOptions"]

BURST_FACT = "burst"
SWEEP_FACT = "sweep"
GROUP = "campaign"


class BurstOptions(Options):
    window_minutes: float = Field(default=10.0, gt=0, le=24 * 60)
    min_senders: int = Field(default=8, ge=2)
    min_recipients: int = Field(default=0, ge=0)  # 0: only the many-senders rule
    sweep_min_recipients: int = Field(default=50, ge=5)
    sweep_sequential_share: float = Field(default=0.5, gt=0, le=1)
    sweep_invalid_share: float = Field(default=0.3, gt=0, le=1)


class BurstCheck(Check[BurstOptions]):
    name = "bursts"
    symbols = (
        SymbolDef(
            "BULK_BURST",
            5.0,
            GROUP,
            "the same content from many sender numbers (or to very many recipients) in minutes",
        ),
        SymbolDef(
            "RECIPIENT_SWEEP",
            6.0,
            GROUP,
            "the sender is sweeping number ranges (sequential or invalid recipients)",
        ),
    )
    options_model = BurstOptions

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        # A list rather than a generator: this runs for every message, and it adds up.
        hits: list[Hit] = []
        opts = self.options
        burst = ctx.facts.get(BURST_FACT)
        if isinstance(burst, BurstState):
            many_senders = burst.senders >= opts.min_senders
            many_recipients = opts.min_recipients > 0 and burst.recipients >= opts.min_recipients
            if many_senders or many_recipients:
                hits.append(
                    Hit(
                        "BULK_BURST",
                        f"{burst.messages} msgs, ~{burst.senders} senders, "
                        f"~{burst.recipients} recipients",
                    )
                )
        sweep = ctx.facts.get(SWEEP_FACT)
        if isinstance(sweep, SweepState) and sweep.recipients >= opts.sweep_min_recipients:
            sequential = sweep.sequential / sweep.recipients
            invalid = sweep.invalid / sweep.recipients
            if sequential >= opts.sweep_sequential_share or invalid >= opts.sweep_invalid_share:
                hits.append(
                    Hit(
                        "RECIPIENT_SWEEP",
                        f"{sweep.recipients} recipients: {sequential:.0%} sequential, "
                        f"{invalid:.0%} invalid",
                    )
                )
        return hits
