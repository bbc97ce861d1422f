"""The ESME side of one SMPP 3.4 session: a pure state machine for spamgate's carrier links.

The mirror of ``session.SmscSession`` (same conventions: no sockets, no clock; bytes in through
``receive_data(data, now)``, events out; our requests return their bytes; what the session answers
by itself — enquire_link_resp, unbind_resp, generic_nack — is collected for ``data_to_send()``;
timers through ``get_timer()`` / ``handle_timer(now)``)::

    OPEN ──bind──▶ BINDING ──bind_resp OK──▶ BOUND ──unbind (either side)──▶ UNBINDING ──▶ CLOSED
                      └──bind_resp error──▶ CLOSED

What is promised:

* Nothing the SMSC sends raises. A malformed PDU whose frame is intact gets generic_nack (or its
  own error ``*_resp``) and reading goes on; lost framing closes the session (the link reconnects).
* ``submit`` numbers a submit_sm / data_sm / submit_multi and keeps it until its ``*_resp`` (a
  ``ResponseReceived``) or until ``response_timeout`` / the close (a ``RequestFailed``); at most
  ``window`` are outstanding (``can_submit``).
* deliver_sm / data_sm from the SMSC come out as ``DeliverReceived`` and are answered with
  ``answer_deliver`` (the caller decides the status, e.g. only once a receipt is safely kept).
* Keepalive: an enquire_link after ``enquire_link_interval`` without any PDU from the SMSC; an
  unanswered one closes the session (the link is dead).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final, TypeAlias

from spamgate.smpp.errors import PduError, SessionError
from spamgate.smpp.pdu import (
    NEED_DATA,
    BindPdu,
    BindRespPdu,
    CommandId,
    CommandStatus,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    PduReader,
    Unbind,
    UnbindResp,
    encode,
)
from spamgate.smpp.session import (
    Closed,
    MessagePdu,
    OutstandingRequests,
    ProtocolError,
    RequestFailed,
    ResponseReceived,
    answer_undecodable,
    error_pdu,
)

__all__ = [
    "BindAnswered",
    "DeliverReceived",
    "EsmeConfig",
    "EsmeEvent",
    "EsmeSession",
    "EsmeState",
]

_C = CommandId
_S = CommandStatus
_REQUESTS_WE_SEND: Final = frozenset({_C.SUBMIT_SM, _C.DATA_SM, _C.SUBMIT_MULTI})


class EsmeState(Enum):
    OPEN = "open"
    BINDING = "binding"
    BOUND = "bound"
    UNBINDING = "unbinding"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True, kw_only=True)
class EsmeConfig:
    """Limits and timers of one carrier session (seconds; ``None`` switches a timer off)."""

    window: int = 100
    bind_timeout: float = 10.0
    enquire_link_interval: float | None = 30.0
    response_timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError("window must be at least 1")
        if self.bind_timeout <= 0 or self.response_timeout <= 0:
            raise ValueError("bind_timeout and response_timeout must be positive")
        if self.enquire_link_interval is not None and self.enquire_link_interval <= 0:
            raise ValueError("enquire_link_interval must be positive or None")


@dataclass(frozen=True, slots=True, kw_only=True)
class BindAnswered:
    """The SMSC answered our bind: ``status`` 0 means bound."""

    status: int
    system_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverReceived:
    """A deliver_sm or data_sm from the SMSC: answer it with ``answer_deliver``."""

    pdu: DeliverSm | DataSm


EsmeEvent: TypeAlias = (
    BindAnswered | DeliverReceived | ResponseReceived | RequestFailed | ProtocolError | Closed
)


class EsmeSession:
    """One session seen from the ESME (spamgate's upstream link) side. See the module docstring."""

    def __init__(self, now: float, config: EsmeConfig | None = None) -> None:
        self.config = config or EsmeConfig()
        self._reader = PduReader()
        self._state = EsmeState.OPEN
        self._out: list[bytes] = []
        self._requests = OutstandingRequests()
        self._bind_deadline: float | None = None
        self._enquiring = False
        self._last_rx = now
        self._close_reason: str | None = None

    @property
    def state(self) -> EsmeState:
        return self._state

    @property
    def bound(self) -> bool:
        return self._state is EsmeState.BOUND

    @property
    def closed(self) -> bool:
        return self._state is EsmeState.CLOSED

    @property
    def close_reason(self) -> str | None:
        return self._close_reason

    @property
    def in_flight(self) -> int:
        """Our messages not answered yet."""
        return sum(1 for o in self._requests.values() if o.context is not None)

    @property
    def can_submit(self) -> bool:
        return self._state is EsmeState.BOUND and len(self._requests) < self.config.window

    def data_to_send(self) -> bytes:
        if not self._out:
            return b""
        data = b"".join(self._out)
        self._out.clear()
        return data

    # -- our requests -------------------------------------------------------------------------

    def bind(self, now: float, *, system_id: str, password: str, system_type: str = "") -> bytes:
        """Ask to bind as a transceiver (we both submit and receive receipts on one link)."""
        if self._state is not EsmeState.OPEN:
            raise SessionError(f"cannot bind while {self._state.value}")
        self._state = EsmeState.BINDING
        self._bind_deadline = now + self.config.bind_timeout
        pdu = BindPdu(
            command_id=_C.BIND_TRANSCEIVER,
            system_id=system_id,
            password=password,
            system_type=system_type,
        )
        data = self._request(pdu, now, None)
        return data

    def submit(self, pdu: MessagePdu, now: float, context: object) -> tuple[int, bytes]:
        """Send one message PDU; ``context`` (not None) comes back with its answer."""
        if context is None:
            raise SessionError("a submit needs a context")
        if pdu.command_id not in _REQUESTS_WE_SEND:
            raise SessionError(f"{pdu.command_id!r} is not a message we submit")
        if not self.can_submit:
            raise SessionError(f"cannot submit while {self._state.value} / window full")
        data = self._request(pdu, now, context)
        return self._requests.last_seq, data

    def unbind(self, now: float) -> bytes:
        if self._state is not EsmeState.BOUND:
            raise SessionError(f"cannot unbind while {self._state.value}")
        self._state = EsmeState.UNBINDING
        return self._request(Unbind(), now, None)

    def answer_deliver(self, pdu: DeliverSm | DataSm, status: int) -> bytes:
        """The deliver_sm_resp / data_sm_resp for ``pdu`` (b"" once closed)."""
        if self._state is EsmeState.CLOSED:
            return b""
        seq = pdu.sequence_number
        if isinstance(pdu, DataSm):
            return encode(DataSmResp(sequence_number=seq, command_status=status))
        return encode(DeliverSmResp(sequence_number=seq, command_status=status))

    def _request(self, pdu: Pdu, now: float, context: object) -> bytes:
        seq = self._requests.allocate()
        # Number the encoded bytes rather than the object: ``replace`` would re-validate every
        # field of the PDU, the costliest step per submit. The request kept has its own number.
        data = bytearray(encode(pdu))
        data[12:16] = seq.to_bytes(4, "big")
        self._requests.put(seq, pdu, now + self.config.response_timeout, context)
        return bytes(data)

    # -- input --------------------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview, now: float) -> list[EsmeEvent]:
        events: list[EsmeEvent] = []
        if self._state is EsmeState.CLOSED:
            return events
        self._reader.feed(data)
        while not self.closed:
            try:
                pdu = self._reader.next_pdu()
            except PduError as err:
                answer, event = answer_undecodable(err)
                self._out.append(answer)
                events.append(event)
                if err.fatal:
                    self._close(f"framing lost: {err.reason}", events)
                continue
            if pdu is NEED_DATA:
                break
            self._last_rx = now
            if pdu.command_id & 0x8000_0000:
                self._on_response(pdu, events)
            else:
                self._on_request(pdu, events)
        return events

    def _on_request(self, pdu: Pdu, events: list[EsmeEvent]) -> None:
        cid = pdu.command_id
        seq = pdu.sequence_number
        if cid == _C.ENQUIRE_LINK:
            self._out.append(encode(EnquireLinkResp(sequence_number=seq)))
        elif cid == _C.UNBIND:
            self._out.append(encode(UnbindResp(sequence_number=seq)))
            self._close("unbound by the SMSC", events)
        elif isinstance(pdu, DeliverSm | DataSm) and self._state in (
            EsmeState.BOUND,
            EsmeState.UNBINDING,
        ):
            events.append(DeliverReceived(pdu=pdu))
        else:
            status = (
                _S.ESME_RINVBNDSTS if isinstance(pdu, DeliverSm | DataSm) else _S.ESME_RINVCMDID
            )
            self._out.append(encode(error_pdu(cid, seq, status)))
            events.append(
                ProtocolError(
                    status=status,
                    reason=f"{cid.name.lower()} not expected from an SMSC now",
                    sequence_number=seq,
                    command_id=cid,
                )
            )

    def _on_response(self, pdu: Pdu, events: list[EsmeEvent]) -> None:
        pending = self._requests.answer(pdu)
        if isinstance(pending, ProtocolError):
            events.append(pending)
            return
        request = pending.request
        if isinstance(request, BindPdu):
            self._bind_deadline = None
            status = pdu.command_status
            system_id = pdu.system_id if isinstance(pdu, BindRespPdu) else ""
            events.append(BindAnswered(status=status, system_id=system_id))
            if status:
                self._close(f"bind refused with 0x{status:08X}", events)
            else:
                self._state = EsmeState.BOUND
        elif isinstance(request, EnquireLink):
            self._enquiring = False
        elif isinstance(request, Unbind):
            self._close("unbound", events)
        elif isinstance(pdu, GenericNack) or pending.context is not None:
            events.append(ResponseReceived(request=request, response=pdu, context=pending.context))

    def connection_lost(self) -> list[EsmeEvent]:
        events: list[EsmeEvent] = []
        if self._state is not EsmeState.CLOSED:
            self._close("connection lost", events)
        return events

    # -- timers -------------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        if self._state is EsmeState.CLOSED:
            return None
        deadlines: list[float] = []
        if self._bind_deadline is not None:
            deadlines.append(self._bind_deadline)
        request_deadline = self._requests.next_deadline()
        if request_deadline is not None:
            deadlines.append(request_deadline)
        interval = self.config.enquire_link_interval
        if self._state is EsmeState.BOUND and interval is not None and not self._enquiring:
            deadlines.append(self._last_rx + interval)
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> list[EsmeEvent]:
        events: list[EsmeEvent] = []
        if self._state is EsmeState.CLOSED:
            return events
        if self._bind_deadline is not None and now >= self._bind_deadline:
            self._close("no bind_resp within the bind timeout", events)
            return events
        while (pending := self._requests.pop_expired(now)) is not None:
            if pending.context is None:  # enquire_link or unbind: the link is dead
                name = pending.request.command_id.name.lower()
                self._close(f"{name} not answered in {self.config.response_timeout:g} s", events)
                return events
            events.append(
                RequestFailed(request=pending.request, reason="timeout", context=pending.context)
            )
        interval = self.config.enquire_link_interval
        if (
            self._state is EsmeState.BOUND
            and interval is not None
            and not self._enquiring
            and now >= self._last_rx + interval
        ):
            self._enquiring = True
            self._out.append(self._request(EnquireLink(), now, None))
        return events

    def _close(self, reason: str, events: list[EsmeEvent]) -> None:
        self._state = EsmeState.CLOSED
        self._close_reason = reason
        self._bind_deadline = None
        for pending in self._requests.take_all():
            if pending.context is not None:
                events.append(
                    RequestFailed(request=pending.request, reason=reason, context=pending.context)
                )
        events.append(Closed(reason=reason))
