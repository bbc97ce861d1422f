"""Judging in worker processes (``[smpp] judge_workers = N``): the same answers as inline, the
registry and campaign changes reach the workers with the next message, a killed worker is
replaced, and ``spamgate serve`` stops its workers (SIGTERM) or they leave with it (kill -9).

The in-process gateways replace the loop's own ``judge_batch`` with one that fails, so an answer
that needs the pipeline can only have come from a worker process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
from gate_support import PASSWORD, RECIPIENT, Esme, Gateway, ServerThread, give_login
from prometheus_client import CollectorRegistry

from net_support import serve_with_login
from registry_support import EVIDENCE, TEST_ARGON2, build_chain
from spamgate.config import Settings
from spamgate.domain.verdict import Action
from spamgate.model.campaigns import CampaignIndex
from spamgate.pipeline import Pipeline
from spamgate.registry.auth import SYSTEM
from spamgate.registry.persend import new_nonce
from spamgate.registry.service import Registry
from spamgate.smpp import CommandId, CommandStatus, Pdu, SubmitMultiResp, UnbindResp, encode
from spamgate.smpp.auth import (
    ChainAuthenticator,
    Lockout,
    RegistryAuthenticator,
    StaticAuthenticator,
)
from spamgate.smpp.forward import SinkForwarder
from spamgate.smpp.gate import PreverifiedSource, SendGate
from spamgate.smpp.judge_workers import WorkerSpec
from spamgate.smpp.mapping import ACTION_CODES
from spamgate.smpp.metrics import SmppMetrics
from spamgate.smpp.server import ServerConfig, SmppServer
from spamgate.smpp.session import SessionConfig
from spamgate.smpp.vendor import VendorStatus, VendorTag

S = CommandStatus
AUTHFAIL = VendorStatus.SG_RAUTHFAIL
#: In the command line of a process ``multiprocessing`` spawned as a pool worker.
_WORKER_FLAG = "--multiprocessing-fork"
_texts = iter(range(1, 1_000_000))


def _text() -> str:
    """A plain, non-advertising text, new each time (no burst or night-ad rule applies)."""
    return f"안녕하세요 내일 회의는 3시입니다 {next(_texts)}번 안건 확인 부탁드립니다"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _worker_pids(parent: psutil.Process) -> set[int]:
    """Pool worker processes under ``parent`` (not multiprocessing's resource tracker)."""
    pids = set()
    for child in parent.children(recursive=True):
        try:
            if _WORKER_FLAG in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                pids.add(child.pid)
        except psutil.Error:
            pass
    return pids


def _wait_gone(pids: Sequence[int], timeout: float) -> list[int]:
    """The ``pids`` still running after up to ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while (left := [p for p in pids if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


# -- an in-process gateway judging in worker processes --------------------------------------


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    """What the workers build from: the test's database, a data dir, no models (fast start);
    the registry cache is refreshed from the database only every 60 s (the largest allowed),
    so a change can reach a worker in time only through the batch's registry version."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        model="none",
        url_model="none",
        registry_refresh_seconds=60,
        **TEST_ARGON2,
    )


@pytest.fixture
def registry(settings: Settings) -> Iterator[Registry]:
    """The gateway's registry, opened as the workers open theirs (wall clock)."""
    reg = Registry.open(settings)
    yield reg
    reg.close()


