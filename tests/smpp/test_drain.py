"""The upstream leg in one event loop: reseller → gateway (spool, drainer, links) → sim SMSCs,
and receipts back to the reseller with the ids it was given."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from upstream_support import Gateway, Reseller, link_settings, message, running_gateway

from spamgate.config import load_policy
from spamgate.domain.message import KST
from spamgate.pipeline import Pipeline
from spamgate.smpp import CommandStatus, DeliverSm, SubmitSmResp, Tag, parse_receipt
from spamgate.smpp.drain import DrainerConfig
from spamgate.smpp.encoding import split_text
from spamgate.smpp.sim import SimSmsc

S = CommandStatus


@pytest.fixture(scope="module")
def gw_pipeline() -> Pipeline:
    now = datetime(2026, 11, 26, 14, 0, tzinfo=KST)
    return Pipeline(load_policy(), model=None, url_model=None, clock=lambda: now)


async def _submit_all(reseller: Reseller, count: int, **kw: object) -> list[str]:
    responses = await asyncio.gather(*(reseller.submit(message(**kw)) for _ in range(count)))  # type: ignore[arg-type]
    assert all(isinstance(r, SubmitSmResp) and r.command_status == 0 for r in responses)
    return [r.message_id for r in responses if isinstance(r, SubmitSmResp)]


async def _drained(gw: Gateway, timeout: float = 30.0) -> None:
    """Wait until the spool is empty and no receipt is waiting to be relayed."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (len(gw.spool) or len(gw.relay)) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    assert len(gw.spool) == 0, f"{len(gw.spool)} messages still spooled"


def _receipt_ids(receipts: list[DeliverSm]) -> Counter[str]:
    out: Counter[str] = Counter()
    for pdu in receipts:
        tlv = pdu.tlv(Tag.RECEIPTED_MESSAGE_ID)
        assert tlv is not None
        text_id = parse_receipt(pdu.short_message.decode("latin-1")).message_id
        assert text_id == tlv.as_cstr()  # text and TLV both rewritten
        out[text_id] += 1
    return out


@pytest.mark.parametrize("receipt_first", [False, True], ids=["after_resp", "before_resp"])
def test_receipts_come_back_with_our_ids(
    tmp_path: Path, gw_pipeline: Pipeline, receipt_first: bool
) -> None:
    async def run() -> None:
        sim = SimSmsc(system_id="gw", password="gwpw", receipt_first=receipt_first)
        await sim.start()
        async with running_gateway(tmp_path, gw_pipeline, [link_settings("a", sim.port)]) as gw:
            reseller = await Reseller.connect(gw.port)
            ids = await _submit_all(reseller, 40)
            receipts = await reseller.wait_receipts(40)
            assert _receipt_ids(receipts) == Counter(ids)  # each id exactly once
            await _drained(gw)
            assert set(sim.accepted_keys) == set(ids)  # the dedupe TLV carries our id
            assert gw.sample("spamgate_upstream_receipts_total", outcome="relayed") == 40
            if not receipt_first:
                # Right behind the submit_sm_resp, the mapping is already cached: every
                # receipt takes the fast path, none is stored to be retried.
                assert gw.sample("spamgate_upstream_receipts_total", outcome="kept") == 0
            assert gw.sample("spamgate_upstream_submits_total", link="a", result="ok") == 40
            reseller.close()
        await sim.close()

    asyncio.run(run())


def test_receipts_wait_for_window_room_instead_of_being_stored(
    tmp_path: Path, gw_pipeline: Pipeline
) -> None:
    """A reseller bind that takes two deliver_sm at a time still gets a burst of receipts on
    the fast path: each waits for a slot instead of going to the id map's store and retry."""

    async def run() -> None:
        sim = SimSmsc(system_id="gw", password="gwpw")
        await sim.start()
        links = [link_settings("a", sim.port)]
        async with running_gateway(tmp_path, gw_pipeline, links, out_window=2) as gw:
            reseller = await Reseller.connect(gw.port)
            ids = await _submit_all(reseller, 60)
            receipts = await reseller.wait_receipts(60)
            assert _receipt_ids(receipts) == Counter(ids)
            await _drained(gw)
            assert gw.sample("spamgate_upstream_receipts_total", outcome="relayed") == 60
            assert gw.sample("spamgate_upstream_receipts_total", outcome="kept") == 0
            reseller.close()
        await sim.close()

    asyncio.run(run())


