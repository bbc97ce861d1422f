"""Hypothesis: round trips, random and mutated bytes, arbitrary chunking.

The field limits below are restated from the SMPP 3.4 text on purpose, not read from the codec,
so a wrong limit in the codec shows up as a failure here.
"""

from __future__ import annotations

import dataclasses
import struct
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spamgate.smpp import (
    NEED_DATA,
    AlertNotification,
    BindPdu,
    BindRespPdu,
    CancelSm,
    CancelSmResp,
    CommandId,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    DistributionList,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Outbind,
    Pdu,
    PduError,
    PduReader,
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
)
from spamgate.smpp import pdu as pdu_module

# --- strategies -----------------------------------------------------------------------------

u8 = st.integers(0, 0xFF)
u32 = st.integers(0, 0xFFFF_FFFF)


def cstr(max_chars: int) -> st.SearchStrategy[str]:
    """A C-Octet String value: Latin-1 without NUL, at most ``max_chars`` (size - 1)."""
    return st.text(st.characters(min_codepoint=1, max_codepoint=0xFF), max_size=max_chars)


time_field = st.one_of(
    st.just(""),
    st.builds(
        lambda digits, p: digits + p,
        st.text(st.sampled_from("0123456789"), min_size=15, max_size=15),
        st.sampled_from("+-R"),
    ),
)
FIXED_TLV_SIZES = {
    Tag.SAR_MSG_REF_NUM: 2,
    Tag.SAR_TOTAL_SEGMENTS: 1,
    Tag.SAR_SEGMENT_SEQNUM: 1,
    Tag.MESSAGE_STATE: 1,
    Tag.NETWORK_ERROR_CODE: 3,
    Tag.USER_MESSAGE_REFERENCE: 2,
    Tag.SOURCE_PORT: 2,
    Tag.DESTINATION_PORT: 2,
    Tag.SC_INTERFACE_VERSION: 1,
    Tag.MORE_MESSAGES_TO_SEND: 1,
}
tlv = st.one_of(
    st.sampled_from(sorted(FIXED_TLV_SIZES.items())).flatmap(
        lambda kv: st.binary(min_size=kv[1], max_size=kv[1]).map(lambda v: Tlv(kv[0], v))
    ),
    st.builds(Tlv, st.integers(0x1400, 0x3FFF), st.binary(max_size=40)),  # vendor tags
    st.builds(Tlv, st.just(Tag.MESSAGE_PAYLOAD), st.binary(max_size=600)),
    st.builds(Tlv, st.just(Tag.RECEIPTED_MESSAGE_ID), st.binary(min_size=1, max_size=65)),
)
tlvs = st.lists(tlv, max_size=5).map(tuple)
short_message = st.binary(max_size=254)


def header(cls: type[Pdu], **body: Any) -> st.SearchStrategy[Pdu]:
    return st.builds(cls, sequence_number=u32, command_status=u32, **body)


sm_body: dict[str, Any] = {
    "service_type": cstr(5),
    "source_addr_ton": u8,
    "source_addr_npi": u8,
    "source_addr": cstr(20),
    "dest_addr_ton": u8,
    "dest_addr_npi": u8,
    "destination_addr": cstr(20),
    "esm_class": u8,
    "protocol_id": u8,
    "priority_flag": u8,
    "schedule_delivery_time": time_field,
    "validity_period": time_field,
    "registered_delivery": u8,
    "replace_if_present_flag": u8,
    "data_coding": u8,
    "sm_default_msg_id": u8,
    "short_message": short_message,
    "tlvs": tlvs,
}
multi_body = {k: v for k, v in sm_body.items() if not k.startswith("dest")}
destination = st.one_of(
    st.builds(SmeAddress, dest_addr_ton=u8, dest_addr_npi=u8, destination_addr=cstr(20)),
    st.builds(DistributionList, cstr(20)),
)

