"""The FastAPI application factory (a factory, so each test gets its own data dir)."""

from __future__ import annotations

from fastapi import FastAPI

from spamgate import __version__
from spamgate.api.metrics import Metrics
from spamgate.api.routers import check, health
from spamgate.config import Settings
from spamgate.pipeline import Pipeline

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, pipeline: Pipeline | None = None) -> FastAPI:
    """Build the app for ``settings``; the pipeline is loaded from ``settings.config``."""
    settings = settings or Settings()
    app = FastAPI(
        title="spamgate",
        version=__version__,
        description="Illegal-spam gateway for the Korean bulk-messaging chain (불법 스팸 차단).",
    )
    app.state.settings = settings
    app.state.pipeline = pipeline or Pipeline.from_config(settings.config)
    app.state.metrics = Metrics()
    app.include_router(check.router)
    app.include_router(health.router)
    return app
