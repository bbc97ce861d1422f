"""UDH and SAR concatenation info (spamgate.smpp.udh)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamgate.smpp import (
    CommandId,
    CommandStatus,
    ConcatInfo,
    DataSm,
    DeliverSm,
    InformationElement,
    PduError,
    SubmitSm,
    Tag,
    Tlv,
    concat_udh,
    join_parts,
    message_parts,
    parse_udh,
    sar_info,
    split_udh,
)

S = CommandStatus


def test_parse_8bit_concat() -> None:
    header, payload = parse_udh(b"\x05\x00\x03\x2a\x03\x02hello")
    assert header.concat == ConcatInfo(ref=0x2A, total=3, seq=2, ref_bits=8)
    assert header.length == 6
    assert header.elements == (InformationElement(0, b"\x2a\x03\x02"),)
    assert payload == b"hello"


def test_parse_16bit_concat_among_other_elements() -> None:
    # port addressing IE (0x05) first, then the 16-bit concatenation IE
    udh = b"\x0c\x05\x04\x0b\x84\x23\xf0\x08\x04\x12\x34\x02\x01"
    header, payload = parse_udh(udh + b"\x00A")
    assert header.concat == ConcatInfo(ref=0x1234, total=2, seq=1, ref_bits=16)
    assert [e.iei for e in header.elements] == [0x05, 0x08]
    assert payload == b"\x00A"


def test_udh_without_concat() -> None:
    header, payload = parse_udh(b"\x00rest")
    assert header.concat is None
    assert header.elements == ()
    assert payload == b"rest"


def test_split_udh_respects_udhi() -> None:
    assert split_udh(0x00, b"\x05\x00\x03\x01\x02\x01x") == (None, b"\x05\x00\x03\x01\x02\x01x")
    header, payload = split_udh(0x40, b"\x05\x00\x03\x01\x02\x01x")
    assert header is not None and header.concat is not None and payload == b"x"


@pytest.mark.parametrize(
    ("user_data", "status"),
    [
        (b"", S.ESME_RINVESMCLASS),  # UDHI set, nothing there
        (b"\x07\x00\x03\x01\x02\x01", S.ESME_RINVESMCLASS),  # UDHL past the user data
        (b"\x01\x00", S.ESME_RINVESMCLASS),  # IE header cut by the UDHL
        (b"\x03\x00\x05\x01x", S.ESME_RINVESMCLASS),  # IE data runs past the UDHL
        (b"\x04\x00\x02\x01\x02", S.ESME_RINVMSGLEN),  # concat IE of length 2
        (b"\x06\x08\x03\x01\x02\x01\x00", S.ESME_RINVMSGLEN),  # 16-bit concat IE of length 3
        (b"\x05\x00\x03\x01\x00\x00x", S.ESME_RINVMSGLEN),  # total 0
        (b"\x05\x00\x03\x01\x02\x00x", S.ESME_RINVMSGLEN),  # seq 0
        (b"\x05\x00\x03\x01\x02\x03x", S.ESME_RINVMSGLEN),  # seq > total
        (b"\x0a\x00\x03\x01\x02\x01\x00\x03\x01\x02\x02", S.ESME_RINVMSGLEN),  # two concat IEs
    ],
)
def test_broken_udh(user_data: bytes, status: int) -> None:
    with pytest.raises(PduError) as info:
        parse_udh(user_data)
    assert info.value.command_status == status
    assert not info.value.fatal


@given(st.binary(max_size=40))
def test_parse_udh_raises_only_pdu_error(user_data: bytes) -> None:
    try:
        header, payload = parse_udh(user_data)
    except PduError:
        return
    assert header.length + len(payload) == len(user_data)


def sar(ref: int, total: int, seq: int) -> tuple[Tlv, ...]:
    return (
        Tlv.from_int(Tag.SAR_MSG_REF_NUM, ref, 2),
        Tlv.from_int(Tag.SAR_TOTAL_SEGMENTS, total),
        Tlv.from_int(Tag.SAR_SEGMENT_SEQNUM, seq),
    )


def test_sar_info() -> None:
    assert sar_info(()) is None
    assert sar_info(sar(0xBEEF, 3, 3)) == ConcatInfo(
        ref=0xBEEF, total=3, seq=3, ref_bits=16, from_sar=True
    )
    with pytest.raises(PduError) as info:
        sar_info(sar(1, 2, 1)[:2])
    assert info.value.command_status == S.ESME_RMISSINGOPTPARAM
    for total, seq in [(0, 0), (2, 0), (2, 3)]:
        with pytest.raises(PduError) as info:
            sar_info(sar(1, total, seq))
        assert info.value.command_status == S.ESME_RINVOPTPARAMVAL


def test_message_parts_from_pdus() -> None:
    udh_part = SubmitSm(sequence_number=4, esm_class=0x40, short_message=concat_udh(7, 2, 2) + b"B")
    assert message_parts(udh_part) == (ConcatInfo(ref=7, total=2, seq=2, ref_bits=8), b"B")
    sar_part = DeliverSm(short_message=b"A", tlvs=sar(7, 2, 1))
    assert message_parts(sar_part) == (
        ConcatInfo(ref=7, total=2, seq=1, ref_bits=16, from_sar=True),
        b"A",
    )
    payload = DataSm(esm_class=0x40, tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, concat_udh(1, 1, 1) + b"P"),))
    assert message_parts(payload) == (ConcatInfo(ref=1, total=1, seq=1, ref_bits=8), b"P")
    assert message_parts(SubmitSm(short_message=b"plain")) == (None, b"plain")


def test_message_parts_error_names_the_pdu() -> None:
    broken = SubmitSm(sequence_number=99, esm_class=0x40, short_message=b"\x09\x00")
    with pytest.raises(PduError) as info:
        message_parts(broken)
    assert info.value.sequence_number == 99
    assert info.value.command_id == CommandId.SUBMIT_SM
    assert info.value.command_status == S.ESME_RINVESMCLASS


def test_concat_udh_bytes() -> None:
    assert concat_udh(0xAB, 3, 1) == bytes.fromhex("050003ab0301")
    assert concat_udh(0xABCD, 3, 1, ref16=True) == bytes.fromhex("060804abcd0301")
    with pytest.raises(ValueError, match="fit"):
        concat_udh(256, 2, 1)
    with pytest.raises(ValueError, match="impossible"):
        concat_udh(1, 2, 3)


def test_join_parts() -> None:
    a = ConcatInfo(ref=5, total=2, seq=1, ref_bits=8)
    b = ConcatInfo(ref=5, total=2, seq=2, ref_bits=8)
    assert join_parts([(b, b"world"), (a, b"hello ")]) == b"hello world"
    with pytest.raises(ValueError, match="incomplete"):
        join_parts([(a, b"x")])
    with pytest.raises(ValueError, match="twice"):
        join_parts([(a, b"x"), (a, b"x")])
    with pytest.raises(ValueError, match="different"):
        join_parts([(a, b"x"), (ConcatInfo(ref=6, total=2, seq=2, ref_bits=8), b"y")])
