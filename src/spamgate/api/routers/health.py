"""Liveness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from spamgate import __version__
from spamgate.api.deps import MetricsDep, PipelineDep
from spamgate.api.schemas import HealthResponse

__all__ = ["router"]

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=HealthResponse)
def healthz(pipeline: PipelineDep) -> HealthResponse:
    compiled = pipeline.default
    return HealthResponse(
        status="ok",
        version=__version__,
        policy=compiled.name,
        checks_enabled=[c.name for c in compiled.checks],
        checks_disabled=compiled.disabled,
    )


@router.get("/metrics", response_class=Response)
def metrics(metrics: MetricsDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
