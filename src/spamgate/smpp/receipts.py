"""Delivery receipts from carriers, mapped back to the reseller's message id and relayed.

A deliver_sm from a carrier link with the receipt bit (esm_class 0x04) is read for the carrier's
message_id (the ``receipted_message_id`` TLV, else the ``id:`` of the text). When the mapping is
in memory and the reseller takes the rewritten receipt at once (within ``fast_timeout``), the
carrier's deliver_sm is answered OK and nothing is stored. Otherwise the receipt is **kept** (a
row in the id map's SQLite file, so a restart does not lose it) and only then answered
deliver_sm_resp OK. A worker then looks the id up (``IdMap``), rewrites the receipt's id fields to
the id spamgate gave the reseller, and sends it with ``SmppServer.deliver(system_id, pdu)``.

When that cannot happen yet — the receipt raced its submit_sm_resp, so the id is unknown; the
reseller has no receiver bind; its window is full; it answered an error — the receipt stays kept
and is retried with exponential backoff (``retry_min`` doubling up to ``retry_max``). A mapping
recorded by the drainer wakes the receipts waiting for it at once. After ``expiry`` seconds a
receipt is given up: counted (``spamgate_upstream_receipts_total{outcome="expired"}``), logged
with its ids, and deleted. A receipt without any id cannot be relayed: it is counted as
``malformed``, logged (ids and a hash of the text, never the text) and kept until the expiry.

More than ``capacity`` receipts kept in memory → the carrier's deliver_sm is answered
ESME_RMSGQFUL, so the carrier keeps it and sends it again later. Non-receipt deliver_sm (mobile
originated messages) are not relayed by this gateway: they are answered ESME_RX_P_APPN and
counted.

``reject`` makes the receipt a reseller gets for a message the carrier refused at submit
(stat ``REJECTD``, ``err`` the carrier's command_status in three hex digits) or that could not be
forwarded before its expiry (stat ``EXPIRED``), when the message asked for a receipt.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from spamgate.domain.message import KST
from spamgate.smpp.errors import PduError, ReceiptError
from spamgate.smpp.forward import ForwardItem
from spamgate.smpp.idmap import IdMap
from spamgate.smpp.pdu import (
    ESM_CLASS_DELIVERY_RECEIPT,
    CommandStatus,
    DataSm,
    DeliverSm,
    MessageState,
    SubmitMulti,
    Tag,
    Tlv,
    decode,
    encode,
    updated,
)
from spamgate.smpp.receipt import Receipt, format_receipt, parse_receipt
from spamgate.smpp.server import message_fingerprint
from spamgate.smpp.session import ResponseReceived
from spamgate.smpp.upstream import UpstreamLink
from spamgate.smpp.upstream_metrics import UpstreamMetrics

__all__ = ["Deliverer", "ReceiptRelay", "receipt_id", "rewrite_receipt"]

log = logging.getLogger(__name__)
_S = CommandStatus
_MESSAGE_TYPE_MASK: Final = 0x3C
_ID_IN_TEXT: Final = re.compile(rb"(?i)(?<![\w])id:\S*")


class Deliverer(Protocol):
    """What relays a receipt to a reseller (``SmppServer`` is one)."""

    def deliver(
        self, system_id: str, pdu: DeliverSm | DataSm
    ) -> asyncio.Future[ResponseReceived]: ...

    async def wait_for_room(self, system_id: str, timeout: float) -> bool: ...


def _expire(future: asyncio.Future[ResponseReceived]) -> None:
    if not future.done():
        future.set_exception(TimeoutError("the reseller did not answer the receipt in time"))


def _user_data(pdu: DeliverSm | DataSm) -> bytes:
    return pdu.message


def receipt_id(pdu: DeliverSm | DataSm) -> str | None:
    """The carrier message_id a receipt is about: the TLV, else the text's ``id:`` (or None)."""
    tlv = pdu.tlv(Tag.RECEIPTED_MESSAGE_ID)
    if tlv is not None:
        with contextlib.suppress(PduError, UnicodeDecodeError, ValueError):
            value = tlv.as_cstr()
            if value:
                return value
    try:
        return parse_receipt(_user_data(pdu).decode("latin-1")).message_id
    except ReceiptError:
        return None


