"""Real processes: `spamgate serve --upstream` forwarding to `spamgate sim smsc` (smpplib as the
reseller, its receipt back on a transceiver bind), and a kill -9 crash in the middle of draining."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from upstream_support import PASSWORD, Reseller, cheap_hash, message

from net_support import can_connect, free_port, spamgate_process, stop, wait_until
from spamgate.smpp import SubmitSmResp, encode_text
from spamgate.smpp.sim import SimSmsc

smpplib_client = pytest.importorskip("smpplib.client")
T = TypeVar("T")
ENV = {
    **os.environ,
    "SPAMGATE_MODEL": "none",
    "SPAMGATE_URL_MODEL": "none",
}


def wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    wait_until(f"a listener on {port}", lambda: can_connect(port), proc)


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "spamgate.toml"
    path.write_text(f'[smpp.accounts.reseller]\npassword_hash = "{cheap_hash(PASSWORD)}"\n')
    return path


def serve(tmp_path: Path, smpp_port: int, upstream: int, log: Any) -> subprocess.Popen[bytes]:
    return spamgate_process(
        ["serve", "--http-port", str(free_port()), "--smpp-port", str(smpp_port),
         "--data-dir", str(tmp_path / "var"), "--config", str(config_file(tmp_path)),
         "--upstream", f"gw@127.0.0.1:{upstream}"],
        log,
        env=ENV,
    )  # fmt: skip


def test_serve_forwards_to_sim_smsc_and_relays_the_receipt(tmp_path: Path) -> None:
    sim_port, smpp_port = free_port(), free_port()
    log = (tmp_path / "procs.log").open("wb")
    sim = spamgate_process(["sim", "smsc", "--port", str(sim_port), "--system-id", "gw"], log)
    gateway = serve(tmp_path, smpp_port, sim_port, log)
    try:
        wait_port(sim_port, sim)
        wait_port(smpp_port, gateway)
        client = smpplib_client.Client(
            "127.0.0.1", smpp_port, timeout=10, allow_unknown_opt_params=True
        )
        receipts: list[Any] = []
        client.set_message_received_handler(lambda pdu: receipts.append(pdu))
        client.connect()
        client.bind_transceiver(system_id="reseller", password=PASSWORD)
        client.send_message(
            source_addr="0212345678",
            destination_addr="01098765432",
            data_coding=8,
            registered_delivery=1,
            short_message=encode_text("안녕하세요 내일 회의는 3시입니다", 8),
        )
        resp = client.read_pdu()
        assert resp.status == 0
        our_id = resp.message_id.decode() if isinstance(resp.message_id, bytes) else resp.message_id
        deadline = time.monotonic() + 20
        while not receipts and time.monotonic() < deadline:
            client.read_once()
        assert receipts, "no receipt came back"
        text = receipts[0].short_message
        text = text.decode() if isinstance(text, bytes) else text
        assert f"id:{our_id} " in text and "stat:DELIVRD" in text
        client.unbind()
        client.disconnect()
    finally:
        stop(gateway)
        stop(sim)
        log.close()
    assert b"Traceback" not in (tmp_path / "procs.log").read_bytes()


class LoopThread:
    """An event loop in a thread: the sim SMSC and the reseller live there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.close()


def test_kill_9_while_draining_loses_nothing_acknowledged(
    tmp_path: Path, loop_thread: LoopThread
) -> None:
    count = 300
    sim = SimSmsc(system_id="gw", delay_ms=40, receipts=False)
    loop_thread.run(sim.start("127.0.0.1", 0))
    smpp_port = free_port()
    log = (tmp_path / "gateway.log").open("wb")
    gateway = serve(tmp_path, smpp_port, sim.port, log)
    try:
        wait_port(smpp_port, gateway)

        async def send() -> list[str]:
            reseller = await Reseller.connect(smpp_port)
            answers = await asyncio.gather(
                *(reseller.submit(message(receipt=False)) for _ in range(count))
            )
            reseller.close()
            return [
                a.message_id
                for a in answers
                if isinstance(a, SubmitSmResp) and not a.command_status
            ]

        acked = loop_thread.run(send())
        assert len(acked) == count  # every message was acknowledged to the reseller...
        gateway.send_signal(signal.SIGKILL)  # ...and the gateway dies mid-drain
        gateway.wait(10)
        before = dict(sim.accepted_keys)
        db = sqlite3.connect(tmp_path / "var" / "spool" / "upstream.db")
        committed = {row[0] for row in db.execute("SELECT our_id FROM acked")}
        db.close()
        # The kill came before or during the drain.
        assert len(before) < count or committed, f"sim had {len(before)}, none committed"

        gateway = serve(tmp_path, smpp_port, sim.port, log)
        wait_port(smpp_port, gateway)
        deadline = time.monotonic() + 30
        while not set(acked) <= set(sim.accepted_keys) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop(gateway)
        log.close()
        loop_thread.run(sim.close())
    seen = sim.accepted_keys
    missing = set(acked) - set(seen)
    assert not missing, f"{len(missing)} acknowledged messages never reached the SMSC"
    # Where the carrier's ack was committed before the kill: exactly once.
    twice = [i for i in committed if seen[i] != 1]
    assert not twice, f"{len(twice)} of {len(committed)} committed ids sent again"
    # Duplicates only for what the carrier had without our commit of its ack (the acker
    # commits in batches and lags under load) and what was in flight (the link's window).
    duplicates = sum(seen.values()) - count
    uncommitted = len(set(before) - committed)
    assert 0 <= duplicates <= uncommitted + 100, (
        f"{duplicates} duplicates; sim had {len(before)} at the kill, {len(committed)} committed"
    )
    assert b"Traceback" not in (tmp_path / "gateway.log").read_bytes()
