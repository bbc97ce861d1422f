"""The SMSC session state machine, driven in memory: no sockets, no sleeping, timers by hand."""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamgate.smpp import (
    BindPdu,
    CancelSm,
    CommandId,
    CommandStatus,
    DataSm,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Outbind,
    Pdu,
    PduReader,
    QuerySm,
    QuerySmResp,
    SmeAddress,
    SubmitMulti,
    SubmitSm,
    Tag,
    Tlv,
    Unbind,
    UnbindResp,
    concat_udh,
    encode,
    encode_text,
)
from spamgate.smpp.errors import SessionError
from spamgate.smpp.session import (
    ALLOWED,
    MAX_SEQUENCE,
    BindKind,
    BindRequested,
    BindState,
    Closed,
    Event,
    PartsExpired,
    ProtocolError,
    RequestFailed,
    RequestReceived,
    ResponseReceived,
    SessionConfig,
    SmscSession,
    SubmitReceived,
    Throttled,
)
from spamgate.smpp.vendor import VendorStatus

S = CommandStatus
KOREAN = "안녕하세요 고객님, 주문하신 상품이 오늘 발송되었습니다."


class SessionPair:
    """An ``SmscSession`` and a scripted ESME that encodes what it sends and decodes answers.

    Bytes go to the session in small random chunks, so every test also checks that framing does
    not depend on how TCP splits the stream (h11's ConnectionPair does the same).
    """

    def __init__(self, config: SessionConfig | None = None, *, now: float = 0.0) -> None:
        self.now = now
        self.smsc = SmscSession(now, config)
        self.reader = PduReader()
        self.seq = 0
        self.rng = random.Random(7)

    def send_raw(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        pos = 0
        while pos < len(data):
            step = self.rng.randint(1, 40)
            events += self.smsc.receive_data(data[pos : pos + step], self.now)
            pos += step
        return events

    def send(self, pdu: Pdu) -> list[Event]:
        if pdu.sequence_number == 0:
            self.seq += 1
            pdu = _with_seq(pdu, self.seq)
        return self.send_raw(encode(pdu))

    def received(self, extra: bytes = b"") -> list[Any]:
        """Decode what the SMSC sent: ``extra`` (bytes a call returned) then its own output."""
        self.reader.feed(extra + self.smsc.data_to_send())
        return list(self.reader)

    def bind(self, kind: BindKind = BindKind.TRANSCEIVER, window: int | None = None) -> None:
        command = {
            BindKind.TRANSMITTER: CommandId.BIND_TRANSMITTER,
            BindKind.RECEIVER: CommandId.BIND_RECEIVER,
            BindKind.TRANSCEIVER: CommandId.BIND_TRANSCEIVER,
        }[kind]
        (event,) = self.send(BindPdu(command_id=command, system_id="reseller", password="pw"))
        assert isinstance(event, BindRequested)
        (resp,) = self.received(self.smsc.accept_bind(event, self.now, window=window))
        assert resp.command_status == 0

    def timers(self, now: float) -> list[Event]:
        self.now = now
        return self.smsc.handle_timer(now)


def state_of(pair: SessionPair) -> BindState:
    return pair.smsc.state


def _with_seq(pdu: Pdu, seq: int) -> Pdu:
    from dataclasses import replace

    return replace(pdu, sequence_number=seq)


def submit(text: str = "hello", coding: int = 0x08, **fields: Any) -> SubmitSm:
    fields.setdefault("source_addr", "0212345678")
    fields.setdefault("destination_addr", "01012345678")
    fields.setdefault("short_message", encode_text(text, coding))
    return SubmitSm(data_coding=coding, **fields)


def only(events: list[Event], kind: type[Any]) -> Any:
    matching = [e for e in events if isinstance(e, kind)]
    assert len(matching) == 1, events
    return matching[0]


# --- binds and the state table ------------------------------------------------------------------


def test_bind_accept_answers_with_interface_version() -> None:
    pair = SessionPair()
    (event,) = pair.send(
        BindPdu(command_id=CommandId.BIND_TRANSCEIVER, system_id="reseller", password="secret")
    )
    assert isinstance(event, BindRequested)
    assert (event.kind, event.system_id, event.password) == (
        BindKind.TRANSCEIVER,
        "reseller",
        "secret",
    )
    assert "secret" not in repr(event)
    assert state_of(pair) is BindState.BINDING
    (resp,) = pair.received(pair.smsc.accept_bind(event, 0.0))
    assert resp.command_id == CommandId.BIND_TRANSCEIVER_RESP
    assert resp.sequence_number == 1
    assert resp.tlv(Tag.SC_INTERFACE_VERSION) is not None
    assert state_of(pair) is BindState.BOUND_TRX
    assert pair.smsc.system_id == "reseller"


def test_rejected_bind_returns_to_open_and_may_retry() -> None:
    pair = SessionPair()
    event = only(
        pair.send(BindPdu(command_id=CommandId.BIND_TRANSMITTER, system_id="r")), BindRequested
    )
    (resp,) = pair.received(pair.smsc.reject_bind(event, S.ESME_RINVPASWD))
    assert (resp.command_id, resp.command_status) == (
        CommandId.BIND_TRANSMITTER_RESP,
        S.ESME_RINVPASWD,
    )
    assert state_of(pair) is BindState.OPEN
    pair.bind(BindKind.TRANSMITTER)
    assert state_of(pair) is BindState.BOUND_TX


def test_bind_answers_are_local_misuse_when_nothing_is_pending() -> None:
    pair = SessionPair()
    event = only(
        pair.send(BindPdu(command_id=CommandId.BIND_TRANSMITTER, system_id="r")), BindRequested
    )
    pair.smsc.accept_bind(event, 0.0)
    with pytest.raises(SessionError):
        pair.smsc.accept_bind(event, 0.0)
    with pytest.raises(SessionError):
        pair.smsc.reject_bind(event, S.ESME_RBINDFAIL)


REQUESTS: dict[CommandId, Pdu] = {
    CommandId.BIND_TRANSMITTER: BindPdu(command_id=CommandId.BIND_TRANSMITTER, system_id="x"),
    CommandId.BIND_RECEIVER: BindPdu(command_id=CommandId.BIND_RECEIVER, system_id="x"),
    CommandId.BIND_TRANSCEIVER: BindPdu(command_id=CommandId.BIND_TRANSCEIVER, system_id="x"),
    CommandId.SUBMIT_SM: submit(),
    CommandId.DATA_SM: DataSm(
        destination_addr="01012345678",
        data_coding=8,
        tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, encode_text("hi", 8)),),
    ),
    CommandId.SUBMIT_MULTI: SubmitMulti(
        dest_addresses=(SmeAddress(destination_addr="01012345678"),),
        short_message=b"hi",
    ),
    CommandId.QUERY_SM: QuerySm(message_id="1"),
    CommandId.CANCEL_SM: CancelSm(message_id="1"),
    CommandId.ENQUIRE_LINK: EnquireLink(),
    CommandId.UNBIND: Unbind(),
    CommandId.OUTBIND: Outbind(system_id="x"),
    CommandId.DELIVER_SM: DeliverSm(short_message=b"x"),
}
STATES = {
    BindState.OPEN: None,
    BindState.BOUND_TX: BindKind.TRANSMITTER,
    BindState.BOUND_RX: BindKind.RECEIVER,
    BindState.BOUND_TRX: BindKind.TRANSCEIVER,
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("command", list(REQUESTS))
def test_state_table(state: BindState, command: CommandId) -> None:
    """Every request in every state does what ALLOWED says; refusals carry the right status."""
    pair = SessionPair()
    kind = STATES[state]
    if kind is not None:
        pair.bind(kind)
    events = pair.send(REQUESTS[command])
    answers = pair.received()
    if command in ALLOWED[state]:
        assert not any(isinstance(e, ProtocolError) for e in events), events
        return
    (error,) = [e for e in events if isinstance(e, ProtocolError)]
    (answer,) = answers
    if command in (CommandId.OUTBIND, CommandId.DELIVER_SM):
        expected = S.ESME_RINVCMDID
    elif command.name.startswith("BIND"):
        expected = S.ESME_RALYBND
    else:
        expected = S.ESME_RINVBNDSTS
    assert error.status == answer.command_status == expected
    assert answer.sequence_number == pair.seq
    if command == CommandId.OUTBIND:
        assert isinstance(answer, GenericNack)
    else:
        assert answer.command_id == command | 0x8000_0000


def test_submit_before_bind_is_rinvbndsts() -> None:
    pair = SessionPair()
    assert [type(e) for e in pair.send(submit())] == [ProtocolError]
    (resp,) = pair.received()
    assert (resp.command_id, resp.command_status) == (
        CommandId.SUBMIT_SM_RESP,
        S.ESME_RINVBNDSTS,
    )


def test_enquire_link_is_answered_by_the_session_in_any_open_state() -> None:
    pair = SessionPair()
    assert pair.send(EnquireLink()) == []
    (resp,) = pair.received()
    assert isinstance(resp, EnquireLinkResp) and resp.sequence_number == 1
    pair.bind()
    assert pair.send(EnquireLink()) == []
    assert isinstance(pair.received()[0], EnquireLinkResp)


# --- messages -----------------------------------------------------------------------------------


def test_single_ucs2_and_ksc5601_messages_are_decoded() -> None:
    pair = SessionPair()
    pair.bind()
    for coding in (0x08, 0x0E):
        event = only(pair.send(submit(KOREAN, coding)), SubmitReceived)
        assert event.text == KOREAN
        assert event.data_coding == coding
        assert event.sender == "0212345678" and event.recipients == ("01012345678",)
        assert pair.smsc.in_flight == 1
        (resp,) = pair.received(pair.smsc.respond(event, 0, message_ids=["m1"]))
        assert (resp.command_status, resp.message_id) == (0, "m1")
        assert resp.sequence_number == event.pdu.sequence_number
        assert pair.smsc.in_flight == 0


def test_respond_twice_is_local_misuse() -> None:
    pair = SessionPair()
    pair.bind()
    event = only(pair.send(submit()), SubmitReceived)
    pair.smsc.respond(event, 0, message_ids=["a"])
    with pytest.raises(SessionError):
        pair.smsc.respond(event, 0, message_ids=["a"])


def test_error_response_carries_no_message_id() -> None:
    pair = SessionPair()
    pair.bind()
    event = only(pair.send(submit()), SubmitReceived)
    (resp,) = pair.received(pair.smsc.respond(event, S.ESME_RINVSRCADR, message_ids=["x"]))
    assert (resp.command_status, resp.message_id) == (S.ESME_RINVSRCADR, "")


def _udh_parts(text: str, coding: int, *, ref16: bool) -> list[SubmitSm]:
    data = encode_text(text, coding)
    size = 60
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    return [
        submit(
            coding=coding,
            esm_class=0x40,
            short_message=concat_udh(0x1234 if ref16 else 0x42, len(chunks), i, ref16=ref16)
            + chunk,
        )
        for i, chunk in enumerate(chunks, 1)
    ]


def _sar_parts(text: str, coding: int) -> list[SubmitSm]:
    data = encode_text(text, coding)
    chunks = [data[i : i + 60] for i in range(0, len(data), 60)]
    return [
        submit(
            coding=coding,
            short_message=chunk,
            tlvs=(
                Tlv.from_int(Tag.SAR_MSG_REF_NUM, 777, 2),
                Tlv.from_int(Tag.SAR_TOTAL_SEGMENTS, len(chunks)),
                Tlv.from_int(Tag.SAR_SEGMENT_SEQNUM, i),
            ),
        )
        for i, chunk in enumerate(chunks, 1)
    ]


@pytest.mark.parametrize("coding", [0x08, 0x0E])
@pytest.mark.parametrize("how", ["udh8", "udh16", "sar"])
def test_long_messages_are_held_then_judged_whole(coding: int, how: str) -> None:
    text = KOREAN * 4
    parts = (
        _sar_parts(text, coding) if how == "sar" else _udh_parts(text, coding, ref16=how == "udh16")
    )
    assert len(parts) >= 3
    pair = SessionPair()
    pair.bind()
    order = [*parts[1:], parts[0]]  # out of order: the first part arrives last
    for part in order[:-1]:
        assert pair.send(part) == []
    assert pair.received() == []  # held, not answered
    assert pair.smsc.in_flight == len(parts) - 1
    event = only(pair.send(order[-1]), SubmitReceived)
    assert event.text == text
    # Parts come in part order: the first part (sent last, so with the highest seq) leads.
    seqs = [p.sequence_number for p in event.pdus]
    assert seqs == [seqs[0], *range(2, 2 + len(parts) - 1)]
    ids = [f"m{i}" for i in range(len(parts))]
    resps = pair.received(pair.smsc.respond(event, 0, message_ids=ids))
    assert len(resps) == len(parts)
    assert {r.sequence_number for r in resps} == set(range(2, 2 + len(parts)))
    assert all(r.command_status == 0 for r in resps)
    assert pair.smsc.in_flight == 0


def test_missing_part_times_out_and_held_parts_get_sg_rincomplete() -> None:
    config = SessionConfig(reassembly_timeout=30.0, enquire_link_interval=None, idle_timeout=None)
    pair = SessionPair(config, now=100.0)
    pair.bind()
    parts = _udh_parts(KOREAN * 4, 0x08, ref16=False)
    pair.send(parts[0])
    pair.now = 105.0
    pair.send(parts[1])
    assert pair.smsc.get_timer() == 130.0
    assert pair.timers(129.9) == []
    (expired,) = pair.timers(130.0)
    assert isinstance(expired, PartsExpired)
    assert expired.status == VendorStatus.SG_RINCOMPLETE
    assert len(expired.pdus) == 2 and expired.total == len(parts)
    resps = pair.received()
    assert [r.command_status for r in resps] == [VendorStatus.SG_RINCOMPLETE] * 2
    assert pair.smsc.in_flight == 0
    assert pair.smsc.get_timer() is None


def test_duplicate_part_is_refused_without_disturbing_the_set() -> None:
    pair = SessionPair()
    pair.bind()
    parts = _udh_parts(KOREAN * 3, 0x08, ref16=False)
    pair.send(parts[0])
    error = only(pair.send(parts[0]), ProtocolError)
    assert error.status == VendorStatus.SG_RDUPLICATEPART
    (resp,) = pair.received()
    assert resp.command_status == VendorStatus.SG_RDUPLICATEPART
    events: list[Event] = []
    for part in parts[1:]:
        events += pair.send(part)
    assert only(events, SubmitReceived).text == KOREAN * 3


def test_parts_with_mixed_data_coding_are_rinvdcs() -> None:
    pair = SessionPair()
    pair.bind()
    parts = _udh_parts("abcdefghij" * 14, 0x08, ref16=False)
    mixed = [parts[0], _with_seq(parts[1], 0)]
    from dataclasses import replace

    mixed[1] = replace(parts[1], data_coding=0x03)
    events: list[Event] = []
    for part in [*mixed, *parts[2:]]:
        events += pair.send(part)
    assert only(events, ProtocolError).status == S.ESME_RINVDCS
    assert [r.command_status for r in pair.received()] == [S.ESME_RINVDCS] * len(parts)
    assert pair.smsc.in_flight == 0


def test_data_sm_and_submit_multi() -> None:
    pair = SessionPair()
    pair.bind()
    event = only(pair.send(REQUESTS[CommandId.DATA_SM]), SubmitReceived)
    assert event.text == "hi"
    (resp,) = pair.received(pair.smsc.respond(event, 0, message_ids=["d1"]))
    assert resp.command_id == CommandId.DATA_SM_RESP and resp.message_id == "d1"
    multi = SubmitMulti(
        dest_addresses=(
            SmeAddress(destination_addr="01011112222"),
            SmeAddress(destination_addr="01033334444"),
        ),
        data_coding=8,
        short_message=encode_text(KOREAN, 8),
    )
    event = only(pair.send(multi), SubmitReceived)
    assert event.recipients == ("01011112222", "01033334444")
    (resp,) = pair.received(pair.smsc.respond(event, 0, message_ids=["x"]))
    assert resp.command_id == CommandId.SUBMIT_MULTI_RESP and resp.message_id == "x"


def test_query_sm_is_handed_over_and_answered() -> None:
    pair = SessionPair()
    pair.bind()
    event = only(pair.send(QuerySm(message_id="abc")), RequestReceived)
    resp = QuerySmResp(command_status=S.ESME_RQUERYFAIL)
    (answer,) = pair.received(pair.smsc.answer(event, resp))
    assert answer.sequence_number == event.pdu.sequence_number
    assert answer.command_status == S.ESME_RQUERYFAIL
    with pytest.raises(SessionError):
        pair.smsc.answer(event, resp)


def test_window_overflow_is_throttled_and_recovers() -> None:
    pair = SessionPair()
    pair.bind(window=2)
    first = only(pair.send(submit()), SubmitReceived)
    only(pair.send(submit()), SubmitReceived)
    throttled = only(pair.send(submit()), Throttled)
    (resp,) = pair.received()
    assert resp.command_status == S.ESME_RTHROTTLED
    assert resp.sequence_number == throttled.sequence_number
    pair.received(pair.smsc.respond(first, 0, message_ids=["1"]))
    only(pair.send(submit()), SubmitReceived)


# --- malformed input ----------------------------------------------------------------------------


def _header(length: int, command_id: int, seq: int = 9, status: int = 0) -> bytes:
    return struct.pack(">IIII", length, command_id, status, seq)


def test_unknown_command_id_gets_generic_nack_and_reading_goes_on() -> None:
    pair = SessionPair()
    events = pair.send_raw(_header(16, 0x0000_0999) + encode(EnquireLink(sequence_number=3)))
    assert only(events, ProtocolError).status == S.ESME_RINVCMDID
    nack, resp = pair.received()
    assert isinstance(nack, GenericNack) and nack.command_status == S.ESME_RINVCMDID
    assert nack.sequence_number == 9
    assert isinstance(resp, EnquireLinkResp)
    assert not pair.smsc.closed


@pytest.mark.parametrize("length", [0, 4, 15, 70_000, 0xFFFF_FFFF])
def test_lying_or_oversized_command_length_closes(length: int) -> None:
    pair = SessionPair()
    pair.bind()
    events = pair.send_raw(_header(length, CommandId.SUBMIT_SM) + b"\0" * 40)
    error = only(events, ProtocolError)
    assert error.fatal and error.status == S.ESME_RINVCMDLEN
    assert isinstance(events[-1], Closed)
    (nack,) = pair.received()
    assert isinstance(nack, GenericNack)
    assert pair.smsc.closed
    assert pair.smsc.receive_data(encode(EnquireLink(sequence_number=1)), 0.0) == []


def test_truncated_body_and_bad_c_string() -> None:
    pair = SessionPair()
    pair.bind()
    body = encode(submit())[16:30]
    events = pair.send_raw(_header(16 + len(body), CommandId.SUBMIT_SM, seq=4) + body)
    assert only(events, ProtocolError).status == S.ESME_RINVCMDLEN
    (resp,) = pair.received()
    assert (resp.command_id, resp.sequence_number) == (CommandId.SUBMIT_SM_RESP, 4)
    fresh = SessionPair()
    bad = b"A" * 20 + b"\0" + b"pw\0" + b"\0" + bytes((0x34, 0, 0)) + b"\0"
    events = fresh.send_raw(_header(16 + len(bad), CommandId.BIND_TRANSCEIVER, seq=2) + bad)
    assert only(events, ProtocolError).status == S.ESME_RINVSYSID
    (resp,) = fresh.received()
    assert resp.command_id == CommandId.BIND_TRANSCEIVER_RESP
    assert state_of(fresh) is BindState.OPEN


def test_invalid_data_coding_and_bytes_are_rinvdcs() -> None:
    pair = SessionPair()
    pair.bind()
    for pdu in (
        SubmitSm(destination_addr="010", data_coding=0x09, short_message=b"ab"),
        SubmitSm(destination_addr="010", data_coding=0x0E, short_message=b"\xff\xff"),
        SubmitSm(destination_addr="010", data_coding=0x08, short_message=b"\x00"),
    ):
        assert only(pair.send(pdu), ProtocolError).status == S.ESME_RINVDCS
        (resp,) = pair.received()
        assert resp.command_status == S.ESME_RINVDCS
    assert pair.smsc.in_flight == 0


def test_broken_udh_is_rinvesmclass() -> None:
    pair = SessionPair()
    pair.bind()
    pdu = SubmitSm(destination_addr="010", esm_class=0x40, short_message=b"\x09\x00\x03\x01")
    assert only(pair.send(pdu), ProtocolError).status == S.ESME_RINVESMCLASS
    assert pair.received()[0].command_status == S.ESME_RINVESMCLASS


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data: bytes) -> None:
    for bound in (False, True):
        pair = SessionPair()
        if bound:
            pair.bind()
        pair.smsc.receive_data(data, 0.0)
        pair.smsc.handle_timer(1_000.0)
        pair.received()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=30))
