"""SMPP 3.4 PDUs: frozen dataclasses, ``encode``/``decode`` and an incremental ``PduReader``.

No I/O happens here. Bytes go in through ``PduReader.feed`` (or ``decode`` for one whole frame) and
come out as PDU objects; ``encode`` turns a PDU back into bytes. The caller owns the socket.

What is promised:

* A PDU object that exists is valid and encodable: every constructor checks the SMPP 3.4 field
  limits (C-Octet String sizes including their NUL, time fields of 1 or 17 octets, sm_length ≤ 254,
  TLV lengths, integer ranges) and raises ``PduError`` with the status a peer would get for the same
  mistake on the wire (``TypeError`` for a value of the wrong Python type).
* ``decode(encode(pdu)) == pdu`` for every PDU, and unknown TLVs survive byte-exact, in order.
* Decoding raises nothing but ``PduError``, and never reads outside the frame it was given: each
  field is bounded by ``command_length``, C-Octet Strings are scanned with a bounded ``find``.
  The field decoders enforce the constructors' checks themselves, so decoded objects are filled
  in without running them twice (the fuzz tests re-validate every decoded PDU); submit_sm and
  deliver_sm, the hot path, have an unrolled decoder tested against the generic one.
* ``PduError.fatal`` is True only when framing is lost (``command_length`` < 16, above the reader's
  cap, or not equal to the frame handed to ``decode``); otherwise the bad frame has been consumed,
  the caller answers with ``error_response(err)`` and reading goes on.

C-Octet Strings are ASCII by the spec; they are decoded as Latin-1 so that any octet a peer sends
survives a round trip unchanged and decoding cannot fail on them.

Where the wire is lenient in practice, decoding is too, and says so: a ``*_resp`` whose body is
absent (SMPP 3.4 lets an SMSC omit it when ``command_status`` is non-zero) decodes with empty
fields, and message-id responses (``submit_sm_resp``, ``deliver_sm_resp``, ``submit_multi_resp``)
accept TLVs as SMPP 5.0 peers send them. Any other byte after the last field is an error.

Error statuses used while decoding (all non-fatal unless said):

=====================================  ===========================================================
ESME_RINVCMDLEN (fatal)                command_length < 16 or above ``max_pdu_size``
ESME_RINVCMDID                         unknown command_id
ESME_RINVCMDLEN                        body ends inside a field, or bytes left after the last field
field status (ESME_RINVSYSID, …)       a C-Octet String has no NUL within its maximum size; a time
                                       field is neither empty nor 16 characters "YYMMDDhhmmsstnnp"
ESME_RINVMSGLEN                        sm_length > 254 or larger than what is left of the body
ESME_RINVOPTPARSTREAM                  a TLV header or value runs past the end of the PDU
ESME_RINVPARLEN                        a known fixed-size TLV has the wrong length
ESME_RINVNUMDESTS / ESME_RINVDESTFLAG  submit_multi with 0 destinations / a dest_flag not 1 or 2
=====================================  ===========================================================
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import Enum, IntEnum
from typing import Any, ClassVar, Final, Literal, TypeAlias, TypeVar

from spamgate.smpp.errors import PduError

__all__ = [
    "ESM_CLASS_DELIVERY_RECEIPT",
    "ESM_CLASS_UDHI",
    "HEADER_SIZE",
    "INTERFACE_VERSION_34",
    "MAX_PDU_SIZE",
    "MAX_SHORT_MESSAGE",
    "NEED_DATA",
    "AlertNotification",
    "BindPdu",
    "BindRespPdu",
    "CancelSm",
    "CancelSmResp",
    "CommandId",
    "CommandStatus",
    "DataSm",
    "DataSmResp",
    "DeliverSm",
    "DeliverSmResp",
    "DistributionList",
    "EnquireLink",
    "EnquireLinkResp",
    "GenericNack",
    "HeaderOnlyPdu",
    "MessageIdResp",
    "MessageState",
    "NeedData",
    "Outbind",
    "Pdu",
    "PduReader",
    "QuerySm",
    "QuerySmResp",
    "ReplaceSm",
    "ReplaceSmResp",
    "ShortMessagePdu",
    "SmeAddress",
    "SubmitMulti",
    "SubmitMultiResp",
    "SubmitSm",
    "SubmitSmResp",
    "Tag",
    "Tlv",
    "Unbind",
    "UnbindResp",
    "UnsuccessSme",
    "decode",
    "encode",
    "error_response",
    "renumbered",
    "updated",
]

Buffer: TypeAlias = bytes | bytearray

HEADER_SIZE: Final = 16
#: Default cap on command_length for ``PduReader``: larger frames close the connection.
MAX_PDU_SIZE: Final = 64 * 1024
#: Largest short_message (sm_length is one octet and the spec stops at 254).
MAX_SHORT_MESSAGE: Final = 254
INTERFACE_VERSION_34: Final = 0x34
#: esm_class bit: short_message starts with a User Data Header.
ESM_CLASS_UDHI: Final = 0x40
#: esm_class message-type bits (0x3C mask) value for an SMSC delivery receipt.
ESM_CLASS_DELIVERY_RECEIPT: Final = 0x04

_U32_MAX: Final = 0xFFFF_FFFF
_HEADER = struct.Struct(">IIII")
_U32 = struct.Struct(">I")
_TLV_HEADER = struct.Struct(">HH")


class CommandId(IntEnum):
    """SMPP 3.4 command ids (section 5.1.2.1); a response is its request's id | 0x80000000."""

    GENERIC_NACK = 0x8000_0000
    BIND_RECEIVER = 0x0000_0001
    BIND_RECEIVER_RESP = 0x8000_0001
    BIND_TRANSMITTER = 0x0000_0002
    BIND_TRANSMITTER_RESP = 0x8000_0002
    QUERY_SM = 0x0000_0003
    QUERY_SM_RESP = 0x8000_0003
    SUBMIT_SM = 0x0000_0004
    SUBMIT_SM_RESP = 0x8000_0004
    DELIVER_SM = 0x0000_0005
    DELIVER_SM_RESP = 0x8000_0005
    UNBIND = 0x0000_0006
    UNBIND_RESP = 0x8000_0006
    REPLACE_SM = 0x0000_0007
    REPLACE_SM_RESP = 0x8000_0007
    CANCEL_SM = 0x0000_0008
    CANCEL_SM_RESP = 0x8000_0008
    BIND_TRANSCEIVER = 0x0000_0009
    BIND_TRANSCEIVER_RESP = 0x8000_0009
    OUTBIND = 0x0000_000B
    ENQUIRE_LINK = 0x0000_0015
    ENQUIRE_LINK_RESP = 0x8000_0015
    SUBMIT_MULTI = 0x0000_0021
    SUBMIT_MULTI_RESP = 0x8000_0021
    ALERT_NOTIFICATION = 0x0000_0102
    DATA_SM = 0x0000_0103
    DATA_SM_RESP = 0x8000_0103

    @property
    def is_response(self) -> bool:
        """True for ``*_resp`` and ``generic_nack``."""
        return bool(self & 0x8000_0000)


