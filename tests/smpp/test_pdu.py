"""PDU objects: round trips for every type, exact bytes from the spec, constructor checks."""

from __future__ import annotations

import dataclasses
import struct

import pytest

from spamgate.smpp import (
    AlertNotification,
    BindPdu,
    BindRespPdu,
    CancelSm,
    CancelSmResp,
    CommandId,
    CommandStatus,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    DistributionList,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    MessageState,
    Outbind,
    Pdu,
    PduError,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SmeAddress,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Tag,
    Tlv,
    Unbind,
    UnbindResp,
    UnsuccessSme,
    decode,
    encode,
    error_response,
)

KOREAN_UCS2 = "(광고) 안녕하세요 무료거부 080".encode("utf-16-be")

SUBMIT_WITH_UDH = SubmitSm(
    sequence_number=10,
    source_addr_ton=2,
    source_addr_npi=1,
    source_addr="0212345678",
    dest_addr_ton=1,
    dest_addr_npi=1,
    destination_addr="821012345678",
    esm_class=0x40,
    registered_delivery=1,
    data_coding=8,
    schedule_delivery_time="261126140000000+",
    validity_period="000001000000000R",
    short_message=b"\x05\x00\x03\x07\x02\x01" + KOREAN_UCS2,
    tlvs=(
        Tlv(Tag.USER_MESSAGE_REFERENCE, b"\x00\x2a"),
        Tlv(0x1401, b"vendor \x00 bytes"),  # unknown vendor TLV, kept as is
    ),
)
SUBMIT_WITH_PAYLOAD = SubmitSm(
    sequence_number=11,
    destination_addr="01012345678",
    tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, KOREAN_UCS2 * 20),),
)
RECEIPT = DeliverSm(
    sequence_number=12,
    source_addr="01012345678",
    destination_addr="16001234",
    esm_class=0x04,
    short_message=b"id:abc sub:001 dlvrd:001 submit date:2611261400 done date:2611261401"
    b" stat:DELIVRD err:000 text:",
    tlvs=(
        Tlv.from_cstr(Tag.RECEIPTED_MESSAGE_ID, "abc"),
        Tlv.from_int(Tag.MESSAGE_STATE, MessageState.DELIVERED),
        Tlv(Tag.NETWORK_ERROR_CODE, b"\x03\x00\x00"),
    ),
)

SAMPLES: list[Pdu] = [
    BindPdu(
        command_id=CommandId.BIND_TRANSMITTER,
        sequence_number=1,
        system_id="reseller01",
        password="s3cret",
        system_type="BULK",
        addr_ton=1,
        addr_npi=1,
        address_range="^8210",
    ),
    BindPdu(command_id=CommandId.BIND_RECEIVER, sequence_number=2, system_id="r"),
    BindPdu(command_id=CommandId.BIND_TRANSCEIVER, sequence_number=3, system_id="x" * 15),
    BindRespPdu(
        command_id=CommandId.BIND_TRANSCEIVER_RESP,
        sequence_number=3,
        system_id="spamgate",
        tlvs=(Tlv(Tag.SC_INTERFACE_VERSION, b"\x34"),),
    ),
    BindRespPdu(
        command_id=CommandId.BIND_TRANSMITTER_RESP,
        sequence_number=1,
        command_status=CommandStatus.ESME_RINVPASWD,
    ),
    BindRespPdu(command_id=CommandId.BIND_RECEIVER_RESP, sequence_number=2, system_id="smsc"),
    Outbind(sequence_number=9, system_id="smsc", password="pw"),
    SUBMIT_WITH_UDH,
    SUBMIT_WITH_PAYLOAD,
    RECEIPT,
    SubmitMulti(
        sequence_number=13,
        source_addr="1588",
        dest_addresses=(
            SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr="821011112222"),
            DistributionList("vip-list"),
        ),
        data_coding=0x0E,
        short_message="안녕".encode("cp949"),
    ),
    SubmitMultiResp(
        sequence_number=13,
        message_id="m-1",
        unsuccess_smes=(
            UnsuccessSme(
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr="821011112222",
                error_status_code=CommandStatus.ESME_RINVDSTADR,
            ),
        ),
    ),
    DataSm(
        sequence_number=14,
        source_addr="a" * 64,
        destination_addr="b" * 64,
        data_coding=8,
        tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, KOREAN_UCS2),),
    ),
    SubmitSmResp(sequence_number=10, message_id="0123456789abcdef"),
    SubmitSmResp(sequence_number=10, command_status=CommandStatus.ESME_RTHROTTLED),
    DeliverSmResp(sequence_number=12),
    DataSmResp(
        sequence_number=14,
        message_id="d-1",
        tlvs=(Tlv.from_int(Tag.DELIVERY_FAILURE_REASON, 2),),
    ),
    QuerySm(sequence_number=15, message_id="m-1", source_addr="1588"),
    QuerySmResp(
        sequence_number=15,
        message_id="m-1",
        final_date="261126140100000+",
        message_state=MessageState.DELIVERED,
        error_code=0,
    ),
    CancelSm(sequence_number=16, message_id="m-1", source_addr="1588", destination_addr="010"),
    CancelSmResp(sequence_number=16),
    ReplaceSm(sequence_number=17, message_id="m-1", source_addr="1588", short_message=b"new"),
    ReplaceSmResp(sequence_number=17),
    AlertNotification(
        sequence_number=18,
        source_addr="821012345678",
        esme_addr="1588",
        tlvs=(Tlv.from_int(Tag.MS_AVAILABILITY_STATUS, 0),),
    ),
    EnquireLink(sequence_number=19),
    EnquireLinkResp(sequence_number=19),
    Unbind(sequence_number=20),
    UnbindResp(sequence_number=20),
    GenericNack(sequence_number=21, command_status=CommandStatus.ESME_RINVCMDID),
]


