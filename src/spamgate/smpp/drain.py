"""The drainer: spooled messages go to the carriers, and leave the spool once the carrier has them.

``Drainer.start()`` queues what the spool still holds (``pending()``: left from an earlier run),
minus what the id map says a carrier already acknowledged (those are only acked in the spool,
never sent twice), and then takes every newly spooled batch from the spool's listener.
``concurrency`` workers each carry one message at a time:

1. route it (``RouteTable.choose``: its carrier's links that are up, by weight, with failover);
2. submit every part not yet accepted on that link (``ForwardItem.upstream_pdus()`` plus the
   ``SPAMGATE_MESSAGE_ID`` TLV: our message id, the dedupe key a carrier can use);
3. every part answered ESME_ROK → the carrier's ids are recorded in the id map together with the
   "acked upstream" mark (one SQLite commit), then the message is acked in the spool. This order
   makes delivery exactly once where the carrier acknowledged it and the mark was committed, at
   least once otherwise (a crash between the carrier's answer and the commit resends it);
4. a retryable answer (throttled, queue full, system error, temporary app error, bad bind
   state), a timeout or a link loss → the failed parts are retried after a backoff, preferring
   another link; with no link up the worker waits for one;
5. any other error status → the carrier refused the message: the reseller gets a failed receipt
   (``REJECTD`` with the status, if it asked for receipts) and the message is acked;
6. a message still not forwarded ``max_age`` seconds after it was accepted gets an ``EXPIRED``
   receipt and is acked.

In the background: spool depth in the metrics, spool compaction when the file grows past
``compact_min_size`` and acked records dominate, and id-map pruning (retention).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from spamgate.smpp.forward import ForwardItem
from spamgate.smpp.idmap import IdMap
from spamgate.smpp.pdu import (
    CommandStatus,
    MessageIdResp,
    Pdu,
    SubmitMulti,
    SubmitMultiResp,
    Tlv,
    updated,
)
from spamgate.smpp.receipts import ReceiptRelay
from spamgate.smpp.routing import RouteTable
from spamgate.smpp.session import MessagePdu
from spamgate.smpp.spool import SpoolForwarder, item_from_record
from spamgate.smpp.upstream import LinkError, UpstreamLink
from spamgate.smpp.upstream_metrics import UpstreamMetrics
from spamgate.smpp.vendor import VendorTag

__all__ = ["RETRYABLE_STATUSES", "Drainer", "DrainerConfig", "dedupe_pdus", "recipient_of"]

log = logging.getLogger(__name__)
_S = CommandStatus

#: Carrier answers that mean "not now": the part is sent again (elsewhere if possible).
RETRYABLE_STATUSES: Final = frozenset(
    {
        _S.ESME_RTHROTTLED,
        _S.ESME_RMSGQFUL,
        _S.ESME_RSYSERR,
        _S.ESME_RX_T_APPN,
        _S.ESME_RINVBNDSTS,
    }
)


#: TLVs a reseller sends spamgate that never travel on (0x1410: SPAMGATE_SEND_PROOF).
_RESELLER_ONLY_TAGS: Final = frozenset({0x1410})


@dataclass(frozen=True, slots=True, kw_only=True)
class DrainerConfig:
    concurrency: int = 256
    retry_min: float = 0.05
    retry_max: float = 30.0
    max_age: float = 2 * 86_400.0
    max_queued: int = 200_000
    compact_min_size: int = 64 * 1024 * 1024
    housekeeping_interval: float = 5.0
    prune_interval: float = 3_600.0


def recipient_of(pdu: MessagePdu) -> str:
    if isinstance(pdu, SubmitMulti):
        for dest in pdu.dest_addresses:
            address = getattr(dest, "destination_addr", None)
            if address:
                return str(address)
        return ""
    return pdu.destination_addr


def dedupe_pdus(item: ForwardItem) -> list[MessagePdu]:
    """``item.upstream_pdus()``, each carrying our message id in ``SPAMGATE_MESSAGE_ID``.

    The reseller's per-send proof TLV stays here: it is between the reseller and spamgate.
    """
    key = Tlv.from_cstr(VendorTag.SPAMGATE_MESSAGE_ID, item.message_id[:64])
    # Without a label the parts go as received, with our id added and the proof removed.
    pdus = item.upstream_pdus() if item.label else item.pdus
    extra = () if item.label else item.tlvs
    out: list[MessagePdu] = []
    for pdu in pdus:
        tlvs = [t for t in (*pdu.tlvs, *extra) if t.tag not in _RESELLER_ONLY_TAGS]
        if not any(t.tag == VendorTag.SPAMGATE_MESSAGE_ID for t in tlvs):
            tlvs.append(key)
        out.append(updated(pdu, sequence_number=0, tlvs=tuple(tlvs)))
    return out


def _rows(
    item: ForwardItem, accepted: Sequence[tuple[str, str] | None], *, first: int = 0
) -> list[tuple[str, str, str, str]]:
    """Id-map rows ``(ns, carrier_id, our_id, system_id)`` for the accepted upstream parts
    ``first``, ``first + 1``, …"""
    # Upstream part j's receipt is about our part j (the last if the carrier got more).
    last = len(item.part_ids) - 1
    return [
        (done[0], done[1], item.part_ids[min(j, last)], item.system_id)
        for j, done in enumerate(accepted, start=first)
        if done is not None and done[1]
    ]


def _message_id(response: Pdu) -> str:
    if isinstance(response, MessageIdResp | SubmitMultiResp):
        return response.message_id
    return ""


class Drainer:
    """See the module docstring."""

    def __init__(
        self,
        spool: SpoolForwarder,
        links: Mapping[str, UpstreamLink],
        routes: RouteTable,
        idmap: IdMap,
        relay: ReceiptRelay,
        *,
        config: DrainerConfig | None = None,
        metrics: UpstreamMetrics | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.spool = spool
        self.links = links
        self.routes = routes
        self.idmap = idmap
        self.relay = relay
        self.config = config or DrainerConfig()
        self.metrics = metrics or UpstreamMetrics()
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - load sharing, not security
        self._queue: deque[ForwardItem] = deque()
        self._queued_ids: set[str] = set()  # queued or being sent: never twice at once
        self._ready = asyncio.Event()
        self._overflow = False
        self._acks: list[tuple[ForwardItem, list[tuple[str, str, str, str]]]] = []
        self._ack_ready = asyncio.Event()
        self._ack_idle = asyncio.Event()
        self._ack_idle.set()
        self._tasks: list[asyncio.Task[None]] = []
        self.forwarded = 0
        self.rejected = 0

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        # Listen first: a batch spooled while the pending records are read is queued once.
        self.spool.add_listener(self._on_spooled)
        await self._refill(initial=True)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._worker(), name=f"drain-{i}")
            for i in range(self.config.concurrency)
        ]
        self._tasks.append(loop.create_task(self._acker(), name="drain-acker"))
        self._tasks.append(loop.create_task(self._housekeeping(), name="drain-housekeeping"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def idle(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is queued, in flight or being acked (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._queued_ids and not self._acks and self._ack_idle.is_set():
                return True
            await asyncio.sleep(0.01)
        return False

    # -- intake -------------------------------------------------------------------------------

    async def _refill(self, *, initial: bool = False) -> None:
        """Queue the spool's pending messages that are not queued already."""
        items: list[ForwardItem] = []
        for record in self.spool.pending():
            if record.get("id") in self._queued_ids:
                continue
            if len(items) + len(self._queued_ids) >= self.config.max_queued:
                self._overflow = True
                break
            try:
                items.append(item_from_record(record))
            except ValueError as exc:
                # Kept in the spool for an operator; it can never be forwarded as it is.
                log.error(
                    "spool message %r is unreadable and stays spooled: %s", record.get("id"), exc
                )
        if initial and items:
            done = await self.idmap.acked_among([i.message_id for i in items])
            if done:
                log.info("%d spooled message(s) were acked upstream before a restart", len(done))
                self.metrics.message("duplicate_suppressed", len(done))
                await self.spool.ack(sorted(done))
                items = [i for i in items if i.message_id not in done]
        self._enqueue(items)

    def _on_spooled(self, items: Sequence[ForwardItem]) -> None:
        if self._overflow or len(self._queued_ids) + len(items) > self.config.max_queued:
            self._overflow = True  # still durable in the spool: read back once the queue drains
            return
        self._enqueue(items)

    def _enqueue(self, items: Sequence[ForwardItem]) -> None:
        for item in items:
            if item.message_id not in self._queued_ids:
                self._queued_ids.add(item.message_id)
                self._queue.append(item)
        if self._queue:
            self._ready.set()

    # -- workers ------------------------------------------------------------------------------

    async def _worker(self) -> None:
        while True:
            while not self._queue:
                if self._overflow and not self._queued_ids:
                    self._overflow = False
                    await self._refill()
                    continue
                self._ready.clear()
                await self._ready.wait()
            item = self._queue.popleft()
            self.metrics.in_flight.inc()
            try:
                await self._send(item)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop the drain; the item stays spooled
                log.exception("forwarding message %s failed; it stays spooled", item.message_id)
                self._queued_ids.discard(item.message_id)
            finally:
                self.metrics.in_flight.dec()

    def _usable(self, exclude: set[str]) -> Callable[[str], bool]:
        links = self.links

        def usable(name: str) -> bool:
            link = links.get(name)
            return link is not None and link.up and name not in exclude

        return usable

    def _backoff(self, attempt: int) -> float:
        cfg = self.config
        ceiling = min(cfg.retry_max, cfg.retry_min * float(1 << min(max(attempt - 1, 0), 30)))
        return ceiling * (0.5 + 0.5 * self._rng.random())

    async def _send(self, item: ForwardItem) -> None:
        pdus = dedupe_pdus(item)
        accepted: list[tuple[str, str] | None] = [None] * len(pdus)
        recipient = recipient_of(item.pdus[0])
        exclude: set[str] = set()
        attempt = 0
        while True:
            if item.received_at and self._clock() - item.received_at > self.config.max_age:
                log.warning("message %s not forwarded within max_age; expired", item.message_id)
                await self.relay.reject(item, None, expired=True)
                self.metrics.message("expired")
                self._finish(item, accepted)
                return
            route = self.routes.choose(recipient, self._usable(exclude), self._rng)
            if route is None:
                if exclude:
                    exclude.clear()  # every usable link failed once: go round again
                attempt += 1
                # Look again at least every second: a link that comes back is used at once.
                await asyncio.sleep(min(self._backoff(attempt), 1.0))
                continue
            link = self.links[route.name]
            todo = [i for i, done in enumerate(accepted) if done is None]
            results: Sequence[Pdu | BaseException]
            if len(todo) == 1:  # the common case: no task per part
                try:
                    results = [await link.submit(pdus[todo[0]])]
                except LinkError as exc:
                    results = [exc]
            else:
                results = await asyncio.gather(
                    *(self._submit_part(link, item, pdus, i) for i in todo),
                    return_exceptions=True,
                )
            refused: int | None = None
            for i, result in zip(todo, results, strict=True):
                if isinstance(result, LinkError):
                    continue  # counted by the link
                if isinstance(result, BaseException):
                    if isinstance(result, asyncio.CancelledError):
                        raise result
                    log.error("submit on %s raised %r", link.name, result)
                    continue
                status = result.command_status
                if status == _S.ESME_ROK:
                    accepted[i] = (link.settings.carrier, _message_id(result))
                    self.metrics.submit(link.name, "ok")
                elif status in RETRYABLE_STATUSES:
                    self.metrics.submit(link.name, "retry")
                else:
                    self.metrics.submit(link.name, "failed")
                    refused = status
            if refused is not None:
                log.info(
                    "carrier refused message %s on %s with 0x%08X",
                    item.message_id,
                    link.name,
                    refused,
                )
                await self.relay.reject(item, refused)
                self.rejected += 1
                self.metrics.message("rejected")
                self._finish(item, accepted)
                return
            if all(done is not None for done in accepted):
                self.forwarded += 1
                self.metrics.message("forwarded")
                self._finish(item, accepted)
                return
            exclude.add(link.name)
            attempt += 1
            await asyncio.sleep(self._backoff(attempt))

    async def _submit_part(
        self, link: UpstreamLink, item: ForwardItem, pdus: Sequence[MessagePdu], index: int
    ) -> Pdu | LinkError:
        """Submit one part of a long message; cache its id mapping as soon as it is acked
        (its receipt may come before the other parts are acked)."""
        try:
            result = await link.submit(pdus[index])
        except LinkError as exc:
            return exc
        carrier_id = _message_id(result)
        if result.command_status == _S.ESME_ROK and carrier_id:
            self.idmap.remember(_rows(item, [(link.settings.carrier, carrier_id)], first=index))
        return result

    def _finish(self, item: ForwardItem, accepted: Sequence[tuple[str, str] | None]) -> None:
        """Queue the id-map record and the spool ack (the acker commits them in batches).

        The mapping is cached at once: a carrier sends the receipt right behind the
        submit_sm_resp, and with the mapping in memory it is relayed on the fast path instead
        of being stored and retried after the acker's commit.
        """
        rows = _rows(item, accepted)
        self.idmap.remember(rows)
        self._acks.append((item, rows))
        self._ack_ready.set()

    async def _acker(self) -> None:
        while True:
            if not self._acks:
                self._ack_ready.clear()
                await self._ack_ready.wait()
                continue
            self._ack_idle.clear()
            batch, self._acks = self._acks, []
            rows = [row for _, item_rows in batch for row in item_rows]
            ids = [item.message_id for item, _ in batch]
            try:
                await self.idmap.record(rows, ids)
            except Exception:
                # The carrier has them: acking anyway avoids duplicates; receipts may not map.
                log.exception("id map write failed for %d message(s)", len(ids))
            self.relay.mapped([(ns, cid) for ns, cid, _, _ in rows])
            try:
                await self.spool.ack(ids)
            except Exception:
                log.exception(
                    "spool ack failed for %d message(s); the id map dedupes them", len(ids)
                )
            for message_id in ids:
                self._queued_ids.discard(message_id)
            if not self._acks:
                self._ack_idle.set()
            if self._overflow and not self._queue:
                self._ready.set()

    async def _housekeeping(self) -> None:
        last_prune = 0.0
        while True:
            self.metrics.spool_depth.set(len(self.spool))
            try:
                await self.spool.maybe_compact(self.config.compact_min_size)
                now = time.monotonic()
                if now - last_prune >= self.config.prune_interval:
                    last_prune = now
                    removed = await self.idmap.prune()
                    if removed:
                        log.info("id map: pruned %d rows past the retention", removed)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("drainer housekeeping failed")
            await asyncio.sleep(self.config.housekeeping_interval)
