"""Per-send authentication over SMPP: the ``SPAMGATE_SEND_PROOF`` TLV (0x1410). Pure, no I/O.

Why a TLV per message and not a per-bind session key: the proof binds *each* message (its text,
sender, recipients, time and a one-time nonce) to the account's secret, exactly as on the HTTP
API, so a stolen bind password alone cannot send anything, and HTTP and SMPP clients sign with the
same code (:func:`spamgate.registry.persend.sign`).

Layout: an ASCII octet string of at most 200 octets (one trailing NUL is ignored)::

    <account>;<timestamp>;<nonce>;<signature>

``account`` the registry account id; ``timestamp`` Unix seconds, decimal; ``nonce`` 16-64
characters of ``A-Z a-z 0-9 _ -``; ``signature`` 64 lowercase hex digits: HMAC-SHA256 with the
account's secret over :func:`spamgate.registry.persend.canonical_string` of

* ``sender``: the PDU's ``source_addr`` as sent;
* ``recipient``: ``destination_addr`` (submit_sm, data_sm) or, for submit_multi, the SME
  destination addresses in PDU order joined with ``,`` (one proof covers the whole PDU);
* ``text``: the whole message's text as decoded by its data_coding (the parts of a long message
  joined, without UDH) — the same string the HTTP API signs.

A long message carries the TLV on its first part (others may repeat it; only the first is read).
On a registry bind every message must carry one; a missing, malformed, stale, replayed or wrongly
signed proof, or one naming an account of another reseller, is answered ``SG_RAUTHFAIL``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from spamgate.domain.message import SendProof
from spamgate.registry.persend import sign
from spamgate.smpp.pdu import SmeAddress, SubmitMulti, Tlv
from spamgate.smpp.session import MessagePdu
from spamgate.smpp.vendor import VendorTag

__all__ = [
    "MAX_PROOF_OCTETS",
    "ProofTlv",
    "find_proof",
    "make_proof_tlv",
    "parse_proof",
    "signed_recipient",
]

MAX_PROOF_OCTETS: Final = 200
_TAG: Final = int(VendorTag.SPAMGATE_SEND_PROOF)
_PROOF_RE: Final = re.compile(
    r"(?P<account>[\x21-\x3a\x3c-\x7e]{1,64});(?P<ts>[0-9]{1,12});"
    r"(?P<nonce>[A-Za-z0-9_-]{16,64});(?P<sig>[0-9a-f]{64})"
)


@dataclass(frozen=True, slots=True)
class ProofTlv:
    """A parsed SPAMGATE_SEND_PROOF value."""

    account: str
    proof: SendProof


def parse_proof(value: bytes) -> ProofTlv | None:
    """The proof in a TLV value, or None when it is not in the documented layout."""
    if value.endswith(b"\0"):
        value = value[:-1]
    if len(value) > MAX_PROOF_OCTETS or not value.isascii():
        return None
    match = _PROOF_RE.fullmatch(value.decode("ascii"))
    if match is None:
        return None
    return ProofTlv(
        account=match["account"],
        proof=SendProof(timestamp=int(match["ts"]), nonce=match["nonce"], signature=match["sig"]),
    )


def find_proof(pdu: MessagePdu) -> bytes | None:
    """The raw SPAMGATE_SEND_PROOF value of ``pdu``, or None when it carries none."""
    for tlv in pdu.tlvs:
        if tlv.tag == _TAG:
            return tlv.value
    return None


def signed_recipient(pdu: MessagePdu) -> str:
    """The ``recipient`` line the proof signs for ``pdu`` (see the module docstring)."""
    if isinstance(pdu, SubmitMulti):
        return ",".join(
            d.destination_addr.strip() for d in pdu.dest_addresses if isinstance(d, SmeAddress)
        )
    return pdu.destination_addr.strip()


def make_proof_tlv(
    secret: str,
    *,
    account: str,
    text: str,
    timestamp: int,
    nonce: str,
    sender: str | None = None,
    recipients: Sequence[str] = (),
) -> Tlv:
    """The TLV a reseller adds to a message (for clients and tests)."""
    signature = sign(
        secret,
        account=account,
        sender=sender,
        recipient=",".join(r.strip() for r in recipients),
        text=text,
        timestamp=timestamp,
        nonce=nonce,
    )
    return Tlv(_TAG, f"{account};{timestamp};{nonce};{signature}".encode("ascii"))
