"""Byte-for-byte agreement with smpplib, an independent encoder real resellers use."""

from __future__ import annotations

from typing import Any

import pytest

from spamgate.smpp import (
    BindPdu,
    CommandId,
    DeliverSm,
    EnquireLink,
    SubmitSm,
    SubmitSmResp,
    Tag,
    Tlv,
    decode,
    encode,
    encode_text,
)

smpplib_smpp = pytest.importorskip("smpplib.smpp")


class _Sequencer:
    """The bit of smpplib's client that its PDU constructors need."""

    sequence = 0

    def next_sequence(self) -> int:
        return 1


def smpplib_bytes(command: str, sequence: int, **fields: Any) -> bytes:
    pdu = smpplib_smpp.make_pdu(command, client=_Sequencer(), **fields)
    pdu.sequence = sequence
    data = pdu.generate()
    assert isinstance(data, bytes)
    return data


def test_bind_transceiver_matches() -> None:
    theirs = smpplib_bytes(
        "bind_transceiver", 1, system_id="reseller", password="pw", system_type=""
    )
    ours = BindPdu(
        command_id=CommandId.BIND_TRANSCEIVER,
        sequence_number=1,
        system_id="reseller",
        password="pw",
    )
    assert encode(ours) == theirs
    assert decode(theirs) == ours


def test_submit_sm_korean_ucs2_with_sar_matches() -> None:
    text = encode_text("(광고) 안녕하세요, 스팸게이트입니다.", 8)
    theirs = smpplib_bytes(
        "submit_sm",
        42,
        source_addr_ton=2,
        source_addr_npi=1,
        source_addr="0212345678",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="821012345678",
        registered_delivery=1,
        data_coding=8,
        short_message=text,
        sar_msg_ref_num=0x1234,
        sar_total_segments=2,
        sar_segment_seqnum=1,
    )
    ours = SubmitSm(
        sequence_number=42,
        source_addr_ton=2,
        source_addr_npi=1,
        source_addr="0212345678",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="821012345678",
        registered_delivery=1,
        data_coding=8,
        short_message=text,
        tlvs=(
            Tlv.from_int(Tag.SAR_MSG_REF_NUM, 0x1234, 2),
            Tlv.from_int(Tag.SAR_TOTAL_SEGMENTS, 2),
            Tlv.from_int(Tag.SAR_SEGMENT_SEQNUM, 1),
        ),
    )
    assert encode(ours) == theirs
    assert decode(theirs) == ours


def test_submit_sm_ksc5601_matches() -> None:
    text = encode_text("안녕하세요 똠양꿍 힣", 0x0E)
    theirs = smpplib_bytes(
        "submit_sm",
        7,
        source_addr="1588",
        destination_addr="01012345678",
        data_coding=0x0E,
        short_message=text,
    )
    ours = SubmitSm(
        sequence_number=7,
        source_addr="1588",
        destination_addr="01012345678",
        data_coding=0x0E,
        short_message=text,
    )
    assert encode(ours) == theirs


def test_deliver_sm_receipt_from_smpplib_decodes() -> None:
    theirs = smpplib_bytes(
        "deliver_sm",
        3,
        source_addr="01012345678",
        destination_addr="1588",
        esm_class=4,
        short_message=b"id:abc sub:001 dlvrd:001 stat:DELIVRD err:000 text:",
        receipted_message_id="abc",
        message_state=2,
    )
    pdu = decode(theirs)
    assert isinstance(pdu, DeliverSm)
    rid = pdu.tlv(Tag.RECEIPTED_MESSAGE_ID)
    state = pdu.tlv(Tag.MESSAGE_STATE)
    assert rid is not None and rid.as_cstr() == "abc"
    assert state is not None and state.as_int() == 2
    assert encode(pdu) == theirs  # TLV order kept as smpplib wrote it


def test_enquire_link_matches() -> None:
    assert encode(EnquireLink(sequence_number=9)) == smpplib_bytes("enquire_link", 9)


def test_smpplib_parses_our_submit_sm_resp() -> None:
    ours = encode(SubmitSmResp(sequence_number=5, message_id="0a1b2c"))
    theirs = smpplib_smpp.parse_pdu(ours, client=_Sequencer())
    assert theirs.message_id == b"0a1b2c"
    assert theirs.sequence == 5
