"""The FastAPI application factory (a factory, so each test gets its own data dir)."""

from __future__ import annotations

from fastapi import FastAPI

from spamgate import __version__
from spamgate.api.metrics import Metrics
from spamgate.api.registry_app import install_registry
from spamgate.api.routers import check, health
from spamgate.config import Settings
from spamgate.pipeline import Pipeline
from spamgate.registry.service import Registry

__all__ = ["create_app"]


def create_app(
    settings: Settings | None = None,
    pipeline: Pipeline | None = None,
    registry: Registry | None = None,
) -> FastAPI:
    """Build the app for ``settings``; the pipeline is loaded from ``settings.config``.

    The registry (``/api/v1`` operators, accounts, ...) is opened from ``settings`` unless
    given; a pipeline built here judges with it, a pipeline passed in keeps its own.
    """
    settings = settings or Settings()
    app = FastAPI(
        title="spamgate",
        version=__version__,
        description="Illegal-spam gateway for the Korean bulk-messaging chain (불법 스팸 차단).",
    )
    app.state.settings = settings
    app.state.pipeline = pipeline or Pipeline.from_config(
        settings.config, settings.data_dir, settings=settings
    )
    opened = install_registry(app, settings, registry)
    if pipeline is None:
        app.state.pipeline.registry = opened
    app.state.metrics = Metrics()
    app.include_router(check.router)
    app.include_router(health.router)
    return app
