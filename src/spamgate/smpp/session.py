"""The SMSC side of one SMPP 3.4 session: a pure state machine (h11/aioquic style).

No sockets and no clock: bytes go in through ``receive_data(data, now)``, which returns events;
what the session answers by itself (enquire_link_resp, generic_nack, error responses, keepalive
probes) is collected for ``data_to_send()``; the caller's own answers (``accept_bind``,
``respond``, ``send_deliver_sm``, ``unbind``) return their bytes directly. Time-dependent work is
driven by ``get_timer()`` (the next deadline, or None) and ``handle_timer(now)``. ``now`` is any
monotonic clock in seconds; tests pass plain numbers and never sleep.

After any call the shell writes the bytes it got plus ``data_to_send()``; once ``closed`` is True it
closes the transport (the reason is in ``close_reason``, and a ``Closed`` event was returned when
the session closed inside ``receive_data``/``handle_timer``).

States and the requests an ESME may send in each (``ALLOWED``; anything else is answered with its
``*_resp`` — or generic_nack — carrying ESME_RINVBNDSTS, a bind once bound gets ESME_RALYBND, and a
command only an SMSC sends — outbind, alert_notification, deliver_sm — gets ESME_RINVCMDID)::

    OPEN ──bind──▶ BINDING ──accept_bind──▶ BOUND_TX / BOUND_RX / BOUND_TRX
      ▲               │ reject_bind                  │ unbind (either side)
      └───────────────┘                              ▼
                                         UNBINDING ──(last answer / unbind_resp)──▶ CLOSED

What is promised:

* Nothing a peer sends raises. A malformed PDU whose frame is intact gets the error response
  ``error_response`` builds (its own ``*_resp`` or generic_nack) and reading goes on; lost framing
  (command_length < 16 or above ``max_pdu_size``) gets generic_nack and closes the session. Only
  local misuse raises ``SessionError``.
* Window: at most ``window`` requests from the peer await an answer (submit_sm, data_sm,
  submit_multi, query_sm, cancel_sm, replace_sm; held parts of a long message count). One beyond
  gets ESME_RTHROTTLED at once. enquire_link and unbind are answered by the session and not counted.
* Long messages: parts (UDH with 8- or 16-bit reference, or SAR TLVs) are held, unanswered, until
  the set is complete, then judged as one ``SubmitReceived`` whose ``respond`` answers every part
  with the same status. A set still incomplete ``reassembly_timeout`` seconds after its first part
  has every held part answered with ``SG_RINCOMPLETE`` (0x0400) and a ``PartsExpired`` event; the
  same happens when the peer unbinds. A repeated part number gets ``SG_RDUPLICATEPART`` (0x0403).
  Parts belong together when source, destination(s), reference (and its kind) and total agree.
  The ESME's window must therefore be larger than its longest message.
* Text is decoded by data_coding once the message is whole (``encoding.decode_text``): bytes that
  are not valid in it, or a binary data_coding, are answered ESME_RINVDCS.
* Our requests (deliver_sm, data_sm, enquire_link, unbind) get sequence numbers 1..0x7FFFFFFF
  (wrapping) and are matched with their ``*_resp`` or generic_nack; an unanswered deliver_sm fails
  with ``RequestFailed`` after ``response_timeout``, an unanswered enquire_link or unbind closes.
* Timers: a connection must bind within ``bind_timeout``; once bound an enquire_link is sent after
  ``enquire_link_interval`` without any PDU from the peer; a bind on which the peer initiated
  nothing (no request, its own enquire_link included) for ``idle_timeout`` is unbound. ``None``
  switches a timer off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Final, TypeAlias

from spamgate.smpp.encoding import decode_text
from spamgate.smpp.errors import EncodingError, PduError, SessionError
from spamgate.smpp.pdu import (
    INTERFACE_VERSION_34,
    MAX_PDU_SIZE,
    NEED_DATA,
    BindPdu,
    BindRespPdu,
    CommandId,
    CommandStatus,
    DataSm,
    DataSmResp,
    DeliverSm,
    EnquireLink,
    EnquireLinkResp,
    Pdu,
    PduReader,
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
    encode,
    error_response,
    renumbered,
)
from spamgate.smpp.udh import ConcatInfo, message_parts
from spamgate.smpp.vendor import VendorStatus

__all__ = [
    "ALLOWED",
    "MAX_SEQUENCE",
    "BindKind",
    "BindRequested",
    "BindState",
    "Closed",
    "Event",
    "MessagePdu",
    "Outstanding",
    "OutstandingRequests",
    "PartsExpired",
    "ProtocolError",
    "RequestFailed",
    "RequestReceived",
    "ResponseReceived",
    "SessionConfig",
    "SmscSession",
    "SubmitReceived",
    "Throttled",
    "answer_undecodable",
    "error_pdu",
]

MAX_SEQUENCE: Final = 0x7FFF_FFFF
_C = CommandId
_S = CommandStatus

MessagePdu: TypeAlias = SubmitSm | DataSm | SubmitMulti


class BindState(Enum):
    """Where a session is (see the module docstring for the moves)."""

    OPEN = "open"
    BINDING = "binding"
    BOUND_TX = "bound_tx"
    BOUND_RX = "bound_rx"
    BOUND_TRX = "bound_trx"
    UNBINDING = "unbinding"
    CLOSED = "closed"


class BindKind(StrEnum):
    """The three ways an ESME binds."""

    TRANSMITTER = "transmitter"
    RECEIVER = "receiver"
    TRANSCEIVER = "transceiver"


_BIND_KIND: Final[dict[CommandId, BindKind]] = {
    _C.BIND_TRANSMITTER: BindKind.TRANSMITTER,
    _C.BIND_RECEIVER: BindKind.RECEIVER,
    _C.BIND_TRANSCEIVER: BindKind.TRANSCEIVER,
}
_BOUND_STATE: Final[dict[BindKind, BindState]] = {
    BindKind.TRANSMITTER: BindState.BOUND_TX,
    BindKind.RECEIVER: BindState.BOUND_RX,
    BindKind.TRANSCEIVER: BindState.BOUND_TRX,
}
_BINDS: Final = frozenset(_BIND_KIND)
_MESSAGES: Final = frozenset({_C.SUBMIT_SM, _C.DATA_SM, _C.SUBMIT_MULTI})
_OTHER_REQUESTS: Final = frozenset({_C.QUERY_SM, _C.CANCEL_SM, _C.REPLACE_SM})
_TRANSMIT: Final = _MESSAGES | _OTHER_REQUESTS | {_C.ENQUIRE_LINK, _C.UNBIND}

#: The requests an ESME may send in each state: the session's whole transition table.
ALLOWED: Final[dict[BindState, frozenset[CommandId]]] = {
    BindState.OPEN: _BINDS | {_C.ENQUIRE_LINK},
    BindState.BINDING: frozenset({_C.ENQUIRE_LINK}),
    BindState.BOUND_TX: _TRANSMIT,
    BindState.BOUND_RX: frozenset({_C.ENQUIRE_LINK, _C.UNBIND}),
    BindState.BOUND_TRX: _TRANSMIT,
    BindState.UNBINDING: frozenset({_C.ENQUIRE_LINK, _C.UNBIND}),
    BindState.CLOSED: frozenset(),
}
#: Commands only an SMSC sends: an ESME sending them gets ESME_RINVCMDID in any state.
_SMSC_ONLY: Final = frozenset({_C.OUTBIND, _C.ALERT_NOTIFICATION, _C.DELIVER_SM})
_BOUND: Final = frozenset({BindState.BOUND_TX, BindState.BOUND_RX, BindState.BOUND_TRX})
_CAN_RECEIVE: Final = frozenset({BindState.BOUND_RX, BindState.BOUND_TRX})


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionConfig:
    """Limits and timers of one session (seconds; ``None`` switches a timer off)."""

    window: int = 100
    out_window: int = 100
    bind_timeout: float | None = 30.0
    enquire_link_interval: float | None = 30.0
    response_timeout: float = 10.0
    idle_timeout: float | None = 300.0
    reassembly_timeout: float = 30.0
    max_pdu_size: int = MAX_PDU_SIZE
    system_id: str = "spamgate"

    def __post_init__(self) -> None:
        if self.window < 1 or self.out_window < 1:
            raise ValueError("window and out_window must be at least 1")
        for name in ("bind_timeout", "enquire_link_interval", "idle_timeout"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None")
        if self.response_timeout <= 0 or self.reassembly_timeout <= 0:
            raise ValueError("response_timeout and reassembly_timeout must be positive")


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BindRequested:
    """A bind arrived; answer it with ``accept_bind`` or ``reject_bind``."""

    kind: BindKind
    system_id: str
    password: str = field(repr=False)
    system_type: str
    interface_version: int
    addr_ton: int
    addr_npi: int
    address_range: str
    sequence_number: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitReceived:
    """A whole message (one PDU, or every part of a long one in order) awaits ``respond``.

    ``payload`` is the joined user data without UDH; ``text`` is it decoded by ``data_coding``.
    """

    token: int
    pdus: tuple[MessagePdu, ...]
    payload: bytes
    text: str
    data_coding: int

    @property
    def pdu(self) -> MessagePdu:
        """The first (or only) part: its envelope is the message's."""
        return self.pdus[0]

    @property
    def sender(self) -> str:
        return self.pdus[0].source_addr

    @property
    def recipients(self) -> tuple[str, ...]:
        """The destination address(es); a distribution list name is left out."""
        pdu = self.pdus[0]
        if isinstance(pdu, SubmitMulti):
            return tuple(
                d.destination_addr for d in pdu.dest_addresses if isinstance(d, SmeAddress)
            )
        return (pdu.destination_addr,)


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestReceived:
    """query_sm, cancel_sm or replace_sm: answer with ``answer``."""

    token: int
    pdu: Pdu


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseReceived:
    """The peer answered one of our requests (``response`` may be a generic_nack)."""

    request: Pdu
    response: Pdu
    context: object = None

    @property
    def status(self) -> int:
        return self.response.command_status


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFailed:
    """One of our requests got no answer: timeout, or the session closed first."""

    request: Pdu
    reason: str
    context: object = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolError:
    """The peer broke SMPP; the answer (if any) is already queued. ``fatal`` closes."""

    status: int
    reason: str
    sequence_number: int | None = None
    command_id: int | None = None
    fatal: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Throttled:
    """A request beyond the window was answered ESME_RTHROTTLED."""

    sequence_number: int
    command_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PartsExpired:
    """Held parts of a long message were answered ``status`` without being judged."""

    pdus: tuple[MessagePdu, ...]
    total: int
    status: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Closed:
    """The session is over; the shell writes what is left and closes the transport."""

    reason: str


