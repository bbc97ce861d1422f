"""One carrier link against the sim SMSC and against a peer that talks garbage."""

from __future__ import annotations

import asyncio
import random

import pytest
from prometheus_client import CollectorRegistry
from upstream_support import link_settings, message

from spamgate.smpp import CommandStatus, DeliverSm, SubmitSmResp
from spamgate.smpp.session import ResponseReceived
from spamgate.smpp.sim import SimSmsc
from spamgate.smpp.upstream import LinkError, UpstreamLink, backoff_delay
from spamgate.smpp.upstream_metrics import UpstreamMetrics

S = CommandStatus


def test_backoff_grows_is_capped_and_jittered() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(n, 0.5, 30.0, rng) for n in range(1, 12)]
    assert 0.25 <= delays[0] <= 0.5
    assert all(15.0 <= d <= 30.0 for d in delays[7:])
    assert len({round(d, 6) for d in delays}) == len(delays)  # jittered, never in step


def test_link_binds_submits_and_reconnects_after_a_drop() -> None:
    async def run() -> None:
        sim = SimSmsc(system_id="gw", password="gwpw", id_prefix="A")
        await sim.start()
        registry = CollectorRegistry()
        link = UpstreamLink(link_settings("a", sim.port), metrics=UpstreamMetrics(registry))
        link.start()
        try:
            assert await link.wait_up(5)
            response = await link.submit(message())
            assert isinstance(response, SubmitSmResp) and response.message_id == "A0000000001"
            # The SMSC drops the link with a submit in flight: the submit fails, the link returns.
            sim.drop_rate = 1.0
            with pytest.raises(LinkError):
                await link.submit(message())
            sim.drop_rate = 0.0
            assert await link.wait_up(5)
            assert (await link.submit(message())).command_status == S.ESME_ROK
            assert link.connects >= 2
            up = registry.get_sample_value("spamgate_upstream_link_up", {"link": "a"})
            assert up == 1.0
        finally:
            await link.close()
            await sim.close()
        assert not link.up

    asyncio.run(run())


def test_wrong_password_never_binds_and_submit_says_link_down() -> None:
    async def run() -> None:
        sim = SimSmsc(system_id="gw", password="right")
        await sim.start()
        registry = CollectorRegistry()
        link = UpstreamLink(link_settings("a", sim.port), metrics=UpstreamMetrics(registry))
        link.start()
        try:
            assert not await link.wait_up(0.3)
            with pytest.raises(LinkError, match="down"):
                await link.submit(message())
            refused = registry.get_sample_value(
                "spamgate_upstream_connects_total", {"link": "a", "result": "bind_refused"}
            )
            assert refused is not None and refused >= 2  # it keeps trying, with backoff
        finally:
            await link.close()
            await sim.close()

    asyncio.run(run())


def test_garbage_from_the_smsc_drops_the_connection_and_reconnects() -> None:
    connections = 0

    writers: list[asyncio.StreamWriter] = []

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writers.append(writer)
        await reader.read(100)  # the bind
        writer.write(b"\xff\xff\xff\xffthis is not smpp at all" * 3)
        await writer.drain()

    async def run() -> None:
        server = await asyncio.start_server(garbage, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        link = UpstreamLink(link_settings("g", port))
        link.start()
        await asyncio.sleep(0.5)
        assert not link.up
        await link.close()
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()
        await asyncio.sleep(0.01)

    asyncio.run(run())
    assert connections >= 2


def test_deliver_handler_status_is_the_answer_and_failures_are_temporary() -> None:
    answers: list[int] = []

    async def handler(link: UpstreamLink, pdu: object) -> int:
        if answers:  # the second receipt: the handler breaks
            raise RuntimeError("boom")
        return S.ESME_ROK

    async def run() -> None:
        sim = SimSmsc()
        await sim.start()
        link = UpstreamLink(link_settings("a", sim.port), on_deliver=handler)
        link.start()
        try:
            assert await link.wait_up(5)
            (conn,) = list(sim._connections)

            def spy(data: bytes) -> None:  # the SMSC side records the answers it gets
                for event in conn.session.receive_data(data, conn.loop.time()):
                    if isinstance(event, ResponseReceived):
                        answers.append(event.status)

            conn.data_received = spy  # type: ignore[method-assign]
            for n in range(2):
                _, data = conn.session.send_deliver_sm(DeliverSm(esm_class=4), conn.loop.time())
                conn.write(data)
                for _ in range(200):
                    await asyncio.sleep(0.005)
                    if len(answers) > n:
                        break
        finally:
            await link.close(timeout=0.1)  # the spied SMSC no longer answers the unbind
            await sim.close()

    asyncio.run(run())
    assert answers == [S.ESME_ROK, S.ESME_RX_T_APPN]
