"""The SMPP server: a thin asyncio shell around ``SmscSession`` (aioquic style).

Each connection feeds received bytes to its session, handles the events, writes what the session
wants sent and arms one loop timer at ``session.get_timer()``. Everything SMPP is decided in the
session; everything policy is decided here, in event handlers:

* binds go to the ``Authenticator`` (a task per bind; the session waits in BINDING);
* whole messages are judged by the ``Pipeline`` in batches (``_Judge``: whatever queued up while
  the previous batch ran, at most ``judge_batch``; inline on the loop, or in one worker thread with
  ``judge_in_thread``), mapped to a status by ``mapping.status_for`` and, when accepted, handed to
  the ``Forwarder`` *before* the submit_sm_resp is written (see ``forward``);
* before judging, the ``SendGate`` (``gate``) checks what the gateway itself enforces: the bound
  reseller's certification (cached registry standing), the per-send proof TLV, and — per batch —
  the send-rate buckets; what it refuses is answered at once with its own explained verdict;
* query_sm / cancel_sm / replace_sm are refused (ESME_RQUERYFAIL / RCANCELFAIL / RREPLACEFAIL):
  the gateway keeps no message after forwarding it; outbind (an SMSC-only command) gets
  generic_nack ESME_RINVCMDID from the session;
* ``deliver()`` sends a deliver_sm (e.g. a receipt) to a receiver bind of a system_id.

A submit_multi is judged once per SME destination (each its own verdict and rate-limit count).
Only the allowed destinations are forwarded (the PDU narrowed to them; one forwarded PDU per
action when their verdicts differ); the submit_multi_resp lists every other destination in
``unsuccess_sme`` with its error status (distribution lists: ESME_RINVDLNAME, the gateway keeps
none). Its command_status is ESME_ROK when at least one destination was accepted, else the first
destination's error status.

Robustness: nothing a peer sends can raise out of a callback (the session never raises on input,
and handler bugs are caught and logged per connection); a peer that stops reading has its reading
paused until its socket drains; each bind has its own window. Logging goes through one adapter per
connection (peer and system_id on every line); message texts never reach a log line, only a short
hash (``msg=…``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import itertools
import logging
import multiprocessing
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Final

from spamgate.config import SmppConfig
from spamgate.domain.message import Message, SendProof
from spamgate.domain.verdict import Action, Verdict
from spamgate.errors import InputError
from spamgate.pipeline import MessageFields, Pipeline
from spamgate.registry.view import BoundView
from spamgate.smpp.auth import Authenticator, BindDecision
from spamgate.smpp.batched import BatchedWriter
from spamgate.smpp.deadline import DeadlineTimer
from spamgate.smpp.forward import Forwarder, ForwardError, ForwardItem
from spamgate.smpp.gate import SendGate, throttle_verdict
from spamgate.smpp.judge_workers import (
    WorkerBatch,
    WorkerSpec,
    init_worker,
    judge_fields,
    judge_in_worker,
    ping,
)
from spamgate.smpp.mapping import input_error_status, status_for, verdict_tlvs
from spamgate.smpp.metrics import SmppMetrics
from spamgate.smpp.pdu import (
    CancelSmResp,
    CommandId,
    CommandStatus,
    DataSm,
    DeliverSm,
    DistributionList,
    Pdu,
    QuerySmResp,
    ReplaceSmResp,
    SmeAddress,
    SubmitMulti,
    UnsuccessSme,
    updated,
)
from spamgate.smpp.ratelimit import RateRequest
from spamgate.smpp.session import (
    BindRequested,
    BindState,
    Closed,
    Event,
    MessagePdu,
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
from spamgate.smpp.vendor import VendorTag

__all__ = ["ServerConfig", "SmppServer", "message_fingerprint"]

log = logging.getLogger(__name__)
_S = CommandStatus
_LOGGED_PROTOCOL_ERRORS: Final = 20  # per connection; later ones are only counted
_DEFAULT_LABELS: Final = {"label": "[스팸의심]", "spambox": "", "overseas_inbox": "[국제발신]"}
_PROOF_TAG: Final = int(VendorTag.SPAMGATE_SEND_PROOF)
_REFUSALS: Final[dict[int, Callable[[], Pdu]]] = {
    CommandId.QUERY_SM: lambda: QuerySmResp(command_status=_S.ESME_RQUERYFAIL),
    CommandId.CANCEL_SM: lambda: CancelSmResp(command_status=_S.ESME_RCANCELFAIL),
    CommandId.REPLACE_SM: lambda: ReplaceSmResp(command_status=_S.ESME_RREPLACEFAIL),
}


def message_fingerprint(text: str) -> str:
    """What logs may say about a text: a 12-hex-digit hash and its length, never the words."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
    return f"{digest}/{len(text)}c"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    """How the server runs its sessions and judges (see ``from_smpp_config`` for the TOML)."""

    session: SessionConfig = field(default_factory=SessionConfig)
    judge_batch: int = 128
    judge_in_thread: bool = False
    judge_workers: int = 0  # > 0: judge in that many worker processes (see judge_workers.py)
    worker: WorkerSpec | None = None  # what the worker processes build; needed when > 0
    labels: Mapping[str, str] = field(default_factory=lambda: dict(_DEFAULT_LABELS))
    node_id: str | None = None  # message_id prefix; random per start when None

    @classmethod
    def from_smpp_config(cls, smpp: SmppConfig, **overrides: Any) -> ServerConfig:
        session = SessionConfig(
            window=smpp.window,
            bind_timeout=smpp.bind_timeout,
            enquire_link_interval=smpp.enquire_link_interval,
            response_timeout=smpp.response_timeout,
            idle_timeout=smpp.idle_timeout,
            reassembly_timeout=smpp.reassembly_timeout,
            max_pdu_size=smpp.max_pdu_size,
            system_id=smpp.system_id,
        )
        values: dict[str, Any] = {
            "session": session,
            "judge_batch": smpp.judge_batch,
            "judge_workers": smpp.judge_workers,
            "labels": dict(smpp.labels),
        }
        values.update(overrides)
        return cls(**values)


