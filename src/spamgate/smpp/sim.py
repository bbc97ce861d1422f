"""Simulators for tests and benchmarks: an SMSC sink and an ESME load generator (loopback use).

``SimSmsc`` is an SMSC built on the same ``SmscSession`` as the gateway: it binds any client (or
only the given system_id/password), answers submit_sm with a message_id (``id_prefix`` and a
counter) after ``delay_ms``, fails a share of them (``fail_rate``: ``fail_status``, by default
ESME_RSUBMITFAIL), drops the connection instead of answering for another share (``drop_rate``),
and sends a delivery receipt (deliver_sm, esm_class 0x04) for every accepted message that asked
for one, on the same bind when it can receive, else on a receiver bind of the same system_id —
after ``receipt_delay_ms``, or before the submit_sm_resp with ``receipt_first`` (seen on real
SMSCs under load). Receipts no bind has window room for wait in a queue; one refused
(deliver_sm_resp error) or cut off is queued again, as real SMSCs retry. ``accepted_keys``
counts accepted messages per ``SPAMGATE_MESSAGE_ID`` TLV: how often each of spamgate's messages
arrived.

``run_load`` is a load generator speaking our own codec: it binds as a transmitter (over
``connections`` links), sends ``count`` submit_sm at ``rate`` per second with at most ``window``
unanswered per link, and measures each submit_sm → submit_sm_resp time. ``LoadResult`` has the
histogram and the summary that ``spamgate sim esme`` prints.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import secrets
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from spamgate.smpp.batched import BatchedWriter
from spamgate.smpp.encoding import encode_text
from spamgate.smpp.errors import EncodingError
from spamgate.smpp.pdu import (
    ESM_CLASS_DELIVERY_RECEIPT,
    BindPdu,
    CommandId,
    CommandStatus,
    DeliverSm,
    DeliverSmResp,
    EnquireLinkResp,
    MessageState,
    PduReader,
    SubmitSm,
    Tag,
    Tlv,
    Unbind,
    encode,
    renumbered,
    updated,
)
from spamgate.smpp.proof import make_proof_tlv
from spamgate.smpp.receipt import Receipt, format_receipt
from spamgate.smpp.session import (
    BindRequested,
    RequestFailed,
    ResponseReceived,
    SessionConfig,
    SmscSession,
    SubmitReceived,
)
from spamgate.smpp.vendor import VendorTag

__all__ = ["BUCKETS_MS", "LoadResult", "SimSmsc", "SimStats", "run_load"]

log = logging.getLogger(__name__)
_S = CommandStatus


@dataclass(slots=True)
class SimStats:
    binds: int = 0
    submits: int = 0
    accepted: int = 0
    failed: int = 0
    dropped: int = 0
    receipts: int = 0
    receipts_retried: int = 0


class _SimConnection(asyncio.Protocol):
    def __init__(self, sim: SimSmsc) -> None:
        self.sim = sim
        self.loop = asyncio.get_running_loop()
        config = SessionConfig(
            window=sim.window,
            out_window=sim.window,
            idle_timeout=None,
            enquire_link_interval=None,
        )
        self.session = SmscSession(self.loop.time(), config)
        self.transport: asyncio.Transport | None = None
        self._writer = BatchedWriter(self.loop)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = self._writer.transport = transport
        self.sim._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.sim._connections.discard(self)
        self.sim._on_receipt_events(self, self.session.connection_lost())

    def write(self, data: bytes) -> None:
        """Queue ``data``: one send per loop iteration (a real SMSC's answers and receipts come
        in bursts too)."""
        self._writer.write(data)

    def flush(self) -> None:
        self.write(self.session.data_to_send())
        if self.session.closed and self.transport is not None:
            self._writer.flush_now()
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        now = self.loop.time()
        for event in self.session.receive_data(data, now):
            if isinstance(event, BindRequested):
                ok = self.sim.system_id is None or (
                    event.system_id == self.sim.system_id and event.password == self.sim.password
                )
                if ok:
                    self.sim.stats.binds += 1
                    self.write(self.session.accept_bind(event, now))
                else:
                    self.write(self.session.reject_bind(event, _S.ESME_RINVPASWD))
            elif isinstance(event, SubmitReceived):
                self.sim.stats.submits += 1
                if self.sim.delay > 0:
                    self.loop.call_later(self.sim.delay, self._answer, event)
                else:
                    self._answer(event)
            elif isinstance(event, ResponseReceived | RequestFailed):
                self.sim._on_receipt_events(self, [event])
        self.flush()
        self.sim._pump()

    def _answer(self, event: SubmitReceived) -> None:
        sim = self.sim
        if self.session.closed:
            return
        roll = sim.rng.random()
        if roll < sim.drop_rate:
            sim.stats.dropped += 1
            if self.transport is not None:
                self.transport.abort()
            return
        if roll < sim.drop_rate + sim.fail_rate:
            sim.stats.failed += 1
            self.write(self.session.respond(event, sim.fail_status))
            self.flush()
            return
        ids = [f"{sim.id_prefix}{next(sim.ids):010d}" for _ in event.pdus]
        sim.stats.accepted += 1
        key = event.pdu.tlv(VendorTag.SPAMGATE_MESSAGE_ID)
        sim.accepted_keys[key.value.rstrip(b"\0").decode("latin-1") if key else ""] += 1
        wants_receipt = sim.receipts and event.pdu.registered_delivery & 0x01
        if wants_receipt and sim.receipt_first:
            # The receipt overtakes the submit_sm_resp (seen on real SMSCs under load).
            for message_id in ids:
                sim._send_receipt(self, event, message_id)
        self.write(self.session.respond(event, 0, message_ids=ids))
        self.flush()
        if wants_receipt and not sim.receipt_first:
            for message_id in ids:
                if sim.receipt_delay > 0:
                    self.loop.call_later(
                        sim.receipt_delay, sim._send_receipt, self, event, message_id
                    )
                else:  # sent with the next pump: at the latest, the end of this read
                    sim._send_receipt(self, event, message_id, pump_now=False)


class SimSmsc:
    """The SMSC sink. ``await start(host, port)``; ``stats`` counts what happened."""

    def __init__(
        self,
        *,
        delay_ms: float = 0.0,
        fail_rate: float = 0.0,
        drop_rate: float = 0.0,
        receipts: bool = True,
        receipt_delay_ms: float = 0.0,
        system_id: str | None = None,
        password: str = "",
        window: int = 1000,
        seed: int = 1,
        id_prefix: str = "sim",
        receipt_first: bool = False,
        fail_status: int = CommandStatus.ESME_RSUBMITFAIL,
    ) -> None:
        if not 0 <= fail_rate + drop_rate <= 1:
            raise ValueError("fail_rate + drop_rate must be within 0..1")
        self.delay = delay_ms / 1000
        self.fail_rate = fail_rate
        self.drop_rate = drop_rate
        self.receipts = receipts
        self.receipt_delay = receipt_delay_ms / 1000
        self.system_id = system_id
        self.password = password
        self.window = window
        self.rng = random.Random(seed)  # noqa: S311 - simulation, not security
        self.ids = itertools.count(1)
        self.stats = SimStats()
        self._receipt_queues: dict[str | None, deque[tuple[DeliverSm, _SimConnection]]] = {}
        self._pump_soon = False  # a _pump is scheduled
        self.id_prefix = id_prefix
        self.fail_status = fail_status
        self.receipt_first = receipt_first
        #: Accepted messages per SPAMGATE_MESSAGE_ID (the dedupe key; "" when absent).
        self.accepted_keys: Counter[str] = Counter()
        self._connections: set[_SimConnection] = set()
        self._server: asyncio.Server | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _SimConnection(self), host, port)

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the simulator is not listening")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            if conn.transport is not None:
                conn.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        await asyncio.sleep(0)  # let the aborted transports release their sockets

    def _send_receipt(
        self,
        origin: _SimConnection,
        event: SubmitReceived,
        message_id: str,
        *,
        pump_now: bool = True,
    ) -> None:
        pdu = event.pdu
        now = datetime.now()
        text = format_receipt(
            Receipt(message_id=message_id, submit_date=now, done_date=now, stat="DELIVRD")
        )
        receipt = DeliverSm(
            source_addr=event.recipients[0] if event.recipients else "",
            destination_addr=pdu.source_addr,
            esm_class=ESM_CLASS_DELIVERY_RECEIPT,
            short_message=text.encode("ascii"),
            tlvs=(
                Tlv.from_cstr(Tag.RECEIPTED_MESSAGE_ID, message_id),
                Tlv.from_int(Tag.MESSAGE_STATE, MessageState.DELIVERED),
            ),
        )
        self._queue_receipt(origin, receipt)
        if pump_now:
            self._pump()
        elif not self._pump_soon:
            self._pump_soon = True
            asyncio.get_running_loop().call_soon(self._pump)

    def _queue_receipt(self, origin: _SimConnection, receipt: DeliverSm) -> None:
        self._receipt_queues.setdefault(origin.session.system_id, deque()).append((receipt, origin))

    def _pump(self) -> None:
        """Send queued receipts, each on its origin bind if it can take one, else on another
        bind of the same system_id; what no bind can take now waits for window room."""
        self._pump_soon = False
        for system_id, queue in self._receipt_queues.items():
            binds = [c for c in self._connections if c.session.system_id == system_id]
            while queue and binds:
                receipt, origin = queue[0]
                conn = origin if origin in binds and origin.session.can_deliver else None
                if conn is None:
                    conn = next((c for c in binds if c.session.can_deliver), None)
                    if conn is None:
                        break
                queue.popleft()
                _, data = conn.session.send_deliver_sm(receipt, conn.loop.time(), receipt)
                conn.write(data)
                self.stats.receipts += 1

    def _on_receipt_events(self, conn: _SimConnection, events: Sequence[object]) -> None:
        """A receipt refused, unanswered or cut off goes back to the queue (as SMSCs retry)."""
        for event in events:
            if not isinstance(event, ResponseReceived | RequestFailed):
                continue
            receipt = event.context
            failed = isinstance(event, RequestFailed) or event.status != _S.ESME_ROK
            if failed and isinstance(receipt, DeliverSm):
                self.stats.receipts_retried += 1
                self._queue_receipt(conn, receipt)


# --- load generator -----------------------------------------------------------------------------

#: Latency histogram bucket upper bounds, milliseconds.
BUCKETS_MS: tuple[float, ...] = (0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, float("inf"))


@dataclass(slots=True)
class LoadResult:
    sent: int = 0
    answered: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    receipts: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    def histogram(self) -> list[tuple[str, int]]:
        counts = [0] * len(BUCKETS_MS)
        for value in self.latencies_ms:
            for i, bound in enumerate(BUCKETS_MS):
                if value <= bound:
                    counts[i] += 1
                    break
        labels = [f"≤ {b:g} ms" if b != float("inf") else "> 1000 ms" for b in BUCKETS_MS]
        return list(zip(labels, counts, strict=True))


class _Esme(asyncio.Protocol):
    def __init__(self, result: LoadResult, window: int) -> None:
        self.loop = asyncio.get_running_loop()
        self.result = result
        self.reader = PduReader()
        self.transport: asyncio.Transport | None = None
        self.sent_at: dict[int, float] = {}
        self.window = window
        self.room = asyncio.Event()
        self.room.set()
        self.bound: asyncio.Future[int] = self.loop.create_future()
        self.unbound: asyncio.Future[None] = self.loop.create_future()
        self.closed: asyncio.Future[None] = self.loop.create_future()
        self.seq = 1
        self._writer = BatchedWriter(self.loop)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = self._writer.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.bound.done():
            self.bound.set_exception(ConnectionError("connection lost before the bind answer"))
        for future in (self.unbound, self.closed):
            if not future.done():
                future.set_result(None)
        self.room.set()

    def send(self, data: bytes) -> None:
        """Queue ``data``; one send per loop iteration (a busy ESME's submits go out in bursts)."""
        self._writer.write(data)

    def submit(self, pdu: SubmitSm) -> None:
        self.seq += 1
        seq = self.seq
        self.sent_at[seq] = time.perf_counter()
        self.send(encode(_with_seq(pdu, seq)))
        self.result.sent += 1
        if len(self.sent_at) >= self.window:
            self.room.clear()

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        now = time.perf_counter()
        result = self.result
        try:
            for pdu in self.reader:
                cid = pdu.command_id
                if cid == CommandId.SUBMIT_SM_RESP or cid == CommandId.GENERIC_NACK:
                    sent = self.sent_at.pop(pdu.sequence_number, None)
                    if sent is not None:
                        result.answered += 1
                        result.statuses[pdu.command_status] += 1
                        result.latencies_ms.append((now - sent) * 1000)
                        if len(self.sent_at) < self.window:
                            self.room.set()
                elif cid in (
                    CommandId.BIND_TRANSMITTER_RESP,
                    CommandId.BIND_TRANSCEIVER_RESP,
                ):
                    if not self.bound.done():
                        self.bound.set_result(pdu.command_status)
                elif cid == CommandId.ENQUIRE_LINK:
                    self.send(encode(EnquireLinkResp(sequence_number=pdu.sequence_number)))
                elif cid == CommandId.DELIVER_SM:
                    result.receipts += 1
                    self.send(encode(DeliverSmResp(sequence_number=pdu.sequence_number)))
                elif cid == CommandId.UNBIND_RESP and not self.unbound.done():
                    self.unbound.set_result(None)
        except Exception as exc:  # a broken peer: record and stop this link
            result.errors.append(str(exc))
            if self.transport is not None:
                self.transport.abort()


def _with_seq(pdu: SubmitSm, seq: int) -> SubmitSm:
    return renumbered(pdu, seq)


def _message(
    text: str, data_coding: int, sender: str, recipient: str, registered_delivery: int
) -> SubmitSm:
    """One submit_sm; a text over 254 octets travels in message_payload."""
    data = encode_text(text, data_coding)
    long = len(data) > 254
    return SubmitSm(
        source_addr=sender,
        destination_addr=recipient,
        data_coding=data_coding,
        registered_delivery=registered_delivery,
        short_message=b"" if long else data,
        tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, data),) if long else (),
    )