def test_any_split_of_a_stream_gives_the_same_events(cuts: list[int]) -> None:
    parts = _udh_parts(KOREAN * 3, 0x0E, ref16=True)
    stream = b"".join(encode(_with_seq(p, i)) for i, p in enumerate(parts, 10))
    pair = SessionPair()
    pair.bind()
    events: list[Event] = []
    pos = 0
    for cut in [*cuts, len(stream)]:
        events += pair.smsc.receive_data(stream[pos : pos + cut], 0.0)
        pos += cut
        if pos >= len(stream):
            break
    assert only(events, SubmitReceived).text == KOREAN * 3


# --- our requests, timers, unbind ---------------------------------------------------------------


def test_deliver_sm_numbering_matching_and_timeout() -> None:
    config = SessionConfig(response_timeout=5.0, enquire_link_interval=None, idle_timeout=None)
    pair = SessionPair(config)
    pair.bind(BindKind.TRANSMITTER)
    with pytest.raises(SessionError):
        pair.smsc.send_deliver_sm(DeliverSm(short_message=b"x"), 0.0)
    pair = SessionPair(config)
    pair.bind(BindKind.RECEIVER)
    assert pair.smsc.can_deliver
    seq, data = pair.smsc.send_deliver_sm(DeliverSm(short_message=b"r1"), 0.0, context="a")
    (pdu,) = pair.received(data)
    assert seq == pdu.sequence_number == 1
    (got,) = pair.send(DeliverSmResp(sequence_number=seq))
    assert isinstance(got, ResponseReceived) and got.context == "a" and got.status == 0
    seq2, _ = pair.smsc.send_deliver_sm(DeliverSm(short_message=b"r2"), 1.0, context="b")
    assert seq2 == 2
    assert pair.smsc.get_timer() == 6.0
    (failed,) = pair.timers(6.0)
    assert isinstance(failed, RequestFailed) and failed.context == "b"
    # A response nobody asked for is reported and ignored.
    assert only(pair.send(DeliverSmResp(sequence_number=99)), ProtocolError).fatal is False


