"""The seam between the SMPP server and whatever carries accepted messages on (spool, upstream).

The server judges a message, and when the verdict lets it through it hands a ``ForwardItem`` to a
``Forwarder`` *before* it answers the reseller: ``forward`` returning means the forwarder has taken
responsibility for the items (a durable forwarder has them on disk by then); raising
``ForwardError`` makes the server answer them with the error's status instead, so nothing
acknowledged is lost. The upstream client (carrier links) and the write-ahead spool plug in here.

``ForwardItem.upstream_pdus()`` builds what goes to the carrier: the parts as received plus the
verdict TLVs, or — when a receiving-side label such as ``[국제발신]`` must lead the text — the
labelled text re-encoded and re-split.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from spamgate.domain.verdict import Verdict
from spamgate.smpp.encoding import DataCoding, alphabet_of, encode_text, split_text
from spamgate.smpp.errors import EncodingError
from spamgate.smpp.pdu import ESM_CLASS_UDHI, CommandStatus, DataSm, Tag, Tlv, updated
from spamgate.smpp.session import MessagePdu

__all__ = [
    "ForwardError",
    "ForwardItem",
    "Forwarder",
    "InMemoryForwarder",
    "SinkForwarder",
]

_SAR_TAGS: Final = frozenset(
    {Tag.SAR_MSG_REF_NUM, Tag.SAR_TOTAL_SEGMENTS, Tag.SAR_SEGMENT_SEQNUM, Tag.MESSAGE_PAYLOAD}
)


class ForwardError(Exception):
    """A forwarder cannot take the items now; ``command_status`` is what the reseller gets."""

    def __init__(self, message: str, *, command_status: int = CommandStatus.ESME_RMSGQFUL) -> None:
        super().__init__(message)
        self.command_status = command_status


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardItem:
    """One accepted message (all its parts) and what spamgate decided about it."""

    message_id: str  # the id of the first part, as given to the reseller
    part_ids: tuple[str, ...]
    system_id: str
    account: str
    pdus: tuple[MessagePdu, ...]
    text: str
    data_coding: int
    verdict: Verdict
    label: str = ""  # receiving-side prefix, e.g. "[국제발신]"
    tlvs: tuple[Tlv, ...] = ()  # verdict TLVs to add upstream
    received_at: float = 0.0  # wall clock, seconds since the epoch

    @property
    def sender(self) -> str:
        return self.pdus[0].source_addr

    def upstream_pdus(self) -> list[MessagePdu]:
        """The PDUs to submit upstream (sequence numbers 0: the upstream session numbers them)."""
        if not self.label:
            return [
                updated(p, sequence_number=0, tlvs=(*p.tlvs, *self.tlvs)) if self.tlvs else p
                for p in self.pdus
            ]
        first = self.pdus[0]
        text = f"{self.label} {self.text}"
        coding = self.data_coding
        try:
            alphabet_of(coding)
            encode_text(text, coding)
        except EncodingError:
            coding = DataCoding.UCS2  # the label's Hangul does not fit the sender's coding
        keep = tuple(t for t in first.tlvs if t.tag not in _SAR_TAGS)
        if isinstance(first, DataSm):
            payload = Tlv(Tag.MESSAGE_PAYLOAD, encode_text(text, coding))
            return [
                updated(
                    first,
                    sequence_number=0,
                    data_coding=coding,
                    esm_class=first.esm_class & ~ESM_CLASS_UDHI,
                    tlvs=(*keep, payload, *self.tlvs),
                )
            ]
        ref = zlib.crc32(self.message_id.encode()) & 0xFF
        pieces = split_text(text, coding, ref=ref)
        udhi = ESM_CLASS_UDHI if len(pieces) > 1 else 0
        return [
            updated(
                first,
                sequence_number=0,
                data_coding=coding,
                esm_class=(first.esm_class & ~ESM_CLASS_UDHI) | udhi,
                short_message=piece,
                tlvs=(*keep, *self.tlvs),
            )
            for piece in pieces
        ]


class Forwarder(Protocol):
    """Takes accepted messages on. See the module docstring for the promise."""

    async def forward(self, items: Sequence[ForwardItem]) -> None: ...


class InMemoryForwarder:
    """A bounded in-process queue for a consumer (the upstream client) to drain.

    Not durable: a crash loses what is queued. ``forward`` refuses (ESME_RMSGQFUL) beyond
    ``capacity`` queued items, which slows resellers down instead of growing without bound.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._queue: deque[ForwardItem] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._queue)

    async def forward(self, items: Sequence[ForwardItem]) -> None:
        if len(self._queue) + len(items) > self.capacity:
            raise ForwardError(f"forward queue full ({self.capacity} messages)")
        self._queue.extend(items)
        self._ready.set()

    async def get(self) -> ForwardItem:
        """The oldest queued item, waiting for one if needed."""
        while not self._queue:
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    def get_nowait(self) -> ForwardItem | None:
        return self._queue.popleft() if self._queue else None


class SinkForwarder:
    """Accepts everything and keeps the last ``keep`` items and a count per action (tests, bench).

    ``fail_with`` makes every ``forward`` raise that ``ForwardError`` instead.
    """

    def __init__(self, keep: int = 10_000) -> None:
        self.items: deque[ForwardItem] = deque(maxlen=keep)
        self.actions: Counter[str] = Counter()
        self.fail_with: ForwardError | None = None

    @property
    def total(self) -> int:
        return sum(self.actions.values())

    async def forward(self, items: Sequence[ForwardItem]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.items.extend(items)
        for item in items:
            self.actions[item.verdict.action.value] += 1