Event: TypeAlias = (
    BindRequested
    | SubmitReceived
    | RequestReceived
    | ResponseReceived
    | RequestFailed
    | ProtocolError
    | Throttled
    | PartsExpired
    | Closed
)


# --- internals ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Outstanding:
    """One of our requests awaiting its response."""

    request: Pdu
    deadline: float
    context: object


class OutstandingRequests:
    """Our requests awaiting a response, by sequence number, for either side of a session.

    Numbers run 1..``MAX_SEQUENCE`` and wrap, skipping numbers still awaiting an answer. Every
    request gets the same timeout, so insertion order is deadline order.
    """

    __slots__ = ("_by_seq", "last_seq")

    def __init__(self) -> None:
        self._by_seq: dict[int, Outstanding] = {}
        self.last_seq = 0  # the number given last

    def __len__(self) -> int:
        return len(self._by_seq)

    def values(self) -> Iterable[Outstanding]:
        return self._by_seq.values()

    def allocate(self) -> int:
        """The next free sequence number (it becomes ``last_seq``)."""
        seq = self.last_seq
        while True:
            seq = seq + 1 if seq < MAX_SEQUENCE else 1
            if seq not in self._by_seq:
                break
        self.last_seq = seq
        return seq

    def put(self, seq: int, request: Pdu, deadline: float, context: object) -> None:
        self._by_seq[seq] = Outstanding(request, deadline, context)

    def answer(self, pdu: Pdu) -> Outstanding | ProtocolError:
        """Take the request ``pdu`` answers (its ``*_resp`` or a generic_nack), or the error to
        report when it answers nothing we sent."""
        seq = pdu.sequence_number
        pending = self._by_seq.get(seq)
        cid = pdu.command_id
        if pending is None or (
            cid != _C.GENERIC_NACK and cid != pending.request.command_id | 0x8000_0000
        ):
            return ProtocolError(
                status=_S.ESME_RINVCMDID,
                reason=f"{cid.name.lower()} answers nothing we sent",
                sequence_number=seq,
                command_id=cid,
            )
        del self._by_seq[seq]
        return pending

    def next_deadline(self) -> float | None:
        return next(iter(self._by_seq.values())).deadline if self._by_seq else None

    def pop_expired(self, now: float) -> Outstanding | None:
        """Take the oldest request if its deadline has passed."""
        if not self._by_seq:
            return None
        seq, pending = next(iter(self._by_seq.items()))
        if pending.deadline > now:
            return None
        del self._by_seq[seq]
        return pending

    def take_all(self) -> list[Outstanding]:
        """Every request still waiting (the session is closing); none are left."""
        pending = list(self._by_seq.values())
        self._by_seq.clear()
        return pending