def test_generic_nack_answers_our_request() -> None:
    pair = SessionPair()
    pair.bind()
    seq, _ = pair.smsc.send_deliver_sm(DeliverSm(short_message=b"x"), 0.0, context=1)
    got = only(
        pair.send(GenericNack(sequence_number=seq, command_status=S.ESME_RSYSERR)), ResponseReceived
    )
    assert got.status == S.ESME_RSYSERR


def test_sequence_numbers_wrap_within_1_to_0x7fffffff() -> None:
    pair = SessionPair()
    pair.bind()
    pair.smsc._requests.last_seq = MAX_SEQUENCE - 1
    seqs = [pair.smsc.send_deliver_sm(DeliverSm(short_message=b"x"), 0.0)[0] for _ in range(3)]
    assert seqs == [MAX_SEQUENCE, 1, 2]


def test_outgoing_window() -> None:
    pair = SessionPair(SessionConfig(out_window=2))
    pair.bind()
    pair.smsc.send_deliver_sm(DeliverSm(short_message=b"x"), 0.0)
    pair.smsc.send_deliver_sm(DeliverSm(short_message=b"x"), 0.0)
    assert not pair.smsc.can_deliver
    with pytest.raises(SessionError):
        pair.smsc.send_deliver_sm(DeliverSm(short_message=b"x"), 0.0)


