"""``spamgate serve``: the HTTP app and the SMPP listener in one process, on one event loop.

uvicorn's ``Server.serve()`` owns the loop's signal handling; the SMPP server starts before it and
is closed (binds unbound, then cut after a grace period) when it returns. ``smpp_port`` 0 means no
SMPP listener (HTTP only). The SMPP server shares the app's pipeline and metrics registry, so
``/metrics`` shows the SMPP counters.

Logins: with a registry (``serve`` always opens one) a system_id the registry knows binds with
its registry password and certification (``RegistryAuthenticator``; every message then carries a
per-send proof TLV), and ``[smpp.accounts.<system_id>]`` of the config TOML serve the system_ids
the registry does not know. There are no default credentials; ``--demo`` seeds the registry's
demo reseller ``demo``/``demopass`` (loopback only). Send rates: ``[smpp.rates]``, overrides in
``<data-dir>/smpp-rates.json`` (``spamgate smpp rate``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spamgate.config import Settings, SmppAccountConfig
from spamgate.pipeline import Pipeline
from spamgate.registry.demo import DEMO_PASSWORD, DEMO_SYSTEM_ID
from spamgate.smpp.auth import (
    Authenticator,
    ChainAuthenticator,
    Lockout,
    RegistryAuthenticator,
    RegistryLogins,
    StaticAuthenticator,
    hash_password,
)
from spamgate.smpp.forward import Forwarder, InMemoryForwarder
from spamgate.smpp.gate import PreverifiedSource, SendGate
from spamgate.smpp.judge_workers import WorkerSpec
from spamgate.smpp.metrics import SmppMetrics
from spamgate.smpp.ratelimit import RATES_FILE, RateTable, SendLimiter, open_storage
from spamgate.smpp.server import ServerConfig, SmppServer
from spamgate.smpp.upstream_service import UpstreamService

__all__ = ["DEMO_PASSWORD", "DEMO_SYSTEM_ID", "build_smpp_server", "run_gateway"]

log = logging.getLogger(__name__)


def _forwarder(data_dir: Path, capacity: int) -> Forwarder:
    from spamgate.smpp.spool import SpoolForwarder

    return SpoolForwarder(data_dir / "spool" / "smpp.wal", capacity=capacity)


def build_smpp_server(
    pipeline: Pipeline,
    settings: Settings,
    *,
    registry: Any = None,
    forwarder: Forwarder | None = None,
    warn: Callable[[str], None] = log.warning,
    logins: RegistryLogins | None = None,
) -> SmppServer:
    """The SMPP server for ``settings``: registry logins (``logins``, the data registry) before
    the policy's static ones, the send gate, the spool as forwarder. ``registry`` is the
    Prometheus registry the metrics go to."""
    smpp = pipeline.policy.smpp
    accounts = dict(smpp.accounts)
    if settings.demo and logins is None and DEMO_SYSTEM_ID not in accounts:
        accounts[DEMO_SYSTEM_ID] = SmppAccountConfig(password_hash=hash_password(DEMO_PASSWORD))
    if not accounts and logins is None:
        warn("no [smpp.accounts] in the config: every SMPP bind will be refused")
    lockouts = Lockout(
        max_failures=smpp.max_failed_binds,
        max_failures_per_host=smpp.max_failed_binds_per_host,
        max_failures_per_system_id=smpp.max_failed_binds_per_system_id,
        window=smpp.failed_bind_window,
        lockout=smpp.lockout,
    )
    static = StaticAuthenticator(accounts, lockouts=lockouts)
    authenticator: Authenticator = static
    registry_auth = None
    if logins is not None:
        registry_auth = RegistryAuthenticator(
            logins, refresh=smpp.status_refresh, lockouts=lockouts
        )
        authenticator = ChainAuthenticator(registry_auth, static)
    metrics = SmppMetrics(registry)
    limiter = None
    rates = smpp.rates
    if rates.enabled:
        table = RateTable(
            reseller=rates.reseller,
            tiers=rates.tiers,
            default_tier=rates.default_tier,
            path=settings.data_dir / RATES_FILE if settings.data_dir else None,
        )
        limiter = SendLimiter(
            table,
            storage=open_storage(rates.storage),
            strategy=rates.strategy,
            on_storage_error=metrics.rate_storage_errors.inc,
        )
    source = pipeline.registry
    gate = SendGate(
        logins=registry_auth,
        registry=PreverifiedSource(source) if source is not None else None,
        limiter=limiter,
        # Nonces in Redis: a batch's proofs are checked in a thread, off the event loop.
        verify_in_thread=settings.redis_url is not None,
    )
    if forwarder is None:
        forwarder = (
            _forwarder(settings.data_dir, smpp.spool_capacity)
            if settings.data_dir
            else InMemoryForwarder()
        )
    return SmppServer(
        pipeline,
        authenticator,
        forwarder,
        config=ServerConfig.from_smpp_config(
            smpp, worker=WorkerSpec(settings, registry=source is not None)
        ),
        metrics=metrics,
        gate=gate,
    )


async def _start_upstream(
    smpp: SmppServer, settings: Settings, metrics: Any
) -> UpstreamService | None:
    """Drain the spool to the carrier links, if any are configured (else warn: nothing leaves)."""
    from spamgate.smpp.spool import SpoolForwarder
    from spamgate.smpp.upstream_service import build_upstream

    if not isinstance(smpp.forwarder, SpoolForwarder):
        return None
    upstream = build_upstream(
        smpp.pipeline.policy.smpp,
        settings.upstreams,
        data_dir=settings.data_dir,
        spool=smpp.forwarder,
        deliverer=smpp,
        registry=metrics.registry if metrics is not None else None,
    )
    if upstream is None:
        log.warning(
            "no upstream SMSC (--upstream / [[smpp.upstreams]]): accepted messages are held in "
            "the spool and not forwarded (상위 SMSC 없음: 수락된 메시지는 스풀에 보관됩니다)"
        )
        return None
    await upstream.start()
    return upstream


async def run_gateway(application: Any, settings: Settings, *, log_level: str = "info") -> None:
    """Serve HTTP (uvicorn) and SMPP together until a signal stops uvicorn."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            application,
            host=settings.http_host,
            port=settings.http_port,
            log_level=log_level.lower(),
        )
    )
    # The models and the policy are loaded and live for the whole process: move them out of the
    # cyclic GC's sight, and collect less often, so a full collection does not stall the loop
    # for tens of milliseconds while it re-scans them (seen as p99 spikes on submit_sm_resp).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    # uvicorn re-raises SIGTERM/SIGINT once its own shutdown is done: under the default handler
    # that killed the process before the SMPP side below could unbind its sessions and stop its
    # judge workers. Noting the signal instead lets the shutdown finish; the process then exits.
    previous = _note_exit_signals(server)
    try:
        await _serve_both(server, application, settings)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


async def _serve_both(server: Any, application: Any, settings: Settings) -> None:
    smpp: SmppServer | None = None
    upstream: UpstreamService | None = None
    if settings.smpp_port:
        metrics = getattr(application.state, "metrics", None)
        smpp = build_smpp_server(
            application.state.pipeline,
            settings,
            registry=metrics.registry if metrics is not None else None,
            logins=getattr(application.state, "registry", None),
        )
        upstream = await _start_upstream(smpp, settings, metrics)
        await smpp.start(settings.smpp_host, settings.smpp_port)
    try:
        await server.serve()
    finally:
        if upstream is not None:
            await upstream.close()
        if smpp is not None:
            await smpp.close(timeout=5.0)
            close = getattr(smpp.forwarder, "close", None)
            if close is not None:
                result = close()
                if asyncio.iscoroutine(result):
                    await result


def _note_exit_signals(server: Any) -> dict[int, Any]:
    """Outside uvicorn's own handling (start-up, and after its shutdown), SIGINT/SIGTERM ask
    uvicorn to stop instead of killing the process (main thread only); returns the previous
    handlers."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def note(sig: int, frame: object) -> None:
        log.info("signal %d: shutting down (종료 중)", sig)
        server.should_exit = True

    return {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
