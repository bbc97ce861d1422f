"""Where the message came from: spoofed domestic numbers and international origin (measures 7-8).

A Korean number (010…, 02…, +82…) arriving over an international route is spoofing: the network
blocks it before the handset does. Any other international-origin message goes to the recipient's
overseas inbox unless the sending account is verified for international traffic.
"""

from __future__ import annotations

from collections.abc import Iterable

from spamgate.checks.base import Check, Hit, NoOptions, SymbolDef
from spamgate.checks.context import CheckContext
from spamgate.domain.message import Route
from spamgate.domain.verdict import Action

__all__ = ["OriginCheck"]

GROUP = "origin"


class OriginCheck(Check[NoOptions]):
    name = "origin"
    symbols = (
        SymbolDef(
            "SENDER_SPOOFED_DOMESTIC",
            12.0,
            GROUP,
            "Korean sender number arriving over an international route (spoofed caller ID)",
            Action.REJECT,
        ),
        SymbolDef(
            "INTERNATIONAL_ORIGIN",
            1.0,
            GROUP,
            "international-origin message from an unverified sender (국제발신): overseas inbox",
            Action.OVERSEAS_INBOX,
        ),
        SymbolDef(
            "INTERNATIONAL_VERIFIED",
            0.0,
            GROUP,
            "international-origin message from a verified account (shown as 국제발신)",
        ),
    )

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        # Returns rather than yields: this runs for every message, mostly domestic ones.
        if ctx.message.route != Route.INTERNATIONAL:
            return ()
        sender = ctx.sender
        if sender is not None and sender.valid and sender.is_domestic:
            return [Hit("SENDER_SPOOFED_DOMESTIC", f"{sender.digits} via international route")]
        evidence = sender.digits if sender is not None and sender.digits else None
        if ctx.account is not None and ctx.account.international_verified:
            return [Hit("INTERNATIONAL_VERIFIED", evidence)]
        return [Hit("INTERNATIONAL_ORIGIN", evidence)]