def rewrite_receipt(pdu: DeliverSm | DataSm, our_id: str) -> DeliverSm | DataSm:
    """The receipt with its id fields (TLV and text) replaced by ``our_id``."""
    tlvs = [t for t in pdu.tlvs if t.tag != Tag.RECEIPTED_MESSAGE_ID]
    tlvs.insert(0, Tlv.from_cstr(Tag.RECEIPTED_MESSAGE_ID, our_id))
    data = _user_data(pdu)
    new_data = _ID_IN_TEXT.sub(lambda _: b"id:" + our_id.encode("ascii"), data, count=1)
    if isinstance(pdu, DataSm) or pdu.tlv(Tag.MESSAGE_PAYLOAD) is not None:
        tlvs = [
            Tlv(Tag.MESSAGE_PAYLOAD, new_data) if t.tag == Tag.MESSAGE_PAYLOAD else t for t in tlvs
        ]
        return updated(pdu, sequence_number=0, tlvs=tuple(tlvs))
    return updated(pdu, sequence_number=0, short_message=new_data, tlvs=tuple(tlvs))


@dataclass(slots=True)
class _Kept:
    rid: int
    ns: str
    carrier_id: str
    system_id: str
    our_id: str
    pdu: DeliverSm | DataSm
    created: float  # wall clock
    final: bool  # already rewritten (our own receipts)
    attempts: int = 0
    gen: int = 0  # bumped on every (re)schedule: older heap entries are stale
    busy: bool = False
    done: bool = False