def test_samples_cover_every_command_id() -> None:
    assert {pdu.command_id for pdu in SAMPLES} == set(CommandId)


@pytest.mark.parametrize("pdu", SAMPLES, ids=lambda p: p.command_id.name.lower())
def test_round_trip(pdu: Pdu) -> None:
    wire = encode(pdu)
    assert struct.unpack(">I", wire[:4])[0] == len(wire)
    back = decode(wire)
    assert back == pdu
    assert type(back) is type(pdu)
    assert encode(back) == wire
    # a decoded object is as valid as a constructed one
    assert dataclasses.replace(back) == back


# --- exact bytes, written out from SMPP 3.4 section 4 by hand ---------------------------------


def test_enquire_link_bytes() -> None:
    assert encode(EnquireLink(sequence_number=1)) == bytes.fromhex(
        "00000010 00000015 00000000 00000001"
    )


def test_generic_nack_bytes() -> None:
    nack = GenericNack(sequence_number=0x7FFFFFFF, command_status=CommandStatus.ESME_RINVCMDLEN)
    assert encode(nack) == bytes.fromhex("00000010 80000000 00000002 7fffffff")


def test_bind_transmitter_bytes() -> None:
    bind = BindPdu(
        command_id=CommandId.BIND_TRANSMITTER,
        sequence_number=1,
        system_id="test",
        password="pw",
        system_type="",
        addr_ton=1,
        addr_npi=1,
    )
    body = b"test\0" + b"pw\0" + b"\0" + b"\x34\x01\x01" + b"\0"
    assert encode(bind) == struct.pack(">IIII", 16 + len(body), 2, 0, 1) + body


def test_submit_sm_bytes() -> None:
    pdu = SubmitSm(
        sequence_number=5,
        source_addr_ton=5,
        source_addr_npi=0,
        source_addr="SPAM",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="821012345678",
        registered_delivery=1,
        data_coding=0,
        short_message=b"Hi",
        tlvs=(Tlv(Tag.SOURCE_PORT, b"\x12\x34"),),
    )
    body = (
        b"\0"  # service_type
        + b"\x05\x00SPAM\0"
        + b"\x01\x01821012345678\0"
        + b"\x00\x00\x00"  # esm_class, protocol_id, priority_flag
        + b"\0\0"  # schedule_delivery_time, validity_period
        + b"\x01\x00\x00\x00"  # registered_delivery, replace_if_present, data_coding, default id
        + b"\x02Hi"  # sm_length, short_message
        + b"\x02\x0a\x00\x02\x12\x34"  # TLV source_port
    )
    assert encode(pdu) == struct.pack(">IIII", 16 + len(body), 4, 0, 5) + body