def test_long_messages_receipts_take_the_fast_path_part_by_part(
    tmp_path: Path, gw_pipeline: Pipeline
) -> None:
    """Each upstream part's mapping is cached as soon as the carrier acks that part: its
    receipt can come before the other parts are acked."""

    async def run() -> None:
        sim = SimSmsc(system_id="gw", password="gwpw")
        await sim.start()
        text = "주문하신 상품이 오늘 도착합니다. 배송 기사님이 문 앞에 두고 갑니다. " * 4  # 3 parts
        async with running_gateway(tmp_path, gw_pipeline, [link_settings("a", sim.port)]) as gw:
            reseller = await Reseller.connect(gw.port)
            ids: list[str] = []
            for ref in range(10):
                parts = split_text(text, 8, ref=ref)
                assert len(parts) == 3
                answers = await asyncio.gather(
                    *(
                        reseller.submit(
                            dataclasses.replace(message(), esm_class=0x40, short_message=part)
                        )
                        for part in parts
                    )
                )
                ids += [a.message_id for a in answers if isinstance(a, SubmitSmResp)]
            assert len(ids) == 30
            receipts = await reseller.wait_receipts(30)
            assert _receipt_ids(receipts) == Counter(ids)
            await _drained(gw)
            assert gw.sample("spamgate_upstream_receipts_total", outcome="relayed") == 30
            assert gw.sample("spamgate_upstream_receipts_total", outcome="kept") == 0
            reseller.close()
        await sim.close()

    asyncio.run(run())


def test_a_reseller_too_slow_for_the_fast_path_gets_the_receipt_kept_and_retried(
    tmp_path: Path, gw_pipeline: Pipeline
) -> None:
    """The carrier's deliver_sm waits at most fast_timeout for the reseller's answer; then
    the receipt is kept and retried (at least once: the late answer may mean a duplicate)."""

    async def run() -> None:
        sim = SimSmsc(system_id="gw", password="gwpw")
        await sim.start()
        async with running_gateway(tmp_path, gw_pipeline, [link_settings("a", sim.port)]) as gw:
            gw.relay.fast_timeout = 0.1
            reseller = await Reseller.connect(gw.port)
            reseller.answer_delay = 0.3
            (our_id,) = await _submit_all(reseller, 1)
            for _ in range(200):  # the slow answer, then the retry of the kept receipt
                if gw.sample("spamgate_upstream_receipts_total", outcome="relayed"):
                    break
                await asyncio.sleep(0.02)
            await _drained(gw)
            assert gw.sample("spamgate_upstream_receipts_total", outcome="kept") == 1
            assert gw.sample("spamgate_upstream_receipts_total", outcome="relayed") == 1
            receipts = await reseller.wait_receipts(1)
            assert set(_receipt_ids(receipts)) == {our_id}
            reseller.close()
        await sim.close()

    asyncio.run(run())


def test_waiting_for_a_window_that_never_opens_keeps_no_pile_of_waiters(
    tmp_path: Path, gw_pipeline: Pipeline
) -> None:
    """A reseller that never answers its receipts: each one waits fast_timeout, is kept, and
    its waiter does not linger."""

    async def run() -> None:
        sim = SimSmsc(system_id="gw", password="gwpw")
        await sim.start()
        links = [link_settings("a", sim.port)]
        async with running_gateway(tmp_path, gw_pipeline, links, out_window=1) as gw:
            gw.relay.fast_timeout = 0.05
            reseller = await Reseller.connect(gw.port)
            reseller.answer_delay = 3600.0  # never, within the test
            await _submit_all(reseller, 30)
            for _ in range(200):
                if gw.sample("spamgate_upstream_receipts_total", outcome="kept") >= 29:
                    break
                await asyncio.sleep(0.02)
            assert gw.sample("spamgate_upstream_receipts_total", outcome="kept") >= 29
            assert len(gw.server._room_waiters.get("reseller", ())) <= 1  # the one still waiting
            reseller.close()
        await sim.close()

    asyncio.run(run())


def test_receipt_waits_for_the_reseller_to_bind(tmp_path: Path, gw_pipeline: Pipeline) -> None:
    async def run() -> None:
        sim = SimSmsc(receipt_delay_ms=100)
        await sim.start()
        async with running_gateway(tmp_path, gw_pipeline, [link_settings("a", sim.port)]) as gw:
            first = await Reseller.connect(gw.port)
            ids = await _submit_all(first, 3)
            first.close()  # gone before the receipts come
            await asyncio.sleep(0.4)
            assert len(gw.spool) == 0
            assert sim.stats.receipts == 3 and len(gw.relay) == 3  # kept, not dropped
            again = await Reseller.connect(gw.port)
            receipts = await again.wait_receipts(3)
            assert _receipt_ids(receipts) == Counter(ids)
            assert len(gw.relay) == 0
            again.close()
        await sim.close()

    asyncio.run(run())