class _SessionLog(logging.LoggerAdapter[logging.Logger]):
    """Puts ``[peer system_id]`` in front of every line of one connection."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        extra = self.extra or {}
        return f"[{extra.get('peer')} {extra.get('system_id') or '-'}] {msg}", kwargs


@dataclass(slots=True)
class _Multi:
    """A submit_multi judged per destination: outcomes gather here until the last one."""

    conn: _Connection
    event: SubmitReceived
    received: float
    dests: tuple[SmeAddress | DistributionList, ...]
    outcomes: list[tuple[int, Action, Verdict | None] | None]
    pending: int
    account: str | None


@dataclass(slots=True)
class _Job:
    conn: _Connection
    event: SubmitReceived
    fields: MessageFields
    received: float
    tier: str | None = None
    #: (account, nonce) the gate verified and told the pipeline about; forgotten once answered.
    proof_key: tuple[str, str] | None = None
    multi: _Multi | None = None
    index: int = 0
    #: The message whose per-send proof the gate verifies with the batch (one object for all
    #: jobs of a submit_multi: one proof per SMPP message).
    pending: Message | None = None


@dataclass(slots=True)
class _Ack:
    """An accepted message to acknowledge once its forward items are taken."""

    conn: _Connection
    event: SubmitReceived
    action: Action
    received: float
    ids: list[str]
    unsuccess: tuple[UnsuccessSme, ...] = ()
    outcomes: tuple[tuple[Action, int], ...] | None = None


_Result = Verdict | InputError


class _Judge:
    """Batches messages from every connection into ``Pipeline`` calls.

    Inline (default): one batch at a time on the loop. ``judge_in_thread``: one worker thread.
    ``judge_workers`` N: N spawned processes, each with the whole pipeline
    (:mod:`spamgate.smpp.judge_workers`), two batches in flight per worker so a worker never
    waits for the loop between batches.
    """

    def __init__(self, server: SmppServer) -> None:
        self._server = server
        self._queue: deque[_Job] = deque()
        self._wakeup = asyncio.Event()
        config = server.config
        self._workers = config.judge_workers
        self._spec = config.worker
        if self._workers and self._spec is None:
            raise ValueError("judge_workers needs a WorkerSpec (ServerConfig.worker)")
        self._executor: Executor | None = None
        if config.judge_in_thread and not self._workers:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="spamgate-judge")
        self._consumers = 2 * self._workers if self._workers else 1
        self._tasks: list[asyncio.Task[None]] = []

    def _start_pool(self) -> ProcessPoolExecutor:
        spec = self._spec
        assert spec is not None
        pool = ProcessPoolExecutor(
            self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(spec,),
        )
        self._executor = pool
        return pool

    async def start(self) -> None:
        """Start the consumers; with worker processes, wait until each has built its pipeline
        (a few seconds: the models), so the first messages do not wait for it."""
        loop = asyncio.get_running_loop()
        if self._workers:
            pool = self._start_pool()
            # One ping per worker, all at once: the pool spawns a process for each.
            pids = await asyncio.gather(
                *(loop.run_in_executor(pool, ping) for _ in range(self._workers))
            )
            log.info("judging in %d worker processes: %s", self._workers, sorted(set(pids)))
        self._tasks = [
            loop.create_task(self._run(), name=f"smpp-judge-{i}") for i in range(self._consumers)
        ]

    def __len__(self) -> int:
        return len(self._queue)

    def put(self, job: _Job) -> None:
        self._queue.append(job)
        self._wakeup.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    async def _in_worker(self, batch: list[_Job], fields: list[MessageFields]) -> list[_Result]:
        server = self._server
        verified = [job.proof_key for job in batch if job.proof_key is not None]
        version = None
        gate = server.gate
        if gate is not None and gate.registry is not None:
            view = gate.registry.inner.view()
            if isinstance(view, BoundView):
                version = view.snapshot.version
        work = WorkerBatch(fields, verified, version)
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = self._executor
            assert isinstance(pool, ProcessPoolExecutor)
            try:
                return await loop.run_in_executor(pool, judge_in_worker, work)
            except BrokenProcessPool:
                # A worker died (killed, out of memory). Judging has no effect but the burst
                # counts, and the gate has spent these proofs' nonces, so the batch goes once
                # more to a fresh pool rather than answering ESME_RSYSERR to messages a client
                # could only resend as replays. A batch that breaks the new pool too is answered
                # ESME_RSYSERR (nothing was acknowledged, so nothing is lost).
                if self._executor is pool:
                    log.error("a judge worker process died; starting a new pool")
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._start_pool()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _run(self) -> None:
        server = self._server
        limit = server.config.judge_batch
        queue = self._queue
        while True:
            if not queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = [queue.popleft() for _ in range(min(limit, len(queue)))]
            try:
                throttled = await server._limit(batch, await server._verify(batch))
                passed = [job for job, t in zip(batch, throttled, strict=True) if t is None]
                fields = [job.fields for job in passed]
                if not fields:
                    judged: list[_Result] = []
                elif self._workers:
                    judged = await self._in_worker(passed, fields)
                elif self._executor is not None:
                    judged = await asyncio.get_running_loop().run_in_executor(
                        self._executor, server.judge_batch, fields
                    )
                else:
                    judged = server.judge_batch(fields)
                if len(judged) == len(batch):
                    results: Sequence[_Result] = judged
                else:
                    it = iter(judged)
                    results = [next(it) if t is None else t for t in throttled]
                await server._finish(batch, results)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("judging a batch of %d failed; answering ESME_RSYSERR", len(batch))
                server._fail_batch(batch, _S.ESME_RSYSERR)
            if self._executor is None:
                await asyncio.sleep(0)  # let the loop read sockets between inline batches


class _Connection(asyncio.Protocol):
    """One TCP connection: session in, events out, bytes back."""

    def __init__(self, server: SmppServer) -> None:
        self.server = server
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.session = SmscSession(self.loop.time(), server.config.session)
        self.decision: BindDecision | None = None
        self.peer = "?"
        self.log = _SessionLog(log, {"peer": "?", "system_id": None})
        self._timer = DeadlineTimer(self.loop, self._on_timer)
        self._deliveries: dict[int, asyncio.Future[ResponseReceived]] = {}
        self._protocol_errors = 0
        self._bound_kind: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writer = BatchedWriter(self.loop)

    # -- asyncio callbacks --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = self._writer.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.log.extra = {"peer": self.peer, "system_id": None}
        self.server._connections.add(self)
        self.server.metrics.connections.inc()
        self.log.debug("connected")
        self._arm_timer()

    def data_received(self, data: bytes) -> None:
        try:
            now = self.loop.time()
            events = self.session.receive_data(data, now)
            if events:
                self._handle(events, now)
            self._flush()
            self._arm_timer()
        except Exception:  # a bug of ours must cost this link, never the process
            self.log.exception("internal error; closing this connection")
            self._abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._timer.cancel()
        try:
            self._handle(self.session.connection_lost(), self.loop.time())
        except Exception:
            self.log.exception("internal error while closing")
        for future in self._deliveries.values():
            if not future.done():
                future.set_exception(ConnectionError("SMPP connection lost"))
        self._deliveries.clear()
        if self._bound_kind is not None:
            self.server.metrics.active_binds.labels(self._bound_kind).dec()
            self._bound_kind = None
        self.server._connections.discard(self)
        self.server.metrics.connections.dec()
        self.log.info("disconnected (%s)", self.session.close_reason or exc or "closed")

    def pause_writing(self) -> None:
        # The peer is not reading its answers: stop reading its requests until it does.
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    # -- plumbing -----------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue ``data``: it leaves with the rest of this loop iteration's (``BatchedWriter``)."""
        self._writer.write(data)

    def _flush(self) -> None:
        self.write(self.session.data_to_send())
        if self.session.closed and self.transport is not None and not self.transport.is_closing():
            self._writer.flush_now()
            self.transport.close()  # after the buffered answers are written

    def _abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _arm_timer(self) -> None:
        self._timer.arm(self.session.get_timer())

    def _on_timer(self, now: float) -> None:
        try:
            events = self.session.handle_timer(now)
            if events:
                self._handle(events, now)
            self._flush()
            self._arm_timer()
        except Exception:
            self.log.exception("internal error in a timer; closing this connection")
            self._abort()

    # -- events -------------------------------------------------------------------------------

    def _handle(self, events: list[Event], now: float) -> None:
        for event in events:
            kind = type(event)
            if kind is SubmitReceived:
                assert isinstance(event, SubmitReceived)
                self._on_submit(event, now)
            elif kind is BindRequested:
                assert isinstance(event, BindRequested)
                task = self.loop.create_task(self._authenticate(event))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif kind is RequestReceived:
                assert isinstance(event, RequestReceived)
                refusal = _REFUSALS[event.pdu.command_id]()
                self.write(self.session.answer(event, refusal))
                self._count_refused(f"{event.pdu.command_id.name.lower()}_unsupported")
            elif kind is ResponseReceived or kind is RequestFailed:
                assert isinstance(event, ResponseReceived | RequestFailed)
                self._on_delivery_outcome(event)
            elif kind is ProtocolError:
                assert isinstance(event, ProtocolError)
                self._on_protocol_error(event)
            elif kind is Throttled:
                self._count_refused("window_full")
            elif kind is PartsExpired:
                assert isinstance(event, PartsExpired)
                self.log.info(
                    "long message dropped: %d of %d parts (%s)",
                    len(event.pdus),
                    event.total,
                    event.reason,
                )
                self._count_refused("parts_expired")
            elif kind is Closed:
                assert isinstance(event, Closed)
                self.log.info("session closed: %s", event.reason)

    def _count_refused(self, reason: str) -> None:
        system_id = self.session.system_id if self.decision is not None else None
        self.server.metrics.refused.labels(system_id or "-", reason).inc()

    def _on_protocol_error(self, event: ProtocolError) -> None:
        self._protocol_errors += 1
        self._count_refused("fatal" if event.fatal else f"status_0x{event.status:04x}")
        if self._protocol_errors <= _LOGGED_PROTOCOL_ERRORS or event.fatal:
            self.log.warning(
                "protocol error, answered 0x%08X: %s (seq %s)%s",
                event.status,
                event.reason,
                event.sequence_number,
                " - closing" if event.fatal else "",
            )

    async def _authenticate(self, event: BindRequested) -> None:
        server = self.server
        try:
            decision = await server.authenticator.authenticate(
                event.system_id, event.password, event.kind, self.peer
            )
        except Exception:
            self.log.exception("authenticator failed; refusing the bind")
            decision = BindDecision.refuse(_S.ESME_RSYSERR, "authenticator error")
        if self.session.state is not BindState.BINDING:
            return  # closed (or timed out) while we were checking
        if decision.accepted:
            data = self.session.accept_bind(event, self.loop.time(), window=decision.window)
            self.decision = decision
            self.log.extra = {"peer": self.peer, "system_id": event.system_id}
            self._bound_kind = event.kind.value
            server.metrics.active_binds.labels(event.kind.value).inc()
            server.metrics.binds.labels(event.system_id, event.kind.value, "ok").inc()
            self.log.info("bound as %s (account %s)", event.kind.value, decision.account)
        else:
            data = self.session.reject_bind(event, decision.status)
            server.metrics.binds.labels("-", event.kind.value, "refused").inc()
            self.log.warning(
                "bind as %r refused with 0x%08X: %s",
                event.system_id,
                decision.status,
                decision.reason,
            )
        self.write(data)
        self._flush()
        self._arm_timer()

    def _on_submit(self, event: SubmitReceived, now: float) -> None:
        decision = self.decision
        assert decision is not None, "the session accepts messages only once bound"
        server = self.server
        text = event.text
        if not text or len(text) > server.max_text_chars:
            server._answer(self, event, _S.ESME_RINVMSGLEN, Action.ERROR, now)
            return
        account, proof, tier, pending = decision.account, None, None, None
        gate = server.gate
        if gate is not None:
            passed = gate.check(decision, self.session.system_id or "", event.pdu, text)
            if isinstance(passed, Verdict):
                server._refuse_at_gate(self, event, passed, now)
                return
            account, proof, tier = passed.account, passed.proof, passed.tier
            pending = passed.pending
        pdu = event.pdu
        if isinstance(pdu, SubmitMulti):
            self._on_submit_multi(event, pdu, now, account, proof, tier, pending)
            return
        fields = MessageFields(
            text,
            sender=event.sender or None,
            recipient=pdu.destination_addr or None,
            route=decision.route,
            account=account,
            auth=proof,
        )
        job = _Job(self, event, fields, now, tier, pending=pending)
        if proof is not None and account is not None and pending is None:
            job.proof_key = server._remember(account, proof)
        server._judge.put(job)
        server.metrics.judge_queue.set(len(server._judge))

    def _on_submit_multi(
        self,
        event: SubmitReceived,
        pdu: SubmitMulti,
        now: float,
        account: str | None,
        proof: SendProof | None,
        tier: str | None,
        pending: Message | None,
    ) -> None:
        """One job per SME destination; distribution lists are refused (we keep none)."""
        server = self.server
        decision = self.decision
        assert decision is not None
        dests = pdu.dest_addresses
        multi = _Multi(self, event, now, dests, [None] * len(dests), len(dests), account)
        jobs: list[_Job] = []
        for i, dest in enumerate(dests):
            if isinstance(dest, DistributionList):
                multi.outcomes[i] = (_S.ESME_RINVDLNAME, Action.ERROR, None)
                multi.pending -= 1
                continue
            fields = MessageFields(
                event.text,
                sender=event.sender or None,
                recipient=dest.destination_addr or None,
                route=decision.route,
                account=account,
                auth=proof,
            )
            job = _Job(self, event, fields, now, tier, multi=multi, index=i, pending=pending)
            if proof is not None and account is not None and pending is None:
                job.proof_key = server._remember(account, proof)
            jobs.append(job)
        if not jobs:
            server._complete_multi(multi, [], [], now, server._wall_clock())
            return
        for job in jobs:
            server._judge.put(job)
        server.metrics.judge_queue.set(len(server._judge))

    def _on_delivery_outcome(self, event: ResponseReceived | RequestFailed) -> None:
        seq = event.request.sequence_number
        future = self._deliveries.pop(seq, None)
        if future is None or future.done():
            return
        if isinstance(event, ResponseReceived):
            future.set_result(event)
        else:
            future.set_exception(TimeoutError(f"deliver_sm {seq}: {event.reason}"))
        if self.session.system_id:
            self.server._room_freed(self.session.system_id)

    def deliver(self, pdu: DeliverSm | DataSm) -> asyncio.Future[ResponseReceived]:
        seq, data = self.session.send_deliver_sm(pdu, self.loop.time())
        future: asyncio.Future[ResponseReceived] = self.loop.create_future()
        self._deliveries[seq] = future
        self.write(data)
        self._arm_timer()
        return future


