"""spamgate's vendor-specific SMPP values: command_status codes and TLV tags.

SMPP 3.4 reserves command_status 0x400-0x4FF and TLV tags 0x1400-0x3FFF for SMSC vendors.
spamgate answers and forwards with the values below; they are a public contract (resellers map the
statuses, carriers read the TLVs), so a value is never reused for another meaning.

Statuses (answered on submit_sm / data_sm / submit_multi):

======  ========================  ============================================================
0x0400  SG_RINCOMPLETE            a part of a concatenated message waited longer than the
                                  reassembly timeout for the other parts (or the bind ended);
                                  every held part gets this status and nothing is forwarded
0x0401  SG_RSPAM                  judged spam (the policy's ``reject`` action) and no sender or
                                  recipient symbol explains it better
0x0402  SG_RNOTJUDGED             the message could not be judged (e.g. empty text); nothing
                                  was accepted
0x0403  SG_RDUPLICATEPART         this part's number was already received for the message
0x0404  SG_RSUSPENDED             the account is suspended: it may not send now
0x0405  SG_RAUTHFAIL              per-send authentication failed: the SPAMGATE_SEND_PROOF TLV
                                  is missing, malformed, stale (clock skew), replayed, signed
                                  wrongly, or names an account of another reseller
0x0406  SG_RNOTCERTIFIED          the bound reseller's certification is not current
                                  (suspended, cancelled, expired or not yet granted): it may
                                  not send; binding again is refused with ESME_RBINDFAIL
======  ========================  ============================================================

TLVs (added to what is forwarded upstream for ``label``, ``spambox`` and ``overseas_inbox``):

======  ========================  ============================================================
0x1400  SPAMGATE_ACTION           1 octet: 0 deliver, 1 label, 2 spambox, 3 overseas_inbox
0x1401  SPAMGATE_SCORE            4 octets, unsigned: the verdict score × 1000, floored at 0
0x1402  SPAMGATE_SYMBOLS          C-Octet String: the fired symbol names, comma-separated,
                                  cut at a name boundary to fit 254 octets
0x1403  SPAMGATE_MESSAGE_ID       C-Octet String: the message_id spamgate gave the reseller
======  ========================  ============================================================

TLV the reseller sends (on submit_sm, data_sm and submit_multi; see ``spamgate.smpp.proof``):

======  ========================  ============================================================
0x1410  SPAMGATE_SEND_PROOF       Octet String, ASCII, at most 200 octets (a trailing NUL is
                                  ignored): ``<account>;<timestamp>;<nonce>;<signature>``, the
                                  per-send proof of ``spamgate.registry.persend``
======  ========================  ============================================================
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["VendorStatus", "VendorTag"]


class VendorStatus(IntEnum):
    """command_status values in the vendor range (see the module docstring)."""

    SG_RINCOMPLETE = 0x0400
    SG_RSPAM = 0x0401
    SG_RNOTJUDGED = 0x0402
    SG_RDUPLICATEPART = 0x0403
    SG_RSUSPENDED = 0x0404
    SG_RAUTHFAIL = 0x0405
    SG_RNOTCERTIFIED = 0x0406


class VendorTag(IntEnum):
    """TLV tags in the vendor range (see the module docstring)."""

    SPAMGATE_ACTION = 0x1400
    SPAMGATE_SCORE = 0x1401
    SPAMGATE_SYMBOLS = 0x1402
    SPAMGATE_MESSAGE_ID = 0x1403
    SPAMGATE_SEND_PROOF = 0x1410
