"""Shared pieces of the gateway-enforcement tests: a registry-backed SMPP server on its own loop,
and a small blocking ESME built on our codec (it can add any TLV)."""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry

from registry_support import Chain, build_chain
from spamgate.config import SmppAccountConfig, load_policy
from spamgate.domain.message import KST
from spamgate.pipeline import Pipeline
from spamgate.registry.auth import SYSTEM
from spamgate.registry.persend import new_nonce
from spamgate.registry.service import Registry
from spamgate.smpp import (
    BindPdu,
    CommandId,
    Pdu,
    PduReader,
    SmeAddress,
    SubmitMulti,
    SubmitSm,
    Tlv,
    encode,
    encode_text,
)
from spamgate.smpp.auth import (
    ChainAuthenticator,
    Lockout,
    RegistryAuthenticator,
    StaticAuthenticator,
    hash_password,
)
from spamgate.smpp.forward import SinkForwarder
from spamgate.smpp.gate import PreverifiedSource, SendGate
from spamgate.smpp.metrics import SmppMetrics
from spamgate.smpp.proof import make_proof_tlv
from spamgate.smpp.ratelimit import RateTable, SendLimiter
from spamgate.smpp.server import ServerConfig, SmppServer
from spamgate.smpp.session import SessionConfig

T = TypeVar("T")
PASSWORD = "pw1234"
STATIC_PASSWORD = "static1"
RECIPIENT = "01098765432"
TEXT = "안녕하세요 내일 회의는 3시입니다"
DAYTIME = datetime(2026, 11, 26, 14, 0, tzinfo=KST)
_system_ids = itertools.count(1)


class ServerThread:
    """An ``SmppServer`` on its own loop in a thread, driven from blocking test code."""

    def __init__(self, server: SmppServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        self.call(self.server.start("127.0.0.1", 0))
        return self

    def __exit__(self, *exc: object) -> None:
        self.call(self.server.close(timeout=1.0))

        async def _drain() -> None:  # let the limiter's expiry task end with the loop
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        self.call(_drain())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    @property
    def port(self) -> int:
        return self.server.port


@dataclass
class Gateway:
    """A running gateway on a registry, with a certified reseller that has an SMPP login."""

    thread: ServerThread
    registry: Registry
    chain: Chain
    system_id: str
    sink: SinkForwarder
    metrics: SmppMetrics
    logins: RegistryAuthenticator
    limiter: SendLimiter | None

    @property
    def port(self) -> int:
        return self.thread.port

    def proof(
        self,
        text: str = TEXT,
        *,
        recipients: Sequence[str] = (RECIPIENT,),
        sender: str | None = None,
        account: int | str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
        nonce: str | None = None,
    ) -> Tlv:
        now = int(self.registry.clock().timestamp())
        return make_proof_tlv(
            secret or self.chain.send_secret,
            account=str(account if account is not None else self.chain.account),
            text=text,
            timestamp=now if timestamp is None else timestamp,
            nonce=nonce or new_nonce(),
            sender=self.chain.sender if sender is None else sender,
            recipients=recipients,
        )


def give_login(registry: Registry, chain: Chain, password: str = PASSWORD) -> str:
    system_id = f"res{next(_system_ids)}"
    registry.set_smpp_login(SYSTEM, chain.reseller, system_id=system_id, password=password)
    return system_id


def start_gateway(
    registry: Registry,
    *,
    refresh: float = 0.2,
    rates: RateTable | None = None,
    static: dict[str, SmppAccountConfig] | None = None,
    max_failures: int = 3,
) -> Gateway:
    chain = build_chain(registry)
    system_id = give_login(registry, chain)
    pipeline = Pipeline(
        load_policy(), model=None, url_model=None, registry=registry, clock=lambda: DAYTIME
    )
    lockouts = Lockout(max_failures=max_failures, window=60, lockout=60)
    logins = RegistryAuthenticator(registry, refresh=refresh, lockouts=lockouts)
    static_auth = StaticAuthenticator(static or {}, lockouts=lockouts)
    limiter = SendLimiter(rates) if rates is not None else None
    gate = SendGate(logins=logins, registry=PreverifiedSource(registry), limiter=limiter)
    sink = SinkForwarder()
    metrics = SmppMetrics(CollectorRegistry())
    server = SmppServer(
        pipeline,
        ChainAuthenticator(logins, static_auth),
        sink,
        config=ServerConfig(session=SessionConfig(max_pdu_size=8192), node_id="g"),
        metrics=metrics,
        gate=gate,
    )
    thread = ServerThread(server).__enter__()
    return Gateway(thread, registry, chain, system_id, sink, metrics, logins, limiter)


def cheap_hash(password: str) -> str:
    return hash_password(password, time_cost=1, memory_kib=8, parallelism=1)


class Esme:
    """A blocking ESME on our codec: bind, submit any PDU, read the answer."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.reader = PduReader()
        self.seq = itertools.count(1)
        self.pending: list[Pdu] = []

    def close(self) -> None:
        self.sock.close()

    def send(self, pdu: Pdu) -> None:
        self.sock.sendall(encode(pdu))

    def read(self) -> Pdu:
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed by the gateway")
            self.reader.feed(data)
            self.pending.extend(self.reader)
        return self.pending.pop(0)

    def request(self, pdu: Pdu) -> Pdu:
        self.send(pdu)
        return self.read()

    def bind(self, system_id: str, password: str = PASSWORD) -> int:
        resp = self.request(
            BindPdu(
                command_id=CommandId.BIND_TRANSCEIVER,
                sequence_number=next(self.seq),
                system_id=system_id,
                password=password,
            )
        )
        return resp.command_status

    def submit(
        self,
        text: str = TEXT,
        *,
        tlvs: Sequence[Tlv] = (),
        sender: str = "0212345678",
        recipient: str = RECIPIENT,
    ) -> Pdu:
        return self.request(self.message(text, tlvs=tlvs, sender=sender, recipient=recipient))

    def message(
        self,
        text: str = TEXT,
        *,
        tlvs: Sequence[Tlv] = (),
        sender: str = "0212345678",
        recipient: str = RECIPIENT,
    ) -> SubmitSm:
        """The next submit_sm (UCS-2), numbered, not sent."""
        return SubmitSm(
            sequence_number=next(self.seq),
            source_addr=sender,
            destination_addr=recipient,
            data_coding=8,
            short_message=encode_text(text, 8),
            tlvs=tuple(tlvs),
        )

    def submit_multi(
        self,
        recipients: Sequence[str | SmeAddress | Any],
        text: str = TEXT,
        *,
        tlvs: Sequence[Tlv] = (),
        sender: str = "0212345678",
    ) -> Pdu:
        dests = tuple(
            SmeAddress(destination_addr=r) if isinstance(r, str) else r for r in recipients
        )
        return self.request(
            SubmitMulti(
                sequence_number=next(self.seq),
                source_addr=sender,
                dest_addresses=dests,
                data_coding=8,
                short_message=encode_text(text, 8),
                tlvs=tuple(tlvs),
            )
        )
