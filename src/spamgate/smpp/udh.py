"""User Data Header (3GPP TS 23.040 §9.2.3.24) and SAR TLVs: where a message part sits in a whole.

A long message travels as parts in one of two ways, and ``message_parts`` reads both into the same
``ConcatInfo``:

* a UDH at the start of the user data (esm_class bit UDHI 0x40) with a concatenation information
  element: IEI 0x00 (8-bit reference, ``05 00 03 ref total seq``) or IEI 0x08 (16-bit reference,
  ``06 08 04 refhi reflo total seq``);
* the SAR TLVs sar_msg_ref_num (16-bit), sar_total_segments, sar_segment_seqnum.

A broken header raises ``PduError`` (non-fatal: the frame itself was fine), with the status to
answer the submit with:

=======================  ======================================================================
ESME_RINVESMCLASS        UDHI is set but the user data holds no walkable UDH: it is empty, its
                         UDHL runs past the user data, or an IE runs past the UDHL
ESME_RINVMSGLEN          the concatenation IE is wrong: its length is not 3 (IEI 0x00) or 4 (IEI
                         0x08), total is 0, seq is 0 or above total, or it appears twice
ESME_RMISSINGOPTPARAM    only some of the three SAR TLVs are present
ESME_RINVOPTPARAMVAL     SAR total is 0, or seq is 0 or above total
=======================  ======================================================================

Parts are joined as octets (``join_parts``) and decoded to text only once whole, so a character
that a sender split across two parts still decodes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from spamgate.smpp.errors import PduError
from spamgate.smpp.pdu import (
    ESM_CLASS_UDHI,
    CommandStatus,
    DataSm,
    ShortMessagePdu,
    SubmitMulti,
    Tag,
    Tlv,
)

__all__ = [
    "IEI_CONCAT_8",
    "IEI_CONCAT_16",
    "ConcatInfo",
    "InformationElement",
    "UserDataHeader",
    "concat_udh",
    "join_parts",
    "message_parts",
    "parse_udh",
    "sar_info",
    "split_udh",
]

IEI_CONCAT_8: Final = 0x00
IEI_CONCAT_16: Final = 0x08


@dataclass(frozen=True, slots=True, kw_only=True)
class ConcatInfo:
    """Where one part sits: reference, total parts, this part's 1-based seq, and the source.

    Parts of one message share (source address, ref, ref_bits, total); ``from_sar`` tells a SAR
    reference (16-bit, TLV) from a 16-bit UDH one, as they are separate number spaces.
    """

    ref: int
    total: int
    seq: int
    ref_bits: Literal[8, 16]
    from_sar: bool = False

    def __post_init__(self) -> None:
        if self.ref_bits not in (8, 16):
            raise ValueError("ref_bits must be 8 or 16")
        if not 0 <= self.ref < 1 << self.ref_bits:
            raise ValueError(f"ref {self.ref} does not fit {self.ref_bits} bits")
        if not 1 <= self.total <= 255 or not 1 <= self.seq <= self.total:
            raise ValueError(f"part {self.seq} of {self.total} is impossible")


@dataclass(frozen=True, slots=True)
class InformationElement:
    """One UDH information element: its identifier and raw data."""

    iei: int
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDataHeader:
    """A parsed UDH: every IE in order, the concatenation info if any, and its size in octets."""

    elements: tuple[InformationElement, ...]
    concat: ConcatInfo | None
    length: int  # octets the header occupies, the UDHL octet included


def _broken(reason: str, status: int = CommandStatus.ESME_RINVESMCLASS) -> PduError:
    return PduError(reason, command_status=status)


def parse_udh(user_data: bytes) -> tuple[UserDataHeader, bytes]:
    """Parse the UDH at the start of ``user_data`` (UDHI is set); return it and the payload after.

    Raises ``PduError`` as tabled in the module docstring.
    """
    if not user_data:
        raise _broken("UDHI set but the user data is empty")
    udhl = user_data[0]
    header_end = 1 + udhl
    if header_end > len(user_data):
        raise _broken(f"UDHL {udhl} runs past {len(user_data) - 1} octets of user data")
    elements: list[InformationElement] = []
    concat: ConcatInfo | None = None
    pos = 1
    while pos < header_end:
        if pos + 2 > header_end:
            raise _broken("UDH information element header runs past the UDHL")
        iei = user_data[pos]
        length = user_data[pos + 1]
        start = pos + 2
        pos = start + length
        if pos > header_end:
            raise _broken(f"UDH information element 0x{iei:02X} runs past the UDHL")
        data = user_data[start:pos]
        elements.append(InformationElement(iei, data))
        if iei in (IEI_CONCAT_8, IEI_CONCAT_16):
            if concat is not None:
                raise _broken(
                    "two concatenation elements in one UDH", CommandStatus.ESME_RINVMSGLEN
                )
            concat = _concat_from_ie(iei, data)
    header = UserDataHeader(elements=tuple(elements), concat=concat, length=header_end)
    return header, user_data[header_end:]


def _concat_from_ie(iei: int, data: bytes) -> ConcatInfo:
    bits: Literal[8, 16] = 8 if iei == IEI_CONCAT_8 else 16
    if len(data) != 2 + bits // 8:
        raise _broken(
            f"concatenation element 0x{iei:02X} has length {len(data)}",
            CommandStatus.ESME_RINVMSGLEN,
        )
    ref = data[0] if bits == 8 else (data[0] << 8) | data[1]
    total, seq = data[-2], data[-1]
    if total == 0 or not 1 <= seq <= total:
        raise _broken(f"concatenated part {seq} of {total}", CommandStatus.ESME_RINVMSGLEN)
    return ConcatInfo(ref=ref, total=total, seq=seq, ref_bits=bits)


def split_udh(esm_class: int, user_data: bytes) -> tuple[UserDataHeader | None, bytes]:
    """The UDH (when esm_class has UDHI) and the payload after it; else ``(None, user_data)``."""
    if esm_class & ESM_CLASS_UDHI:
        return parse_udh(user_data)
    return None, user_data


def sar_info(tlvs: Iterable[Tlv]) -> ConcatInfo | None:
    """Concatenation info from the SAR TLVs, None when none of the three is present."""
    ref = total = seq = None
    for tlv in tlvs:
        if tlv.tag == Tag.SAR_MSG_REF_NUM:
            ref = tlv.as_int()
        elif tlv.tag == Tag.SAR_TOTAL_SEGMENTS:
            total = tlv.as_int()
        elif tlv.tag == Tag.SAR_SEGMENT_SEQNUM:
            seq = tlv.as_int()
    if ref is None and total is None and seq is None:
        return None
    if ref is None or total is None or seq is None:
        raise _broken(
            "sar_msg_ref_num, sar_total_segments and sar_segment_seqnum go together",
            CommandStatus.ESME_RMISSINGOPTPARAM,
        )
    if total == 0 or not 1 <= seq <= total:
        raise _broken(f"SAR segment {seq} of {total}", CommandStatus.ESME_RINVOPTPARAMVAL)
    return ConcatInfo(ref=ref, total=total, seq=seq, ref_bits=16, from_sar=True)


def message_parts(pdu: ShortMessagePdu | SubmitMulti | DataSm) -> tuple[ConcatInfo | None, bytes]:
    """Concatenation info of a message PDU and its payload with any UDH removed.

    The user data is the message_payload TLV when present, else short_message. A UDH
    concatenation element wins over SAR TLVs if a sender sends both. Errors carry the PDU's
    sequence_number and command_id so the caller can answer directly.
    """
    try:
        header, payload = split_udh(pdu.esm_class, pdu.message)
        if header is not None and header.concat is not None:
            return header.concat, payload
        return sar_info(pdu.tlvs), payload
    except PduError as err:
        err.sequence_number = pdu.sequence_number
        err.command_id = pdu.command_id
        raise


def concat_udh(ref: int, total: int, seq: int, *, ref16: bool = False) -> bytes:
    """The 6-octet (8-bit ref) or 7-octet (16-bit ref) UDH for part ``seq`` of ``total``."""
    ConcatInfo(ref=ref, total=total, seq=seq, ref_bits=16 if ref16 else 8)  # validates
    if ref16:
        return bytes((6, IEI_CONCAT_16, 4, ref >> 8, ref & 0xFF, total, seq))
    return bytes((5, IEI_CONCAT_8, 3, ref, total, seq))


def join_parts(parts: Iterable[tuple[ConcatInfo, bytes]]) -> bytes:
    """Join the payloads of every part of one message, in seq order.

    Raises ``ValueError`` unless the parts are exactly seq 1..total of one (ref, total, ref_bits,
    source): the caller (the reassembler) decides when a set is complete.
    """
    by_seq: dict[int, bytes] = {}
    key: tuple[int, int, int, bool] | None = None
    for info, payload in parts:
        k = (info.ref, info.total, info.ref_bits, info.from_sar)
        if key is None:
            key = k
        elif k != key:
            raise ValueError("parts of different messages")
        if info.seq in by_seq:
            raise ValueError(f"part {info.seq} twice")
        by_seq[info.seq] = payload
    if key is None or len(by_seq) != key[1]:
        raise ValueError("incomplete set of parts")
    return b"".join(by_seq[i] for i in range(1, key[1] + 1))