class CommandStatus(IntEnum):
    """SMPP 3.4 command_status values (section 5.1.3), plus the SMPP 5.0 codes we answer with.

    ``ESME_RINVDCS`` and its neighbours 0x100-0x106 come from SMPP 5.0 (section 4.7.6); a 3.4 peer
    still reads any non-zero status as failure. Values not listed here (vendor codes 0x400-0x4FF)
    are kept as plain ints by the decoder.
    """

    ESME_ROK = 0x0000_0000
    ESME_RINVMSGLEN = 0x0000_0001
    ESME_RINVCMDLEN = 0x0000_0002
    ESME_RINVCMDID = 0x0000_0003
    ESME_RINVBNDSTS = 0x0000_0004
    ESME_RALYBND = 0x0000_0005
    ESME_RINVPRTFLG = 0x0000_0006
    ESME_RINVREGDLVFLG = 0x0000_0007
    ESME_RSYSERR = 0x0000_0008
    ESME_RINVSRCADR = 0x0000_000A
    ESME_RINVDSTADR = 0x0000_000B
    ESME_RINVMSGID = 0x0000_000C
    ESME_RBINDFAIL = 0x0000_000D
    ESME_RINVPASWD = 0x0000_000E
    ESME_RINVSYSID = 0x0000_000F
    ESME_RCANCELFAIL = 0x0000_0011
    ESME_RREPLACEFAIL = 0x0000_0013
    ESME_RMSGQFUL = 0x0000_0014
    ESME_RINVSERTYP = 0x0000_0015
    ESME_RINVNUMDESTS = 0x0000_0033
    ESME_RINVDLNAME = 0x0000_0034
    ESME_RINVDESTFLAG = 0x0000_0040
    ESME_RINVSUBREP = 0x0000_0042
    ESME_RINVESMCLASS = 0x0000_0043
    ESME_RCNTSUBDL = 0x0000_0044
    ESME_RSUBMITFAIL = 0x0000_0045
    ESME_RINVSRCTON = 0x0000_0048
    ESME_RINVSRCNPI = 0x0000_0049
    ESME_RINVDSTTON = 0x0000_0050
    ESME_RINVDSTNPI = 0x0000_0051
    ESME_RINVSYSTYP = 0x0000_0053
    ESME_RINVREPFLAG = 0x0000_0054
    ESME_RINVNUMMSGS = 0x0000_0055
    ESME_RTHROTTLED = 0x0000_0058
    ESME_RINVSCHED = 0x0000_0061
    ESME_RINVEXPIRY = 0x0000_0062
    ESME_RINVDFTMSGID = 0x0000_0063
    ESME_RX_T_APPN = 0x0000_0064
    ESME_RX_P_APPN = 0x0000_0065
    ESME_RX_R_APPN = 0x0000_0066
    ESME_RQUERYFAIL = 0x0000_0067
    ESME_RINVOPTPARSTREAM = 0x0000_00C0
    ESME_ROPTPARNOTALLWD = 0x0000_00C1
    ESME_RINVPARLEN = 0x0000_00C2
    ESME_RMISSINGOPTPARAM = 0x0000_00C3
    ESME_RINVOPTPARAMVAL = 0x0000_00C4
    ESME_RDELIVERYFAILURE = 0x0000_00FE
    ESME_RUNKNOWNERR = 0x0000_00FF
    # SMPP 5.0 additions
    ESME_RSERTYPUNAUTH = 0x0000_0100
    ESME_RPROHIBITED = 0x0000_0101
    ESME_RSERTYPUNAVAIL = 0x0000_0102
    ESME_RSERTYPDENIED = 0x0000_0103
    ESME_RINVDCS = 0x0000_0104
    ESME_RINVSRCADDRSUBUNIT = 0x0000_0105
    ESME_RINVDSTADDRSUBUNIT = 0x0000_0106


class Tag(IntEnum):
    """SMPP 3.4 optional parameter (TLV) tags (section 5.3.2)."""

    DEST_ADDR_SUBUNIT = 0x0005
    DEST_NETWORK_TYPE = 0x0006
    DEST_BEARER_TYPE = 0x0007
    DEST_TELEMATICS_ID = 0x0008
    SOURCE_ADDR_SUBUNIT = 0x000D
    SOURCE_NETWORK_TYPE = 0x000E
    SOURCE_BEARER_TYPE = 0x000F
    SOURCE_TELEMATICS_ID = 0x0010
    QOS_TIME_TO_LIVE = 0x0017
    PAYLOAD_TYPE = 0x0019
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D
    RECEIPTED_MESSAGE_ID = 0x001E
    MS_MSG_WAIT_FACILITIES = 0x0030
    PRIVACY_INDICATOR = 0x0201
    SOURCE_SUBADDRESS = 0x0202
    DEST_SUBADDRESS = 0x0203
    USER_MESSAGE_REFERENCE = 0x0204
    USER_RESPONSE_CODE = 0x0205
    SOURCE_PORT = 0x020A
    DESTINATION_PORT = 0x020B
    DEST_PORT = 0x020B  # alias: the short name people use
    SAR_MSG_REF_NUM = 0x020C
    LANGUAGE_INDICATOR = 0x020D
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    CALLBACK_NUM_PRES_IND = 0x0302
    CALLBACK_NUM_ATAG = 0x0303
    NUMBER_OF_MESSAGES = 0x0304
    CALLBACK_NUM = 0x0381
    DPF_RESULT = 0x0420
    SET_DPF = 0x0421
    MS_AVAILABILITY_STATUS = 0x0422
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    DELIVERY_FAILURE_REASON = 0x0425
    MORE_MESSAGES_TO_SEND = 0x0426
    MESSAGE_STATE = 0x0427
    USSD_SERVICE_OP = 0x0501
    DISPLAY_TIME = 0x1201
    SMS_SIGNAL = 0x1203
    MS_VALIDITY = 0x1204
    ALERT_ON_MESSAGE_DELIVERY = 0x130C
    ITS_REPLY_TYPE = 0x1380
    ITS_SESSION_INFO = 0x1383


class MessageState(IntEnum):
    """message_state values (SMPP 3.4 section 5.2.28), used by query_sm_resp and receipts."""

    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8


_S = CommandStatus

# Allowed value lengths (min, max) of the known TLVs whose size the spec fixes or bounds. Tags
# whose size differs between spec versions or implementations (source_telematics_id,
# alert_on_message_delivery, ms_validity, ...) are not listed and pass through unchecked.
_TLV_LIMITS: Final[dict[int, tuple[int, int]]] = {
    Tag.DEST_ADDR_SUBUNIT: (1, 1),
    Tag.DEST_NETWORK_TYPE: (1, 1),
    Tag.DEST_BEARER_TYPE: (1, 1),
    Tag.DEST_TELEMATICS_ID: (2, 2),
    Tag.SOURCE_ADDR_SUBUNIT: (1, 1),
    Tag.SOURCE_NETWORK_TYPE: (1, 1),
    Tag.SOURCE_BEARER_TYPE: (1, 1),
    Tag.QOS_TIME_TO_LIVE: (4, 4),
    Tag.PAYLOAD_TYPE: (1, 1),
    Tag.ADDITIONAL_STATUS_INFO_TEXT: (1, 256),
    Tag.RECEIPTED_MESSAGE_ID: (1, 65),
    Tag.MS_MSG_WAIT_FACILITIES: (1, 1),
    Tag.PRIVACY_INDICATOR: (1, 1),
    Tag.SOURCE_SUBADDRESS: (2, 23),
    Tag.DEST_SUBADDRESS: (2, 23),
    Tag.USER_MESSAGE_REFERENCE: (2, 2),
    Tag.USER_RESPONSE_CODE: (1, 1),
    Tag.SOURCE_PORT: (2, 2),
    Tag.DESTINATION_PORT: (2, 2),
    Tag.SAR_MSG_REF_NUM: (2, 2),
    Tag.LANGUAGE_INDICATOR: (1, 1),
    Tag.SAR_TOTAL_SEGMENTS: (1, 1),
    Tag.SAR_SEGMENT_SEQNUM: (1, 1),
    Tag.SC_INTERFACE_VERSION: (1, 1),
    Tag.CALLBACK_NUM_PRES_IND: (1, 1),
    Tag.CALLBACK_NUM_ATAG: (0, 65),
    Tag.NUMBER_OF_MESSAGES: (1, 1),
    Tag.CALLBACK_NUM: (4, 19),
    Tag.DPF_RESULT: (1, 1),
    Tag.SET_DPF: (1, 1),
    Tag.MS_AVAILABILITY_STATUS: (1, 1),
    Tag.NETWORK_ERROR_CODE: (3, 3),
    Tag.DELIVERY_FAILURE_REASON: (1, 1),
    Tag.MORE_MESSAGES_TO_SEND: (1, 1),
    Tag.MESSAGE_STATE: (1, 1),
    Tag.USSD_SERVICE_OP: (1, 1),
    Tag.DISPLAY_TIME: (1, 1),
    Tag.SMS_SIGNAL: (2, 2),
    Tag.ITS_REPLY_TYPE: (1, 1),
    Tag.ITS_SESSION_INFO: (2, 2),
}
_TAG_BY_VALUE: Final[dict[int, Tag]] = {t.value: t for t in Tag}
_STATUS_BY_VALUE: Final[dict[int, CommandStatus]] = {s.value: s for s in CommandStatus}