async def run_load(
    host: str,
    port: int,
    *,
    rate: float,
    count: int,
    system_id: str,
    password: str,
    texts: Sequence[str] = ("안녕하세요 내일 회의는 3시입니다",),
    data_coding: int = 0x08,
    window: int = 100,
    connections: int = 1,
    sender: str = "0212345678",
    recipient: str = "01098765432",
    registered_delivery: int = 0,
    timeout: float = 30.0,
    account: str | None = None,
    send_secret: str | None = None,
) -> LoadResult:
    """Bind, send ``count`` messages at ``rate``/s (0: as fast as the window allows), unbind.

    With ``account`` and ``send_secret`` every message carries a fresh per-send proof TLV (as a
    registry bind requires); the signing cost is part of the measured client time.
    """
    if (account is None) != (send_secret is None):
        raise ValueError("account and send_secret go together")
    loop = asyncio.get_running_loop()
    result = LoadResult()
    links: list[_Esme] = []
    for _ in range(connections):
        _, esme = await loop.create_connection(lambda: _Esme(result, window), host, port)
        esme.send(
            encode(
                BindPdu(
                    command_id=CommandId.BIND_TRANSCEIVER
                    if registered_delivery
                    else CommandId.BIND_TRANSMITTER,
                    sequence_number=1,
                    system_id=system_id,
                    password=password,
                )
            )
        )
        status = await asyncio.wait_for(esme.bound, timeout)
        if status:
            raise ConnectionRefusedError(f"bind refused with status 0x{status:08X}")
        links.append(esme)
    messages: list[tuple[str, SubmitSm]] = []  # (text, its PDU): the proof signs the text
    for text in texts:
        try:
            pdu = _message(text, data_coding, sender, recipient, registered_delivery)
            messages.append((text, pdu))
        except EncodingError:
            continue  # e.g. an emoji in a KS C 5601 run: leave that text out
    if not messages:
        raise ValueError("no text can be written in that data_coding")
    start = time.perf_counter()
    deadline = start + timeout
    for i in range(count):
        if rate > 0:
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0.0005:
                await asyncio.sleep(delay)
        link = links[i % len(links)]
        while not link.room.is_set():
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError("window never opened: the server stopped answering")
            await asyncio.wait_for(link.room.wait(), remaining)
        if link.transport is None or link.transport.is_closing():
            result.errors.append("connection lost")
            break
        text, pdu = messages[i % len(messages)]
        if account is not None and send_secret is not None:
            proof = make_proof_tlv(
                send_secret,
                account=account,
                text=text,
                timestamp=int(time.time()),
                nonce=secrets.token_urlsafe(16),
                sender=sender,
                recipients=(recipient,),
            )
            pdu = updated(pdu, tlvs=(*pdu.tlvs, proof))
        link.submit(pdu)
    while result.answered < result.sent and time.perf_counter() < deadline:
        if all(not link.sent_at for link in links):
            break
        await asyncio.sleep(0.001)
    result.seconds = time.perf_counter() - start
    for link in links:
        if link.transport is not None and not link.transport.is_closing():
            link.send(encode(Unbind(sequence_number=0x7FFF_FFFF)))
            try:
                await asyncio.wait_for(link.unbound, 5)
            except TimeoutError:
                result.errors.append("unbind not answered")
            link.transport.close()
    return result