def test_submit_sm_resp_bytes() -> None:
    assert encode(SubmitSmResp(sequence_number=5, message_id="42")) == bytes.fromhex(
        "00000013 80000004 00000000 00000005 343200"
    )


def test_error_resp_has_no_body() -> None:
    # SMPP 3.4 4.4.2: the body is not returned when command_status is non-zero.
    resp = SubmitSmResp(sequence_number=5, command_status=CommandStatus.ESME_RSUBMITFAIL)
    assert encode(resp) == bytes.fromhex("00000010 80000004 00000045 00000005")


def test_resp_without_body_decodes_with_empty_fields() -> None:
    for cid, cls in [
        (0x80000004, SubmitSmResp),
        (0x80000009, BindRespPdu),
        (0x80000021, SubmitMultiResp),
        (0x80000003, QuerySmResp),
    ]:
        pdu = decode(struct.pack(">IIII", 16, cid, 0x45, 8))
        assert type(pdu) is cls
        assert pdu.command_status == CommandStatus.ESME_RSUBMITFAIL
        assert pdu.sequence_number == 8


def test_unknown_status_is_kept_as_int() -> None:
    pdu = decode(struct.pack(">IIII", 16, 0x80000015, 0x401, 3))
    assert pdu.command_status == 0x401
    assert encode(pdu)[8:12] == b"\x00\x00\x04\x01"


# --- constructors validate ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (
            lambda: BindPdu(command_id=CommandId.BIND_TRANSMITTER, system_id="x" * 16),
            CommandStatus.ESME_RINVSYSID,
        ),
        (
            lambda: BindPdu(command_id=CommandId.BIND_TRANSMITTER, password="123456789"),
            CommandStatus.ESME_RINVPASWD,
        ),
        (
            lambda: BindPdu(command_id=CommandId.BIND_TRANSMITTER, system_type="t" * 13),
            CommandStatus.ESME_RINVSYSTYP,
        ),
        (lambda: BindPdu(command_id=CommandId.SUBMIT_SM), CommandStatus.ESME_RINVCMDID),
        (lambda: SubmitSm(source_addr="1" * 21), CommandStatus.ESME_RINVSRCADR),
        (lambda: SubmitSm(destination_addr="1" * 21), CommandStatus.ESME_RINVDSTADR),
        (lambda: SubmitSm(service_type="CMTXYZ"), CommandStatus.ESME_RINVSERTYP),
        (lambda: SubmitSm(short_message=b"x" * 255), CommandStatus.ESME_RINVMSGLEN),
        (lambda: SubmitSm(schedule_delivery_time="2611261400"), CommandStatus.ESME_RINVSCHED),
        (lambda: SubmitSm(validity_period="26112614000000+X"), CommandStatus.ESME_RINVEXPIRY),
        (lambda: SubmitSm(esm_class=256), CommandStatus.ESME_RINVESMCLASS),
        (lambda: SubmitSm(source_addr="a\0b"), CommandStatus.ESME_RINVSRCADR),
        (lambda: SubmitSm(source_addr="한국"), CommandStatus.ESME_RINVSRCADR),
        (lambda: SubmitSm(command_id=CommandId.DELIVER_SM), CommandStatus.ESME_RINVCMDID),
        (lambda: SubmitSm(sequence_number=1 << 32), CommandStatus.ESME_RINVPARLEN),
        (lambda: SubmitSmResp(message_id="m" * 65), CommandStatus.ESME_RINVMSGID),
        (lambda: SubmitMulti(dest_addresses=()), CommandStatus.ESME_RINVNUMDESTS),
        (lambda: DistributionList("d" * 21), CommandStatus.ESME_RINVDLNAME),
        (lambda: Tlv(Tag.SAR_MSG_REF_NUM, b"\x01"), CommandStatus.ESME_RINVPARLEN),
        (lambda: Tlv(Tag.NETWORK_ERROR_CODE, b"\x01\x02"), CommandStatus.ESME_RINVPARLEN),
        (lambda: Tlv.from_int(Tag.SAR_TOTAL_SEGMENTS, 256), CommandStatus.ESME_RINVOPTPARAMVAL),
    ],
)
def test_invalid_fields_raise_pdu_error(make: object, status: CommandStatus) -> None:
    assert callable(make)
    with pytest.raises(PduError) as info:
        make()
    assert info.value.command_status == status
    assert not info.value.fatal