# --- field checks shared by constructors ---------------------------------------------------------

_TIME_RE: Final = re.compile(r"[0-9]{15}[-+R]")


def _check_cstr(value: object, size: int, name: str, status: int) -> None:
    """A C-Octet String of at most ``size`` octets including its NUL, in Latin-1, without NUL."""
    if type(value) is not str:
        raise TypeError(f"{name} must be str, not {type(value).__name__}")
    if len(value) >= size:
        raise PduError(
            f"{name} has {len(value)} characters, at most {size - 1} fit", command_status=status
        )
    if not value.isascii():
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise PduError(
                f"{name} has characters outside Latin-1", command_status=status
            ) from None
    if "\0" in value:
        raise PduError(f"{name} contains NUL", command_status=status)


def _check_uint(value: object, limit: int, name: str, status: int) -> None:
    if not isinstance(value, int):
        raise TypeError(f"{name} must be int, not {type(value).__name__}")
    if not 0 <= value <= limit:
        raise PduError(f"{name}={value} outside 0..{limit}", command_status=status)


def _truncated(name: str) -> PduError:
    return PduError(f"body ends inside {name}", command_status=_S.ESME_RINVCMDLEN)


def _read_cstr(
    buf: Buffer, pos: int, end: int, size: int, name: str, status: int
) -> tuple[str, int]:
    """Read a C-Octet String of at most ``size`` octets (NUL included) starting at ``pos``."""
    stop = pos + size
    if stop > end:
        nul = buf.find(0, pos, end)
        if nul < 0:
            raise _truncated(name)
    else:
        nul = buf.find(0, pos, stop)
        if nul < 0:
            raise PduError(f"{name} has no NUL within {size} octets", command_status=status)
    return buf[pos:nul].decode("latin-1"), nul + 1


# --- TLVs and address records -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tlv:
    """One optional parameter, kept as raw octets so unknown tags survive byte-exact.

    Known tags of fixed or bounded size (see ``_TLV_LIMITS``) are checked: a wrong length raises
    ``PduError(ESME_RINVPARLEN)``.
    """

    tag: int
    value: bytes

    def __post_init__(self) -> None:
        _check_uint(self.tag, 0xFFFF, "tlv tag", _S.ESME_RINVOPTPARSTREAM)
        if type(self.value) is not bytes:
            raise TypeError(f"tlv value must be bytes, not {type(self.value).__name__}")
        n = len(self.value)
        if n > 0xFFFF:
            raise PduError(
                f"tlv 0x{self.tag:04X} value too long", command_status=_S.ESME_RINVPARLEN
            )
        limits = _TLV_LIMITS.get(self.tag)
        if limits is not None and not limits[0] <= n <= limits[1]:
            raise PduError(
                f"tlv {_tag_name(self.tag)} has length {n}, expected {limits[0]}..{limits[1]}",
                command_status=_S.ESME_RINVPARLEN,
            )

    @classmethod
    def from_int(cls, tag: int, value: int, size: int = 1) -> Tlv:
        """An unsigned big-endian integer TLV of ``size`` octets."""
        if size not in (1, 2, 4) or not 0 <= value < 1 << (8 * size):
            raise PduError(
                f"tlv {_tag_name(tag)}: {value} does not fit {size} octet(s)",
                command_status=_S.ESME_RINVOPTPARAMVAL,
            )
        return cls(tag, value.to_bytes(size, "big"))

    @classmethod
    def from_cstr(cls, tag: int, text: str) -> Tlv:
        """A C-Octet String TLV (Latin-1, NUL-terminated), e.g. receipted_message_id."""
        try:
            raw = text.encode("latin-1")
        except UnicodeEncodeError:
            raise PduError(
                f"tlv {_tag_name(tag)} has characters outside Latin-1",
                command_status=_S.ESME_RINVOPTPARAMVAL,
            ) from None
        return cls(tag, raw + b"\0")

    def as_int(self) -> int:
        """The value read as an unsigned big-endian integer."""
        return int.from_bytes(self.value, "big")

    def as_cstr(self) -> str:
        """The value as text, without its NUL (tolerates a missing NUL as some SMSCs send)."""
        raw = self.value
        nul = raw.find(0)
        return (raw if nul < 0 else raw[:nul]).decode("latin-1")


def _tag_name(tag: int) -> str:
    known = _TAG_BY_VALUE.get(tag)
    return known.name.lower() if known is not None else f"0x{tag:04X}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SmeAddress:
    """A destination SME address in submit_multi (dest_flag 1)."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str

    def __post_init__(self) -> None:
        _check_uint(self.dest_addr_ton, 0xFF, "dest_addr_ton", _S.ESME_RINVDSTTON)
        _check_uint(self.dest_addr_npi, 0xFF, "dest_addr_npi", _S.ESME_RINVDSTNPI)
        _check_cstr(self.destination_addr, 21, "destination_addr", _S.ESME_RINVDSTADR)


@dataclass(frozen=True, slots=True)
class DistributionList:
    """A distribution list name in submit_multi (dest_flag 2)."""

    dl_name: str

    def __post_init__(self) -> None:
        _check_cstr(self.dl_name, 21, "dl_name", _S.ESME_RINVDLNAME)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsuccessSme:
    """One destination submit_multi could not deliver to, with its error status."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str
    error_status_code: int

    def __post_init__(self) -> None:
        _check_uint(self.dest_addr_ton, 0xFF, "dest_addr_ton", _S.ESME_RINVDSTTON)
        _check_uint(self.dest_addr_npi, 0xFF, "dest_addr_npi", _S.ESME_RINVDSTNPI)
        _check_cstr(self.destination_addr, 21, "destination_addr", _S.ESME_RINVDSTADR)
        _check_uint(self.error_status_code, _U32_MAX, "error_status_code", _S.ESME_RINVPARLEN)


# --- body layout: one small object per field or run of fields -----------------------------------
# Each PDU class lists its body as a tuple of these; the same table drives the constructor's checks,
# encode and decode, so the three cannot disagree.


class _Field:
    """One field (or a run of fields) of a PDU body: checks, decodes and encodes it.

    ``decode`` must accept exactly what ``check`` accepts, because decoded PDUs are built without
    running the constructor's checks again (the fuzz tests re-validate every decoded PDU).
    """

    __slots__ = ("name", "names")

    def __init__(self, name: str) -> None:
        self.name = name
        self.names: tuple[str, ...] = (name,)

    def check(self, pdu: object) -> None:
        raise NotImplementedError

    def decode(self, buf: Buffer, pos: int, end: int, out: dict[str, Any]) -> int:
        raise NotImplementedError

    def encode(self, pdu: object, parts: list[bytes]) -> None:
        raise NotImplementedError


class _CStr(_Field):
    __slots__ = ("size", "status")

    def __init__(self, name: str, size: int, status: int) -> None:
        super().__init__(name)
        self.size = size
        self.status = status

    def check(self, pdu: object) -> None:
        _check_cstr(getattr(pdu, self.name), self.size, self.name, self.status)

    def decode(self, buf: Buffer, pos: int, end: int, out: dict[str, Any]) -> int:
        out[self.name], pos = _read_cstr(buf, pos, end, self.size, self.name, self.status)
        return pos

    def encode(self, pdu: object, parts: list[bytes]) -> None:
        parts.append(getattr(pdu, self.name).encode("latin-1") + b"\0")