def _start(settings: Settings, registry: Registry, workers: int, judge_batch: int = 64) -> Gateway:
    """A gateway on ``registry`` like ``serve`` builds it; with ``workers`` > 0 the loop's own
    judging fails, so every judged answer comes from a worker."""
    chain = build_chain(registry)
    system_id = give_login(registry, chain)
    pipeline = Pipeline.from_config(settings.config, settings.data_dir, settings=settings)
    pipeline.registry = registry
    lockouts = Lockout(max_failures=3, window=60, lockout=60)
    logins = RegistryAuthenticator(registry, refresh=0.2, lockouts=lockouts)
    gate = SendGate(logins=logins, registry=PreverifiedSource(registry))
    sink = SinkForwarder()
    metrics = SmppMetrics(CollectorRegistry())
    config = ServerConfig(
        session=SessionConfig(max_pdu_size=8192),
        node_id="w",
        judge_batch=judge_batch,
        judge_workers=workers,
        worker=WorkerSpec(settings, registry=True) if workers else None,
    )
    server = SmppServer(
        pipeline,
        ChainAuthenticator(logins, StaticAuthenticator({}, lockouts=lockouts)),
        sink,
        config=config,
        metrics=metrics,
        gate=gate,
    )
    if workers:

        def not_here(batch: Any) -> Any:
            raise AssertionError("judged on the loop, not in a worker")

        server.judge_batch = not_here  # type: ignore[method-assign]
    thread = ServerThread(server)
    thread.thread.start()
    # Not thread.call: spawning and warming the workers may take longer than its 10 s.
    asyncio.run_coroutine_threadsafe(server.start("127.0.0.1", 0), thread.loop).result(60)
    return Gateway(thread, registry, chain, system_id, sink, metrics, logins, None)


@dataclass
class _Running:
    gw: Gateway
    esme: Esme
    workers: set[int]  # the worker pids after start
    others: set[int]  # worker pids under this process before (other tests' leftovers)

    def worker_pids(self) -> set[int]:
        return _worker_pids(psutil.Process()) - self.others


@pytest.fixture
def running(
    request: pytest.FixtureRequest, settings: Settings, registry: Registry
) -> Iterator[_Running]:
    """A gateway with ``request.param`` workers (0: inline), or ``(workers, judge_batch)``,
    and a bound ESME."""
    workers, judge_batch = (
        request.param if isinstance(request.param, tuple) else (request.param, 64)
    )
    others = _worker_pids(psutil.Process())
    gw = _start(settings, registry, workers, judge_batch)
    run = _Running(gw, Esme(gw.port), set(), others)
    run.workers = run.worker_pids()
    try:
        assert run.esme.bind(gw.system_id) == S.ESME_ROK
        yield run
    finally:
        run.esme.close()
        last = run.worker_pids()
        gw.thread.__exit__()
    assert not _wait_gone(list(last), 5), "a worker outlived the gateway's close"


def _send(gw: Gateway, esme: Esme, text: str | None = None, **kw: Any) -> Pdu:
    """One submit_sm with a fresh, valid proof (``sender=`` signs and sends from another
    number)."""
    text = text or _text()
    sender = kw.pop("sender", gw.chain.sender)
    return esme.submit(text, tlvs=[gw.proof(text, sender=sender, **kw)], sender=sender)


def _pipelined(esme: Esme, pdus: Sequence[Pdu]) -> dict[int, int]:
    """Send ``pdus`` in one write, read every answer: status by sequence number."""
    esme.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    esme.sock.sendall(b"".join(encode(p) for p in pdus))
    answers = [esme.read() for _ in pdus]
    return {a.sequence_number: a.command_status for a in answers}


# -- 1. the same answers as inline ------------------------------------------------------------


@pytest.mark.parametrize("running", [0, 1, 2], indirect=True, ids=["inline", "1w", "2w"])
def test_judge_workers_answer_as_inline(running: _Running) -> None:
    gw, esme = running.gw, running.esme
    assert len(running.workers) == gw.thread.server.config.judge_workers
    # A good message with a valid proof: accepted and forwarded.
    assert _send(gw, esme).command_status == S.ESME_ROK
    (item,) = gw.sink.items
    assert item.verdict.action is Action.DELIVER and item.account == str(gw.chain.account)
    # A sender number not registered to the account (the proof signs it): the pipeline refuses.
    assert _send(gw, esme, sender="0311119999").command_status == S.ESME_RINVSRCADR
    # A replayed proof: the gate (on the loop) refuses the second use.
    text = _text()
    proof = gw.proof(text, nonce=new_nonce())
    assert esme.submit(text, tlvs=[proof]).command_status == S.ESME_ROK
    assert esme.submit(text, tlvs=[proof]).command_status == AUTHFAIL
    # submit_multi: one proof judged once per recipient. A worker that checked the nonce
    # itself would call the second recipient a replay: the batch carries the verified pairs.
    dests = [RECIPIENT, "01023456789"]
    resp = esme.submit_multi(dests, text, tlvs=[gw.proof(text, recipients=dests)])
    assert isinstance(resp, SubmitMultiResp)
    assert resp.command_status == S.ESME_ROK and not resp.unsuccess_smes
    # Several batches at once (one message each, pipelined): every one judged.
    pdus = []
    for _ in range(6):
        text = _text()
        pdus.append(esme.message(text, tlvs=[gw.proof(text)], sender=gw.chain.sender))
    assert set(_pipelined(esme, pdus).values()) == {S.ESME_ROK}
    multi = gw.sink.items[2]
    assert multi.verdict.action is Action.DELIVER  # one item, both recipients
    assert len(gw.sink.items) == 1 + 1 + 1 + 6
    gate = gw.thread.server.gate
    assert gate is not None and gate.registry is not None and not gate.registry.verified


