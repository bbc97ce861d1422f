"""Text in SMPP short messages: decode/encode by data_coding, choose one, split long texts.

Supported data_coding values (SMPP 3.4 §5.2.19, with the GSM 03.38 groups that peers such as
Kannel send for message classes and waiting indications):

======================  =====================================================================
0x00                    GSM 03.38 default alphabet, one septet per octet as SMPP carries it
                        (unpacked), extension table reached through ESC (0x1B)
0x01                    IA5 / ASCII
0x02, 0x04              octets, no text (``decode_text`` refuses them)
0x03                    Latin-1 (ISO-8859-1)
0x08                    UCS-2, read and written as UTF-16-BE so surrogate pairs (emoji) pass
0x0E                    KS C 5601, read as CP949 (its superset: carriers send UHC Hangul such
                        as '똠' that EUC-KR lacks) and written as CP949, which is byte-for-byte
                        EUC-KR for every KS X 1001 character. Python's ``euc_kr`` codec is not
                        used to write: it turns the 8,822 syllables outside KS X 1001 into
                        8-octet jamo "make-up" sequences that handsets show as loose jamo.
0x10-0x1F               GSM general data coding with a message class: bits 3-2 pick GSM
                        7-bit, octets or UCS-2
0xC0-0xDF / 0xE0-0xEF   message waiting indication groups: GSM 7-bit / UCS-2
0xF0-0xFF               data coding / message class: bit 2 picks GSM 7-bit or octets
======================  =====================================================================

Anything else raises ``EncodingError(ESME_RINVDCS)``, as do bytes that are not valid in the
declared coding and characters that cannot be written in it; a ``UnicodeError`` never escapes.

Lenient decoding, on purpose: in GSM 7-bit an ESC followed by a code the extension table lacks
reads as the main-table character (3GPP TS 23.038 §6.2.1.1), and an ESC at the end or before
another ESC reads as a space.

Sizes: one SMS carries 140 octets of user data (``MAX_SINGLE_OCTETS``), which is 160 GSM septets.
A concatenated part loses the UDH to the header: 6 octets with an 8-bit reference, 7 with a
16-bit one, leaving 153/152 septets in GSM, 134/133 octets otherwise (67/66 UCS-2 code units).
Splitting never cuts a GSM escape sequence, a UTF-16 surrogate pair or a two-octet KS C 5601
character. Non-GSM codings are counted in octets, which is safe even where an SMSC would
re-encode IA5 or Latin-1 text to GSM 7-bit on the air.
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Final

from spamgate.smpp.errors import EncodingError
from spamgate.smpp.pdu import CommandStatus
from spamgate.smpp.udh import concat_udh

__all__ = [
    "MAX_SINGLE_OCTETS",
    "Alphabet",
    "DataCoding",
    "alphabet_of",
    "choose_coding",
    "chunk_user_data",
    "decode_text",
    "encode_text",
    "is_gsm_text",
    "part_capacity",
    "split_text",
    "split_user_data",
]

MAX_SINGLE_OCTETS: Final = 140


class DataCoding(IntEnum):
    """The data_coding values spamgate writes (it reads more, see the module docstring)."""

    GSM7 = 0x00
    IA5 = 0x01
    OCTET = 0x02
    LATIN1 = 0x03
    OCTET_4 = 0x04
    UCS2 = 0x08
    KSC5601 = 0x0E


class Alphabet(IntEnum):
    """What the octets of a short message are, whatever data_coding value said so."""

    GSM7 = 0
    ASCII = 1
    LATIN1 = 2
    UCS2 = 3
    KSC5601 = 4
    BINARY = 5


_A = Alphabet
_BY_CODING: Final[dict[int, Alphabet]] = {
    0x00: _A.GSM7,
    0x01: _A.ASCII,
    0x02: _A.BINARY,
    0x03: _A.LATIN1,
    0x04: _A.BINARY,
    0x08: _A.UCS2,
    0x0E: _A.KSC5601,
}
for _dcs in range(0x10, 0x20):  # general data coding, uncompressed, with message class
    _alpha = (_dcs >> 2) & 0x03
    if _alpha != 0x03:  # 0x03 is reserved
        _BY_CODING[_dcs] = (_A.GSM7, _A.BINARY, _A.UCS2)[_alpha]
for _dcs in range(0xC0, 0xE0):  # message waiting indication, discard / store: GSM 7-bit
    _BY_CODING[_dcs] = _A.GSM7
for _dcs in range(0xE0, 0xF0):  # message waiting indication, store: UCS-2
    _BY_CODING[_dcs] = _A.UCS2
for _dcs in range(0xF0, 0x100):  # data coding / message class
    _BY_CODING[_dcs] = _A.BINARY if _dcs & 0x04 else _A.GSM7
del _dcs, _alpha


def alphabet_of(data_coding: int) -> Alphabet:
    """The alphabet a data_coding value selects; ``EncodingError(ESME_RINVDCS)`` if unsupported."""
    alphabet = _BY_CODING.get(data_coding)
    if alphabet is None:
        raise EncodingError(
            f"data_coding 0x{data_coding:02X} is not supported",
            command_status=CommandStatus.ESME_RINVDCS,
            data_coding=data_coding,
        )
    return alphabet


# --- GSM 03.38 ---------------------------------------------------------------------------------

# The default alphabet, septet value = index. 0x1B is ESC (never a character of its own).
_GSM_BASIC: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(_GSM_BASIC) == 128
_ESC: Final = 0x1B
# The extension table (after ESC).
_GSM_EXT: Final[dict[int, str]] = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
_GSM_DECODE: Final[dict[int, str]] = {i: ch for i, ch in enumerate(_GSM_BASIC) if i != _ESC}
_GSM_ENCODE: Final[dict[int, str]] = {
    **{ord(ch): chr(i) for i, ch in enumerate(_GSM_BASIC) if i != _ESC},
    **{ord(ch): "\x1b" + chr(code) for code, ch in _GSM_EXT.items()},
}
_GSM_FORBIDDEN: Final = re.compile("[^" + re.escape("".join(chr(c) for c in _GSM_ENCODE)) + "]")


def is_gsm_text(text: str) -> bool:
    """True if every character of ``text`` has a GSM 03.38 default or extension code."""
    return _GSM_FORBIDDEN.search(text) is None


def _gsm_decode(data: bytes) -> str:
    if not data.isascii():
        raise _undecodable(0x00, "a GSM septet above 0x7F")
    text = data.decode("ascii")
    if "\x1b" not in text:
        return text.translate(_GSM_DECODE)
    pieces = text.split("\x1b")
    out = [pieces[0].translate(_GSM_DECODE)]
    for piece in pieces[1:]:
        if not piece:
            out.append(" ")  # ESC at the end, or ESC ESC: reserved, shown as a space
            continue
        code = ord(piece[0])
        out.append(_GSM_EXT.get(code) or _GSM_BASIC[code])
        out.append(piece[1:].translate(_GSM_DECODE))
    return "".join(out)


def _gsm_encode(text: str) -> bytes:
    bad = _GSM_FORBIDDEN.search(text)
    if bad is not None:
        raise EncodingError(
            f"character U+{ord(bad.group()):04X} at {bad.start()} has no GSM 03.38 code",
            command_status=CommandStatus.ESME_RINVDCS,
            data_coding=0x00,
        )
    return text.translate(_GSM_ENCODE).encode("ascii")


# --- decode / encode ---------------------------------------------------------------------------


def _undecodable(data_coding: int, what: str) -> EncodingError:
    return EncodingError(
        f"{what} is not valid in data_coding 0x{data_coding:02X}",
        command_status=CommandStatus.ESME_RINVDCS,
        data_coding=data_coding,
    )


_CODEC: Final[dict[Alphabet, str]] = {
    _A.ASCII: "ascii",
    _A.LATIN1: "latin-1",
    _A.UCS2: "utf-16-be",
    _A.KSC5601: "cp949",
}


def decode_text(data: bytes, data_coding: int) -> str:
    """The text in ``data`` (user data without UDH) under ``data_coding``.

    Raises ``EncodingError`` (ESME_RINVDCS) for an unsupported or binary data_coding and for
    octets that are not valid in it (a GSM septet above 0x7F, odd-length or unpaired-surrogate
    UCS-2, an invalid CP949 sequence, a non-ASCII IA5 octet).
    """
    alphabet = alphabet_of(data_coding)
    if alphabet is _A.GSM7:
        return _gsm_decode(data)
    if alphabet is _A.BINARY:
        raise EncodingError(
            f"data_coding 0x{data_coding:02X} carries octets, not text",
            command_status=CommandStatus.ESME_RINVDCS,
            data_coding=data_coding,
        )
    try:
        return data.decode(_CODEC[alphabet])
    except UnicodeDecodeError as exc:
        raise _undecodable(data_coding, f"octet(s) at {exc.start}..{exc.end - 1}") from None


def encode_text(text: str, data_coding: int) -> bytes:
    """``text`` as octets under ``data_coding``.

    Raises ``EncodingError`` (ESME_RINVDCS) for an unsupported or binary data_coding or a
    character the coding cannot write.
    """
    alphabet = alphabet_of(data_coding)
    if alphabet is _A.GSM7:
        return _gsm_encode(text)
    if alphabet is _A.BINARY:
        raise EncodingError(
            f"data_coding 0x{data_coding:02X} carries octets, not text",
            command_status=CommandStatus.ESME_RINVDCS,
            data_coding=data_coding,
        )
    try:
        return text.encode(_CODEC[alphabet])
    except UnicodeEncodeError as exc:
        raise EncodingError(
            f"character U+{ord(text[exc.start]):04X} at {exc.start} cannot be written in"
            f" data_coding 0x{data_coding:02X}",
            command_status=CommandStatus.ESME_RINVDCS,
            data_coding=data_coding,
        ) from None


def choose_coding(text: str) -> DataCoding:
    """GSM 7-bit (0) when every character has a GSM code, else UCS-2 (8).

    Korean text therefore goes out as UCS-2, never KS C 5601: every handset and carrier path
    renders UCS-2, it covers all 11,172 Hangul syllables and emoji, and for Hangul it costs the
    same two octets a character as KS C 5601. Senders that must use 0x0E still can, explicitly.
    """
    return DataCoding.GSM7 if is_gsm_text(text) else DataCoding.UCS2


# --- splitting ---------------------------------------------------------------------------------

# Whole CP949 characters: a lead octet 0x81-0xFE with a trail 0x41-0xFE, or a single octet.
_KSC_WHOLE_CHARS: Final = re.compile(rb"(?:[\x81-\xfe][\x41-\xfe]|[\x00-\x80\xff])*")


def part_capacity(
    data_coding: int, *, udh_octets: int = 0, max_single_octets: int = MAX_SINGLE_OCTETS
) -> int:
    """How many octets of user data (septets for GSM, as SMPP carries them) fit one SMS.

    ``udh_octets`` is the size of a UDH the part will carry (6 or 7 for concatenation).
    """
    room = max_single_octets - udh_octets
    if room <= 0:
        raise ValueError("no room left for user data")
    if alphabet_of(data_coding) is _A.GSM7:
        return room * 8 // 7
    return room


def chunk_user_data(data: bytes, data_coding: int, max_octets: int) -> list[bytes]:
    """Cut encoded user data into pieces of at most ``max_octets``, on character boundaries.

    Never cuts between ESC and its code (GSM), inside a surrogate pair or a code unit (UCS-2),
    or inside a two-octet character (KS C 5601); binary and single-octet codings cut anywhere.
    An empty ``data`` gives one empty piece.
    """
    alphabet = alphabet_of(data_coding)
    if max_octets < 2:
        raise ValueError("max_octets must be at least 2")
    if len(data) <= max_octets:
        return [data]
    pieces: list[bytes] = []
    pos = 0
    n = len(data)
    if alphabet is _A.UCS2:
        max_octets &= ~1
    while pos < n:
        cut = pos + max_octets
        if cut >= n:
            cut = n
        elif alphabet is _A.GSM7:
            if data[cut - 1] == _ESC:
                cut -= 1
        elif alphabet is _A.UCS2:
            if 0xD8 <= data[cut - 2] <= 0xDB:  # high surrogate: keep the pair together
                cut -= 2
        elif alphabet is _A.KSC5601:
            match = _KSC_WHOLE_CHARS.match(data, pos, cut)
            assert match is not None  # the pattern matches the empty string
            if match.end() > pos:
                cut = match.end()
        pieces.append(data[pos:cut])
        pos = cut
    return pieces


def split_user_data(
    data: bytes,
    data_coding: int,
    *,
    ref: int,
    ref16: bool = False,
    max_single_octets: int = MAX_SINGLE_OCTETS,
) -> list[bytes]:
    """The short_message of each part needed to send ``data``.

    One element, ``data`` itself with no UDH, when it fits a single SMS; otherwise each part
    starts with a concatenation UDH (reference ``ref``, 8-bit or 16-bit) and the caller must set
    esm_class UDHI (0x40). Raises ``EncodingError(ESME_RINVMSGLEN)`` beyond 255 parts.
    """
    if len(data) <= part_capacity(data_coding, max_single_octets=max_single_octets):
        return [data]
    udh_octets = 7 if ref16 else 6
    capacity = part_capacity(
        data_coding, udh_octets=udh_octets, max_single_octets=max_single_octets
    )
    pieces = chunk_user_data(data, data_coding, capacity)
    total = len(pieces)
    if total > 255:
        raise EncodingError(
            f"message needs {total} parts, at most 255 are possible",
            command_status=CommandStatus.ESME_RINVMSGLEN,
            data_coding=data_coding,
        )
    return [
        concat_udh(ref, total, seq, ref16=ref16) + piece
        for seq, piece in enumerate(pieces, start=1)
    ]


def split_text(
    text: str,
    data_coding: int,
    *,
    ref: int,
    ref16: bool = False,
    max_single_octets: int = MAX_SINGLE_OCTETS,
) -> list[bytes]:
    """``encode_text`` then ``split_user_data``: the short_message of each part of ``text``."""
    return split_user_data(
        encode_text(text, data_coding),
        data_coding,
        ref=ref,
        ref16=ref16,
        max_single_octets=max_single_octets,
    )