class _Time(_CStr):
    """An SMPP time field: empty, or 16 characters ``YYMMDDhhmmsstnnp`` (p is +, - or R)."""

    __slots__ = ()

    def __init__(self, name: str, status: int) -> None:
        super().__init__(name, 17, status)

    def check(self, pdu: object) -> None:
        value = getattr(pdu, self.name)
        _check_cstr(value, 17, self.name, self.status)
        self._check_format(value)

    def decode(self, buf: Buffer, pos: int, end: int, out: dict[str, Any]) -> int:
        value, pos = _read_cstr(buf, pos, end, 17, self.name, self.status)
        self._check_format(value)
        out[self.name] = value
        return pos

    def _check_format(self, value: str) -> None:
        if value and _TIME_RE.fullmatch(value) is None:
            raise PduError(
                f"{self.name} is not empty nor YYMMDDhhmmsstnnp", command_status=self.status
            )


class _Bytes(_Field):
    """Unsigned one-octet integers in a row (struct format ``B`` × n)."""

    __slots__ = ("names", "statuses", "struct")

    def __init__(self, *names_and_statuses: tuple[str, int]) -> None:
        super().__init__(names_and_statuses[0][0])
        self.names = tuple(n for n, _ in names_and_statuses)
        self.statuses = tuple(s for _, s in names_and_statuses)
        self.struct = struct.Struct(">" + "B" * len(self.names))

    def check(self, pdu: object) -> None:
        for name, status in zip(self.names, self.statuses, strict=True):
            _check_uint(getattr(pdu, name), 0xFF, name, status)

    def decode(self, buf: Buffer, pos: int, end: int, out: dict[str, Any]) -> int:
        stop = pos + self.struct.size
        if stop > end:
            raise _truncated(self.name)
        out.update(zip(self.names, self.struct.unpack_from(buf, pos), strict=True))
        return stop

    def encode(self, pdu: object, parts: list[bytes]) -> None:
        parts.append(bytes([getattr(pdu, name) for name in self.names]))


class _ShortMessage(_Field):
    """sm_length (one octet) followed by that many octets; the object holds only the octets."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("short_message")

    def check(self, pdu: object) -> None:
        value = getattr(pdu, self.name)
        if type(value) is not bytes:
            raise TypeError(f"short_message must be bytes, not {type(value).__name__}")
        if len(value) > MAX_SHORT_MESSAGE:
            raise PduError(
                f"short_message has {len(value)} octets, at most {MAX_SHORT_MESSAGE} fit"
                " (use the message_payload TLV)",
                command_status=_S.ESME_RINVMSGLEN,
            )

    def decode(self, buf: Buffer, pos: int, end: int, out: dict[str, Any]) -> int:
        if pos >= end:
            raise _truncated("sm_length")
        n = buf[pos]
        pos += 1
        if n > MAX_SHORT_MESSAGE or pos + n > end:
            raise PduError(
                f"sm_length {n} exceeds {min(MAX_SHORT_MESSAGE, end - pos)} available octets",
                command_status=_S.ESME_RINVMSGLEN,
            )
        out["short_message"] = bytes(buf[pos : pos + n])
        return pos + n

    def encode(self, pdu: object, parts: list[bytes]) -> None:
        value: bytes = getattr(pdu, self.name)
        parts.append(bytes((len(value),)))
        parts.append(value)


class _Tlvs(_Field):
    """Optional parameters up to the end of the PDU."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("tlvs")

    def check(self, pdu: object) -> None:
        value = getattr(pdu, self.name)
        if type(value) is not tuple:
            raise TypeError(f"tlvs must be a tuple of Tlv, not {type(value).__name__}")
        for tlv in value:
            if type(tlv) is not Tlv:
                raise TypeError(f"tlvs must hold Tlv objects, not {type(tlv).__name__}")

    def decode(self, buf: Buffer, pos: int, end: int, out: dict[str, Any]) -> int:
        tlvs: list[Tlv] = []
        while pos < end:
            if pos + 4 > end:
                raise PduError(
                    "TLV header runs past the PDU", command_status=_S.ESME_RINVOPTPARSTREAM
                )
            tag, length = _TLV_HEADER.unpack_from(buf, pos)
            pos += 4
            stop = pos + length
            if stop > end:
                raise PduError(
                    f"TLV {_tag_name(tag)} length {length} runs past the PDU",
                    command_status=_S.ESME_RINVOPTPARSTREAM,
                )
            tlvs.append(Tlv(_TAG_BY_VALUE.get(tag, tag), bytes(buf[pos:stop])))
            pos = stop
        out["tlvs"] = tuple(tlvs)
        return pos

    def encode(self, pdu: object, parts: list[bytes]) -> None:
        tlv: Tlv
        for tlv in getattr(pdu, self.name):
            parts.append(_TLV_HEADER.pack(tlv.tag, len(tlv.value)))
            parts.append(tlv.value)


class _Dests(_Field):
    """submit_multi: number_of_dests, then per destination a dest_flag and an address or DL name."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("dest_addresses")

    def check(self, pdu: object) -> None:
        value = getattr(pdu, self.name)
        if type(value) is not tuple:
            raise TypeError("dest_addresses must be a tuple")
        if not 1 <= len(value) <= 254:
            raise PduError(
                f"submit_multi needs 1..254 destinations, got {len(value)}",
                command_status=_S.ESME_RINVNUMDESTS,
            )
        for dest in value:
            if type(dest) is not SmeAddress and type(dest) is not DistributionList:
                raise TypeError("dest_addresses must hold SmeAddress or DistributionList")

    def decode(self, buf: Buffer, pos: int, end: int, out: dict[str, Any]) -> int:
        if pos >= end:
            raise _truncated("number_of_dests")
        count = buf[pos]
        pos += 1
        if not 1 <= count <= 254:
            raise PduError(
                f"number_of_dests {count} outside 1..254", command_status=_S.ESME_RINVNUMDESTS
            )
        dests: list[SmeAddress | DistributionList] = []
        for _ in range(count):
            if pos >= end:
                raise _truncated("dest_flag")
            flag = buf[pos]
            pos += 1
            if flag == 1:
                if pos + 2 > end:
                    raise _truncated("dest_address")
                ton, npi = buf[pos], buf[pos + 1]
                addr, pos = _read_cstr(
                    buf, pos + 2, end, 21, "destination_addr", _S.ESME_RINVDSTADR
                )
                dests.append(
                    SmeAddress(dest_addr_ton=ton, dest_addr_npi=npi, destination_addr=addr)
                )
            elif flag == 2:
                name, pos = _read_cstr(buf, pos, end, 21, "dl_name", _S.ESME_RINVDLNAME)
                dests.append(DistributionList(name))
            else:
                raise PduError(
                    f"dest_flag {flag} is neither 1 nor 2", command_status=_S.ESME_RINVDESTFLAG
                )
        out["dest_addresses"] = tuple(dests)
        return pos

    def encode(self, pdu: object, parts: list[bytes]) -> None:
        dests: tuple[SmeAddress | DistributionList, ...] = getattr(pdu, self.name)
        parts.append(bytes((len(dests),)))
        for dest in dests:
            if isinstance(dest, SmeAddress):
                parts.append(bytes((1, dest.dest_addr_ton, dest.dest_addr_npi)))
                parts.append(dest.destination_addr.encode("latin-1") + b"\0")
            else:
                parts.append(b"\x02" + dest.dl_name.encode("latin-1") + b"\0")


class _Unsuccess(_Field):
    """submit_multi_resp: no_unsuccess, then the failed SME addresses with their error codes."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("unsuccess_smes")

    def check(self, pdu: object) -> None:
        value = getattr(pdu, self.name)
        if type(value) is not tuple:
            raise TypeError("unsuccess_smes must be a tuple")
        if len(value) > 0xFF:
            raise PduError("more than 255 unsuccess_smes", command_status=_S.ESME_RINVNUMDESTS)
        for sme in value:
            if type(sme) is not UnsuccessSme:
                raise TypeError("unsuccess_smes must hold UnsuccessSme")

    def decode(self, buf: Buffer, pos: int, end: int, out: dict[str, Any]) -> int:
        if pos >= end:
            raise _truncated("no_unsuccess")
        count = buf[pos]
        pos += 1
        smes: list[UnsuccessSme] = []
        for _ in range(count):
            if pos + 2 > end:
                raise _truncated("unsuccess_sme")
            ton, npi = buf[pos], buf[pos + 1]
            addr, pos = _read_cstr(buf, pos + 2, end, 21, "destination_addr", _S.ESME_RINVDSTADR)
            if pos + 4 > end:
                raise _truncated("error_status_code")
            (code,) = _U32.unpack_from(buf, pos)
            pos += 4
            smes.append(
                UnsuccessSme(
                    dest_addr_ton=ton,
                    dest_addr_npi=npi,
                    destination_addr=addr,
                    error_status_code=code,
                )
            )
        out["unsuccess_smes"] = tuple(smes)
        return pos

    def encode(self, pdu: object, parts: list[bytes]) -> None:
        smes: tuple[UnsuccessSme, ...] = getattr(pdu, self.name)
        parts.append(bytes((len(smes),)))
        for sme in smes:
            parts.append(bytes((sme.dest_addr_ton, sme.dest_addr_npi)))
            parts.append(sme.destination_addr.encode("latin-1") + b"\0")
            parts.append(_U32.pack(sme.error_status_code))