pdus: st.SearchStrategy[Pdu] = st.one_of(
    header(
        BindPdu,
        command_id=st.sampled_from(
            [CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER]
        ),
        system_id=cstr(15),
        password=cstr(8),
        system_type=cstr(12),
        interface_version=u8,
        addr_ton=u8,
        addr_npi=u8,
        address_range=cstr(40),
    ),
    header(
        BindRespPdu,
        command_id=st.sampled_from(
            [
                CommandId.BIND_TRANSMITTER_RESP,
                CommandId.BIND_RECEIVER_RESP,
                CommandId.BIND_TRANSCEIVER_RESP,
            ]
        ),
        system_id=cstr(15),
        tlvs=tlvs,
    ),
    header(Outbind, system_id=cstr(15), password=cstr(8)),
    header(SubmitSm, **sm_body),
    header(DeliverSm, **sm_body),
    header(
        SubmitMulti,
        dest_addresses=st.lists(destination, min_size=1, max_size=8).map(tuple),
        **multi_body,
    ),
    header(
        SubmitMultiResp,
        message_id=cstr(64),
        unsuccess_smes=st.lists(
            st.builds(
                UnsuccessSme,
                dest_addr_ton=u8,
                dest_addr_npi=u8,
                destination_addr=cstr(20),
                error_status_code=u32,
            ),
            max_size=5,
        ).map(tuple),
        tlvs=tlvs,
    ),
    header(
        DataSm,
        service_type=cstr(5),
        source_addr_ton=u8,
        source_addr_npi=u8,
        source_addr=cstr(64),
        dest_addr_ton=u8,
        dest_addr_npi=u8,
        destination_addr=cstr(64),
        esm_class=u8,
        registered_delivery=u8,
        data_coding=u8,
        tlvs=tlvs,
    ),
    *(header(cls, message_id=cstr(64), tlvs=tlvs) for cls in (SubmitSmResp, DeliverSmResp)),
    header(DataSmResp, message_id=cstr(64), tlvs=tlvs),
    header(
        QuerySm, message_id=cstr(64), source_addr_ton=u8, source_addr_npi=u8, source_addr=cstr(20)
    ),
    header(
        QuerySmResp, message_id=cstr(64), final_date=time_field, message_state=u8, error_code=u8
    ),
    header(
        CancelSm,
        service_type=cstr(5),
        message_id=cstr(64),
        source_addr_ton=u8,
        source_addr_npi=u8,
        source_addr=cstr(20),
        dest_addr_ton=u8,
        dest_addr_npi=u8,
        destination_addr=cstr(20),
    ),
    header(
        ReplaceSm,
        message_id=cstr(64),
        source_addr_ton=u8,
        source_addr_npi=u8,
        source_addr=cstr(20),
        schedule_delivery_time=time_field,
        validity_period=time_field,
        registered_delivery=u8,
        sm_default_msg_id=u8,
        short_message=short_message,
    ),
    header(
        AlertNotification,
        source_addr_ton=u8,
        source_addr_npi=u8,
        source_addr=cstr(64),
        esme_addr_ton=u8,
        esme_addr_npi=u8,
        esme_addr=cstr(64),
        tlvs=tlvs,
    ),
    *(
        header(cls)
        for cls in (
            EnquireLink,
            EnquireLinkResp,
            Unbind,
            UnbindResp,
            GenericNack,
            CancelSmResp,
            ReplaceSmResp,
        )
    ),
)


def drain(reader: PduReader) -> tuple[list[Pdu], list[PduError]]:
    """Read until NEED_DATA or a fatal error; every decoded PDU is checked to be valid."""
    got: list[Pdu] = []
    errors: list[PduError] = []
    while True:
        try:
            pdu = reader.next_pdu()
        except PduError as err:
            errors.append(err)
            if err.fatal:
                return got, errors
            continue
        if pdu is NEED_DATA:
            return got, errors
        assert_valid(pdu)
        got.append(pdu)


def decode_or_error(frame: bytes) -> Pdu | PduError:
    try:
        return decode(frame)
    except PduError as err:
        return err