class SmppServer:
    """The gateway's SMPP listener. ``await start(host, port)``, later ``await close()``."""

    def __init__(
        self,
        pipeline: Pipeline,
        authenticator: Authenticator,
        forwarder: Forwarder,
        *,
        config: ServerConfig | None = None,
        metrics: SmppMetrics | None = None,
        wall_clock: Callable[[], float] = time.time,
        gate: SendGate | None = None,
    ) -> None:
        self.gate = gate
        if gate is not None and gate.registry is not None:
            # The gate verifies each proof once; the pipeline (a shallow copy: same models,
            # policies and burst state) learns the outcome instead of spending the nonce again.
            pipeline = copy.copy(pipeline)
            pipeline.registry = gate.registry
        self.pipeline = pipeline
        self.authenticator = authenticator
        self.forwarder = forwarder
        self.config = config or ServerConfig()
        self.metrics = metrics or SmppMetrics()
        self.max_text_chars = pipeline.policy.limits.max_text_chars
        self._wall_clock = wall_clock
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._forwarding: set[asyncio.Task[None]] = set()
        self._judge = _Judge(self)
        prefix = self.config.node_id or secrets.token_hex(4)
        self._ids = (f"{prefix}{n:010x}" for n in itertools.count(1))
        self._status_children: dict[tuple[str, str, int], Any] = {}
        self._room_waiters: dict[str, deque[asyncio.Future[None]]] = {}  # see wait_for_room
        self._background: list[asyncio.Task[None]] = []

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 2775) -> None:
        """Listen on ``host:port`` (port 0 picks a free one; see ``port``)."""
        loop = asyncio.get_running_loop()
        await self._judge.start()
        logins = self.gate.logins if self.gate is not None else None
        if logins is not None:
            await logins.refresh()  # the first standing before the first bind
            self._background.append(loop.create_task(logins.run(), name="smpp-standing"))
        self._server = await loop.create_server(lambda: _Connection(self), host, port)
        log.info("SMPP listening on %s:%d", host, self.port)

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the server is not listening")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def bound_system_ids(self) -> list[str]:
        return sorted(
            c.session.system_id
            for c in self._connections
            if c.decision is not None and c.session.system_id is not None
        )

    async def close(self, timeout: float = 5.0) -> None:
        """Stop listening, unbind every bound session, wait up to ``timeout`` s, then cut."""
        if self._server is not None:
            self._server.close()
        loop = asyncio.get_running_loop()
        for conn in list(self._connections):
            state = conn.session.state
            if state in (BindState.BOUND_TX, BindState.BOUND_RX, BindState.BOUND_TRX):
                conn.write(conn.session.unbind(loop.time()))
                conn._arm_timer()
            elif conn.transport is not None:
                conn._writer.flush_now()
                conn.transport.close()
        deadline = loop.time() + timeout
        if self._forwarding:
            await asyncio.wait(set(self._forwarding), timeout=timeout)
        while self._connections and loop.time() < deadline:
            await asyncio.sleep(0.01)
        for conn in list(self._connections):
            conn._abort()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        await self._judge.stop()
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._background = []
        if self.gate is not None and self.gate.limiter is not None:
            await self.gate.limiter.close()

    def drop_binds(self, system_id: str) -> int:
        """Unbind every session of ``system_id`` (e.g. it was suspended); returns how many."""
        now = asyncio.get_running_loop().time()
        count = 0
        for conn in list(self._connections):
            if conn.session.system_id == system_id and conn.session.state in (
                BindState.BOUND_TX,
                BindState.BOUND_RX,
                BindState.BOUND_TRX,
            ):
                conn.write(conn.session.unbind(now))
                conn._arm_timer()
                count += 1
        return count

    def deliver(self, system_id: str, pdu: DeliverSm | DataSm) -> asyncio.Future[ResponseReceived]:
        """Send ``pdu`` to a receiver (or transceiver) bind of ``system_id`` with window room.

        The future resolves with the peer's answer, or fails (``TimeoutError``,
        ``ConnectionError``). Raises ``LookupError`` when no such bind can take it now.
        """
        for conn in self._connections:
            if conn.session.system_id == system_id and conn.session.can_deliver:
                return conn.deliver(pdu)
        raise LookupError(f"no receiver bind of {system_id!r} can take a deliver_sm now")

    async def wait_for_room(self, system_id: str, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) until a receiver bind of ``system_id`` has an answer
        back, so its window may take another deliver_sm. False at once when ``system_id`` has
        no receiver bind at all.

        Receipts come in bursts behind the carrier's submit_sm_resps; waiting a moment for a
        slot keeps them on the fast path instead of storing each one to retry it later.
        Waiters are woken one per freed slot, oldest first.
        """
        if timeout <= 0 or not any(
            conn.session.system_id == system_id and conn.session.receives
            for conn in self._connections
        ):
            return False
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._room_waiters.setdefault(system_id, deque())
        waiters.append(future)
        try:
            async with asyncio.timeout(timeout):
                await future
        except TimeoutError:
            # No slot came free in time: leave no waiter behind (a reseller that never
            # answers would otherwise pile them up).
            with contextlib.suppress(ValueError):
                waiters.remove(future)
            return False
        return True

    def _room_freed(self, system_id: str) -> None:
        waiters = self._room_waiters.get(system_id)
        while waiters:
            future = waiters.popleft()
            if not future.done():  # skip the ones that timed out
                future.set_result(None)
                return

    # -- judging ------------------------------------------------------------------------------

    def judge_batch(self, batch: Sequence[MessageFields]) -> list[_Result]:
        """Parse and judge ``batch`` in order: a verdict, or the ``InputError`` that refused it."""
        return judge_fields(self.pipeline, batch)

    async def _verify(self, batch: Sequence[_Job]) -> list[Verdict | None]:
        """The per-send proofs of a batch, checked at once (``SendGate.verify``): per job, None
        or the refusal. A verified proof is remembered for the pipeline (``proof_key``)."""
        out: list[Verdict | None] = [None] * len(batch)
        gate = self.gate
        pending: dict[int, Message] = {}
        for job in batch:
            if job.pending is not None:
                pending.setdefault(id(job.pending), job.pending)
        if gate is None or not pending:
            return out
        outcomes = dict(zip(pending, await gate.verify(list(pending.values())), strict=True))
        for i, job in enumerate(batch):
            message = job.pending
            if message is None:
                continue
            job.pending = None
            refusal = outcomes[id(message)]
            if refusal is not None:
                out[i] = refusal
                self._count_gate_refusal(job.conn, job.event, refusal)
            elif message.account is not None and message.auth is not None:
                job.proof_key = self._remember(message.account, message.auth)
        return out

    async def _limit(
        self, batch: Sequence[_Job], refused: Sequence[Verdict | None]
    ) -> list[Verdict | None]:
        """The send-rate buckets for the jobs of a batch not ``refused`` already: per job, its
        refusal, a ``throttle`` verdict when over a rate, or None."""
        out = list(refused)
        gate = self.gate
        if gate is None or gate.limiter is None:
            return out
        todo = [i for i, verdict in enumerate(out) if verdict is None]
        jobs = [batch[i] for i in todo]
        requests = [
            RateRequest(job.conn.session.system_id or "", job.fields.account, job.tier)
            for job in jobs
        ]
        refusals = await gate.limit(requests)
        for i, request, refusal in zip(todo, requests, refusals, strict=True):
            if refusal is not None:
                out[i] = throttle_verdict(refusal)
                self.metrics.throttled.labels(request.system_id or "-", refusal.kind).inc()
        return out

    def _remember(self, account: str, proof: SendProof) -> tuple[str, str] | None:
        registry = self.gate.registry if self.gate is not None else None
        if registry is None:
            return None
        registry.remember(account, proof.nonce)
        return (account, proof.nonce)

    def _forget(self, key: tuple[str, str]) -> None:
        registry = self.gate.registry if self.gate is not None else None
        if registry is not None:
            registry.forget(*key)

    def _refuse_at_gate(
        self, conn: _Connection, event: SubmitReceived, verdict: Verdict, now: float
    ) -> None:
        """Answer a message the gate refused (a whole submit_multi gets one answer)."""
        self._count_gate_refusal(conn, event, verdict)
        self._answer(conn, event, status_for(verdict), verdict.action, now)

    def _count_gate_refusal(
        self, conn: _Connection, event: SubmitReceived, verdict: Verdict
    ) -> None:
        symbol = verdict.symbols[0].name if verdict.symbols else "-"
        self.metrics.gate_refused.labels(conn.session.system_id or "-", symbol).inc()
        if log.isEnabledFor(logging.INFO):
            conn.log.info(
                "seq %d refused at the gate: %s %s (msg=%s)",
                event.pdu.sequence_number,
                symbol,
                verdict.symbols[0].evidence if verdict.symbols else "",
                message_fingerprint(event.text),
            )

    async def _finish(self, batch: Sequence[_Job], results: Sequence[_Result]) -> None:
        """Answer a judged batch: forward the accepted ones first, then write every answer."""
        now = asyncio.get_running_loop().time()
        acks: list[_Ack] = []
        items: list[ForwardItem] = []
        wall = self._wall_clock()
        for job, result in zip(batch, results, strict=True):
            if isinstance(result, InputError):
                self._settle(
                    job,
                    input_error_status(result.field),
                    Action.ERROR,
                    None,
                    acks,
                    items,
                    now,
                    wall,
                )
            else:
                self._settle(job, status_for(result), result.action, result, acks, items, now, wall)
        if items:
            # Forwarding (e.g. the spool's fsync) runs while the next batch is judged, so
            # concurrent batches share one group commit.
            task = asyncio.get_running_loop().create_task(self._forward(acks, items))
            self._forwarding.add(task)
            task.add_done_callback(self._forwarding.discard)
        touched = {job.conn for job in batch}
        for conn in touched:
            conn._flush()
        self.metrics.judge_queue.set(len(self._judge))
        self.metrics.batch_size.observe(len(batch))

    def _settle(
        self,
        job: _Job,
        status: int,
        action: Action,
        verdict: Verdict | None,
        acks: list[_Ack],
        items: list[ForwardItem],
        now: float,
        wall: float,
    ) -> None:
        """One job's outcome: answer it, or queue it for forwarding (acks/items)."""
        if job.proof_key is not None:
            self._forget(job.proof_key)
            job.proof_key = None
        multi = job.multi
        if multi is not None:
            multi.outcomes[job.index] = (status, action, verdict)
            multi.pending -= 1
            if multi.pending == 0:
                self._complete_multi(multi, acks, items, now, wall)
            return
        if status or verdict is None or job.conn.session.closed:
            # Refused, or the peer left before its answer: it will resend, so don't forward.
            self._answer(job.conn, job.event, status, action, now, job.received)
            return
        ids = [next(self._ids) for _ in job.event.pdus]
        items.append(self._item(job.conn, job.event, job.event.pdus, verdict, ids, wall, job))
        acks.append(_Ack(job.conn, job.event, action, job.received, ids))

    def _item(
        self,
        conn: _Connection,
        event: SubmitReceived,
        pdus: Sequence[MessagePdu],
        verdict: Verdict,
        ids: list[str],
        wall: float,
        job: _Job | None = None,
        account: str | None = None,
    ) -> ForwardItem:
        if job is not None:
            account = job.fields.account
        return ForwardItem(
            message_id=ids[0],
            part_ids=tuple(ids),
            system_id=conn.session.system_id or "",
            account=account or "",
            pdus=tuple(_without_proof(p) for p in pdus),
            text=event.text,
            data_coding=event.data_coding,
            verdict=verdict,
            label=self.config.labels.get(verdict.action.value, ""),
            tlvs=verdict_tlvs(verdict, ids[0]),
            received_at=wall,
        )

    def _complete_multi(
        self,
        multi: _Multi,
        acks: list[_Ack],
        items: list[ForwardItem],
        now: float,
        wall: float,
    ) -> None:
        """Every destination of a submit_multi is judged: forward the allowed, list the rest."""
        conn, event = multi.conn, multi.event
        groups: dict[Action, list[int]] = {}
        unsuccess: list[UnsuccessSme] = []
        outcomes: list[tuple[Action, int]] = []
        for i, dest in enumerate(multi.dests):
            outcome = multi.outcomes[i]
            assert outcome is not None
            status, action, verdict = outcome
            outcomes.append((action, status))
            if not status and verdict is not None:
                groups.setdefault(action, []).append(i)
                continue
            if isinstance(dest, DistributionList):
                ton, npi, addr = 0, 0, dest.dl_name
            else:
                ton, npi, addr = dest.dest_addr_ton, dest.dest_addr_npi, dest.destination_addr
            unsuccess.append(
                UnsuccessSme(
                    dest_addr_ton=ton,
                    dest_addr_npi=npi,
                    destination_addr=addr,
                    error_status_code=status or _S.ESME_RSUBMITFAIL,
                )
            )
        if not groups or conn.session.closed:
            status = unsuccess[0].error_status_code if unsuccess else _S.ESME_RSUBMITFAIL
            worst = max((a for a, _ in outcomes), key=lambda a: a.severity, default=Action.ERROR)
            self._answer(conn, event, status, worst, now, multi.received, (), unsuccess, outcomes)
            return
        first_ids: list[str] | None = None
        for indexes in groups.values():
            chosen = tuple(multi.dests[i] for i in indexes)
            pdus = [
                updated(p, dest_addresses=chosen) if isinstance(p, SubmitMulti) else p
                for p in event.pdus
            ]
            outcome = multi.outcomes[indexes[0]]
            assert outcome is not None
            assert outcome[2] is not None
            ids = [next(self._ids) for _ in event.pdus]
            items.append(self._item(conn, event, pdus, outcome[2], ids, wall, None, multi.account))
            first_ids = first_ids or ids
        assert first_ids is not None
        best = next(iter(groups))
        acks.append(
            _Ack(conn, event, best, multi.received, first_ids, tuple(unsuccess), tuple(outcomes))
        )

    async def _forward(self, acks: Sequence[_Ack], items: Sequence[ForwardItem]) -> None:
        """Hand ``items`` to the forwarder, then acknowledge them (or answer its refusal)."""
        status: int = _S.ESME_ROK
        try:
            await self.forwarder.forward(items)
        except ForwardError as exc:
            log.warning("forwarder refused %d message(s): %s", len(items), exc)
            status = exc.command_status
        except Exception:
            log.exception("forwarder failed on %d message(s)", len(items))
            status = _S.ESME_RSYSERR
        now = asyncio.get_running_loop().time()
        for ack in acks:
            try:
                outcomes = ack.outcomes
                if status and outcomes is not None:
                    outcomes = tuple((action, status) for action, _ in outcomes)
                self._answer(
                    ack.conn,
                    ack.event,
                    status,
                    ack.action,
                    now,
                    ack.received,
                    ack.ids,
                    ack.unsuccess,
                    outcomes,
                )
            except Exception:
                ack.conn.log.exception("cannot answer a forwarded message")
        for conn in {ack.conn for ack in acks}:
            conn._flush()

    def _answer(
        self,
        conn: _Connection,
        event: SubmitReceived,
        status: int,
        action: Action,
        now: float,
        received: float | None = None,
        ids: Sequence[str] = (),
        unsuccess: Sequence[UnsuccessSme] = (),
        outcomes: Sequence[tuple[Action, int]] | None = None,
    ) -> None:
        """Write the answer; count it per (system_id, action, status) — per destination for a
        submit_multi (``outcomes``)."""
        data = conn.session.respond(event, status, message_ids=ids, unsuccess=unsuccess)
        system_id = conn.session.system_id or "-"
        for counted_action, counted_status in outcomes or ((action, status),):
            key = (system_id, counted_action.value, counted_status)
            child = self._status_children.get(key)
            if child is None:
                child = self.metrics.messages.labels(
                    system_id, counted_action.value, f"0x{counted_status:08x}"
                )
                self._status_children[key] = child
            child.inc()
        self.metrics.latency.observe(now - (received if received is not None else now))
        conn.write(data)  # after counting, so whoever reads the answer also sees the count
        if log.isEnabledFor(logging.DEBUG):
            conn.log.debug(
                "seq %d: %s -> 0x%08X (msg=%s)",
                event.pdu.sequence_number,
                action.value,
                status,
                message_fingerprint(event.text),
            )

    def _fail_batch(self, batch: Sequence[_Job], status: int) -> None:
        now = asyncio.get_running_loop().time()
        wall = self._wall_clock()
        for job in batch:
            try:
                self._settle(job, status, Action.ERROR, None, [], [], now, wall)
                job.conn._flush()
            except Exception:  # already answered: nothing more to do for it
                log.debug("job already answered", exc_info=True)


def _without_proof(pdu: MessagePdu) -> MessagePdu:
    """``pdu`` without the reseller's SPAMGATE_SEND_PROOF (it stays at the gateway)."""
    tlvs = pdu.tlvs
    if not tlvs or all(t.tag != _PROOF_TAG for t in tlvs):
        return pdu
    return updated(pdu, tlvs=tuple(t for t in tlvs if t.tag != _PROOF_TAG))
