"""Verdict → SMPP: which command_status a reseller gets, and what travels upstream with a message.

Pure functions, one table each. The statuses (``submit_sm_resp``/``data_sm_resp``):

=================  ==============================================================================
deliver            ESME_ROK; forwarded as received
label              ESME_ROK; forwarded with the verdict TLVs and the ``label`` prefix (default
                   ``[스팸의심]``)
spambox            ESME_ROK; forwarded with the verdict TLVs (the carrier files it in the spam box)
overseas_inbox     ESME_ROK; forwarded with the verdict TLVs and the ``[국제발신]`` prefix
throttle           ESME_RTHROTTLED: the reseller should retry later, slower (``RATE_LIMITED``:
                   a send-rate bucket of the reseller or the account is empty)
reject             by the first fired symbol of ``REJECT_STATUS_BY_SYMBOL``: PER_SEND_AUTH_FAILED
                   → SG_RAUTHFAIL (0x0405), RESELLER_NOT_CERTIFIED → SG_RNOTCERTIFIED (0x0406),
                   ACCOUNT_SUSPENDED → SG_RSUSPENDED (0x0404); else ESME_RINVSRCADR when a
                   ``SENDER_*`` symbol fired, else ESME_RINVDSTADR when a ``RECIPIENT_*`` symbol
                   fired, else SG_RSPAM (0x0401, vendor range)
error              the field at fault: recipient → ESME_RINVDSTADR, sender → ESME_RINVSRCADR,
                   empty or too long text → ESME_RINVMSGLEN, anything else SG_RNOTJUDGED (0x0402)
=================  ==============================================================================

The verdict TLVs (``vendor.VendorTag``): action code, score × 1000, fired symbol names and the
message_id spamgate gave the reseller.
"""

from __future__ import annotations

from typing import Final

from spamgate.domain.verdict import Action, Verdict
from spamgate.smpp.pdu import CommandStatus, Tlv
from spamgate.smpp.vendor import VendorStatus, VendorTag

__all__ = [
    "ACTION_CODES",
    "FORWARDED_ACTIONS",
    "REJECT_STATUS_BY_PREFIX",
    "REJECT_STATUS_BY_SYMBOL",
    "input_error_status",
    "status_for",
    "verdict_tlvs",
]

_S = CommandStatus

#: Actions whose messages are accepted (ESME_ROK) and forwarded upstream.
FORWARDED_ACTIONS: Final = frozenset(
    {Action.DELIVER, Action.LABEL, Action.SPAMBOX, Action.OVERSEAS_INBOX}
)
#: The SPAMGATE_ACTION TLV's value per forwarded action.
ACTION_CODES: Final[dict[Action, int]] = {
    Action.DELIVER: 0,
    Action.LABEL: 1,
    Action.SPAMBOX: 2,
    Action.OVERSEAS_INBOX: 3,
}
#: For ``reject``: these symbols decide the status first (in this order), as they say more
#: about what the reseller must fix than the sender/recipient prefixes below.
REJECT_STATUS_BY_SYMBOL: Final[tuple[tuple[str, int], ...]] = (
    ("PER_SEND_AUTH_FAILED", VendorStatus.SG_RAUTHFAIL),
    ("RESELLER_NOT_CERTIFIED", VendorStatus.SG_RNOTCERTIFIED),
    ("ACCOUNT_SUSPENDED", VendorStatus.SG_RSUSPENDED),
)
#: For ``reject``: the first prefix a fired symbol has decides the status (in this order).
REJECT_STATUS_BY_PREFIX: Final[tuple[tuple[str, int], ...]] = (
    ("SENDER_", _S.ESME_RINVSRCADR),
    ("RECIPIENT_", _S.ESME_RINVDSTADR),
)
_INPUT_FIELD_STATUS: Final[dict[str, int]] = {
    "recipient": _S.ESME_RINVDSTADR,
    "sender": _S.ESME_RINVSRCADR,
}
_MAX_SYMBOLS_OCTETS: Final = 254


def status_for(verdict: Verdict) -> int:
    """The command_status that answers a message judged ``verdict``."""
    action = verdict.action
    if action in FORWARDED_ACTIONS:
        return _S.ESME_ROK
    if action is Action.THROTTLE:
        return _S.ESME_RTHROTTLED
    if action is Action.REJECT:
        fired = [s.name for s in verdict.symbols if s.score > 0]
        for name, status in REJECT_STATUS_BY_SYMBOL:
            if name in fired:
                return status
        for prefix, status in REJECT_STATUS_BY_PREFIX:
            if any(name.startswith(prefix) for name in fired):
                return status
        return VendorStatus.SG_RSPAM
    return VendorStatus.SG_RNOTJUDGED


def input_error_status(field: str | None, *, length_problem: bool = False) -> int:
    """The status for a message the pipeline refused to judge because ``field`` was bad."""
    if length_problem:
        return _S.ESME_RINVMSGLEN
    if field is None:
        return VendorStatus.SG_RNOTJUDGED
    return _INPUT_FIELD_STATUS.get(field, VendorStatus.SG_RNOTJUDGED)


def verdict_tlvs(verdict: Verdict, message_id: str) -> tuple[Tlv, ...]:
    """The vendor TLVs that carry ``verdict`` upstream (empty for a plain ``deliver``)."""
    code = ACTION_CODES.get(verdict.action)
    if code is None or verdict.action is Action.DELIVER:
        return ()
    names: list[str] = []
    size = 0
    for symbol in verdict.symbols:
        if symbol.score <= 0:
            continue
        cost = len(symbol.name) + (1 if names else 0)
        if size + cost > _MAX_SYMBOLS_OCTETS:
            break
        names.append(symbol.name)
        size += cost
    score = min(max(int(verdict.score * 1000), 0), 0xFFFF_FFFF)
    return (
        Tlv.from_int(VendorTag.SPAMGATE_ACTION, code),
        Tlv.from_int(VendorTag.SPAMGATE_SCORE, score, 4),
        Tlv.from_cstr(VendorTag.SPAMGATE_SYMBOLS, ",".join(names)),
        Tlv.from_cstr(VendorTag.SPAMGATE_MESSAGE_ID, message_id[:64]),
    )