# Field runs reused by several layouts.
_SERVICE_TYPE = _CStr("service_type", 6, _S.ESME_RINVSERTYP)
_SOURCE_TON_NPI = _Bytes(
    ("source_addr_ton", _S.ESME_RINVSRCTON), ("source_addr_npi", _S.ESME_RINVSRCNPI)
)
_DEST_TON_NPI = _Bytes(("dest_addr_ton", _S.ESME_RINVDSTTON), ("dest_addr_npi", _S.ESME_RINVDSTNPI))
_SOURCE_ADDR_21 = _CStr("source_addr", 21, _S.ESME_RINVSRCADR)
_DEST_ADDR_21 = _CStr("destination_addr", 21, _S.ESME_RINVDSTADR)
_SOURCE_ADDR_65 = _CStr("source_addr", 65, _S.ESME_RINVSRCADR)
_DEST_ADDR_65 = _CStr("destination_addr", 65, _S.ESME_RINVDSTADR)
_MESSAGE_ID = _CStr("message_id", 65, _S.ESME_RINVMSGID)
_SYSTEM_ID = _CStr("system_id", 16, _S.ESME_RINVSYSID)
_PASSWORD = _CStr("password", 9, _S.ESME_RINVPASWD)
_SCHEDULE = _Time("schedule_delivery_time", _S.ESME_RINVSCHED)
_VALIDITY = _Time("validity_period", _S.ESME_RINVEXPIRY)
_SHORT_MESSAGE = _ShortMessage()
_TLVS = _Tlvs()
_ESM_PID_PRIORITY = _Bytes(
    ("esm_class", _S.ESME_RINVESMCLASS),
    ("protocol_id", _S.ESME_RINVPARLEN),
    ("priority_flag", _S.ESME_RINVPRTFLG),
)
_REGDLV_TO_DEFAULT_ID = _Bytes(
    ("registered_delivery", _S.ESME_RINVREGDLVFLG),
    ("replace_if_present_flag", _S.ESME_RINVREPFLAG),
    ("data_coding", _S.ESME_RINVDCS),
    ("sm_default_msg_id", _S.ESME_RINVDFTMSGID),
)


# --- PDU classes -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Pdu:
    """Base of every PDU: the header fields. Constructors are keyword-only and validate.

    ``sequence_number`` 0 means "not yet assigned": the session numbers outgoing requests.
    ``command_status`` is any 32-bit value; the decoder gives a ``CommandStatus`` when it knows it.
    """

    command_id: CommandId
    sequence_number: int = 0
    command_status: int = 0

    _LAYOUT: ClassVar[tuple[_Field, ...]] = ()
    _COMMAND_IDS: ClassVar[frozenset[CommandId]] = frozenset()
    # True for responses an SMSC may send without a body when command_status is non-zero.
    _BODY_OPTIONAL: ClassVar[bool] = False

    def __post_init__(self) -> None:
        command_id = self.command_id
        if command_id not in self._COMMAND_IDS:
            raise PduError(
                f"{type(self).__name__} cannot carry command_id {command_id!r}",
                command_status=_S.ESME_RINVCMDID,
            )
        if type(command_id) is not CommandId:
            object.__setattr__(self, "command_id", CommandId(command_id))
        _check_uint(self.sequence_number, _U32_MAX, "sequence_number", _S.ESME_RINVPARLEN)
        _check_uint(self.command_status, _U32_MAX, "command_status", _S.ESME_RINVPARLEN)
        for spec in self._LAYOUT:
            spec.check(self)

    def tlv(self, tag: int) -> Tlv | None:
        """The first TLV with ``tag``, or None (also for PDUs that carry no TLVs)."""
        tlvs: tuple[Tlv, ...] = getattr(self, "tlvs", ())
        for tlv in tlvs:
            if tlv.tag == tag:
                return tlv
        return None

    def _body_is_blank(self) -> bool:
        for f in fields(self):
            if f.name in _HEADER_FIELDS:
                continue
            if getattr(self, f.name) != f.default:
                return False
        return True


_HEADER_FIELDS: Final = frozenset({"command_id", "sequence_number", "command_status"})