def test_bind_timeout_closes() -> None:
    pair = SessionPair(SessionConfig(bind_timeout=10.0))
    assert pair.smsc.get_timer() == 10.0
    assert pair.timers(9.0) == []
    (closed,) = pair.timers(10.0)
    assert isinstance(closed, Closed) and "bind" in closed.reason
    assert pair.smsc.closed and pair.smsc.get_timer() is None


def test_keepalive_probe_and_its_timeout() -> None:
    config = SessionConfig(enquire_link_interval=30.0, response_timeout=10.0, idle_timeout=None)
    pair = SessionPair(config)
    pair.bind()
    assert pair.smsc.get_timer() == 30.0
    assert pair.timers(30.0) == []
    (probe,) = pair.received()
    assert isinstance(probe, EnquireLink)
    assert pair.smsc.get_timer() == 40.0
    pair.now = 35.0
    assert pair.send(EnquireLinkResp(sequence_number=probe.sequence_number)) == []
    assert pair.smsc.get_timer() == 65.0  # next probe after 30 s of silence
    pair.timers(65.0)
    (probe,) = pair.received()
    (closed,) = pair.timers(75.0)  # unanswered
    assert isinstance(closed, Closed) and "enquire_link" in closed.reason


def test_idle_bind_is_unbound() -> None:
    config = SessionConfig(enquire_link_interval=None, idle_timeout=60.0, response_timeout=5.0)
    pair = SessionPair(config)
    pair.bind()
    pair.now = 50.0
    pair.send(EnquireLink())  # the peer's own keepalive counts as activity
    pair.received()
    assert pair.smsc.get_timer() == 110.0
    assert pair.timers(110.0) == []
    (unbind,) = pair.received()
    assert isinstance(unbind, Unbind)
    assert state_of(pair) is BindState.UNBINDING
    closed = only(pair.send(UnbindResp(sequence_number=unbind.sequence_number)), Closed)
    assert closed.reason == "unbound"