def test_wrong_python_types_raise_type_error() -> None:
    with pytest.raises(TypeError):
        SubmitSm(short_message="text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SubmitSm(tlvs=[Tlv(Tag.SOURCE_PORT, b"\0\1")])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SubmitSm(source_addr=123)  # type: ignore[arg-type]


def test_limits_are_inclusive() -> None:
    BindPdu(
        command_id=CommandId.BIND_TRANSMITTER,
        system_id="s" * 15,
        password="p" * 8,
        system_type="t" * 12,
        address_range="r" * 40,
    )
    SubmitSm(source_addr="1" * 20, destination_addr="2" * 20, short_message=b"x" * 254)
    SubmitSmResp(message_id="m" * 64)
    SubmitMulti(dest_addresses=tuple(SmeAddress(destination_addr=str(i)) for i in range(254)))


def test_int_command_id_becomes_enum() -> None:
    bind = BindPdu(command_id=2)  # type: ignore[arg-type]
    assert bind.command_id is CommandId.BIND_TRANSMITTER


def test_password_not_in_repr() -> None:
    bind = BindPdu(command_id=CommandId.BIND_TRANSMITTER, system_id="me", password="hunter2")
    assert "hunter2" not in repr(bind)
    assert "hunter2" not in repr(Outbind(system_id="me", password="hunter2"))


def test_pdus_are_frozen_and_hashable() -> None:
    pdu = SUBMIT_WITH_UDH
    with pytest.raises(dataclasses.FrozenInstanceError):
        pdu.sequence_number = 3  # type: ignore[misc]
    assert hash(pdu) == hash(decode(encode(pdu)))


# --- helpers --------------------------------------------------------------------------------


def test_tlv_lookup_and_message_property() -> None:
    submit = SUBMIT_WITH_PAYLOAD
    assert isinstance(submit, SubmitSm)
    assert submit.message == KOREAN_UCS2 * 20
    assert submit.tlv(Tag.MESSAGE_PAYLOAD) is not None
    assert submit.tlv(Tag.SAR_MSG_REF_NUM) is None
    assert EnquireLink().tlv(Tag.MESSAGE_PAYLOAD) is None
    receipt = RECEIPT
    rid = receipt.tlv(Tag.RECEIPTED_MESSAGE_ID)
    state = receipt.tlv(Tag.MESSAGE_STATE)
    assert rid is not None and rid.as_cstr() == "abc"
    assert state is not None and state.as_int() == MessageState.DELIVERED
    assert Tlv(Tag.RECEIPTED_MESSAGE_ID, b"no-nul").as_cstr() == "no-nul"
    assert Tlv.from_int(Tag.SAR_MSG_REF_NUM, 0x1234, 2).value == b"\x12\x34"


def test_decoded_known_tags_are_enums() -> None:
    pdu = decode(encode(SUBMIT_WITH_UDH))
    assert isinstance(pdu, SubmitSm)
    assert pdu.tlvs[0].tag is Tag.USER_MESSAGE_REFERENCE
    assert pdu.tlvs[1].tag == 0x1401


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            PduError("x", command_status=0x61, sequence_number=7, command_id=4),
            SubmitSmResp(sequence_number=7, command_status=0x61),
        ),
        (
            PduError("x", command_status=0x0D, sequence_number=1, command_id=9),
            BindRespPdu(
                command_id=CommandId.BIND_TRANSCEIVER_RESP, sequence_number=1, command_status=0x0D
            ),
        ),
        (
            PduError("x", command_status=2, sequence_number=3, command_id=0x15),
            EnquireLinkResp(sequence_number=3, command_status=2),
        ),
        (
            PduError("x", command_status=3, sequence_number=4, command_id=0x99),
            GenericNack(sequence_number=4, command_status=3),
        ),
        (
            PduError("x", command_status=2, sequence_number=5, command_id=0x80000004),
            GenericNack(sequence_number=5, command_status=2),
        ),
        (
            PduError("x", command_status=2, sequence_number=6, command_id=0x0B),
            GenericNack(sequence_number=6, command_status=2),
        ),
        (PduError("x", command_status=2, fatal=True), GenericNack(command_status=2)),
    ],
)
def test_error_response(error: PduError, expected: Pdu) -> None:
    response = error_response(error)
    assert response == expected
    assert len(encode(response)) == 16


