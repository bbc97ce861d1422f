"""``spamgate serve``: the HTTP app and the SMPP listener in one process, on one event loop.

uvicorn's ``Server.serve()`` owns the loop's signal handling; the SMPP server starts before it and
is closed (binds unbound, then cut after a grace period) when it returns. ``smpp_port`` 0 means no
SMPP listener (HTTP only). The SMPP server shares the app's pipeline and metrics registry, so
``/metrics`` shows the SMPP counters.

Logins come from ``[smpp.accounts.<system_id>]`` of the config TOML. There are no default
credentials: without accounts every bind is refused (and a warning says so), except under
``--demo``, which adds the login ``demo``/``demo1234`` (loopback only).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spamgate.config import Settings, SmppAccountConfig
from spamgate.pipeline import Pipeline
from spamgate.smpp.auth import StaticAuthenticator, hash_password
from spamgate.smpp.forward import Forwarder, InMemoryForwarder
from spamgate.smpp.metrics import SmppMetrics
from spamgate.smpp.server import ServerConfig, SmppServer

__all__ = ["DEMO_PASSWORD", "DEMO_SYSTEM_ID", "build_smpp_server", "run_gateway"]

log = logging.getLogger(__name__)

DEMO_SYSTEM_ID = "demo"
DEMO_PASSWORD = "demo1234"  # noqa: S105 - documented demo login, loopback only


def _forwarder(data_dir: Path) -> Forwarder:
    from spamgate.smpp.spool import SpoolForwarder

    return SpoolForwarder(data_dir / "spool" / "smpp.wal")


def build_smpp_server(
    pipeline: Pipeline,
    settings: Settings,
    *,
    registry: Any = None,
    forwarder: Forwarder | None = None,
    warn: Callable[[str], None] = log.warning,
) -> SmppServer:
    """The SMPP server for ``settings``: static logins from the policy, the spool as forwarder."""
    smpp = pipeline.policy.smpp
    accounts = dict(smpp.accounts)
    if settings.demo and DEMO_SYSTEM_ID not in accounts:
        accounts[DEMO_SYSTEM_ID] = SmppAccountConfig(password_hash=hash_password(DEMO_PASSWORD))
    if not accounts:
        warn("no [smpp.accounts] in the config: every SMPP bind will be refused")
    authenticator = StaticAuthenticator(
        accounts,
        max_failures=smpp.max_failed_binds,
        window=smpp.failed_bind_window,
        lockout=smpp.lockout,
    )
    if forwarder is None:
        forwarder = _forwarder(settings.data_dir) if settings.data_dir else InMemoryForwarder()
    return SmppServer(
        pipeline,
        authenticator,
        forwarder,
        config=ServerConfig.from_smpp_config(smpp, worker_policy=settings.config),
        metrics=SmppMetrics(registry),
    )


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
    smpp: SmppServer | None = None
    if settings.smpp_port:
        metrics = getattr(application.state, "metrics", None)
        smpp = build_smpp_server(
            application.state.pipeline,
            settings,
            registry=metrics.registry if metrics is not None else None,
        )
        await smpp.start(settings.smpp_host, settings.smpp_port)
    try:
        await server.serve()
    finally:
        if smpp is not None:
            await smpp.close(timeout=5.0)
            close = getattr(smpp.forwarder, "close", None)
            if close is not None:
                result = close()
                if asyncio.iscoroutine(result):
                    await result