def test_peer_unbind_waits_for_answers_in_flight() -> None:
    pair = SessionPair()
    pair.bind()
    event = only(pair.send(submit()), SubmitReceived)
    parts = _udh_parts(KOREAN * 3, 0x08, ref16=False)
    pair.send(parts[0])  # held part: answered SG_RINCOMPLETE at once on unbind
    events = pair.send(Unbind())
    assert only(events, PartsExpired).status == VendorStatus.SG_RINCOMPLETE
    (held,) = pair.received()
    assert held.command_status == VendorStatus.SG_RINCOMPLETE
    assert state_of(pair) is BindState.UNBINDING
    assert only(pair.send(submit()), ProtocolError).status == S.ESME_RINVBNDSTS
    pair.received()
    resp, unbind_resp = pair.received(pair.smsc.respond(event, 0, message_ids=["z"]))
    assert resp.command_id == CommandId.SUBMIT_SM_RESP
    assert isinstance(unbind_resp, UnbindResp)
    assert pair.smsc.closed
    assert [type(e) for e in pair.smsc.connection_lost()] == [Closed]


def test_peer_unbind_with_nothing_in_flight_closes_at_once() -> None:
    pair = SessionPair()
    pair.bind()
    events = pair.send(Unbind())
    assert isinstance(events[-1], Closed)
    (resp,) = pair.received()
    assert isinstance(resp, UnbindResp)


