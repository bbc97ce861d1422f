"""One link to a carrier SMSC: an asyncio shell around the pure ``EsmeSession``.

``UpstreamLink`` connects, binds as a transceiver with its own system_id/password/system_type,
keeps the link alive (enquire_link), and reconnects after any loss with exponential backoff and
jitter (``reconnect_min`` doubling up to ``reconnect_max``, each wait drawn from its upper half).
``await submit(pdu)`` sends one part once the window has room and returns the carrier's answer
(a ``*_resp`` or generic_nack); it raises ``LinkError`` when the link is down, drops, or the
answer does not come within ``response_timeout`` — the caller retries, on another link if it can.

deliver_sm / data_sm from the carrier go to ``on_deliver(link, pdu)``; its returned status is the
deliver_sm_resp (so a receipt is acknowledged only once it is safely kept). A failing handler
answers ESME_RX_T_APPN (temporary), so the carrier sends it again.

Garbage from the SMSC never raises out of a callback: a PDU that breaks framing closes the
connection (and the link reconnects), a malformed one gets generic_nack, and more than
``max_protocol_errors`` of those on one connection close it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from spamgate.smpp.batched import BatchedWriter
from spamgate.smpp.deadline import DeadlineTimer
from spamgate.smpp.esme import (
    BindAnswered,
    DeliverReceived,
    EsmeConfig,
    EsmeEvent,
    EsmeSession,
)
from spamgate.smpp.pdu import CommandStatus, DataSm, DeliverSm, Pdu
from spamgate.smpp.session import Closed, MessagePdu, ProtocolError, RequestFailed, ResponseReceived
from spamgate.smpp.upstream_metrics import UpstreamMetrics

__all__ = ["DeliverHandler", "LinkError", "LinkSettings", "UpstreamLink", "backoff_delay"]

log = logging.getLogger(__name__)
_S = CommandStatus
_LOGGED_ERRORS: Final = 5


class LinkError(Exception):
    """The link could not carry a submit (down, dropped, or no answer in time): retry it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkSettings:
    """One carrier link (``[[smpp.upstreams]]`` or ``--upstream HOST:PORT``)."""

    name: str
    host: str
    port: int
    system_id: str = "spamgate"
    password: str = field(default="", repr=False)
    system_type: str = ""
    carrier: str = "default"
    weight: float = 1.0
    window: int = 100
    enquire_link_interval: float | None = 30.0
    response_timeout: float = 10.0
    bind_timeout: float = 10.0
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    max_protocol_errors: int = 10


DeliverHandler = Callable[["UpstreamLink", DeliverSm | DataSm], Awaitable[int]]


def backoff_delay(attempt: int, low: float, high: float, rng: random.Random) -> float:
    """Wait before reconnect ``attempt`` (1, 2, …): ``low``·2^(attempt-1) capped at ``high``,
    drawn from the upper half so many links do not reconnect in step."""
    ceiling = min(high, low * float(1 << min(max(attempt - 1, 0), 30)))
    return ceiling * (0.5 + 0.5 * rng.random())


class _LinkProtocol(asyncio.Protocol):
    def __init__(self, link: UpstreamLink) -> None:
        self.link = link
        self.loop = asyncio.get_running_loop()
        s = link.settings
        self.session = EsmeSession(
            self.loop.time(),
            EsmeConfig(
                window=s.window,
                bind_timeout=s.bind_timeout,
                enquire_link_interval=s.enquire_link_interval,
                response_timeout=s.response_timeout,
            ),
        )
        self.transport: asyncio.Transport | None = None
        self.bound: asyncio.Future[int] = self.loop.create_future()
        self.lost: asyncio.Future[None] = self.loop.create_future()
        self._timer = DeadlineTimer(self.loop, self._on_timer)
        self._errors = 0
        self._writer = BatchedWriter(self.loop)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = self._writer.transport = transport
        s = self.link.settings
        self.write(
            self.session.bind(
                self.loop.time(),
                system_id=s.system_id,
                password=s.password,
                system_type=s.system_type,
            )
        )
        self.arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._timer.cancel()
        self.handle(self.session.connection_lost())
        if not self.bound.done():
            self.bound.set_exception(ConnectionError("connection lost before the bind answer"))
        if not self.lost.done():
            self.lost.set_result(None)

    def write(self, data: bytes) -> None:
        """Queue ``data``; everything written in one loop iteration leaves in one send."""
        self._writer.write(data)

    def flush(self) -> None:
        self.write(self.session.data_to_send())
        if self.session.closed and self.transport is not None:
            self._writer.flush_now()  # the last answers go out before the close
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        try:
            self.handle(self.session.receive_data(data, self.loop.time()))
            self.flush()
            self.arm()
        except Exception:  # a bug of ours costs this connection, never the process
            log.exception("upstream %s: internal error; dropping the connection", self.link.name)
            if self.transport is not None:
                self.transport.abort()

    def arm(self) -> None:
        self._timer.arm(self.session.get_timer())

    def _on_timer(self, now: float) -> None:
        try:
            self.handle(self.session.handle_timer(now))
            self.flush()
            self.arm()
        except Exception:
            log.exception("upstream %s: internal error in a timer", self.link.name)
            if self.transport is not None:
                self.transport.abort()

    def handle(self, events: list[EsmeEvent]) -> None:
        link = self.link
        for event in events:
            if isinstance(event, ResponseReceived | RequestFailed):
                future = event.context
                assert isinstance(future, asyncio.Future)
                if not future.done():
                    if isinstance(event, ResponseReceived):
                        future.set_result(event.response)
                    else:
                        future.set_exception(LinkError(f"{link.name}: {event.reason}"))
                link._room.set()
            elif isinstance(event, DeliverReceived):
                link._spawn(self._deliver(event.pdu))
            elif isinstance(event, BindAnswered):
                if not self.bound.done():
                    self.bound.set_result(event.status)
            elif isinstance(event, ProtocolError):
                self._errors += 1
                if self._errors <= _LOGGED_ERRORS or event.fatal:
                    log.warning(
                        "upstream %s: protocol error from the SMSC: %s", link.name, event.reason
                    )
                if self._errors > link.settings.max_protocol_errors and self.transport:
                    log.warning("upstream %s: too many protocol errors; reconnecting", link.name)
                    self.transport.abort()
            elif isinstance(event, Closed):
                log.info("upstream %s: session closed: %s", link.name, event.reason)

    async def _deliver(self, pdu: DeliverSm | DataSm) -> None:
        try:
            status = await self.link.on_deliver(self.link, pdu)
        except Exception:
            log.exception("upstream %s: receipt handler failed", self.link.name)
            status = _S.ESME_RX_T_APPN
        self.write(self.session.answer_deliver(pdu, status))