@dataclass(slots=True)
class _Partial:
    deadline: float
    total: int
    parts: dict[int, tuple[MessagePdu, bytes]]


_PartialKey: TypeAlias = tuple[int, int, bool, int, str, tuple[str, ...]]


def error_pdu(command_id: int, sequence_number: int, status: int) -> Pdu:
    """The error answer to a request: its response with ``status``, or generic_nack."""
    return error_response(
        PduError("", command_status=status, sequence_number=sequence_number, command_id=command_id)
    )


def answer_undecodable(err: PduError) -> tuple[bytes, ProtocolError]:
    """What a session of either side sends back for a PDU that failed to decode (generic_nack
    or the command's error response), and the event that reports it. The caller closes the
    session when ``err.fatal`` (framing is lost)."""
    event = ProtocolError(
        status=err.command_status,
        reason=err.reason,
        sequence_number=err.sequence_number,
        command_id=err.command_id,
        fatal=err.fatal,
    )
    return encode(error_response(err)), event


def _dest_key(pdu: MessagePdu) -> tuple[str, ...]:
    if isinstance(pdu, SubmitMulti):
        return tuple(
            d.destination_addr if isinstance(d, SmeAddress) else "dl:" + d.dl_name
            for d in pdu.dest_addresses
        )
    return (pdu.destination_addr,)


