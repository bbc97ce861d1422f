"""POST /api/v1/check: one message, or a batch of up to ``limits.max_batch``."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException, status

from spamgate.api.deps import MetricsDep, PipelineDep
from spamgate.api.metrics import Metrics
from spamgate.api.schemas import BatchCheckRequest, BatchCheckResponse, CheckRequest, VerdictPublic
from spamgate.pipeline import MessageFields, Pipeline

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["check"])


def _judge(pipeline: Pipeline, metrics: Metrics, body: CheckRequest) -> dict[str, Any]:
    started = time.perf_counter()
    verdict = pipeline.judge_fields(MessageFields(**body.model_dump()))
    metrics.observe(verdict, time.perf_counter() - started)
    return verdict.to_dict()


@router.post(
    "/check",
    response_model=VerdictPublic | BatchCheckResponse,
    summary="Judge one message or a batch",
    description=(
        'Send one message object, or `{"messages": [...]}` for a batch. Every message gets a '
        "verdict; a message that cannot be judged gets `action: error` with a `reason`, and the "
        "rest of the batch is still judged."
    ),
)
def check(
    body: CheckRequest | BatchCheckRequest, pipeline: PipelineDep, metrics: MetricsDep
) -> dict[str, Any]:
    if isinstance(body, BatchCheckRequest):
        limit = pipeline.policy.limits.max_batch
        if len(body.messages) > limit:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"batch of {len(body.messages)} messages; at most {limit} per request",
            )
        verdicts = [_judge(pipeline, metrics, message) for message in body.messages]
        return {"count": len(verdicts), "verdicts": verdicts}
    return _judge(pipeline, metrics, body)
