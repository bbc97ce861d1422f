"""The pure ESME session of the carrier links: bind, submit window, receipts, keepalive, garbage."""

from __future__ import annotations

import pytest

from spamgate.smpp import (
    BindRespPdu,
    CommandId,
    CommandStatus,
    DeliverSm,
    EnquireLink,
    PduReader,
    SessionError,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    decode,
    encode,
)
from spamgate.smpp.esme import BindAnswered, DeliverReceived, EsmeConfig, EsmeSession, EsmeState
from spamgate.smpp.session import Closed, ProtocolError, RequestFailed, ResponseReceived

S = CommandStatus


def _bound(window: int = 2, interval: float | None = 30.0) -> EsmeSession:
    session = EsmeSession(0.0, EsmeConfig(window=window, enquire_link_interval=interval))
    bind = decode(session.bind(0.0, system_id="gw", password="pw", system_type="relay"))
    assert bind.command_id == CommandId.BIND_TRANSCEIVER
    resp = BindRespPdu(
        command_id=CommandId.BIND_TRANSCEIVER_RESP,
        sequence_number=bind.sequence_number,
        system_id="SMSC",
    )
    events = session.receive_data(encode(resp), 0.1)
    assert events == [BindAnswered(status=0, system_id="SMSC")]
    assert session.state is EsmeState.BOUND
    return session


def _submit() -> SubmitSm:
    return SubmitSm(source_addr="0212345678", destination_addr="01098765432", short_message=b"hi")


def test_submit_window_and_answers_keep_their_context() -> None:
    session = _bound(window=2)
    seq1, data1 = session.submit(_submit(), 1.0, "a")
    seq2, _ = session.submit(_submit(), 1.0, "b")
    assert decode(data1).sequence_number == seq1 != seq2
    assert not session.can_submit
    with pytest.raises(SessionError):
        session.submit(_submit(), 1.0, "c")
    events = session.receive_data(
        encode(SubmitSmResp(sequence_number=seq2, message_id="X2"))
        + encode(SubmitSmResp(sequence_number=seq1, command_status=S.ESME_RTHROTTLED)),
        1.1,
    )
    assert [(type(e), getattr(e, "context", None)) for e in events] == [
        (ResponseReceived, "b"),
        (ResponseReceived, "a"),
    ]
    assert isinstance(events[1], ResponseReceived) and events[1].status == S.ESME_RTHROTTLED
    assert session.can_submit


def test_refused_bind_closes() -> None:
    session = EsmeSession(0.0)
    bind = decode(session.bind(0.0, system_id="gw", password="bad"))
    resp = BindRespPdu(
        command_id=CommandId.BIND_TRANSCEIVER_RESP,
        sequence_number=bind.sequence_number,
        command_status=S.ESME_RINVPASWD,
    )
    events = session.receive_data(encode(resp), 0.1)
    assert events[0] == BindAnswered(status=S.ESME_RINVPASWD, system_id="")
    assert session.closed and isinstance(events[-1], Closed)


def test_deliver_sm_is_an_event_and_answered_by_the_caller() -> None:
    session = _bound()
    receipt = DeliverSm(sequence_number=77, esm_class=0x04, short_message=b"id:1 stat:DELIVRD")
    (event,) = session.receive_data(encode(receipt), 1.0)
    assert isinstance(event, DeliverReceived) and event.pdu.message.startswith(b"id:1")
    answer = decode(session.answer_deliver(event.pdu, 0))
    assert answer.command_id == CommandId.DELIVER_SM_RESP and answer.sequence_number == 77


def test_timeouts_fail_submits_and_a_dead_link_closes() -> None:
    session = _bound(window=5, interval=10.0)
    session.submit(_submit(), 1.0, "late")
    timer = session.get_timer()
    assert timer == pytest.approx(10.1)  # keepalive before the 10 s response timeout at 11.0
    session.handle_timer(10.1)
    probe = decode(session.data_to_send())
    assert isinstance(probe, EnquireLink)
    events = session.handle_timer(11.0)
    assert isinstance(events[0], RequestFailed) and events[0].context == "late"
    # the enquire_link is never answered: the link is dead
    events = session.handle_timer(20.2)
    assert session.closed and isinstance(events[-1], Closed)


def test_smsc_unbind_and_connection_loss_fail_outstanding() -> None:
    session = _bound()
    session.submit(_submit(), 1.0, "x")
    events = session.receive_data(encode(Unbind(sequence_number=9)), 1.0)
    assert [type(e) for e in events] == [RequestFailed, Closed]
    reader = PduReader()
    reader.feed(session.data_to_send())
    assert next(reader).command_id == CommandId.UNBIND_RESP
    assert session.connection_lost() == []


def test_garbage_nacks_then_lost_framing_closes() -> None:
    session = _bound()
    # A request the SMSC may not send and a response to nothing: nacked / reported, not raised.
    events = session.receive_data(encode(_submit()), 1.0)
    assert isinstance(events[0], ProtocolError) and events[0].status == S.ESME_RINVCMDID
    events = session.receive_data(encode(SubmitSmResp(sequence_number=4242)), 1.0)
    assert isinstance(events[0], ProtocolError) and not session.closed
    events = session.receive_data(b"\x00\x00\x00\x05garbage!!!!!!!!", 1.0)
    assert any(isinstance(e, ProtocolError) and e.fatal for e in events)
    assert session.closed
    assert session.receive_data(b"more", 1.0) == []


def test_misuse_raises() -> None:
    session = EsmeSession(0.0)
    with pytest.raises(SessionError):
        session.submit(_submit(), 0.0, "x")
    with pytest.raises(SessionError):
        session.unbind(0.0)
    with pytest.raises(ValueError, match="window"):
        EsmeConfig(window=0)
