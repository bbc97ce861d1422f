"""Where the message came from: spoofed domestic numbers and international origin (measures 7-8).

A Korean number (010…, 02…, +82…) arriving over an international route is spoofing: the network
blocks it before the handset does. Any other international-origin message goes to the recipient's
overseas inbox unless the sending account is verified for international traffic.

A text that signs, in its opening bracket, as a bank, card issuer, lender, securities firm or an
enforcement or tax agency (``[국민은행]``, ``[서울중앙지방검찰청]``) does not come from a
personal mobile (010), a personal 050X number or a foreign number: those institutions send from
their registered representative or landline numbers. ``SENDER_BRAND_MISMATCH`` names that
impersonation (기관 사칭). Couriers and the post office are left out on purpose: their drivers
text from their own mobiles.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

from spamgate.checks.base import Check, Hit, NoOptions, SymbolDef
from spamgate.checks.context import CheckContext
from spamgate.domain.message import Route
from spamgate.domain.numbers import NumberKind
from spamgate.domain.verdict import Action

__all__ = ["OriginCheck"]

GROUP = "origin"

#: Sender kinds no bank or agency sends from.
_PERSONAL_KINDS: Final = frozenset({NumberKind.MOBILE, NumberKind.PERSONAL, NumberKind.FOREIGN})
# The opening bracket (after the carriers' [Web발신]/[국제발신] labels) and what in it names a
# financial institution or an enforcement/tax agency.
_HEADER: Final = re.compile(
    r"^(?:\s*[\[(](?:web\s*발신|국제\s*발신|국외\s*발신|해외\s*발신)[\])]\s*)*"
    r"\s*[\[【(<]([^\]】)>\n]{2,24})[\]】)>]",
    re.I,
)
_INSTITUTION: Final = re.compile(
    r"은행|카드|증권|캐피탈|저축|금고|신협|농협|수협|금융|보험공단|연금공단|국세청|세무서|관세청"
    r"|검찰|경찰|법원|금감원"
)


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
            "SENDER_BRAND_MISMATCH",
            4.0,
            GROUP,
            "text signs as a bank, card issuer or agency but comes from a personal or foreign "
            "number (기관 사칭)",
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
        sender = ctx.sender
        brand = _brand_mismatch(ctx)
        if ctx.message.route != Route.INTERNATIONAL:
            return [brand] if brand is not None else ()
        if sender is not None and sender.valid and sender.is_domestic:
            spoofed = Hit("SENDER_SPOOFED_DOMESTIC", f"{sender.digits} via international route")
            return [spoofed, brand] if brand is not None else [spoofed]
        evidence = sender.digits if sender is not None and sender.digits else None
        if ctx.account is not None and ctx.account.international_verified:
            hits = [Hit("INTERNATIONAL_VERIFIED", evidence)]
        else:
            hits = [Hit("INTERNATIONAL_ORIGIN", evidence)]
        return [*hits, brand] if brand is not None else hits


def _brand_mismatch(ctx: CheckContext) -> Hit | None:
    sender = ctx.sender
    if sender is None or not sender.valid or sender.kind not in _PERSONAL_KINDS:
        return None
    header = _HEADER.match(unicodedata.normalize("NFKC", ctx.message.text[:120]))
    if header is None:
        return None
    name = header.group(1).strip()
    if _INSTITUTION.search(name) is None:
        return None
    return Hit("SENDER_BRAND_MISMATCH", f"[{name}] from {sender.kind.value} {sender.digits}")
