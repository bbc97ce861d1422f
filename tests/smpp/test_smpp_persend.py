"""Per-send authentication over SMPP: the SPAMGATE_SEND_PROOF TLV, from our ESME and smpplib."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gate_support import PASSWORD, RECIPIENT, TEXT, Esme, Gateway, start_gateway

from registry_support import build_chain
from spamgate.checks.registry_view import SendAuth
from spamgate.domain.message import SendProof
from spamgate.registry.gateway import GatewayStanding, SmppLogin
from spamgate.registry.persend import new_nonce
from spamgate.registry.service import Registry
from spamgate.smpp import CommandStatus, SmeAddress, SubmitMulti, SubmitSm, Tlv, encode_text
from spamgate.smpp.auth import BindDecision, RegistryAuthenticator
from spamgate.smpp.gate import PreverifiedSource, SendGate
from spamgate.smpp.mapping import status_for
from spamgate.smpp.proof import MAX_PROOF_OCTETS, find_proof, parse_proof, signed_recipient
from spamgate.smpp.vendor import VendorStatus, VendorTag

S = CommandStatus
AUTHFAIL = VendorStatus.SG_RAUTHFAIL


@pytest.fixture
def gateway(sqlite_registry: Registry) -> Iterator[Gateway]:
    gw = start_gateway(sqlite_registry)
    yield gw
    gw.thread.__exit__()


@pytest.fixture
def esme(gateway: Gateway) -> Iterator[Esme]:
    client = Esme(gateway.port)
    assert client.bind(gateway.system_id) == S.ESME_ROK
    yield client
    client.close()


def test_good_proof_is_accepted_and_not_forwarded(gateway: Gateway, esme: Esme) -> None:
    resp = esme.submit(tlvs=[gateway.proof()])
    assert resp.command_status == S.ESME_ROK
    (item,) = gateway.sink.items
    assert item.account == str(gateway.chain.account)
    assert item.verdict.action.value == "deliver"
    assert all(find_proof(p) is None for p in item.pdus)  # the proof stays at the gateway


def test_missing_proof_on_a_registry_bind(esme: Esme) -> None:
    assert esme.submit().command_status == AUTHFAIL


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"garbage",
        b"1;2;short;abc",
        b"1;1795669200;" + b"n" * 22 + b";" + b"G" * 64,
        b"x" * 300,
    ],
)
def test_malformed_proof(esme: Esme, value: bytes) -> None:
    tlv = Tlv(VendorTag.SPAMGATE_SEND_PROOF, value)
    assert esme.submit(tlvs=[tlv]).command_status == AUTHFAIL


def test_wrong_secret_and_tampered_fields(gateway: Gateway, esme: Esme) -> None:
    assert esme.submit(tlvs=[gateway.proof(secret="0" * 64)]).command_status == AUTHFAIL
    # Signed for another text, sender or recipient than the one sent:
    assert esme.submit(tlvs=[gateway.proof("다른 문자")]).command_status == AUTHFAIL
    assert esme.submit(tlvs=[gateway.proof(sender="0311112222")]).command_status == AUTHFAIL
    assert esme.submit(tlvs=[gateway.proof(recipients=["01011112222"])]).command_status == AUTHFAIL
    assert not gateway.sink.items


def test_replayed_proof(gateway: Gateway, esme: Esme) -> None:
    proof = gateway.proof(nonce=new_nonce())
    assert esme.submit(tlvs=[proof]).command_status == S.ESME_ROK
    assert esme.submit(tlvs=[proof]).command_status == AUTHFAIL
    assert len(gateway.sink.items) == 1


@pytest.mark.parametrize("skew", [-301, 301])
def test_stale_proof(gateway: Gateway, esme: Esme, skew: int) -> None:
    now = int(gateway.registry.clock().timestamp())
    assert esme.submit(tlvs=[gateway.proof(timestamp=now + skew)]).command_status == AUTHFAIL
    assert esme.submit(tlvs=[gateway.proof(timestamp=now + 200)]).command_status == S.ESME_ROK


def test_another_resellers_account_is_refused(gateway: Gateway, esme: Esme) -> None:
    other = build_chain(gateway.registry, sender="0311112222")
    # A perfectly valid proof — but for an account of another reseller.
    proof = gateway.proof(account=other.account, secret=other.send_secret, sender=other.sender)
    assert esme.submit(tlvs=[proof], sender=other.sender).command_status == AUTHFAIL
    # ... answered exactly like an account that does not exist (no existence leak).
    proof = gateway.proof(account=999_999, secret=other.send_secret)
    assert esme.submit(tlvs=[proof]).command_status == AUTHFAIL


def test_unregistered_sender_with_a_good_proof_is_judged_by_the_registry(
    gateway: Gateway, esme: Esme
) -> None:
    proof = gateway.proof(sender="0311119999")
    resp = esme.submit(tlvs=[proof], sender="0311119999")
    assert resp.command_status == S.ESME_RINVSRCADR  # SENDER_NOT_REGISTERED


def test_proof_parsing_and_signed_recipient() -> None:
    sig = "a" * 64
    parsed = parse_proof(f"12;1795669200;{'n' * 22};{sig}\0".encode())
    assert parsed is not None
    assert parsed.account == "12"
    assert parsed.proof == SendProof(timestamp=1795669200, nonce="n" * 22, signature=sig)
    assert parse_proof(b"12;1795669200;" + b"n" * 22 + b";" + sig.upper().encode()) is None
    assert parse_proof(("1" * (MAX_PROOF_OCTETS)).encode()) is None
    assert parse_proof("12;1;ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ가나;x".encode()) is None
    multi = SubmitMulti(
        source_addr="0212345678",
        dest_addresses=(SmeAddress(destination_addr="010 1"), SmeAddress(destination_addr="0102")),
    )
    assert signed_recipient(multi) == "010 1,0102"
    assert signed_recipient(SubmitSm(destination_addr=" 0103 ")) == "0103"


def test_smpplib_esme_can_send_the_proof(gateway: Gateway, monkeypatch: Any) -> None:
    """smpplib knows no vendor TLVs; registering ours in its tables is all a client needs."""
    smpplib_client = pytest.importorskip("smpplib.client")
    smpplib_command = pytest.importorskip("smpplib.command")
    smpplib_consts = pytest.importorskip("smpplib.consts")
    smpplib_smpp = pytest.importorskip("smpplib.smpp")
    name = "spamgate_send_proof"
    monkeypatch.setitem(smpplib_consts.OPTIONAL_PARAMS, name, int(VendorTag.SPAMGATE_SEND_PROOF))
    submit = smpplib_command.SubmitSM
    monkeypatch.setattr(
        submit, "params", {**submit.params, name: smpplib_command.Param(type=smpplib_command.ostr)}
    )
    monkeypatch.setattr(submit, "params_order", (*submit.params_order, name))
    client = smpplib_client.Client(
        "127.0.0.1", gateway.port, timeout=5, allow_unknown_opt_params=True
    )
    client.connect()
    try:
        client.bind_transceiver(system_id=gateway.system_id, password=PASSWORD)
        for value, expected in ((gateway.proof().value, S.ESME_ROK), (b"junk", AUTHFAIL)):
            pdu = smpplib_smpp.make_pdu(
                "submit_sm",
                client=client,
                source_addr=gateway.chain.sender,
                destination_addr=RECIPIENT,
                data_coding=8,
                short_message=encode_text(TEXT, 8),
                **{name: value},
            )
            client.send_pdu(pdu)
            resp = client.read_pdu()
            assert resp.status == expected
        client.unbind()
    finally:
        client.disconnect()


class _Logins(RegistryAuthenticator):
    """A standing set by the test (no registry behind it)."""

    def __init__(self, standing: GatewayStanding) -> None:
        self.standing = standing


def test_gate_refuses_a_reseller_whose_cached_standing_is_suspended() -> None:
    login = SmppLogin("r1", 7, "Reseller", "suspended", None)
    gate = SendGate(logins=_Logins(GatewayStanding(logins={"r1": login})))
    decision = BindDecision(status=0, operator_id=7)
    pdu = SubmitSm(source_addr="0212345678", destination_addr=RECIPIENT)
    verdict = gate.check(decision, "r1", pdu, TEXT)
    assert not isinstance(verdict, type(None))
    assert status_for(verdict) == VendorStatus.SG_RNOTCERTIFIED  # type: ignore[arg-type]
    # A static login (no operator) is not subject to the registry standing.
    passed = gate.check(BindDecision(status=0), "r1", pdu, TEXT)
    assert passed.account is None  # type: ignore[union-attr]


def test_preverified_view_answers_only_for_remembered_proofs(sqlite_registry: Registry) -> None:
    chain = build_chain(sqlite_registry)
    source = PreverifiedSource(sqlite_registry)
    from spamgate.domain.message import KST, Message

    now = sqlite_registry.clock()
    ts = int(now.timestamp())
    nonce = new_nonce()
    account = str(chain.account)
    proof = SendProof(ts, nonce, "0" * 64)  # a wrong signature: only "remember" makes it OK
    message = Message(TEXT, now.astimezone(KST), recipient=RECIPIENT, account=account, auth=proof)
    assert source.view().authenticate(message) is SendAuth.BAD_SIGNATURE
    source.remember(account, nonce, times=2)
    assert source.view().authenticate(message) is SendAuth.OK
    source.forget(account, nonce)
    assert source.view().authenticate(message) is SendAuth.OK
    source.forget(account, nonce)
    assert source.view().authenticate(message) is SendAuth.BAD_SIGNATURE
    assert not source.verified


def _pipelined(esme: Esme, pdus: list[SubmitSm]) -> dict[int, int]:
    """Send all ``pdus`` in one write (one judge batch), then read every answer: by seq."""
    import socket as _socket

    from spamgate.smpp import encode

    esme.sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
    esme.sock.sendall(b"".join(encode(p) for p in pdus))
    answers = [esme.read() for _ in pdus]
    return {a.sequence_number: a.command_status for a in answers}


def test_proofs_of_one_batch_are_checked_together_and_a_replay_in_it_is_refused(
    gateway: Gateway, esme: Esme
) -> None:
    """The gate checks a batch's proofs in one call; the same nonce twice in one batch is
    still a replay, and a bad proof costs only its own message."""
    replayed = gateway.proof(nonce=new_nonce())
    good = [gateway.proof(nonce=new_nonce()) for _ in range(3)]
    bad = gateway.proof(secret="0" * 64)
    pdus = [esme.message(tlvs=[tlv]) for tlv in (replayed, replayed, *good, bad)]
    statuses = _pipelined(esme, pdus)
    first, second, *rest = (statuses[p.sequence_number] for p in pdus)
    assert sorted([first, second]) == sorted([S.ESME_ROK, AUTHFAIL])
    assert rest == [S.ESME_ROK] * 3 + [AUTHFAIL]
    assert len(gateway.sink.items) == 4
    gate = gateway.thread.server.gate
    assert gate is not None and gate.registry is not None
    assert not gate.registry.verified  # every verified proof forgotten once answered


def test_gate_verifies_in_a_thread_when_the_nonce_store_is_shared(
    sqlite_registry: Registry,
) -> None:
    """With a nonce store over the network (Redis), the batch's proofs are checked in a
    worker thread: the event loop never waits on the store."""
    import asyncio
    import threading

    from spamgate.domain.message import KST, Message

    chain = build_chain(sqlite_registry)
    threads: list[str] = []

    class _Source(PreverifiedSource):
        def __init__(self) -> None:
            super().__init__(sqlite_registry)
            real = self.inner

            class _Inner:
                def view(self) -> Any:
                    inner_view = real.view()

                    class _View:
                        def __getattr__(self, name: str) -> Any:
                            return getattr(inner_view, name)

                        def authenticate_many(self, messages: Any) -> Any:
                            threads.append(threading.current_thread().name)
                            return inner_view.authenticate_many(messages)  # type: ignore[attr-defined]

                    return _View()

            self.inner = _Inner()

    now = sqlite_registry.clock()
    message = Message(
        TEXT, now.astimezone(KST), recipient=RECIPIENT, account=str(chain.account),
        auth=SendProof(int(now.timestamp()), new_nonce(), "0" * 64),
    )  # fmt: skip
    for in_thread in (False, True):
        gate = SendGate(registry=_Source(), verify_in_thread=in_thread)
        (refusal,) = asyncio.run(gate.verify([message]))
        assert refusal is not None and refusal.symbols[0].name == "PER_SEND_AUTH_FAILED"
    main = threading.main_thread().name
    assert threads[0] == main and threads[1] != main