def test_link_drops_mid_window_lose_nothing(tmp_path: Path, gw_pipeline: Pipeline) -> None:
    async def run() -> None:
        sim = SimSmsc(drop_rate=0.05, seed=3)
        await sim.start()
        link = link_settings("a", sim.port, window=20)
        async with running_gateway(tmp_path, gw_pipeline, [link]) as gw:
            reseller = await Reseller.connect(gw.port)
            ids = await _submit_all(reseller, 150, receipt=False)
            await _drained(gw, 20)
            assert sim.stats.dropped > 0
            assert set(sim.accepted_keys) == set(ids)  # every message arrived
            duplicates = sum(sim.accepted_keys.values()) - len(ids)
            # Only parts in flight on a dropped connection can be sent twice.
            assert duplicates <= sim.stats.dropped * link.window
            assert gw.links["a"].connects > 1
            reseller.close()
        await sim.close()

    asyncio.run(run())


def test_refused_submits_become_failed_receipts_and_retryable_ones_are_retried(
    tmp_path: Path, gw_pipeline: Pipeline
) -> None:
    async def run() -> None:
        hard = SimSmsc(fail_rate=0.3, seed=5, id_prefix="H")
        soft = SimSmsc(fail_rate=0.5, fail_status=S.ESME_RTHROTTLED, seed=6, id_prefix="T")
        await hard.start()
        await soft.start()
        links = [link_settings("hard", hard.port, "SKT"), link_settings("soft", soft.port, "KT")]
        async with running_gateway(tmp_path, gw_pipeline, links, default="SKT") as gw:
            reseller = await Reseller.connect(gw.port)
            to_hard = await _submit_all(reseller, 60)
            receipts = await reseller.wait_receipts(60)
            stats = Counter(parse_receipt(r.short_message.decode()).stat for r in receipts)
            assert stats["REJECTD"] == hard.stats.failed > 5
            assert stats["DELIVRD"] == hard.stats.accepted
            rejected = [r for r in receipts if b"REJECTD" in r.short_message]
            assert b"err:045" in rejected[0].short_message  # ESME_RSUBMITFAIL
            assert _receipt_ids(receipts) == Counter(to_hard)
            await _drained(gw)
            # Throttled answers are retried until accepted: no failed receipt.
            gw.drainer.routes.default = "KT"
            reseller.receipts.clear()
            to_soft = await _submit_all(reseller, 30)
            receipts = await reseller.wait_receipts(30)
            assert {parse_receipt(r.short_message.decode()).stat for r in receipts} == {"DELIVRD"}
            assert _receipt_ids(receipts) == Counter(to_soft)
            assert soft.stats.failed > 5
            assert gw.sample("spamgate_upstream_submits_total", link="soft", result="retry") > 5
            reseller.close()
        await hard.close()
        await soft.close()

    asyncio.run(run())


def test_slow_smsc_failover_and_weights(tmp_path: Path, gw_pipeline: Pipeline) -> None:
    async def run() -> None:
        slow = SimSmsc(delay_ms=30, id_prefix="S")
        fast = SimSmsc(id_prefix="F")
        await slow.start()
        await fast.start()
        links = [
            link_settings("slow", slow.port, weight=3.0),
            link_settings("fast", fast.port, weight=1.0),
        ]
        async with running_gateway(tmp_path, gw_pipeline, links) as gw:
            reseller = await Reseller.connect(gw.port)
            for link in gw.links.values():
                assert await link.wait_up(5)
            await _submit_all(reseller, 300, receipt=False)
            await _drained(gw)
            ratio = slow.stats.accepted / max(fast.stats.accepted, 1)
            assert 1.8 < ratio < 5.0, ratio  # 3:1 by weight; 300 draws
            # The slow SMSC goes away: its share fails over to the other link.
            await slow.close()
            before = fast.stats.accepted
            await _submit_all(reseller, 50, receipt=False)
            await _drained(gw)
            assert fast.stats.accepted - before == 50
            reseller.close()
        await fast.close()

    asyncio.run(run())