def assert_valid(pdu: Pdu) -> None:
    """A decoded PDU passes the constructor's checks and round-trips."""
    assert dataclasses.replace(pdu) == pdu
    assert decode(encode(pdu)) == pdu


# --- properties -----------------------------------------------------------------------------


@given(pdus)
def test_decode_encode_round_trip(pdu: Pdu) -> None:
    wire = encode(pdu)
    back = decode(wire)
    assert back == pdu
    assert type(back) is type(pdu)
    assert encode(back) == wire


@given(st.lists(pdus, min_size=1, max_size=6), st.data())
def test_any_chunking_yields_the_same_pdus(items: list[Pdu], data: st.DataObject) -> None:
    stream = b"".join(encode(p) for p in items)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    reader = PduReader()
    got: list[Pdu] = []
    last = 0
    for cut in [*cuts, len(stream)]:
        reader.feed(stream[last:cut])
        last = cut
        got.extend(reader)
    assert got == items
    assert reader.buffered == 0


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=64), max_size=8), st.integers(16, 4096))
def test_random_bytes_raise_only_pdu_error(chunks: list[bytes], cap: int) -> None:
    reader = PduReader(max_pdu_size=cap)
    for chunk in chunks:
        reader.feed(chunk)
        _, errors = drain(reader)
        if errors and errors[-1].fatal:
            break


command_ids = st.one_of(st.sampled_from(list(CommandId)), u32)


@settings(max_examples=500)
@given(command_ids, u32, u32, st.binary(max_size=300))
def test_random_bodies_behind_valid_headers(cid: int, status: int, seq: int, body: bytes) -> None:
    # A valid header in front of random octets reaches every body decoder, which random
    # streams alone rarely do.
    frame = struct.pack(">IIII", 16 + len(body), cid, status, seq) + body
    outcome = decode_or_error(frame)
    if isinstance(outcome, PduError):
        assert not outcome.fatal
        assert outcome.sequence_number == seq
        assert outcome.command_id == cid
    else:
        assert_valid(outcome)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(pdus, st.data())
def test_mutated_pdus_raise_only_pdu_error(pdu: Pdu, data: st.DataObject) -> None:
    wire = bytearray(encode(pdu))
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        pos = data.draw(st.integers(16, max(16, len(wire))))
        if op == "flip" and pos < len(wire):
            wire[pos] = data.draw(u8)
        elif op == "insert":
            wire[pos:pos] = data.draw(st.binary(min_size=1, max_size=3))
        elif op == "delete" and pos < len(wire):
            del wire[pos]
    if data.draw(st.booleans()):
        wire[0:4] = struct.pack(">I", len(wire))  # keep command_length honest half the time
    reader = PduReader()
    reader.feed(bytes(wire))
    drain(reader)


def _compare_paths(frame: bytes) -> None:
    """The unrolled submit_sm/deliver_sm decoder agrees with the generic layout decoder."""
    _, cid, status, seq = struct.unpack_from(">IIII", frame)
    cls = SubmitSm if cid == CommandId.SUBMIT_SM else DeliverSm
    hdr = (CommandId(cid), seq, status)
    outcomes: list[object] = []
    for path in (pdu_module._decode_short_message_pdu, pdu_module._decode_with_layout):
        try:
            outcomes.append(path(cls, frame, 16, len(frame), hdr))
        except PduError as err:
            outcomes.append(err.command_status)
    assert outcomes[0] == outcomes[1]


@settings(max_examples=400)
@given(
    st.one_of(header(SubmitSm, **sm_body), header(DeliverSm, **sm_body)),
    st.integers(0, 400),
    st.binary(max_size=4),
)
def test_fast_path_matches_generic_path(pdu: Pdu, pos: int, junk: bytes) -> None:
    wire = encode(pdu)
    _compare_paths(wire)
    cut = min(16 + pos, len(wire))
    mutated = wire[:cut] + junk + wire[cut + len(junk) :]
    mutated = struct.pack(">I", len(mutated)) + mutated[4:]
    _compare_paths(mutated)
    _compare_paths(mutated[: max(16, cut)])