class ReceiptRelay:
    """See the module docstring. ``await start()``, ``await close()``."""

    def __init__(
        self,
        idmap: IdMap,
        deliverer: Deliverer,
        *,
        metrics: UpstreamMetrics | None = None,
        expiry: float = 3 * 86_400.0,
        retry_min: float = 0.2,
        retry_max: float = 30.0,
        capacity: int = 200_000,
        concurrency: int = 64,
        fast_timeout: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.idmap = idmap
        self.deliverer = deliverer
        self.metrics = metrics or UpstreamMetrics()
        self.expiry = expiry
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.capacity = capacity
        self.fast_timeout = fast_timeout
        self._clock = clock
        self._heap: list[tuple[float, int, int, _Kept]] = []
        self._order = itertools.count()
        self._count = 0
        self._waiting: dict[tuple[str, str], dict[int, _Kept]] = {}
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.relayed = 0
        self.expired = 0

    def __len__(self) -> int:
        """Receipts kept and not yet relayed."""
        return self._count

    async def start(self) -> None:
        for row in await self.idmap.kept_receipts():
            try:
                pdu = decode(row.pdu)
            except PduError:
                log.error("receipt %d kept from an earlier run cannot be decoded; dropped", row.rid)
                await self.idmap.drop_receipts([row.rid])
                continue
            assert isinstance(pdu, DeliverSm | DataSm)
            final = row.ns == "" and bool(row.our_id)
            self._schedule(
                _Kept(
                    row.rid,
                    row.ns,
                    row.carrier_id,
                    row.system_id,
                    row.our_id,
                    pdu,
                    row.created,
                    final,
                ),
                0.0,
            )
        self._task = asyncio.get_running_loop().create_task(self._run(), name="receipt-relay")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._tasks):
            task.cancel()

    # -- intake -------------------------------------------------------------------------------

    async def on_carrier_deliver(self, link: UpstreamLink, pdu: DeliverSm | DataSm) -> int:
        """A deliver_sm from ``link``: keep it, then answer (see the module docstring)."""
        if pdu.esm_class & _MESSAGE_TYPE_MASK != ESM_CLASS_DELIVERY_RECEIPT:
            self.metrics.receipt("mobile_originated")
            log.warning("upstream %s: a mobile-originated deliver_sm is not relayed", link.name)
            return _S.ESME_RX_P_APPN
        if self._count >= self.capacity:
            self.metrics.receipt("refused")
            return _S.ESME_RMSGQFUL
        self.metrics.receipt("received")
        ns = link.settings.carrier
        carrier_id = receipt_id(pdu)
        if carrier_id is None:
            self.metrics.receipt("malformed")
            log.warning(
                "upstream %s: receipt without a message id kept, not relayable (text %s)",
                link.name,
                message_fingerprint(_user_data(pdu).decode("latin-1")),
            )
            carrier_id = ""
        if carrier_id and await self._relay_now(ns, carrier_id, pdu):
            return _S.ESME_ROK
        self.metrics.receipt("kept")  # stored: the slow path
        rid = await self.idmap.keep_receipt(ns, carrier_id, "", "", encode(pdu))
        kept = _Kept(rid, ns, carrier_id, "", "", pdu, self._clock(), False)
        if carrier_id:
            self._schedule(kept, 0.0)
        else:
            self._schedule(kept, self.expiry)  # only its expiry is left to happen
        return _S.ESME_ROK

    async def _relay_now(self, ns: str, carrier_id: str, pdu: DeliverSm | DataSm) -> bool:
        """The fast path: mapping cached, reseller bound and quick → relayed, nothing stored.

        The carrier's deliver_sm waits for the reseller's answer (at most ``fast_timeout``);
        on a miss the receipt is kept as usual (a late answer may then mean a duplicate: receipts
        are at least once).
        """
        mapping = self.idmap.cached(ns, carrier_id)
        if mapping is None or self._count >= self.capacity // 2:
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.fast_timeout
        receipt = rewrite_receipt(pdu, mapping.our_id)
        while True:
            try:
                future = self.deliverer.deliver(mapping.system_id, receipt)
                break
            except LookupError:  # every receiver bind's window is full, or none is bound
                left = deadline - loop.time()
                if not await self.deliverer.wait_for_room(mapping.system_id, left):
                    return False
        # The deadline fails the future itself (cheaper than a timeout scope per receipt);
        # a late answer then finds it done and is dropped.
        timer = loop.call_at(deadline, _expire, future)
        try:
            response = await future
        except (TimeoutError, ConnectionError):
            return False
        finally:
            timer.cancel()
        if response.status != _S.ESME_ROK:
            return False
        self.relayed += 1
        self.metrics.receipt("relayed")
        return True

    async def reject(self, item: ForwardItem, status: int | None, *, expired: bool = False) -> None:
        """Tell the reseller ``item`` failed upstream, when it asked for a receipt."""
        first = item.pdus[0]
        if first.registered_delivery & 0x03 not in (1, 2):
            return
        recipient = (
            next((getattr(d, "destination_addr", "") for d in first.dest_addresses), "")
            if isinstance(first, SubmitMulti)
            else first.destination_addr
        )
        now = datetime.now(KST).replace(tzinfo=None)
        submitted = datetime.fromtimestamp(item.received_at or self._clock(), KST).replace(
            tzinfo=None
        )
        state = MessageState.EXPIRED if expired else MessageState.REJECTED
        err = "000" if status is None else f"{status & 0xFFF:03X}"
        for part_id in item.part_ids:
            text = format_receipt(
                Receipt(
                    message_id=part_id,
                    submit_date=submitted,
                    done_date=now,
                    stat="EXPIRED" if expired else "REJECTD",
                    err=err,
                )
            )
            pdu = DeliverSm(
                source_addr=recipient,
                destination_addr=first.source_addr,
                esm_class=ESM_CLASS_DELIVERY_RECEIPT,
                short_message=text.encode("ascii"),
                tlvs=(
                    Tlv.from_cstr(Tag.RECEIPTED_MESSAGE_ID, part_id),
                    Tlv.from_int(Tag.MESSAGE_STATE, state),
                ),
            )
            rid = await self.idmap.keep_receipt("", "", item.system_id, part_id, encode(pdu))
            self._schedule(
                _Kept(rid, "", "", item.system_id, part_id, pdu, self._clock(), True), 0.0
            )

    def mapped(self, keys: list[tuple[str, str]]) -> None:
        """Mappings for ``(ns, carrier_id)`` were recorded: retry receipts waiting for them now."""
        for key in keys:
            waiting = self._waiting.pop(key, None)
            for kept in (waiting or {}).values():
                if not kept.busy and not kept.done:
                    self._schedule(kept, 0.0, counted=True)

    # -- the worker ---------------------------------------------------------------------------

    def _schedule(self, kept: _Kept, delay: float, *, counted: bool = False) -> None:
        if not counted:
            self._count += 1
            self.metrics.receipts_pending.set(self._count)
        kept.gen += 1
        due = time.monotonic() + delay
        heapq.heappush(self._heap, (due, next(self._order), kept.gen, kept))
        self._wake.set()

    def _retry(self, kept: _Kept) -> None:
        kept.attempts += 1
        delay = min(self.retry_max, self.retry_min * float(1 << min(kept.attempts - 1, 30)))
        self._schedule(kept, delay, counted=True)

    async def _run(self) -> None:
        while True:
            now = time.monotonic()
            while self._heap and self._heap[0][0] <= now:
                _, _, gen, kept = heapq.heappop(self._heap)
                if (
                    gen != kept.gen or kept.busy or kept.done
                ):  # superseded (e.g. woken by a mapping)
                    continue
                await self._slots.acquire()
                kept.busy = True
                task = asyncio.get_running_loop().create_task(self._attempt(kept))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            self._wake.clear()
            timeout = self._heap[0][0] - time.monotonic() if self._heap else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _finish(self, kept: _Kept, outcome: str) -> None:
        kept.done = True
        waiting = self._waiting.get((kept.ns, kept.carrier_id))
        if waiting is not None:
            waiting.pop(kept.rid, None)
            if not waiting:
                del self._waiting[(kept.ns, kept.carrier_id)]
        self._count -= 1
        self.metrics.receipts_pending.set(self._count)
        self.metrics.receipt(outcome)
        await self.idmap.drop_receipts([kept.rid])

    async def _attempt(self, kept: _Kept) -> None:
        try:
            if self._clock() - kept.created >= self.expiry:
                self.expired += 1
                log.warning(
                    "receipt for carrier id %r (ours %r, %s) expired after %d attempts",
                    kept.carrier_id,
                    kept.our_id or "-",
                    kept.system_id or "?",
                    kept.attempts,
                )
                await self._finish(kept, "expired")
                return
            if not kept.our_id:
                found = await self.idmap.lookup(kept.ns, kept.carrier_id)
                if found is None:
                    kept.attempts += 1
                    self._waiting.setdefault((kept.ns, kept.carrier_id), {})[kept.rid] = kept
                    # Also retry on a timer: the mapping may come from an earlier run.
                    delay = min(self.retry_max, self.retry_min * float(1 << min(kept.attempts, 30)))
                    self._schedule(kept, delay, counted=True)
                    return
                kept.our_id, kept.system_id = found.our_id, found.system_id
                waiting = self._waiting.get((kept.ns, kept.carrier_id))
                if waiting is not None:
                    waiting.pop(kept.rid, None)
                    if not waiting:
                        del self._waiting[(kept.ns, kept.carrier_id)]
            if not kept.final:  # rewrite once; retries send the same PDU
                kept.pdu = rewrite_receipt(kept.pdu, kept.our_id)
                kept.final = True
            pdu = kept.pdu
            try:
                response = await self.deliverer.deliver(kept.system_id, pdu)
            except (LookupError, ConnectionError, TimeoutError):
                self._retry(kept)
                return
            if response.status != _S.ESME_ROK:
                self._retry(kept)
                return
            self.relayed += 1
            await self._finish(kept, "relayed")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("relaying receipt %d failed; retrying", kept.rid)
            self._retry(kept)
        finally:
            kept.busy = False
            self._slots.release()