def test_pdu_error_str_names_context_not_body() -> None:
    err = PduError("sm_length 200 exceeds 3", command_status=1, sequence_number=9, command_id=4)
    assert str(err) == "sm_length 200 exceeds 3 status=0x00000001 command_id=0x00000004 seq=9"


def test_renumbered_equals_replace_and_checks_the_number() -> None:
    from dataclasses import replace

    from spamgate.smpp.pdu import renumbered

    pdus = [
        SubmitSm(
            sequence_number=1,
            source_addr="0212345678",
            destination_addr="01098765432",
            data_coding=8,
            short_message="안녕하세요".encode("utf-16-be"),
            tlvs=(Tlv(0x1410, b"x"),),
        ),
        SubmitSmResp(sequence_number=2, message_id="abc"),
    ]
    for pdu in pdus:
        copy = renumbered(pdu, 0xFFFFFFFF)
        assert copy == replace(pdu, sequence_number=0xFFFFFFFF)
        assert encode(copy) == encode(replace(pdu, sequence_number=0xFFFFFFFF))
        assert pdu.sequence_number in (1, 2)  # the original is untouched
        with pytest.raises(PduError):
            renumbered(pdu, 1 << 32)
        with pytest.raises(PduError):
            renumbered(pdu, -1)


def test_updated_equals_replace_and_checks_only_what_changes() -> None:
    from dataclasses import replace

    from spamgate.smpp.pdu import DeliverSm, updated

    pdu = SubmitSm(
        sequence_number=7,
        source_addr="0212345678",
        destination_addr="01098765432",
        data_coding=8,
        short_message="안녕하세요".encode("utf-16-be"),
        tlvs=(Tlv(0x1410, b"x"),),
    )
    changes: list[dict[str, object]] = [
        {"sequence_number": 0, "tlvs": (Tlv(0x1411, b"id\0"),)},
        {"short_message": b"x" * 254, "data_coding": 0},
        {"command_status": 0x45},
        {},
    ]
    for change in changes:
        copy = updated(pdu, **change)
        assert copy == replace(pdu, **change)  # type: ignore[arg-type]
        assert encode(copy) == encode(replace(pdu, **change))  # type: ignore[arg-type]
    assert pdu.sequence_number == 7 and pdu.tlvs == (Tlv(0x1410, b"x"),)
    # Every changed field is checked as the constructor would check it ...
    with pytest.raises(PduError):
        updated(pdu, short_message=b"x" * 255)
    with pytest.raises(PduError):
        updated(pdu, sequence_number=1 << 32)
    with pytest.raises(PduError):
        updated(pdu, data_coding=256)
    with pytest.raises(PduError):
        updated(pdu, destination_addr="0" * 21)
    with pytest.raises(TypeError):
        updated(pdu, tlvs=[Tlv(0x1411, b"id\0")])
    with pytest.raises(TypeError):
        updated(pdu, no_such_field=1)
    with pytest.raises(TypeError):  # another command is another class: not a field change
        updated(pdu, command_id=CommandId.DELIVER_SM)
    # ... and works the same on the other message PDUs.
    receipt = DeliverSm(source_addr="01098765432", esm_class=4, short_message=b"id:1 stat:DELIVRD")
    assert updated(receipt, short_message=b"id:2 stat:DELIVRD") == replace(
        receipt, short_message=b"id:2 stat:DELIVRD"
    )
