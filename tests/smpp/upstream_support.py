"""Helpers for the upstream tests: an asyncio reseller (our ESME session) and a whole gateway
(SMPP server → spool → drainer → carrier links, receipts back) in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry

from spamgate.config import SmppAccountConfig
from spamgate.pipeline import Pipeline
from spamgate.smpp import DeliverSm, Pdu, SubmitSm, encode_text
from spamgate.smpp.auth import StaticAuthenticator, hash_password
from spamgate.smpp.drain import Drainer, DrainerConfig
from spamgate.smpp.esme import BindAnswered, DeliverReceived, EsmeConfig, EsmeSession
from spamgate.smpp.idmap import IdMap
from spamgate.smpp.receipts import ReceiptRelay
from spamgate.smpp.routing import Route, RouteTable
from spamgate.smpp.server import ServerConfig, SmppServer
from spamgate.smpp.session import RequestFailed, ResponseReceived, SessionConfig
from spamgate.smpp.spool import SpoolForwarder
from spamgate.smpp.upstream import LinkSettings, UpstreamLink
from spamgate.smpp.upstream_metrics import UpstreamMetrics

PASSWORD = "pw"
SENDER = "0212345678"
RECIPIENT = "01098765432"
TEXT = "안녕하세요 내일 회의는 3시입니다"


def cheap_hash(password: str) -> str:
    return hash_password(password, time_cost=1, memory_kib=8, parallelism=1)


def message(text: str = TEXT, recipient: str = RECIPIENT, receipt: bool = True) -> SubmitSm:
    return SubmitSm(
        source_addr=SENDER,
        destination_addr=recipient,
        data_coding=8,
        registered_delivery=1 if receipt else 0,
        short_message=encode_text(text, 8),
    )


class Reseller(asyncio.Protocol):
    """A reseller bound as a transceiver: submits, and keeps every receipt it is sent."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.session = EsmeSession(self.loop.time(), EsmeConfig(window=50))
        self.transport: asyncio.Transport | None = None
        self.bound: asyncio.Future[int] = self.loop.create_future()
        self.receipts: list[DeliverSm] = []
        self.got_receipt = asyncio.Event()
        self.answer_delay = 0.0  # seconds before a receipt is answered (a slow reseller)

    @classmethod
    async def connect(cls, port: int, system_id: str = "reseller") -> Reseller:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(cls, "127.0.0.1", port)
        assert proto.transport is not None
        proto.transport.write(
            proto.session.bind(loop.time(), system_id=system_id, password=PASSWORD)
        )
        status = await asyncio.wait_for(proto.bound, 10)
        assert status == 0, f"bind refused 0x{status:08X}"
        return proto

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        for event in self.session.receive_data(data, self.loop.time()):
            if isinstance(event, BindAnswered) and not self.bound.done():
                self.bound.set_result(event.status)
            elif isinstance(event, ResponseReceived):
                future = event.context
                assert isinstance(future, asyncio.Future)
                if not future.done():  # a submit that timed out was cancelled
                    future.set_result(event.response)
            elif isinstance(event, RequestFailed):
                future = event.context
                assert isinstance(future, asyncio.Future)
                if not future.done():
                    future.set_exception(ConnectionError(event.reason))
            elif isinstance(event, DeliverReceived):
                assert isinstance(event.pdu, DeliverSm)
                self.receipts.append(event.pdu)
                self.got_receipt.set()
                answer = self.session.answer_deliver(event.pdu, 0)
                if self.answer_delay > 0:
                    self.loop.call_later(self.answer_delay, self.write, answer)
                else:
                    self.write(answer)
        self.write(self.session.data_to_send())

    def write(self, data: bytes) -> None:
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    async def submit(self, pdu: SubmitSm) -> Pdu:
        while not self.session.can_submit:
            await asyncio.sleep(0.001)
        future: asyncio.Future[Pdu] = self.loop.create_future()
        _, data = self.session.submit(pdu, self.loop.time(), future)
        self.write(data)
        return await asyncio.wait_for(future, 30)

    async def wait_receipts(self, count: int, timeout: float = 30.0) -> list[DeliverSm]:
        deadline = self.loop.time() + timeout
        while len(self.receipts) < count and self.loop.time() < deadline:
            self.got_receipt.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.got_receipt.wait(), 0.05)
        return self.receipts

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


@dataclass
class Gateway:
    server: SmppServer
    spool: SpoolForwarder
    links: dict[str, UpstreamLink]
    idmap: IdMap
    relay: ReceiptRelay
    drainer: Drainer
    metrics: UpstreamMetrics
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    @property
    def port(self) -> int:
        return self.server.port

    def sample(self, name: str, **labels: str) -> float:
        value = self.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value


def link_settings(name: str, port: int, carrier: str = "SKT", **kw: object) -> LinkSettings:
    values: dict[str, object] = {
        "name": name,
        "host": "127.0.0.1",
        "port": port,
        "system_id": "gw",
        "password": "gwpw",
        "carrier": carrier,
        "window": 50,
        "reconnect_min": 0.02,
        "reconnect_max": 0.2,
        "response_timeout": 2.0,
    }
    values.update(kw)
    return LinkSettings(**values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running_gateway(
    tmp_path: Path,
    pipeline: Pipeline,
    links: Sequence[LinkSettings],
    *,
    drainer_config: DrainerConfig | None = None,
    receipt_retry: float = 0.02,
    default: str | None = None,
    out_window: int = 100,
) -> AsyncIterator[Gateway]:
    registry = CollectorRegistry()
    metrics = UpstreamMetrics(registry)
    spool = SpoolForwarder(tmp_path / "spool" / "smpp.wal")
    accounts = {
        "reseller": SmppAccountConfig(password_hash=cheap_hash(PASSWORD)),
        "other": SmppAccountConfig(password_hash=cheap_hash(PASSWORD)),
    }
    server = SmppServer(
        pipeline,
        StaticAuthenticator(accounts),
        spool,
        config=ServerConfig(
            session=SessionConfig(enquire_link_interval=None, out_window=out_window), node_id="g"
        ),
    )
    upstream = {s.name: UpstreamLink(s, metrics=metrics) for s in links}
    routes = RouteTable([Route(s.name, s.carrier, s.weight) for s in links], default=default)
    idmap = IdMap(tmp_path / "spool" / "upstream.db")
    await idmap.open()
    relay = ReceiptRelay(idmap, server, metrics=metrics, retry_min=receipt_retry, retry_max=0.2)
    drainer = Drainer(
        spool,
        upstream,
        routes,
        idmap,
        relay,
        config=drainer_config or DrainerConfig(concurrency=32, retry_min=0.01, retry_max=0.1),
        metrics=metrics,
        rng=random.Random(11),
    )
    for link in upstream.values():
        link.on_deliver = relay.on_carrier_deliver
        link.start()
    await relay.start()
    await drainer.start()
    await server.start("127.0.0.1", 0)
    gateway = Gateway(server, spool, upstream, idmap, relay, drainer, metrics, registry)
    try:
        yield gateway
    finally:
        await drainer.close()
        for link in upstream.values():
            await link.close(timeout=0.5)
        await relay.close()
        await server.close(timeout=1.0)
        await idmap.close()
        spool.close()
        await asyncio.sleep(0.01)  # let closed transports release their sockets