def test_connection_lost_fails_our_requests_and_late_answers_write_nothing() -> None:
    pair = SessionPair()
    pair.bind()
    event = only(pair.send(submit()), SubmitReceived)
    pair.smsc.send_deliver_sm(DeliverSm(short_message=b"x"), 0.0, context="ctx")
    events = pair.smsc.connection_lost()
    assert only(events, RequestFailed).context == "ctx"
    assert isinstance(events[-1], Closed)
    assert pair.smsc.respond(event, 0, message_ids=["late"]) == b""
    assert pair.smsc.in_flight == 0


def test_smpplib_encoded_sar_parts_reassemble() -> None:
    smpp = pytest.importorskip("smpplib.smpp")
    consts = pytest.importorskip("smpplib.consts")

    class _Seq:
        sequence = 0

        def next_sequence(self) -> int:
            self.sequence += 1
            return self.sequence

    client = _Seq()
    data = encode_text(KOREAN * 2, 0x08)
    chunks = [data[i : i + 100] for i in range(0, len(data), 100)]
    pair = SessionPair()
    pair.bind()
    events: list[Event] = []
    for i, chunk in enumerate(chunks, 1):
        pdu = smpp.make_pdu(
            "submit_sm",
            client=client,
            source_addr="0212345678",
            destination_addr="01012345678",
            data_coding=consts.SMPP_ENCODING_ISO10646,
            short_message=chunk,
            sar_msg_ref_num=5,
            sar_total_segments=len(chunks),
            sar_segment_seqnum=i,
        )
        pdu.sequence = 100 + i
        events += pair.send_raw(pdu.generate())
    assert only(events, SubmitReceived).text == KOREAN * 2


def test_outstanding_requests_skip_numbers_still_awaiting_an_answer() -> None:
    from spamgate.smpp.session import OutstandingRequests

    requests = OutstandingRequests()
    first = requests.allocate()
    requests.put(first, EnquireLink(sequence_number=first), 5.0, None)
    requests.last_seq = MAX_SEQUENCE  # wrap straight onto the number still in use
    assert requests.allocate() == first + 1
    assert requests.pop_expired(4.9) is None and requests.next_deadline() == 5.0
    stray = requests.answer(EnquireLinkResp(sequence_number=first + 1))
    assert isinstance(stray, ProtocolError) and stray.status == S.ESME_RINVCMDID
    answered = requests.answer(EnquireLinkResp(sequence_number=first))
    assert not isinstance(answered, ProtocolError) and answered.deadline == 5.0
    assert len(requests) == 0 and requests.take_all() == []