def test_restart_does_not_resend_what_the_carrier_acked(
    tmp_path: Path, gw_pipeline: Pipeline
) -> None:
    async def run() -> None:
        sim = SimSmsc()
        await sim.start()
        # First run: no link can bind (wrong port), so everything stays spooled.
        dead = link_settings("a", 1)
        async with running_gateway(tmp_path, gw_pipeline, [dead]) as gw:
            reseller = await Reseller.connect(gw.port)
            ids = await _submit_all(reseller, 5, receipt=False)
            reseller.close()
            assert len(gw.spool) == 5
            # As if the carrier had acked two before a crash cut the spool acks.
            await gw.idmap.record([("SKT", "x1", ids[0], "reseller")], ids[:2])
        async with running_gateway(tmp_path, gw_pipeline, [link_settings("a", sim.port)]) as gw:
            await _drained(gw)
            assert set(sim.accepted_keys) == set(ids[2:])
            assert (
                gw.sample("spamgate_upstream_messages_total", outcome="duplicate_suppressed") == 2
            )
        await sim.close()

    asyncio.run(run())


def test_bad_receipts_are_kept_logged_and_expire(
    tmp_path: Path, gw_pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> None:
        sim = SimSmsc()
        await sim.start()
        async with running_gateway(tmp_path, gw_pipeline, [link_settings("a", sim.port)]) as gw:
            assert await gw.links["a"].wait_up(5)
            (conn,) = list(sim._connections)
            garbled = DeliverSm(esm_class=4, short_message="stat:DELIVRD 비밀 본문".encode())
            unknown = DeliverSm(esm_class=4, short_message=b"id:nobody stat:DELIVRD")
            mobile = DeliverSm(esm_class=0, short_message=b"hello")
            for pdu in (garbled, unknown, mobile):
                _, data = conn.session.send_deliver_sm(pdu, conn.loop.time())
                conn.write(data)
            await asyncio.sleep(0.3)
            assert gw.sample("spamgate_upstream_receipts_total", outcome="malformed") == 1
            assert gw.sample("spamgate_upstream_receipts_total", outcome="mobile_originated") == 1
            assert len(gw.relay) == 2  # both receipts kept, neither dropped
            gw.relay.expiry = 0.0  # a long time later
            gw.relay._schedule(next(iter(gw.relay._heap))[3], 0.0, counted=True)
            for _ in range(100):
                await asyncio.sleep(0.02)
                if gw.sample("spamgate_upstream_receipts_total", outcome="expired") >= 1:
                    break
            assert gw.sample("spamgate_upstream_receipts_total", outcome="expired") >= 1
        await sim.close()

    with caplog.at_level("WARNING"):
        asyncio.run(run())
    text = caplog.text
    assert "without a message id" in text and "비밀" not in text  # no body in the log


def test_no_link_up_keeps_messages_spooled_until_one_binds(
    tmp_path: Path, gw_pipeline: Pipeline
) -> None:
    async def run() -> None:
        sim = SimSmsc()
        await sim.start()
        port = sim.port
        await sim.close()  # the carrier is down at first
        config = DrainerConfig(concurrency=8, retry_min=0.01, retry_max=0.05)
        async with running_gateway(
            tmp_path, gw_pipeline, [link_settings("a", port)], drainer_config=config
        ) as gw:
            reseller = await Reseller.connect(gw.port)
            ids = await _submit_all(reseller, 10, receipt=False)
            await asyncio.sleep(0.2)
            assert len(gw.spool) == 10
            revived = SimSmsc()
            await revived.start("127.0.0.1", port)
            await _drained(gw)
            assert set(revived.accepted_keys) == set(ids)
            reseller.close()
            await revived.close()

    asyncio.run(run())


def test_housekeeping_compacts_the_drained_spool(tmp_path: Path, gw_pipeline: Pipeline) -> None:
    async def run() -> None:
        sim = SimSmsc()
        await sim.start()
        config = DrainerConfig(
            concurrency=8, housekeeping_interval=0.05, compact_min_size=1, retry_min=0.01
        )
        async with running_gateway(
            tmp_path, gw_pipeline, [link_settings("a", sim.port)], drainer_config=config
        ) as gw:
            reseller = await Reseller.connect(gw.port)
            await _submit_all(reseller, 20, receipt=False)
            await _drained(gw)
            for _ in range(100):
                if gw.spool.compactions:
                    break
                await asyncio.sleep(0.02)
            assert gw.spool.compactions >= 1
            assert gw.spool.size < 200  # only what arrived after the rewrite is left
            assert gw.sample("spamgate_smpp_spool_depth") == 0
            reseller.close()
        await sim.close()

    asyncio.run(run())