# -- 2. a registry change reaches the workers with the next message ----------------------------


def _burst(gw: Gateway, esme: Esme, n: int = 10) -> set[int]:
    """``n`` good messages in one write; with judge_batch 1, several batches in flight at once
    (so with 2 workers, both judge some): the set of statuses."""
    pdus = []
    for _ in range(n):
        text = _text()
        pdus.append(esme.message(text, tlvs=[gw.proof(text)], sender=gw.chain.sender))
    return set(_pipelined(esme, pdus).values())


@pytest.mark.parametrize(
    "running", [(0, 1), (1, 1), (2, 1)], indirect=True, ids=["inline", "1w", "2w"]
)
def test_judge_worker_sees_a_registry_change_with_the_next_message(running: _Running) -> None:
    """registry_refresh_seconds is 60: without the batch's registry version, a worker would
    judge on its old snapshot for up to a minute."""
    gw, esme = running.gw, running.esme
    registry = gw.registry
    assert _burst(gw, esme) == {S.ESME_ROK}  # every worker's snapshot is built
    entry = registry.protect_number(SYSTEM, number=gw.chain.sender, evidence=EVIDENCE)
    assert _burst(gw, esme) == {S.ESME_RINVSRCADR}  # SENDER_THEFT_PROTECTED
    registry.unprotect_number(SYSTEM, entry.id)
    assert _burst(gw, esme) == {S.ESME_ROK}
    registry.update_account(SYSTEM, gw.chain.account, status="suspended", reason="spam reports")
    assert _burst(gw, esme) == {VendorStatus.SG_RSUSPENDED}  # ACCOUNT_SUSPENDED
    assert len(gw.sink.items) == 20


# -- 3. a campaign added on disk counts from the next message ----------------------------------


@pytest.mark.parametrize("running", [0, 1], indirect=True, ids=["inline", "1w"])
def test_judge_worker_matches_a_campaign_added_to_the_data_dir(
    running: _Running, settings: Settings
) -> None:
    gw, esme = running.gw, running.esme
    text = "고객님 이번 주 토요일 동창회 모임 장소는 강남역 3번 출구 앞 식당입니다 참석 여부 알려주세요"
    assert _send(gw, esme, text).command_status == S.ESME_ROK
    assert gw.sink.items[-1].verdict.action is Action.DELIVER
    CampaignIndex.open(settings.data_dir).add_texts([text], source="test")  # as the API does
    resp = _send(gw, esme, text)
    assert resp.command_status == S.ESME_ROK  # CAMPAIGN_MATCH: spambox, still forwarded
    item = gw.sink.items[-1]
    assert item.verdict.action is Action.SPAMBOX
    assert "CAMPAIGN_MATCH" in [s.name for s in item.verdict.symbols if s.score > 0]
    (pdu,) = item.upstream_pdus()  # the verdict TLVs travel upstream
    action = pdu.tlv(VendorTag.SPAMGATE_ACTION)
    assert action is not None and action.value == bytes([ACTION_CODES[Action.SPAMBOX]])


