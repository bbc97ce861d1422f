"""Sender and recipient number validity (Korean number plan; DOMAIN "Numbers").

An unassigned prefix, a malformed number or one of unusual length cannot be a real caller ID:
spammers forge them. Checks fire only when the number is given.
"""

from __future__ import annotations

from collections.abc import Iterable

from spamgate.checks.base import Check, Hit, NoOptions, SymbolDef
from spamgate.checks.context import CheckContext
from spamgate.domain.numbers import NumberKind
from spamgate.domain.verdict import Action

__all__ = ["NumbersCheck"]

GROUP = "numbers"

# Reasons the number plan gives that mean "no such number can exist" rather than "malformed".
_UNASSIGNED = {"unassigned_prefix"}
# Foreign plans change without our knowing, so a foreign number we cannot validate is a weak sign,
# not proof of forgery (the strict verdicts are for Korean numbers, which we do know).
_FOREIGN_UNVERIFIABLE = {"invalid_foreign"}


class NumbersCheck(Check[NoOptions]):
    name = "numbers"
    symbols = (
        SymbolDef(
            "SENDER_INVALID",
            10.0,
            GROUP,
            "sender number is malformed or of impossible length (forged caller ID)",
            Action.REJECT,
        ),
        SymbolDef(
            "SENDER_UNASSIGNED_PREFIX",
            10.0,
            GROUP,
            "sender number uses a prefix not assigned in the Korean number plan",
            Action.REJECT,
        ),
        SymbolDef(
            "SENDER_FOREIGN_UNVERIFIABLE",
            2.0,
            GROUP,
            "foreign sender number that is not valid in its country's plan",
        ),
        SymbolDef(
            "SENDER_PREMIUM_RATE",
            2.0,
            GROUP,
            "sender is a premium-rate 060 number (call-back charges the recipient)",
        ),
        SymbolDef(
            "RECIPIENT_MALFORMED",
            10.0,
            GROUP,
            "recipient number is malformed or cannot exist",
            Action.REJECT,
        ),
    )

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        # A list rather than a generator: this runs for every message, and it adds up.
        hits: list[Hit] = []
        sender = ctx.sender
        if sender is not None:
            if sender.reason in _FOREIGN_UNVERIFIABLE:
                hits.append(Hit("SENDER_FOREIGN_UNVERIFIABLE", sender.digits[:24]))
            elif not sender.valid:
                symbol = (
                    "SENDER_UNASSIGNED_PREFIX" if sender.reason in _UNASSIGNED else "SENDER_INVALID"
                )
                hits.append(Hit(symbol, f"{sender.raw[:24]} ({sender.reason})"))
            elif sender.kind == NumberKind.PREMIUM:
                hits.append(Hit("SENDER_PREMIUM_RATE", sender.digits))
        recipient = ctx.recipient
        if recipient is not None and not recipient.valid:
            hits.append(Hit("RECIPIENT_MALFORMED", f"{recipient.raw[:24]} ({recipient.reason})"))
        return hits