class SmscSession:
    """One SMPP session seen from the SMSC (spamgate) side. See the module docstring."""

    def __init__(self, now: float, config: SessionConfig | None = None) -> None:
        self.config = cfg = config or SessionConfig()
        self._reader = PduReader(max_pdu_size=cfg.max_pdu_size)
        self._state = BindState.OPEN
        self._kind: BindKind | None = None
        self._system_id: str | None = None
        self._window = cfg.window
        self._out: list[bytes] = []
        self._inflight = 0
        self._tokens: dict[int, int] = {}  # token -> parts it answers
        self._next_token = 0
        self._requests = OutstandingRequests()
        self._partials: dict[_PartialKey, _Partial] = {}  # creation (= deadline) order
        self._enquiring = False
        self._peer_unbind_seq: int | None = None
        self._close_reason: str | None = None
        self._stash: list[Event] = []  # events of a close that happened inside respond()/answer()
        self._last_rx = now
        self._last_peer_request = now
        self._bind_deadline = None if cfg.bind_timeout is None else now + cfg.bind_timeout
        self._handlers: dict[int, Callable[[Pdu, float, list[Event]], None]] = {
            _C.BIND_TRANSMITTER: self._on_bind,
            _C.BIND_RECEIVER: self._on_bind,
            _C.BIND_TRANSCEIVER: self._on_bind,
            _C.SUBMIT_SM: self._on_message,
            _C.DATA_SM: self._on_message,
            _C.SUBMIT_MULTI: self._on_message,
            _C.QUERY_SM: self._on_other_request,
            _C.CANCEL_SM: self._on_other_request,
            _C.REPLACE_SM: self._on_other_request,
            _C.ENQUIRE_LINK: self._on_enquire_link,
            _C.UNBIND: self._on_unbind,
        }

    # -- state --------------------------------------------------------------------------------

    @property
    def state(self) -> BindState:
        return self._state

    @property
    def bind_kind(self) -> BindKind | None:
        """How the peer is bound (None before a bind was accepted)."""
        return self._kind

    @property
    def system_id(self) -> str | None:
        """The peer's system_id once its bind was accepted."""
        return self._system_id

    @property
    def closed(self) -> bool:
        return self._state is BindState.CLOSED

    @property
    def close_reason(self) -> str | None:
        return self._close_reason

    @property
    def in_flight(self) -> int:
        """Requests from the peer not answered yet (held parts included)."""
        return self._inflight

    @property
    def window(self) -> int:
        return self._window

    @property
    def receives(self) -> bool:
        """True when bound to receive (receiver or transceiver), window room or not."""
        return self._state in _CAN_RECEIVE

    @property
    def can_deliver(self) -> bool:
        """True when a deliver_sm may be sent now (bound to receive, outgoing window not full)."""
        return self._state in _CAN_RECEIVE and len(self._requests) < self.config.out_window

    def data_to_send(self) -> bytes:
        """Bytes the session produced by itself since the last call (answers, probes)."""
        if not self._out:
            return b""
        data = b"".join(self._out)
        self._out.clear()
        return data

    # -- input --------------------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview, now: float) -> list[Event]:
        """Feed received bytes; returns the events they complete (possibly none)."""
        events: list[Event] = []
        if self._state is BindState.CLOSED:
            return events
        reader = self._reader
        reader.feed(data)
        handlers = self._handlers
        while True:
            try:
                pdu = reader.next_pdu()
            except PduError as err:
                self._on_decode_error(err, events)
                if err.fatal:
                    break
                continue
            if pdu is NEED_DATA:
                break
            self._last_rx = now
            cid = pdu.command_id
            if cid & 0x8000_0000:
                self._on_response(pdu, events)
            else:
                self._last_peer_request = now
                if cid not in ALLOWED[self._state]:
                    self._refuse(pdu, events)
                else:
                    handlers[cid](pdu, now, events)
            if self.closed:
                break
        return self._with_stash(events)

    def connection_lost(self) -> list[Event]:
        """The transport is gone: fail what we were waiting for and close."""
        events: list[Event] = []
        if self._state is not BindState.CLOSED:
            self._close("connection lost", events)
        return self._with_stash(events)

    def _with_stash(self, events: list[Event]) -> list[Event]:
        if self._stash:
            events[:0] = self._stash
            self._stash.clear()
        return events

    def _on_decode_error(self, err: PduError, events: list[Event]) -> None:
        answer, event = answer_undecodable(err)
        self._out.append(answer)
        events.append(event)
        if err.fatal:
            self._close(f"framing lost: {err.reason}", events)

    def _refuse(self, pdu: Pdu, events: list[Event]) -> None:
        cid = pdu.command_id
        if cid in _SMSC_ONLY:
            status, why = _S.ESME_RINVCMDID, "is not accepted by an SMSC"
        elif cid in _BINDS and self._state is not BindState.OPEN:
            status, why = _S.ESME_RALYBND, f"while {self._state.value}"
        else:
            status, why = _S.ESME_RINVBNDSTS, f"not allowed while {self._state.value}"
        self._out.append(encode(error_pdu(cid, pdu.sequence_number, status)))
        events.append(
            ProtocolError(
                status=status,
                reason=f"{cid.name.lower()} {why}",
                sequence_number=pdu.sequence_number,
                command_id=cid,
            )
        )

    def _over_window(self, pdu: Pdu, events: list[Event]) -> bool:
        if self._inflight < self._window:
            return False
        self._out.append(encode(error_pdu(pdu.command_id, pdu.sequence_number, _S.ESME_RTHROTTLED)))
        events.append(Throttled(sequence_number=pdu.sequence_number, command_id=pdu.command_id))
        return True

    # -- binds --------------------------------------------------------------------------------

    def _on_bind(self, pdu: Pdu, now: float, events: list[Event]) -> None:
        assert isinstance(pdu, BindPdu)
        self._state = BindState.BINDING
        events.append(
            BindRequested(
                kind=_BIND_KIND[pdu.command_id],
                system_id=pdu.system_id,
                password=pdu.password,
                system_type=pdu.system_type,
                interface_version=pdu.interface_version,
                addr_ton=pdu.addr_ton,
                addr_npi=pdu.addr_npi,
                address_range=pdu.address_range,
                sequence_number=pdu.sequence_number,
            )
        )

    def accept_bind(self, event: BindRequested, now: float, *, window: int | None = None) -> bytes:
        """Bind the peer as it asked; ``window`` overrides the configured in-flight limit."""
        if self._state is not BindState.BINDING:
            raise SessionError(f"no bind awaits an answer (state {self._state.value})")
        if window is not None:
            if window < 1:
                raise SessionError("window must be at least 1")
            self._window = window
        self._state = _BOUND_STATE[event.kind]
        self._kind = event.kind
        self._system_id = event.system_id
        self._bind_deadline = None
        self._last_peer_request = now
        tlvs: tuple[Tlv, ...] = ()
        if event.interface_version >= INTERFACE_VERSION_34:
            tlvs = (Tlv.from_int(Tag.SC_INTERFACE_VERSION, INTERFACE_VERSION_34),)
        return encode(
            BindRespPdu(
                command_id=CommandId(_bind_resp_id(event.kind)),
                sequence_number=event.sequence_number,
                system_id=self.config.system_id,
                tlvs=tlvs,
            )
        )

    def reject_bind(self, event: BindRequested, status: int) -> bytes:
        """Refuse the bind with ``status`` (non-zero); the peer may try again."""
        if self._state is not BindState.BINDING:
            raise SessionError(f"no bind awaits an answer (state {self._state.value})")
        if not status:
            raise SessionError("a refused bind needs a non-zero status")
        self._state = BindState.OPEN
        return encode(
            BindRespPdu(
                command_id=CommandId(_bind_resp_id(event.kind)),
                sequence_number=event.sequence_number,
                command_status=status,
            )
        )

    # -- messages -----------------------------------------------------------------------------

    def _on_message(self, pdu: Pdu, now: float, events: list[Event]) -> None:
        assert isinstance(pdu, SubmitSm | DataSm | SubmitMulti)
        if self._over_window(pdu, events):
            return
        try:
            concat, payload = message_parts(pdu)
        except PduError as err:
            self._on_decode_error(err, events)
            return
        if concat is None or concat.total == 1:
            self._inflight += 1
            self._whole((pdu,), payload, events)
            return
        self._add_part(pdu, concat, payload, now, events)

    def _add_part(
        self,
        pdu: MessagePdu,
        concat: ConcatInfo,
        payload: bytes,
        now: float,
        events: list[Event],
    ) -> None:
        key: _PartialKey = (
            concat.ref,
            concat.ref_bits,
            concat.from_sar,
            concat.total,
            pdu.source_addr,
            _dest_key(pdu),
        )
        partial = self._partials.get(key)
        if partial is None:
            partial = _Partial(now + self.config.reassembly_timeout, concat.total, {})
            self._partials[key] = partial
        elif concat.seq in partial.parts:
            status = VendorStatus.SG_RDUPLICATEPART
            self._out.append(encode(error_pdu(pdu.command_id, pdu.sequence_number, status)))
            events.append(
                ProtocolError(
                    status=status,
                    reason=f"part {concat.seq} of {concat.total} received twice",
                    sequence_number=pdu.sequence_number,
                    command_id=pdu.command_id,
                )
            )
            return
        self._inflight += 1
        partial.parts[concat.seq] = (pdu, payload)
        if len(partial.parts) < partial.total:
            return
        del self._partials[key]
        ordered = [partial.parts[i] for i in range(1, partial.total + 1)]
        self._whole(tuple(p for p, _ in ordered), b"".join(d for _, d in ordered), events)

    def _whole(self, pdus: tuple[MessagePdu, ...], payload: bytes, events: list[Event]) -> None:
        """A whole message (its parts already counted in flight): decode and hand it over."""
        coding = pdus[0].data_coding
        try:
            if any(p.data_coding != coding for p in pdus):
                raise EncodingError(
                    "parts of one message differ in data_coding",
                    command_status=_S.ESME_RINVDCS,
                    data_coding=coding,
                )
            text = decode_text(payload, coding)
        except EncodingError as err:
            self._answer_parts(pdus, err.command_status)
            events.append(
                ProtocolError(
                    status=err.command_status,
                    reason=err.reason,
                    sequence_number=pdus[-1].sequence_number,
                    command_id=pdus[-1].command_id,
                )
            )
            return
        token = self._next_token = self._next_token + 1
        self._tokens[token] = len(pdus)
        events.append(
            SubmitReceived(token=token, pdus=pdus, payload=payload, text=text, data_coding=coding)
        )

    def _answer_parts(self, pdus: Sequence[MessagePdu], status: int) -> None:
        """Answer held or whole parts without a token (errors found by the session itself)."""
        for pdu in pdus:
            self._out.append(encode(error_pdu(pdu.command_id, pdu.sequence_number, status)))
        self._inflight -= len(pdus)
        self._out.append(self._maybe_finish_unbind())

    def respond(
        self,
        event: SubmitReceived,
        status: int,
        *,
        message_ids: Sequence[str] = (),
        unsuccess: Sequence[UnsuccessSme] = (),
        tlvs: Sequence[Tlv] = (),
    ) -> bytes:
        """Answer every part of ``event`` with ``status``.

        ``message_ids`` gives one id per part (the last is reused if fewer are given); ids are
        sent only with ESME_ROK. ``unsuccess`` lists failed destinations of a submit_multi,
        ``tlvs`` are added to data_sm_resp. After the session closed this returns ``b""``.
        """
        parts = self._tokens.pop(event.token, None)
        if parts is None:
            raise SessionError(f"message {event.token} was already answered or is unknown")
        self._inflight -= parts
        if self._state is BindState.CLOSED:
            return b""
        out: list[bytes] = []
        last = len(message_ids) - 1
        for i, pdu in enumerate(event.pdus):
            message_id = "" if status or last < 0 else message_ids[min(i, last)]
            out.append(encode(_message_resp(pdu, status, message_id, unsuccess, tlvs)))
        out.append(self._maybe_finish_unbind())
        return b"".join(out)

    def _on_other_request(self, pdu: Pdu, now: float, events: list[Event]) -> None:
        if self._over_window(pdu, events):
            return
        self._inflight += 1
        token = self._next_token = self._next_token + 1
        self._tokens[token] = 1
        events.append(RequestReceived(token=token, pdu=pdu))

    def answer(self, event: RequestReceived, response: Pdu) -> bytes:
        """Answer a query_sm / cancel_sm / replace_sm with ``response`` (its seq is set here)."""
        if self._tokens.pop(event.token, None) is None:
            raise SessionError(f"request {event.token} was already answered or is unknown")
        if response.command_id != event.pdu.command_id | 0x8000_0000:
            self._tokens[event.token] = 1
            raise SessionError(f"{response.command_id!r} does not answer {event.pdu.command_id!r}")
        self._inflight -= 1
        if self._state is BindState.CLOSED:
            return b""
        answer = renumbered(response, event.pdu.sequence_number)
        return encode(answer) + self._maybe_finish_unbind()

    # -- keepalive and unbind -----------------------------------------------------------------

    def _on_enquire_link(self, pdu: Pdu, now: float, events: list[Event]) -> None:
        self._out.append(encode(EnquireLinkResp(sequence_number=pdu.sequence_number)))

    def _on_unbind(self, pdu: Pdu, now: float, events: list[Event]) -> None:
        if self._state is BindState.UNBINDING and self._peer_unbind_seq is None:
            # Both sides unbound at once: answer, and our own unbind needs no answer any more.
            self._out.append(encode(UnbindResp(sequence_number=pdu.sequence_number)))
            self._close("unbound", events)
            return
        if self._peer_unbind_seq is not None:
            self._refuse(pdu, events)
            return
        self._state = BindState.UNBINDING
        self._peer_unbind_seq = pdu.sequence_number
        for partial in list(self._partials.values()):
            self._expire(partial, "the peer unbound before the last part", events)
        self._partials.clear()
        self._out.append(self._maybe_finish_unbind())

    def _maybe_finish_unbind(self) -> bytes:
        """Once a peer's unbind has no answer left in front of it: unbind_resp, then close."""
        if self._peer_unbind_seq is None or self._inflight or self._state is BindState.CLOSED:
            return b""
        data = encode(UnbindResp(sequence_number=self._peer_unbind_seq))
        self._close("unbound by the peer", self._stash)
        return data

    def unbind(self, now: float) -> bytes:
        """Start an unbind from our side (shutdown); the session closes on unbind_resp."""
        if self._state not in _BOUND:
            raise SessionError(f"cannot unbind while {self._state.value}")
        self._state = BindState.UNBINDING
        return self._request(Unbind(), now, None)

    # -- our requests -------------------------------------------------------------------------

    def send_deliver_sm(
        self, pdu: DeliverSm | DataSm, now: float, context: object = None
    ) -> tuple[int, bytes]:
        """Send a deliver_sm (or data_sm) to the peer; returns its sequence number and bytes.

        ``context`` comes back in the ``ResponseReceived``/``RequestFailed`` event. Raises
        ``SessionError`` unless ``can_deliver``.
        """
        if self._state not in _CAN_RECEIVE:
            raise SessionError(f"a {self._state.value} session cannot receive messages")
        if len(self._requests) >= self.config.out_window:
            raise SessionError("outgoing window full")
        data = self._request(pdu, now, context)
        return self._requests.last_seq, data

    def _request(self, pdu: Pdu, now: float, context: object) -> bytes:
        seq = self._requests.allocate()
        numbered = renumbered(pdu, seq)
        self._requests.put(seq, numbered, now + self.config.response_timeout, context)
        return encode(numbered)

    def _on_response(self, pdu: Pdu, events: list[Event]) -> None:
        pending = self._requests.answer(pdu)
        if isinstance(pending, ProtocolError):
            events.append(pending)
            return
        request = pending.request
        if isinstance(request, EnquireLink):
            self._enquiring = False
        elif isinstance(request, Unbind):
            self._close("unbound", events)
        else:
            events.append(ResponseReceived(request=request, response=pdu, context=pending.context))

    # -- timers -------------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """The next deadline (same clock as ``now``), or None when nothing is scheduled."""
        state = self._state
        if state is BindState.CLOSED:
            return None
        cfg = self.config
        deadlines: list[float] = []
        if self._bind_deadline is not None:
            deadlines.append(self._bind_deadline)
        request_deadline = self._requests.next_deadline()
        if request_deadline is not None:
            deadlines.append(request_deadline)
        if self._partials:
            deadlines.append(next(iter(self._partials.values())).deadline)
        if state in _BOUND:
            if cfg.enquire_link_interval is not None and not self._enquiring:
                deadlines.append(self._last_rx + cfg.enquire_link_interval)
            if cfg.idle_timeout is not None:
                deadlines.append(self._last_peer_request + cfg.idle_timeout)
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> list[Event]:
        """Do what is due at ``now``: expire, probe, unbind or close. Returns the events."""
        events: list[Event] = []
        if self._state is BindState.CLOSED:
            return self._with_stash(events)
        self._on_timer(now, events)
        return self._with_stash(events)

    def _on_timer(self, now: float, events: list[Event]) -> None:
        cfg = self.config
        if self._bind_deadline is not None and now >= self._bind_deadline:
            self._close("no bind within the bind timeout", events)
            return
        while (pending := self._requests.pop_expired(now)) is not None:
            name = pending.request.command_id.name.lower()
            if isinstance(pending.request, EnquireLink | Unbind):
                self._close(f"{name} not answered within {cfg.response_timeout:g} s", events)
                return
            events.append(
                RequestFailed(request=pending.request, reason="timeout", context=pending.context)
            )
        while self._partials:
            key, partial = next(iter(self._partials.items()))
            if partial.deadline > now:
                break
            del self._partials[key]
            self._expire(partial, "parts missing at the reassembly timeout", events)
        if self._state in _BOUND:
            if cfg.idle_timeout is not None and now >= self._last_peer_request + cfg.idle_timeout:
                self._out.append(self.unbind(now))
                return
            interval = cfg.enquire_link_interval
            if interval is not None and not self._enquiring and now >= self._last_rx + interval:
                self._enquiring = True
                self._out.append(self._request(EnquireLink(), now, None))

    def _expire(self, partial: _Partial, reason: str, events: list[Event]) -> None:
        pdus = tuple(partial.parts[i][0] for i in sorted(partial.parts))
        status = VendorStatus.SG_RINCOMPLETE
        self._answer_parts(pdus, status)
        events.append(PartsExpired(pdus=pdus, total=partial.total, status=status, reason=reason))

    def _close(self, reason: str, events: list[Event]) -> None:
        self._state = BindState.CLOSED
        self._close_reason = reason
        self._bind_deadline = None
        for pending in self._requests.take_all():
            if not isinstance(pending.request, EnquireLink | Unbind):
                events.append(
                    RequestFailed(request=pending.request, reason=reason, context=pending.context)
                )
        self._partials.clear()
        events.append(Closed(reason=reason))


def _bind_resp_id(kind: BindKind) -> int:
    return {
        BindKind.TRANSMITTER: _C.BIND_TRANSMITTER_RESP,
        BindKind.RECEIVER: _C.BIND_RECEIVER_RESP,
        BindKind.TRANSCEIVER: _C.BIND_TRANSCEIVER_RESP,
    }[kind]


def _message_resp(
    pdu: MessagePdu,
    status: int,
    message_id: str,
    unsuccess: Sequence[UnsuccessSme],
    tlvs: Sequence[Tlv],
) -> Pdu:
    seq = pdu.sequence_number
    if isinstance(pdu, SubmitSm):
        return SubmitSmResp(sequence_number=seq, command_status=status, message_id=message_id)
    if isinstance(pdu, DataSm):
        return DataSmResp(
            sequence_number=seq, command_status=status, message_id=message_id, tlvs=tuple(tlvs)
        )
    return SubmitMultiResp(
        sequence_number=seq,
        command_status=status,
        message_id=message_id,
        unsuccess_smes=tuple(unsuccess),
    )