# -- 4. a killed worker is replaced -------------------------------------------------------------


@pytest.mark.parametrize("running", [1], indirect=True, ids=["1w"])
def test_killed_judge_worker_is_replaced_and_nothing_accepted_is_lost(running: _Running) -> None:
    gw, esme = running.gw, running.esme
    accepted = 0
    assert _send(gw, esme).command_status == S.ESME_ROK
    accepted += 1
    (pid,) = running.workers
    os.kill(pid, signal.SIGKILL)
    # A burst right behind the kill: a batch that met the dead worker (or the broken pool) goes
    # once more to a fresh pool, so every message is accepted. Answering ESME_RSYSERR instead
    # would leave the client only replays to resend: the gate has spent the proofs' nonces.
    pdus = []
    for _ in range(10):
        text = _text()
        pdus.append(esme.message(text, tlvs=[gw.proof(text)], sender=gw.chain.sender))
    statuses = list(_pipelined(esme, pdus).values())
    assert statuses == [S.ESME_ROK] * 10, statuses
    accepted += 10
    # Then the new pool judges: within a few seconds, messages are accepted again.
    deadline = time.monotonic() + 20
    answers = []
    while time.monotonic() < deadline:
        status = _send(gw, esme).command_status
        answers.append(status)
        if status == S.ESME_ROK:
            break
        time.sleep(0.2)
    assert answers[-1] == S.ESME_ROK, answers
    assert set(answers) <= {S.ESME_ROK, S.ESME_RSYSERR}, answers
    accepted += 1
    assert all(_send(gw, esme).command_status == S.ESME_ROK for _ in range(3))
    accepted += 3
    assert len(gw.sink.items) == accepted  # every accepted message forwarded, none twice
    assert not _alive(pid)
    assert len(running.worker_pids() - {pid}) == 1  # the new pool's worker


# -- 5. `spamgate serve`: SIGTERM stops the workers; kill -9 takes them along ------------------


@dataclass
class _Serve:
    proc: Any
    log: Path
    smpp_port: int
    workers: set[int]
    children: list[psutil.Process]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[_Serve]:
    """``spamgate serve`` with ``[smpp] judge_workers = 1`` and a static login, up (the SMPP
    port opens once every worker has answered a ping)."""
    env = {**os.environ, "SPAMGATE_MODEL": "none", "SPAMGATE_URL_MODEL": "none"}
    served = serve_with_login(
        tmp_path, PASSWORD, smpp="judge_workers = 1", env=env, log_level="INFO", timeout=60
    )
    proc = served.proc
    children: list[psutil.Process] = []
    try:
        parent = psutil.Process(proc.pid)
        children = parent.children(recursive=True)
        yield _Serve(proc, served.log, served.smpp_port, _worker_pids(parent), children)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for child in children:  # left only when a test failed: never leak them
            with contextlib.suppress(psutil.Error):
                child.kill()


def test_serve_sigterm_unbinds_and_stops_the_judge_workers(serve: _Serve) -> None:
    (worker,) = serve.workers
    esme = Esme(serve.smpp_port)
    try:
        assert esme.bind("reseller") == S.ESME_ROK
        assert esme.submit(_text()).command_status == S.ESME_ROK  # judged in the worker
        serve.proc.send_signal(signal.SIGTERM)
        unbind = esme.read()  # the SMPP side closes properly: an unbind first
        assert unbind.command_id == CommandId.UNBIND
        esme.send(UnbindResp(sequence_number=unbind.sequence_number))
        assert serve.proc.wait(15) == 0
    finally:
        esme.close()
    assert not _wait_gone([c.pid for c in serve.children], 5), "a child outlived serve"
    log = serve.log.read_text("utf-8", "replace")
    assert f"judging in 1 worker processes: [{worker}]" in log
    assert "Traceback" not in log


def test_serve_killed_outright_takes_its_judge_worker_along(serve: _Serve) -> None:
    (worker,) = serve.workers
    serve.proc.kill()
    serve.proc.wait(10)
    assert not _wait_gone([worker], 5), "the worker outlived a kill -9 of serve"