async def _refuse_deliver(link: UpstreamLink, pdu: DeliverSm | DataSm) -> int:
    return _S.ESME_RX_P_APPN


class UpstreamLink:
    """See the module docstring. ``start()`` once; ``await close()`` unbinds and stops."""

    def __init__(
        self,
        settings: LinkSettings,
        *,
        on_deliver: DeliverHandler = _refuse_deliver,
        metrics: UpstreamMetrics | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self.on_deliver = on_deliver
        self.metrics = metrics or UpstreamMetrics()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._proto: _LinkProtocol | None = None
        self._room = asyncio.Event()
        self._up_event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.connects = 0
        self.metrics.link_up.labels(self.name).set(0)

    @property
    def up(self) -> bool:
        proto = self._proto
        return proto is not None and proto.session.bound

    async def wait_up(self, timeout: float | None = None) -> bool:
        """Wait until the link is bound (True) or ``timeout`` passes (False)."""
        if self.up:
            return True
        try:
            await asyncio.wait_for(self._up_event.wait(), timeout)
        except TimeoutError:
            return False
        return self.up

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"upstream-{self.name}"
            )

    async def close(self, timeout: float = 2.0) -> None:
        self._closing = True
        proto = self._proto
        if proto is not None and proto.session.bound:
            proto.write(proto.session.unbind(proto.loop.time()))
            proto.arm()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(proto.lost), timeout)
        if proto is not None and proto.transport is not None:
            proto.transport.abort()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._tasks):
            task.cancel()
        self._set_up(False)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _set_up(self, up: bool) -> None:
        self.metrics.link_up.labels(self.name).set(1 if up else 0)
        if up:
            self._up_event.set()
            self._room.set()
        else:
            self._up_event.clear()
            self._room.set()  # wake submitters so they see the link is down

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        s = self.settings
        failures = 0
        while not self._closing:
            proto: _LinkProtocol | None = None
            try:
                _, conn = await asyncio.wait_for(
                    loop.create_connection(lambda: _LinkProtocol(self), s.host, s.port),
                    s.bind_timeout,
                )
                self._proto = proto = conn
                status = await conn.bound
                if status:
                    self.metrics.reconnects.labels(self.name, "bind_refused").inc()
                    log.error(
                        "upstream %s: bind as %r refused with 0x%08X",
                        self.name,
                        s.system_id,
                        status,
                    )
                    raise ConnectionRefusedError("bind refused")
                self.connects += 1
                failures = 0
                self.metrics.reconnects.labels(self.name, "bound").inc()
                log.info("upstream %s: bound to %s:%d", self.name, s.host, s.port)
                self._set_up(True)
                await conn.lost
                self._set_up(False)
                log.warning(
                    "upstream %s: link lost (%s)",
                    self.name,
                    conn.session.close_reason or "closed",
                )
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError) as exc:
                self._set_up(False)
                if proto is not None and proto.transport is not None:
                    proto.transport.abort()
                failures += 1
                self.metrics.reconnects.labels(self.name, "failed").inc()
                if failures <= _LOGGED_ERRORS or failures % 100 == 0:
                    log.warning(
                        "upstream %s: cannot connect to %s:%d (%s, attempt %d)",
                        self.name,
                        s.host,
                        s.port,
                        exc or type(exc).__name__,
                        failures,
                    )
            if self._closing:
                break
            await asyncio.sleep(
                backoff_delay(max(failures, 1), s.reconnect_min, s.reconnect_max, self._rng)
            )

    async def submit(self, pdu: MessagePdu) -> Pdu:
        """Submit one part; the carrier's answer, or ``LinkError`` (retry elsewhere / later)."""
        loop = asyncio.get_running_loop()
        while True:
            proto = self._proto
            if self._closing or proto is None or not proto.session.bound:
                self.metrics.submit(self.name, "link_down")
                raise LinkError(f"{self.name}: link down")
            if proto.session.can_submit:
                break
            self._room.clear()
            await self._room.wait()
        future: asyncio.Future[Pdu] = loop.create_future()
        started = loop.time()
        _, data = proto.session.submit(pdu, started, future)
        proto.write(data)
        proto.arm()
        try:
            response = await future
        except LinkError:
            self.metrics.submit(self.name, "link_down")
            raise
        self.metrics.submit_latency.observe(loop.time() - started)
        return response
