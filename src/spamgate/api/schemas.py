"""HTTP request/response schemas (Pydantic), kept apart from domain and ORM types."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BatchCheckRequest",
    "BatchCheckResponse",
    "CheckRequest",
    "HealthResponse",
    "SendProofIn",
    "SymbolPublic",
    "VerdictPublic",
]


class SendProofIn(BaseModel):
    """Per-send proof: HMAC-SHA256 with the account's secret over the message fields, a Unix
    timestamp and a one-time nonce (format: ``spamgate.registry.persend``)."""

    model_config = ConfigDict(extra="forbid")

    timestamp: int = Field(ge=0, le=2**53, description="Unix time, seconds")
    nonce: str = Field(min_length=1, max_length=128, description="16-64 of A-Z a-z 0-9 _ -")
    signature: str = Field(min_length=1, max_length=128, description="lowercase hex HMAC-SHA256")


class CheckRequest(BaseModel):
    """One message to judge. Only ``text`` is required."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": "(광고)[행복마트] 주말 특가 30% 할인\n무료수신거부 080-123-4567",
                    "sender": "0212345678",
                    "recipient": "01023456789",
                    "route": "domestic",
                    "at": "2026-11-26T14:00:00+09:00",
                }
            ]
        },
    )

    # Lengths are checked by the pipeline (clear error verdicts), the caps here only bound memory.
    text: str | None = Field(default=None, max_length=100_000)
    sender: str | None = Field(default=None, max_length=256)
    recipient: str | None = Field(default=None, max_length=256)
    route: str | None = Field(default=None, max_length=64, description="domestic | international")
    at: str | None = Field(default=None, max_length=64, description="ISO-8601, Korea time if naive")
    account: str | None = Field(default=None, max_length=256)
    #: Required by the registry for messages that name an account (PER_SEND_AUTH_FAILED).
    auth: SendProofIn | None = None


class BatchCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: list[CheckRequest] = Field(min_length=1)


class SymbolPublic(BaseModel):
    name: str
    score: float
    description: str
    evidence: str | None = None
    group: str | None = None


class VerdictPublic(BaseModel):
    """The verdict contract of DESIGN.md."""

    action: str
    score: float
    spam_probability: float | None
    symbols: list[SymbolPublic]
    policy: str
    model: str | None
    reason: str | None = None


class BatchCheckResponse(BaseModel):
    count: int
    verdicts: list[VerdictPublic]


class HealthResponse(BaseModel):
    status: str
    version: str
    policy: str
    checks_enabled: list[str]
    checks_disabled: dict[str, str]
    extra: dict[str, Any] = Field(default_factory=dict)