@dataclass(frozen=True, slots=True, kw_only=True)
class BindPdu(Pdu):
    """bind_transmitter / bind_receiver / bind_transceiver (choose with ``command_id``)."""

    system_id: str = ""
    password: str = field(default="", repr=False)  # never in a log line via repr()
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION_34
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""

    _COMMAND_IDS = frozenset(
        {CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER}
    )
    _LAYOUT = (
        _SYSTEM_ID,
        _PASSWORD,
        _CStr("system_type", 13, _S.ESME_RINVSYSTYP),
        _Bytes(
            ("interface_version", _S.ESME_RINVPARLEN),
            ("addr_ton", _S.ESME_RINVPARLEN),
            ("addr_npi", _S.ESME_RINVPARLEN),
        ),
        _CStr("address_range", 41, _S.ESME_RINVPARLEN),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class BindRespPdu(Pdu):
    """bind_*_resp: the SMSC's system_id, optionally sc_interface_version as a TLV."""

    system_id: str = ""
    tlvs: tuple[Tlv, ...] = ()

    _COMMAND_IDS = frozenset(
        {
            CommandId.BIND_TRANSMITTER_RESP,
            CommandId.BIND_RECEIVER_RESP,
            CommandId.BIND_TRANSCEIVER_RESP,
        }
    )
    _LAYOUT = (_SYSTEM_ID, _TLVS)
    _BODY_OPTIONAL = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Outbind(Pdu):
    """outbind: an SMSC asks an ESME to bind_receiver (spamgate refuses it; it still decodes)."""

    command_id: CommandId = CommandId.OUTBIND
    system_id: str = ""
    password: str = field(default="", repr=False)  # never in a log line via repr()

    _COMMAND_IDS = frozenset({CommandId.OUTBIND})
    _LAYOUT = (_SYSTEM_ID, _PASSWORD)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShortMessagePdu(Pdu):
    """The body shared by submit_sm and deliver_sm (SMPP 3.4 sections 4.4.1 and 4.6.1)."""

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: tuple[Tlv, ...] = ()

    _LAYOUT = (
        _SERVICE_TYPE,
        _SOURCE_TON_NPI,
        _SOURCE_ADDR_21,
        _DEST_TON_NPI,
        _DEST_ADDR_21,
        _ESM_PID_PRIORITY,
        _SCHEDULE,
        _VALIDITY,
        _REGDLV_TO_DEFAULT_ID,
        _SHORT_MESSAGE,
        _TLVS,
    )

    @property
    def message(self) -> bytes:
        """The user data: the message_payload TLV if present, else short_message."""
        payload = self.tlv(Tag.MESSAGE_PAYLOAD)
        return self.short_message if payload is None else payload.value


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSm(ShortMessagePdu):
    """submit_sm: an ESME submits one message."""

    command_id: CommandId = CommandId.SUBMIT_SM
    _COMMAND_IDS = frozenset({CommandId.SUBMIT_SM})


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSm(ShortMessagePdu):
    """deliver_sm: the SMSC delivers a message or a delivery receipt to an ESME."""

    command_id: CommandId = CommandId.DELIVER_SM
    _COMMAND_IDS = frozenset({CommandId.DELIVER_SM})


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitMulti(Pdu):
    """submit_multi: one message to up to 254 SME addresses and/or distribution lists."""

    command_id: CommandId = CommandId.SUBMIT_MULTI
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addresses: tuple[SmeAddress | DistributionList, ...]
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: tuple[Tlv, ...] = ()

    _COMMAND_IDS = frozenset({CommandId.SUBMIT_MULTI})
    _LAYOUT = (
        _SERVICE_TYPE,
        _SOURCE_TON_NPI,
        _SOURCE_ADDR_21,
        _Dests(),
        _ESM_PID_PRIORITY,
        _SCHEDULE,
        _VALIDITY,
        _REGDLV_TO_DEFAULT_ID,
        _SHORT_MESSAGE,
        _TLVS,
    )

    @property
    def message(self) -> bytes:
        """The user data: the message_payload TLV if present, else short_message."""
        payload = self.tlv(Tag.MESSAGE_PAYLOAD)
        return self.short_message if payload is None else payload.value


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitMultiResp(Pdu):
    """submit_multi_resp: message_id and the destinations that failed."""

    command_id: CommandId = CommandId.SUBMIT_MULTI_RESP
    message_id: str = ""
    unsuccess_smes: tuple[UnsuccessSme, ...] = ()
    tlvs: tuple[Tlv, ...] = ()

    _COMMAND_IDS = frozenset({CommandId.SUBMIT_MULTI_RESP})
    _LAYOUT = (_MESSAGE_ID, _Unsuccess(), _TLVS)
    _BODY_OPTIONAL = True


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSm(Pdu):
    """data_sm: a message whose user data travels in the message_payload TLV."""

    command_id: CommandId = CommandId.DATA_SM
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0
    tlvs: tuple[Tlv, ...] = ()

    _COMMAND_IDS = frozenset({CommandId.DATA_SM})
    _LAYOUT = (
        _SERVICE_TYPE,
        _SOURCE_TON_NPI,
        _SOURCE_ADDR_65,
        _DEST_TON_NPI,
        _DEST_ADDR_65,
        _Bytes(
            ("esm_class", _S.ESME_RINVESMCLASS),
            ("registered_delivery", _S.ESME_RINVREGDLVFLG),
            ("data_coding", _S.ESME_RINVDCS),
        ),
        _TLVS,
    )

    @property
    def message(self) -> bytes:
        """The user data: the message_payload TLV, or empty."""
        payload = self.tlv(Tag.MESSAGE_PAYLOAD)
        return b"" if payload is None else payload.value


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageIdResp(Pdu):
    """The body shared by submit_sm_resp, deliver_sm_resp and data_sm_resp: a message_id.

    TLVs are accepted on all three (data_sm_resp has them in 3.4, the others in SMPP 5.0).
    """

    message_id: str = ""
    tlvs: tuple[Tlv, ...] = ()

    _LAYOUT = (_MESSAGE_ID, _TLVS)
    _BODY_OPTIONAL = True


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSmResp(MessageIdResp):
    """submit_sm_resp: the SMSC's message_id for the submitted message."""

    command_id: CommandId = CommandId.SUBMIT_SM_RESP
    _COMMAND_IDS = frozenset({CommandId.SUBMIT_SM_RESP})


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSmResp(MessageIdResp):
    """deliver_sm_resp: message_id is unused by the spec (empty) but kept if a peer sets it."""

    command_id: CommandId = CommandId.DELIVER_SM_RESP
    _COMMAND_IDS = frozenset({CommandId.DELIVER_SM_RESP})


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSmResp(MessageIdResp):
    """data_sm_resp: message_id plus optional delivery_failure_reason etc. as TLVs."""

    command_id: CommandId = CommandId.DATA_SM_RESP
    _COMMAND_IDS = frozenset({CommandId.DATA_SM_RESP})


@dataclass(frozen=True, slots=True, kw_only=True)
class QuerySm(Pdu):
    """query_sm: ask the state of a previously submitted message."""

    command_id: CommandId = CommandId.QUERY_SM
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""

    _COMMAND_IDS = frozenset({CommandId.QUERY_SM})
    _LAYOUT = (_MESSAGE_ID, _SOURCE_TON_NPI, _SOURCE_ADDR_21)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuerySmResp(Pdu):
    """query_sm_resp: final_date, message_state (see ``MessageState``) and a network error_code."""

    command_id: CommandId = CommandId.QUERY_SM_RESP
    message_id: str = ""
    final_date: str = ""
    message_state: int = 0
    error_code: int = 0

    _COMMAND_IDS = frozenset({CommandId.QUERY_SM_RESP})
    _LAYOUT = (
        _MESSAGE_ID,
        _Time("final_date", _S.ESME_RINVPARLEN),
        _Bytes(("message_state", _S.ESME_RINVPARLEN), ("error_code", _S.ESME_RINVPARLEN)),
    )
    _BODY_OPTIONAL = True


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelSm(Pdu):
    """cancel_sm: cancel one message (message_id) or all matching source/destination."""

    command_id: CommandId = CommandId.CANCEL_SM
    service_type: str = ""
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""

    _COMMAND_IDS = frozenset({CommandId.CANCEL_SM})
    _LAYOUT = (
        _SERVICE_TYPE,
        _MESSAGE_ID,
        _SOURCE_TON_NPI,
        _SOURCE_ADDR_21,
        _DEST_TON_NPI,
        _DEST_ADDR_21,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceSm(Pdu):
    """replace_sm: replace a previously submitted message that is still pending."""

    command_id: CommandId = CommandId.REPLACE_SM
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""

    _COMMAND_IDS = frozenset({CommandId.REPLACE_SM})
    _LAYOUT = (
        _MESSAGE_ID,
        _SOURCE_TON_NPI,
        _SOURCE_ADDR_21,
        _SCHEDULE,
        _VALIDITY,
        _Bytes(
            ("registered_delivery", _S.ESME_RINVREGDLVFLG),
            ("sm_default_msg_id", _S.ESME_RINVDFTMSGID),
        ),
        _SHORT_MESSAGE,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertNotification(Pdu):
    """alert_notification: the SMSC tells an ESME that a mobile became available."""

    command_id: CommandId = CommandId.ALERT_NOTIFICATION
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    esme_addr_ton: int = 0
    esme_addr_npi: int = 0
    esme_addr: str = ""
    tlvs: tuple[Tlv, ...] = ()

    _COMMAND_IDS = frozenset({CommandId.ALERT_NOTIFICATION})
    _LAYOUT = (
        _SOURCE_TON_NPI,
        _SOURCE_ADDR_65,
        _Bytes(("esme_addr_ton", _S.ESME_RINVPARLEN), ("esme_addr_npi", _S.ESME_RINVPARLEN)),
        _CStr("esme_addr", 65, _S.ESME_RINVPARLEN),
        _TLVS,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class HeaderOnlyPdu(Pdu):
    """Base of the PDUs that are a bare 16-octet header."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLink(HeaderOnlyPdu):
    """enquire_link: keepalive request."""

    command_id: CommandId = CommandId.ENQUIRE_LINK
    _COMMAND_IDS = frozenset({CommandId.ENQUIRE_LINK})


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLinkResp(HeaderOnlyPdu):
    """enquire_link_resp."""

    command_id: CommandId = CommandId.ENQUIRE_LINK_RESP
    _COMMAND_IDS = frozenset({CommandId.ENQUIRE_LINK_RESP})


@dataclass(frozen=True, slots=True, kw_only=True)
class Unbind(HeaderOnlyPdu):
    """unbind: either side ends the session."""

    command_id: CommandId = CommandId.UNBIND
    _COMMAND_IDS = frozenset({CommandId.UNBIND})


@dataclass(frozen=True, slots=True, kw_only=True)
class UnbindResp(HeaderOnlyPdu):
    """unbind_resp."""

    command_id: CommandId = CommandId.UNBIND_RESP
    _COMMAND_IDS = frozenset({CommandId.UNBIND_RESP})


@dataclass(frozen=True, slots=True, kw_only=True)
class GenericNack(HeaderOnlyPdu):
    """generic_nack: the answer to a PDU whose header (length, command_id) was unusable."""

    command_id: CommandId = CommandId.GENERIC_NACK
    _COMMAND_IDS = frozenset({CommandId.GENERIC_NACK})


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelSmResp(HeaderOnlyPdu):
    """cancel_sm_resp."""

    command_id: CommandId = CommandId.CANCEL_SM_RESP
    _COMMAND_IDS = frozenset({CommandId.CANCEL_SM_RESP})


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceSmResp(HeaderOnlyPdu):
    """replace_sm_resp."""

    command_id: CommandId = CommandId.REPLACE_SM_RESP
    _COMMAND_IDS = frozenset({CommandId.REPLACE_SM_RESP})


_PDU_CLASSES: Final[tuple[type[Pdu], ...]] = (
    BindPdu,
    BindRespPdu,
    Outbind,
    SubmitSm,
    DeliverSm,
    SubmitMulti,
    SubmitMultiResp,
    DataSm,
    SubmitSmResp,
    DeliverSmResp,
    DataSmResp,
    QuerySm,
    QuerySmResp,
    CancelSm,
    ReplaceSm,
    AlertNotification,
    EnquireLink,
    EnquireLinkResp,
    Unbind,
    UnbindResp,
    GenericNack,
    CancelSmResp,
    ReplaceSmResp,
)
# command_id -> (class, enum member): one dict lookup per decoded frame.
_CLASS_BY_ID: Final[dict[int, tuple[type[Pdu], CommandId]]] = {
    cid.value: (cls, cid) for cls in _PDU_CLASSES for cid in cls._COMMAND_IDS
}
assert set(_CLASS_BY_ID) == {c.value for c in CommandId}, "every command id has a class"
# Decoding sets exactly the fields the layout decodes; a field missing from a layout would be
# left unset on decoded objects, so refuse to import rather than let that happen.
for _cls in _PDU_CLASSES:
    assert {f.name for f in fields(_cls)} - _HEADER_FIELDS == {
        name for spec in _cls._LAYOUT for name in spec.names
    }, _cls
del _cls

_new_object = object.__new__
_Setter: TypeAlias = Callable[[Pdu, Any], None]
# Per class, the slot descriptors' __set__ by field name: the cheapest way to fill a frozen object.
_SETTERS: Final[dict[type[Pdu], dict[str, _Setter]]] = {
    cls: {f.name: getattr(cls, f.name).__set__ for f in fields(cls)} for cls in _PDU_CLASSES
}
# Per class, the layout entry that checks each body field (a run of one-octet fields shares one).
_SPECS: Final[dict[type[Pdu], dict[str, _Field]]] = {
    cls: {name: spec for spec in cls._LAYOUT for name in spec.names} for cls in _PDU_CLASSES
}
_B5 = struct.Struct(">BBBBB")
_U32_LIMIT: Final = 0xFFFFFFFF
P = TypeVar("P", bound=Pdu)


def renumbered(pdu: P, sequence_number: int) -> P:
    """``pdu`` with another sequence number, without re-validating its other fields.

    ``dataclasses.replace`` runs ``__post_init__`` again (10-16 µs for a submit_sm or a receipt);
    a session renumbers every PDU it sends, and only the new number needs checking.
    """
    _check_uint(sequence_number, _U32_LIMIT, "sequence_number", _S.ESME_RINVPARLEN)
    setters = _SETTERS[type(pdu)]
    copy = _new_object(type(pdu))
    for name, setter in setters.items():
        setter(copy, getattr(pdu, name))
    setters["sequence_number"](copy, sequence_number)
    return copy


def updated(pdu: P, **changes: Any) -> P:
    """``dataclasses.replace(pdu, **changes)`` that checks only the fields that change.

    The others were checked when ``pdu`` was built or decoded. The gateway rewrites every
    message it forwards (sequence number, TLVs) and every receipt it relays back (id, text).
    """
    cls = type(pdu)
    setters = _SETTERS[cls]
    copy = _new_object(cls)
    for name, setter in setters.items():
        setter(copy, getattr(pdu, name))
    specs = _SPECS[cls]
    for name, value in changes.items():
        spec = specs.get(name)
        if spec is not None:
            setters[name](copy, value)
            spec.check(copy)
        elif name == "sequence_number" or name == "command_status":
            _check_uint(value, _U32_LIMIT, name, _S.ESME_RINVPARLEN)
            setters[name](copy, value)
        elif name == "command_id":
            raise TypeError("updated() cannot change command_id")
        else:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
    return copy


def _decode_short_message_pdu(
    cls: type[Pdu], buf: Buffer, pos: int, end: int, header: tuple[CommandId, int, int]
) -> Pdu:
    """submit_sm / deliver_sm body, hand-unrolled: the hot path of a gateway.

    It must behave exactly as the generic layout decoder (same values, same error statuses);
    tests/smpp/test_pdu_properties.py checks the two against each other.
    """
    service_type, pos = _read_cstr(buf, pos, end, 6, "service_type", _S.ESME_RINVSERTYP)
    if pos + 2 > end:
        raise _truncated("source_addr_ton")
    source_ton = buf[pos]
    source_npi = buf[pos + 1]
    source_addr, pos = _read_cstr(buf, pos + 2, end, 21, "source_addr", _S.ESME_RINVSRCADR)
    if pos + 2 > end:
        raise _truncated("dest_addr_ton")
    dest_ton = buf[pos]
    dest_npi = buf[pos + 1]
    dest_addr, pos = _read_cstr(buf, pos + 2, end, 21, "destination_addr", _S.ESME_RINVDSTADR)
    if pos + 3 > end:
        raise _truncated("esm_class")
    esm_class = buf[pos]
    protocol_id = buf[pos + 1]
    priority_flag = buf[pos + 2]
    schedule, pos = _read_cstr(buf, pos + 3, end, 17, "schedule_delivery_time", _S.ESME_RINVSCHED)
    if schedule:
        _SCHEDULE._check_format(schedule)
    validity, pos = _read_cstr(buf, pos, end, 17, "validity_period", _S.ESME_RINVEXPIRY)
    if validity:
        _VALIDITY._check_format(validity)
    if pos + 5 > end:
        raise _truncated("registered_delivery" if pos + 4 > end else "sm_length")
    registered, replace, coding, default_id, sm_length = _B5.unpack_from(buf, pos)
    pos += 5
    if sm_length > MAX_SHORT_MESSAGE or pos + sm_length > end:
        raise PduError(
            f"sm_length {sm_length} exceeds {min(MAX_SHORT_MESSAGE, end - pos)} available octets",
            command_status=_S.ESME_RINVMSGLEN,
        )
    stop = pos + sm_length
    short_message = bytes(buf[pos:stop])
    out: dict[str, Any] = {}
    _TLVS.decode(buf, stop, end, out)

    s = _SETTERS[cls]
    pdu = _new_object(cls)
    s["command_id"](pdu, header[0])
    s["sequence_number"](pdu, header[1])
    s["command_status"](pdu, header[2])
    s["service_type"](pdu, service_type)
    s["source_addr_ton"](pdu, source_ton)
    s["source_addr_npi"](pdu, source_npi)
    s["source_addr"](pdu, source_addr)
    s["dest_addr_ton"](pdu, dest_ton)
    s["dest_addr_npi"](pdu, dest_npi)
    s["destination_addr"](pdu, dest_addr)
    s["esm_class"](pdu, esm_class)
    s["protocol_id"](pdu, protocol_id)
    s["priority_flag"](pdu, priority_flag)
    s["schedule_delivery_time"](pdu, schedule)
    s["validity_period"](pdu, validity)
    s["registered_delivery"](pdu, registered)
    s["replace_if_present_flag"](pdu, replace)
    s["data_coding"](pdu, coding)
    s["sm_default_msg_id"](pdu, default_id)
    s["short_message"](pdu, short_message)
    s["tlvs"](pdu, out["tlvs"])
    return pdu


# --- encode / decode ---------------------------------------------------------------------------


def encode(pdu: Pdu) -> bytes:
    """The wire bytes of ``pdu`` (header included). Cannot fail: the PDU validated itself."""
    parts: list[bytes] = []
    if not (pdu._BODY_OPTIONAL and pdu.command_status and pdu._body_is_blank()):
        for spec in pdu._LAYOUT:
            spec.encode(pdu, parts)
    body = b"".join(parts)
    return (
        _HEADER.pack(
            HEADER_SIZE + len(body), pdu.command_id, pdu.command_status, pdu.sequence_number
        )
        + body
    )


def _decode_frame(buf: Buffer, start: int, end: int) -> Pdu:
    """Decode the frame ``buf[start:end]`` whose command_length was already checked == end-start."""
    _, command_id, status, seq = _HEADER.unpack_from(buf, start)
    entry = _CLASS_BY_ID.get(command_id)
    if entry is None:
        raise PduError(
            f"unknown command_id 0x{command_id:08X}",
            command_status=_S.ESME_RINVCMDID,
            sequence_number=seq,
            command_id=command_id,
        )
    cls, cid = entry
    status = _STATUS_BY_VALUE.get(status, status)
    pos = start + HEADER_SIZE
    if pos == end and cls._BODY_OPTIONAL:
        # A response sent without its body: every body field takes its default.
        return cls(command_id=cid, command_status=status, sequence_number=seq)
    try:
        if cls is SubmitSm or cls is DeliverSm:
            return _decode_short_message_pdu(cls, buf, pos, end, (cid, seq, status))
        return _decode_with_layout(cls, buf, pos, end, (cid, seq, status))
    except PduError as err:
        err.sequence_number = seq
        err.command_id = command_id
        raise


def _decode_with_layout(
    cls: type[Pdu], buf: Buffer, pos: int, end: int, header: tuple[CommandId, int, int]
) -> Pdu:
    out: dict[str, Any] = {}
    for spec in cls._LAYOUT:
        pos = spec.decode(buf, pos, end, out)
    if pos != end:
        raise PduError(
            f"{end - pos} octet(s) after the last field of {header[0].name.lower()}",
            command_status=_S.ESME_RINVCMDLEN,
        )
    # The field decoders enforce what the constructor checks, so the frozen object is filled in
    # directly: running __init__ and __post_init__ again would double the cost of a decode.
    s = _SETTERS[cls]
    pdu = _new_object(cls)
    s["command_id"](pdu, header[0])
    s["sequence_number"](pdu, header[1])
    s["command_status"](pdu, header[2])
    for name, value in out.items():
        s[name](pdu, value)
    return pdu


def decode(frame: Buffer) -> Pdu:
    """Decode exactly one whole PDU; ``frame`` must be as long as its command_length says."""
    n = len(frame)
    if n < HEADER_SIZE:
        raise PduError(
            f"frame of {n} octets is shorter than a header",
            command_status=_S.ESME_RINVCMDLEN,
            fatal=True,
        )
    (length,) = _U32.unpack_from(frame, 0)
    if length != n:
        _, command_id, _, seq = _HEADER.unpack_from(frame, 0)
        raise PduError(
            f"command_length {length} but the frame has {n} octets",
            command_status=_S.ESME_RINVCMDLEN,
            sequence_number=seq,
            command_id=command_id,
            fatal=True,
        )
    return _decode_frame(frame, 0, n)


class NeedData(Enum):
    """Type of the ``NEED_DATA`` sentinel."""

    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"


#: Returned by ``PduReader.next_pdu`` when no whole PDU is buffered yet.
NEED_DATA: Final = NeedData.NEED_DATA


class PduReader:
    """Incremental decoder for one SMPP byte stream (h11 style: no I/O, no clock).

    ``feed`` bytes as they arrive, then call ``next_pdu`` until it returns ``NEED_DATA``. A PDU is
    decoded only once all ``command_length`` octets are in, and ``command_length`` is checked
    against ``max_pdu_size`` as soon as its 4 octets arrive, so a peer cannot make the reader
    buffer more than ``max_pdu_size`` octets per PDU.

    ``next_pdu`` raises ``PduError``. When ``err.fatal`` is False the bad frame has been skipped and
    the next call continues with the following frame; when it is True the stream has lost its
    framing, the reader stays broken (every later call raises the same error) and the caller must
    close the connection.
    """

    __slots__ = ("_buf", "_error", "_max", "_start")

    def __init__(self, *, max_pdu_size: int = MAX_PDU_SIZE) -> None:
        if max_pdu_size < HEADER_SIZE:
            raise ValueError(f"max_pdu_size must be at least {HEADER_SIZE}")
        self._max = max_pdu_size
        self._buf = bytearray()
        self._start = 0  # offset of the first unread octet in _buf
        self._error: PduError | None = None

    @property
    def max_pdu_size(self) -> int:
        """The largest command_length accepted."""
        return self._max

    @property
    def buffered(self) -> int:
        """Octets received but not yet returned as a PDU (a partial PDU at EOF is > 0)."""
        return len(self._buf) - self._start

    @property
    def broken(self) -> bool:
        """True after a fatal error: the connection must be closed."""
        return self._error is not None

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append received octets. Ignored after a fatal error."""
        if self._error is not None:
            return
        if self._start:
            # Compact once per feed, not once per PDU, so many small PDUs cost O(n) overall.
            del self._buf[: self._start]
            self._start = 0
        self._buf += data

    def next_pdu(self) -> Pdu | Literal[NeedData.NEED_DATA]:
        """The next whole PDU, or ``NEED_DATA``; raises ``PduError`` for a malformed one."""
        if self._error is not None:
            raise self._error
        buf = self._buf
        start = self._start
        available = len(buf) - start
        if available < 4:
            return NEED_DATA
        (length,) = _U32.unpack_from(buf, start)
        if length < HEADER_SIZE or length > self._max:
            seq: int | None = None
            command_id: int | None = None
            if available >= HEADER_SIZE:
                _, command_id, _, seq = _HEADER.unpack_from(buf, start)
            self._error = PduError(
                f"command_length {length} outside {HEADER_SIZE}..{self._max}",
                command_status=_S.ESME_RINVCMDLEN,
                sequence_number=seq,
                command_id=command_id,
                fatal=True,
            )
            self._buf = bytearray()
            self._start = 0
            raise self._error
        if available < length:
            return NEED_DATA
        end = start + length
        # Consume the frame before decoding it: a non-fatal error leaves the stream in step.
        self._start = end
        return _decode_frame(buf, start, end)

    def __iter__(self) -> PduReader:
        return self

    def __next__(self) -> Pdu:
        """Iterate over the buffered whole PDUs (stops at ``NEED_DATA``, raises ``PduError``)."""
        pdu = self.next_pdu()
        if pdu is NEED_DATA:
            raise StopIteration
        return pdu


def error_response(error: PduError) -> Pdu:
    """The PDU to answer a decode error with, echoing its sequence number.

    A request whose header was sound gets its own ``*_resp`` with the error status and no body
    (e.g. submit_sm → submit_sm_resp); anything else (a bad command_length, an unknown command_id,
    a bad response, outbind, alert_notification) gets ``generic_nack``. After a fatal error the
    caller may send it, then must close the connection.
    """
    seq = error.sequence_number or 0
    status = error.command_status
    cid = error.command_id
    if not error.fatal and cid is not None and not cid & 0x8000_0000:
        entry = _CLASS_BY_ID.get(cid | 0x8000_0000)
        if entry is not None:
            cls, resp_id = entry
            return cls(command_id=resp_id, command_status=status, sequence_number=seq)
    return GenericNack(command_status=status, sequence_number=seq)
