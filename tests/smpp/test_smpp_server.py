"""The SMPP server over real loopback sockets, with smpplib as the ESME and raw sockets as a liar.

The server runs on its own event loop in a thread; the tests are plain blocking clients, as
resellers are. The pipeline runs without models and with a test policy, so every action is
reachable with a fixed text:

=========  ==================================================  =====
deliver    안녕하세요 내일 회의는 3시입니다                      0.0
label      (광고) 신상품 할인 안내 무료수신거부 080-123-4567      2.0
spambox    신상품 할인 이벤트 … http://shop.example.com         4.5
throttle   (광고) 스포츠 바카라 카지노 첫충 20% …                12.5
reject     첫충 20% 바카라 카지노 http://bit.ly/abc            21.0
=========  ==================================================  =====
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Iterator
from typing import Any, TypeVar

import pytest
from gate_support import ServerThread
from prometheus_client import CollectorRegistry, generate_latest

from spamgate.config import SmppAccountConfig, load_policy
from spamgate.domain.message import KST
from spamgate.pipeline import Pipeline
from spamgate.smpp import (
    BindPdu,
    CommandId,
    CommandStatus,
    DeliverSm,
    EnquireLink,
    GenericNack,
    Pdu,
    PduReader,
    SubmitSm,
    Tag,
    decode_text,
    encode,
    encode_text,
    split_text,
)
from spamgate.smpp.auth import StaticAuthenticator, hash_password
from spamgate.smpp.forward import ForwardError, SinkForwarder
from spamgate.smpp.metrics import SmppMetrics
from spamgate.smpp.server import ServerConfig, SmppServer
from spamgate.smpp.session import SessionConfig
from spamgate.smpp.vendor import VendorStatus, VendorTag

smpplib_client = pytest.importorskip("smpplib.client")
smpplib_exceptions = pytest.importorskip("smpplib.exceptions")

S = CommandStatus
T = TypeVar("T")
PASSWORD = "s3cret"
DELIVER = "안녕하세요 내일 회의는 3시입니다"
LABEL = "(광고) 신상품 할인 안내 무료수신거부 080-123-4567"
SPAMBOX = "신상품 할인 이벤트 지금 구매하세요 최대 50% 세일 http://shop.example.com"
THROTTLE = "(광고) 스포츠 바카라 카지노 첫충 20% 무료수신거부 080-123-4567"
REJECT = "첫충 20% 바카라 카지노 http://bit.ly/abc"
SENDER = "0212345678"
RECIPIENT = "01098765432"
LONG_KOREAN = (
    "고객님 안녕하세요. 주문하신 상품이 오늘 오후 출고되어 내일 도착 예정입니다. "
    "배송 조회는 홈페이지에서 하실 수 있으며, 문의는 고객센터로 연락 주시기 바랍니다. "
    "항상 저희 매장을 이용해 주셔서 감사합니다. 좋은 하루 보내세요."
)


def _cheap_hash(password: str) -> str:
    return hash_password(password, time_cost=1, memory_kib=8, parallelism=1)


@pytest.fixture(scope="module")
def test_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    from datetime import datetime

    policy = tmp_path_factory.mktemp("policy") / "policy.toml"
    policy.write_text(
        "[actions]\nlabel = 1.5\nspambox = 4.0\nthrottle = 10.0\nreject = 15.0\n", "utf-8"
    )
    now = datetime(2026, 11, 26, 14, 0, tzinfo=KST)
    return Pipeline(load_policy(policy), model=None, url_model=None, clock=lambda: now)


@pytest.fixture(scope="module")
def accounts() -> dict[str, SmppAccountConfig]:
    hashed = _cheap_hash(PASSWORD)
    return {
        "reseller": SmppAccountConfig(password_hash=hashed),
        "second": SmppAccountConfig(password_hash=hashed),
        "overseas": SmppAccountConfig(password_hash=hashed, route="international"),
        "small": SmppAccountConfig(password_hash=hashed, window=2),
        "suspended": SmppAccountConfig(password_hash=hashed, suspended=True),
        "txonly": SmppAccountConfig(password_hash=hashed, bind_kinds=["transmitter"]),
    }


@pytest.fixture
def sink() -> SinkForwarder:
    return SinkForwarder()


@pytest.fixture
def metrics() -> SmppMetrics:
    return SmppMetrics(CollectorRegistry())


@pytest.fixture
def gateway(
    test_pipeline: Pipeline,
    accounts: dict[str, SmppAccountConfig],
    sink: SinkForwarder,
    metrics: SmppMetrics,
) -> Iterator[ServerThread]:
    config = ServerConfig(
        session=SessionConfig(max_pdu_size=8192, reassembly_timeout=5.0), node_id="t"
    )
    authenticator = StaticAuthenticator(accounts, max_failures=3, window=60, lockout=60)
    server = SmppServer(test_pipeline, authenticator, sink, config=config, metrics=metrics)
    with ServerThread(server) as thread:
        yield thread


def client(gateway: ServerThread, system_id: str = "reseller", kind: str = "transceiver") -> Any:
    c = smpplib_client.Client("127.0.0.1", gateway.port, timeout=5, allow_unknown_opt_params=True)
    c.connect()
    getattr(c, f"bind_{kind}")(system_id=system_id, password=PASSWORD)
    return c


def submit(c: Any, text: str, coding: int = 8, **fields: Any) -> Any:
    """Send one whole message (split with smpplib's UDH when long); return the last resp."""
    raw = encode_text(text, coding)
    fields.setdefault("source_addr", SENDER)
    fields.setdefault("destination_addr", RECIPIENT)
    c.send_message(data_coding=coding, short_message=raw, **fields)
    return c.read_pdu()


def close(c: Any) -> None:
    try:
        c.unbind()
    finally:
        c.disconnect()


# --- binds --------------------------------------------------------------------------------------


def test_bind_with_right_and_wrong_passwords(gateway: ServerThread) -> None:
    c = client(gateway)
    assert gateway.server.bound_system_ids == ["reseller"]
    close(c)
    for system_id, password, status in [
        ("reseller", "wrong", S.ESME_RINVPASWD),
        ("nobody", PASSWORD, S.ESME_RINVPASWD),  # unknown ids look like wrong passwords
        ("suspended", PASSWORD, S.ESME_RBINDFAIL),
    ]:
        c = smpplib_client.Client("127.0.0.1", gateway.port, allow_unknown_opt_params=True)
        c.connect()
        with pytest.raises(smpplib_exceptions.PDUError) as err:
            c.bind_transceiver(system_id=system_id, password=password)
        assert err.value.args[1] == status
        c.disconnect()
    c = smpplib_client.Client("127.0.0.1", gateway.port, allow_unknown_opt_params=True)
    c.connect()
    with pytest.raises(smpplib_exceptions.PDUError) as err:
        c.bind_receiver(system_id="txonly", password=PASSWORD)
    assert err.value.args[1] == S.ESME_RBINDFAIL
    c.bind_transmitter(system_id="txonly", password=PASSWORD)  # same connection, allowed kind
    close(c)


def test_lockout_after_repeated_failures(gateway: ServerThread) -> None:
    c = smpplib_client.Client("127.0.0.1", gateway.port, allow_unknown_opt_params=True)
    c.connect()
    for _ in range(3):
        with pytest.raises(smpplib_exceptions.PDUError) as err:
            c.bind_transmitter(system_id="second", password="guess")
        assert err.value.args[1] == S.ESME_RINVPASWD
    with pytest.raises(smpplib_exceptions.PDUError) as err:
        c.bind_transmitter(system_id="second", password=PASSWORD)  # right, but locked out
    assert err.value.args[1] == S.ESME_RBINDFAIL
    c.disconnect()


def test_overlong_credentials_are_refused_by_the_codec(gateway: ServerThread) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        body = b"reseller\0" + b"123456789\0" + b"\0" + bytes((0x34, 0, 0)) + b"\0"
        sock.sendall(struct.pack(">IIII", 16 + len(body), CommandId.BIND_TRANSMITTER, 0, 1) + body)
        (resp,) = read_pdus(sock, 1)
    assert resp.command_status == S.ESME_RINVPASWD


# --- messages and verdicts ----------------------------------------------------------------------


def test_short_korean_messages_in_ucs2_and_ksc5601(
    gateway: ServerThread, sink: SinkForwarder
) -> None:
    c = client(gateway)
    for coding in (8, 0x0E):
        resp = submit(c, DELIVER, coding)
        assert resp.command == "submit_sm_resp" and resp.status == 0
        assert resp.message_id.decode().startswith("t")
    close(c)
    assert [item.text for item in sink.items] == [DELIVER, DELIVER]
    assert [item.data_coding for item in sink.items] == [8, 0x0E]
    assert sink.items[0].system_id == "reseller" and sink.items[0].tlvs == ()


@pytest.mark.parametrize("coding", [8, 0x0E])
def test_long_korean_message_split_with_udh(
    gateway: ServerThread, sink: SinkForwarder, coding: int
) -> None:
    c = client(gateway)
    parts = split_text(LONG_KOREAN, coding, ref=0x5A)
    assert len(parts) >= 2
    for part in parts:
        c.send_message(
            source_addr=SENDER,
            destination_addr=RECIPIENT,
            data_coding=coding,
            esm_class=0x40,
            short_message=part,
        )
    resps = [c.read_pdu() for _ in parts]
    close(c)
    assert [r.status for r in resps] == [0] * len(parts)
    assert len({r.message_id for r in resps}) == len(parts)
    (item,) = sink.items
    assert item.text == LONG_KOREAN and len(item.pdus) == len(parts)


def test_long_korean_message_split_with_sar_tlvs(
    gateway: ServerThread, sink: SinkForwarder
) -> None:
    c = client(gateway)
    data = encode_text(LONG_KOREAN, 0x0E)
    chunks = [data[i : i + 120] for i in range(0, len(data), 120)]
    for i, chunk in enumerate(chunks, 1):
        c.send_message(
            source_addr=SENDER,
            destination_addr=RECIPIENT,
            data_coding=0x0E,
            short_message=chunk,
            sar_msg_ref_num=4321,
            sar_total_segments=len(chunks),
            sar_segment_seqnum=i,
        )
    resps = [c.read_pdu() for _ in chunks]
    close(c)
    assert [r.status for r in resps] == [0] * len(chunks)
    (item,) = sink.items
    assert item.text == LONG_KOREAN


@pytest.mark.parametrize(
    ("text", "fields", "status"),
    [
        (REJECT, {}, VendorStatus.SG_RSPAM),
        (THROTTLE, {}, S.ESME_RTHROTTLED),
        (DELIVER, {"source_addr": "0000"}, S.ESME_RINVSRCADR),
        (DELIVER, {"destination_addr": "01012345678"}, S.ESME_RINVDSTADR),  # RECIPIENT_MALFORMED
        (DELIVER, {"destination_addr": "not-a-number"}, S.ESME_RINVDSTADR),  # unjudgeable
    ],
)
def test_refusals_say_why(
    gateway: ServerThread, sink: SinkForwarder, text: str, fields: dict[str, Any], status: int
) -> None:
    c = client(gateway)
    resp = submit(c, text, **fields)
    close(c)
    assert resp.status == status
    assert sink.total == 0


def test_empty_message_is_rinvmsglen(gateway: ServerThread) -> None:
    c = client(gateway)
    resp = submit(c, "")
    close(c)
    assert resp.status == S.ESME_RINVMSGLEN


@pytest.mark.parametrize(
    ("system_id", "text", "sender", "action", "label"),
    [
        ("reseller", LABEL, SENDER, "label", "[스팸의심]"),
        ("reseller", SPAMBOX, SENDER, "spambox", ""),
        (
            "overseas",
            "Your parcel is waiting at the depot",
            "+447700900123",
            "overseas_inbox",
            "[국제발신]",
        ),
    ],
)
def test_accepted_with_verdict_tlvs_and_labels(
    gateway: ServerThread,
    sink: SinkForwarder,
    system_id: str,
    text: str,
    sender: str,
    action: str,
    label: str,
) -> None:
    c = client(gateway, system_id)
    resp = submit(c, text, source_addr=sender)
    close(c)
    assert resp.status == 0
    (item,) = sink.items
    assert item.verdict.action.value == action
    assert item.label == label
    (upstream, *more) = item.upstream_pdus()
    assert upstream.tlv(VendorTag.SPAMGATE_ACTION) is not None
    message_id = upstream.tlv(VendorTag.SPAMGATE_MESSAGE_ID)
    assert message_id is not None and message_id.as_cstr() == resp.message_id.decode()
    shown = decode_text(
        b"".join(p.short_message for p in [upstream, *more] if isinstance(p, SubmitSm)),
        upstream.data_coding,
    )
    if label:
        assert upstream.data_coding == 8
        assert shown.startswith(label + " ")
    assert text in shown or len(more) > 0


def test_forwarder_refusal_is_answered_and_nothing_is_acked(
    gateway: ServerThread, sink: SinkForwarder
) -> None:
    sink.fail_with = ForwardError("spool full")
    c = client(gateway)
    resp = submit(c, DELIVER)
    close(c)
    assert resp.status == S.ESME_RMSGQFUL


def test_enquire_link_and_unbind(gateway: ServerThread) -> None:
    c = client(gateway)
    c.send_pdu(_smpplib_pdu(c, "enquire_link"))
    assert c.read_pdu().command == "enquire_link_resp"
    resp = c.unbind()
    assert resp.command == "unbind_resp"
    c.disconnect()


def _smpplib_pdu(c: Any, command: str) -> Any:
    from smpplib import smpp

    return smpp.make_pdu(command, client=c)


def test_deliver_sm_to_a_receiver_bind(gateway: ServerThread) -> None:
    c = client(gateway, kind="receiver")
    received: list[Any] = []
    c.set_message_received_handler(lambda pdu: received.append(pdu))
    pdu = DeliverSm(
        source_addr=RECIPIENT, destination_addr=SENDER, short_message=b"id:1 stat:DELIVRD"
    )

    async def deliver() -> int:
        future = gateway.server.deliver("reseller", pdu)
        return (await future).status

    done = asyncio.run_coroutine_threadsafe(deliver(), gateway.loop)
    c.read_once()  # smpplib answers deliver_sm_resp itself
    assert done.result(timeout=5) == 0
    assert received[0].short_message == b"id:1 stat:DELIVRD"
    with pytest.raises(LookupError):
        gateway.server.deliver("nobody", pdu)
    close(c)


def test_metrics_count_actions_binds_and_latency(
    gateway: ServerThread, metrics: SmppMetrics
) -> None:
    c = client(gateway)
    submit(c, DELIVER)
    submit(c, REJECT)
    text = generate_latest(metrics.registry).decode()
    assert 'spamgate_smpp_active_binds{kind="transceiver"} 1.0' in text
    close(c)
    text = generate_latest(metrics.registry).decode()
    assert (
        'spamgate_smpp_messages_total{action="deliver",status="0x00000000",system_id="reseller"} 1.0'
        in text
    )
    assert (
        'spamgate_smpp_messages_total{action="reject",status="0x00000401",system_id="reseller"} 1.0'
        in text
    )
    assert "spamgate_smpp_submit_seconds_count 2.0" in text
    assert (
        'spamgate_smpp_bind_attempts_total{kind="transceiver",result="ok",system_id="reseller"} 1.0'
        in text
    )


# --- bad input over raw sockets, while another bind keeps working -------------------------------


def read_pdus(sock: socket.socket, count: int) -> list[Pdu]:
    reader = PduReader()
    out: list[Pdu] = []
    while len(out) < count:
        data = sock.recv(65536)
        if not data:
            break
        reader.feed(data)
        out.extend(reader)
    return out


def raw_bind(sock: socket.socket, system_id: str = "second") -> None:
    sock.sendall(
        encode(
            BindPdu(
                command_id=CommandId.BIND_TRANSCEIVER,
                sequence_number=1,
                system_id=system_id,
                password=PASSWORD,
            )
        )
    )
    (resp,) = read_pdus(sock, 1)
    assert resp.command_status == 0


def header(length: int, command_id: int, seq: int = 7) -> bytes:
    return struct.pack(">IIII", length, command_id, 0, seq)


def good_submit(seq: int, **fields: Any) -> bytes:
    fields.setdefault("short_message", encode_text(DELIVER, 8))
    return encode(
        SubmitSm(
            sequence_number=seq,
            source_addr=SENDER,
            destination_addr=RECIPIENT,
            data_coding=8,
            **fields,
        )
    )


BODY = good_submit(7)[16:]
CLOSED = -1
BAD_INPUT: dict[str, tuple[bool, bytes, int, int]] = {
    # name: (bind first, bytes, expected command_id of the answer (or CLOSED), expected status)
    "lying command_length (short)": (True, header(12, CommandId.SUBMIT_SM), CLOSED, 0),
    "oversized pdu": (True, header(9000, CommandId.SUBMIT_SM) + b"\0" * 100, CLOSED, 0),
    "huge command_length": (True, header(0xFFFFFFF0, CommandId.SUBMIT_SM), CLOSED, 0),
    "unknown command id": (True, header(16, 0x00000777), CommandId.GENERIC_NACK, S.ESME_RINVCMDID),
    "truncated body": (
        True,
        header(16 + 10, CommandId.SUBMIT_SM) + BODY[:10],
        CommandId.SUBMIT_SM_RESP,
        S.ESME_RINVCMDLEN,
    ),
    "bad c-string": (
        True,
        header(16 + 40, CommandId.SUBMIT_SM) + b"\0" + b"\x01\x01" + b"9" * 37,
        CommandId.SUBMIT_SM_RESP,
        S.ESME_RINVSRCADR,
    ),
    "submit before bind": (False, good_submit(7), CommandId.SUBMIT_SM_RESP, S.ESME_RINVBNDSTS),
    "invalid data_coding": (
        True,
        encode(
            SubmitSm(
                sequence_number=7, destination_addr=RECIPIENT, data_coding=0x09, short_message=b"ab"
            )
        ),
        CommandId.SUBMIT_SM_RESP,
        S.ESME_RINVDCS,
    ),
    "broken udh": (
        True,
        good_submit(7, esm_class=0x40, short_message=b"\x0a\x00\x03\x01\x02"),
        CommandId.SUBMIT_SM_RESP,
        S.ESME_RINVESMCLASS,
    ),
    "outbind": (
        True,
        header(18, CommandId.OUTBIND) + b"\0\0",
        CommandId.GENERIC_NACK,
        S.ESME_RINVCMDID,
    ),
}


@pytest.mark.parametrize("name", list(BAD_INPUT))
def test_bad_input_costs_only_its_own_link(
    gateway: ServerThread, sink: SinkForwarder, name: str
) -> None:
    bind_first, payload, answer_id, status = BAD_INPUT[name]
    good = client(gateway, "reseller")
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        if bind_first:
            raw_bind(sock)
        sock.sendall(payload)
        answers = read_pdus(sock, 1)
        if answer_id == CLOSED:
            assert [type(a) for a in answers] in ([GenericNack], [])
            assert sock.recv(100) == b""  # the server closed this link
        else:
            (answer,) = answers
            assert (answer.command_id, answer.command_status) == (answer_id, status)
            assert answer.sequence_number == 7
            sock.sendall(encode(EnquireLink(sequence_number=8)))  # the link still works
            assert read_pdus(sock, 1)[0].command_id == CommandId.ENQUIRE_LINK_RESP
    assert submit(good, DELIVER).status == 0  # the other bind never noticed
    close(good)
    assert [i.system_id for i in sink.items] == ["reseller"]


def test_window_overflow_is_throttled(gateway: ServerThread) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        raw_bind(sock, "small")  # window 2
        sock.sendall(b"".join(good_submit(seq) for seq in range(10, 15)))
        answers = {a.sequence_number: a.command_status for a in read_pdus(sock, 5)}
    assert sorted(answers) == list(range(10, 15))
    assert sorted(answers.values()).count(S.ESME_RTHROTTLED) == 3
    assert answers[10] == answers[11] == 0


def test_reassembly_timeout_answers_held_parts(
    test_pipeline: Pipeline, accounts: dict[str, SmppAccountConfig]
) -> None:
    """A missing part: the held part is answered SG_RINCOMPLETE when the loop timer fires.

    (The timer logic itself is tested without sleeping in test_session.py; this checks that the
    server arms the loop timer at the session's deadline.)
    """
    config = ServerConfig(session=SessionConfig(reassembly_timeout=0.2))
    server = SmppServer(
        test_pipeline, StaticAuthenticator(accounts), SinkForwarder(), config=config
    )
    parts = split_text(LONG_KOREAN, 8, ref=9)
    with (
        ServerThread(server) as gateway,
        socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock,
    ):
        raw_bind(sock)
        sock.sendall(good_submit(20, esm_class=0x40, short_message=parts[0]))
        (answer,) = read_pdus(sock, 1)
    assert (answer.sequence_number, answer.command_status) == (20, VendorStatus.SG_RINCOMPLETE)


def test_process_survives_garbage_storm(gateway: ServerThread) -> None:
    import random

    rng = random.Random(3)
    for _ in range(30):
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
            sock.sendall(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))))
            sock.shutdown(socket.SHUT_WR)
            try:
                while sock.recv(4096):
                    pass
            except ConnectionResetError:
                pass
    good = client(gateway)
    assert submit(good, DELIVER).status == 0
    close(good)


def test_message_payload_tlv_is_read(gateway: ServerThread, sink: SinkForwarder) -> None:
    c = client(gateway)
    c.send_message(
        source_addr=SENDER,
        destination_addr=RECIPIENT,
        data_coding=8,
        short_message=b"",
        message_payload=encode_text(LONG_KOREAN, 8),
    )
    assert c.read_pdu().status == 0
    close(c)
    assert sink.items[0].text == LONG_KOREAN
    assert sink.items[0].pdus[0].tlv(Tag.MESSAGE_PAYLOAD) is not None
