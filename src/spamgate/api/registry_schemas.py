"""Request and response bodies of the registry API (``/api/v1``), apart from the ORM models.

Naming follows the FastAPI template: ``XBase`` holds the fixed fields, ``XCreate`` what a client
sends, ``XPublic`` what comes back (always with ``id``), ``XsPublic`` a page of them with the
total. Secrets appear only in the one response that creates them (``TokenCreated.token``,
``AccountCreated.send_secret``); password hashes never appear at all.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

from spamgate.registry.models import (
    AccountStatus,
    BlockKind,
    CertState,
    OperatorKind,
    Role,
    SenderStatus,
    TrustTier,
)

__all__ = [
    "MAX_ID",
    "AccountBase",
    "AccountCreate",
    "AccountCreated",
    "AccountPublic",
    "AccountUpdate",
    "AccountsPublic",
    "BlockEntryCreate",
    "BlockEntryPublic",
    "BlockListPublic",
    "CertificationEventPublic",
    "CertificationPublic",
    "CertificationRequest",
    "Evidence",
    "Id",
    "OperatorBase",
    "OperatorCreate",
    "OperatorPublic",
    "OperatorsPublic",
    "PagePublic",
    "SecretRotated",
    "SenderNumberBase",
    "SenderNumberCreate",
    "SenderNumberPublic",
    "SenderNumberUpdate",
    "SenderNumbersPublic",
    "TheftProtectionCreate",
    "TheftProtectionListPublic",
    "TheftProtectionPublic",
    "TokenCreate",
    "TokenCreated",
]

#: Ids are 32-bit on every backend; larger ones are refused up front (422), never sent to SQL.
MAX_ID = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
#: Evidence is metadata: what was checked and its reference (at most 8 KiB, checked by the
#: registry), e.g. ``{"document": "통신서비스 이용증명원", "reference": "KT-2026-1234"}``.
Evidence = dict[Annotated[str, Field(max_length=64)], JsonValue]
Name = Annotated[str, Field(min_length=1, max_length=200)]

ItemT = TypeVar("ItemT")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PagePublic(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int
    limit: int
    offset: int


# -- operators -------------------------------------------------------------------------------


class OperatorBase(BaseModel):
    name: Name
    kind: OperatorKind
    parent_id: Id | None = None


class OperatorCreate(OperatorBase, _In):
    """A carrier (no parent), a relay (parent: a carrier) or a reseller (parent: a relay)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "Example Messaging", "kind": "reseller", "parent_id": 2}]
        },
    )

    business_number: Annotated[str, Field(max_length=16)] | None = None
    #: Resellers' SMPP bind credentials (SMPP 3.4: system_id ≤ 15, password ≤ 8 characters).
    smpp_system_id: Annotated[str, Field(min_length=1, max_length=15)] | None = None
    smpp_password: Annotated[str, Field(min_length=1, max_length=8)] | None = None


class OperatorPublic(OperatorBase, _Out):
    id: int
    business_number: str | None = None
    smpp_system_id: str | None = None
    created_at: datetime


class OperatorsPublic(PagePublic[OperatorPublic]):
    pass


# -- certification ---------------------------------------------------------------------------


class CertificationRequest(_In):
    """One step of a reseller's certification."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "action": "apply",
                    "evidence": {"documents": ["business registration", "capital statement"]},
                },
                {"action": "approve", "evidence": {"committee": "2026-11 decision 7"}},
                {"action": "suspend", "note": "report volume over the sanction threshold"},
            ]
        },
    )

    action: Literal[
        "apply", "review", "inspect", "approve", "reject", "renew", "suspend", "reinstate", "cancel"
    ]
    evidence: Evidence | None = None
    note: Annotated[str, Field(max_length=1000)] | None = None
    #: End date for approve/renew (default: a year on).
    valid_until: date | None = None


class CertificationEventPublic(_Out):
    id: int
    action: str
    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    valid_until: date | None
    evidence: dict[str, JsonValue]
    note: str | None


class CertificationPublic(_Out):
    operator_id: int
    #: As of today: a certificate past its end date reads ``expired``.
    state: CertState | None
    valid_until: date | None
    certified_at: datetime | None
    allowed_actions: list[str]
    history: list[CertificationEventPublic]


# -- accounts --------------------------------------------------------------------------------


class AccountBase(BaseModel):
    operator_id: Id
    name: Name
    #: 사업자등록번호, ten digits with a valid check digit (hyphens allowed on input).
    business_number: Annotated[str, Field(min_length=10, max_length=16)]


class AccountCreate(AccountBase, _In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "operator_id": 3,
                    "name": "행복마트",
                    "business_number": "124-81-00998",
                    "identity_evidence": {"document": "사업자등록증", "reference": "2026-0042"},
                }
            ]
        },
    )

    identity_evidence: Evidence
    trust_tier: TrustTier = TrustTier.NEW


class AccountPublic(AccountBase, _Out):
    id: int
    status: AccountStatus
    status_reason: str | None = None
    trust_tier: TrustTier
    created_at: datetime
    updated_at: datetime


class AccountCreated(AccountPublic):
    #: The per-send HMAC key (spamgate.registry.persend), shown this once.
    send_secret: str


class AccountUpdate(_In):
    status: AccountStatus | None = None
    reason: Annotated[str, Field(max_length=500)] | None = None
    trust_tier: TrustTier | None = None


class SecretRotated(BaseModel):
    id: int
    send_secret: str


class AccountsPublic(PagePublic[AccountPublic]):
    pass


# -- sender numbers --------------------------------------------------------------------------


class SenderNumberBase(BaseModel):
    account_id: Id
    #: Any usual spelling on input; canonical digits (``0212345678``) on output.
    number: Annotated[str, Field(min_length=1, max_length=32)]
    #: Proof of ownership, e.g. the certificate of telecom service use (통신서비스 이용증명원).
    evidence: Evidence


class SenderNumberCreate(SenderNumberBase, _In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "account_id": 1,
                    "number": "02-1234-5678",
                    "evidence": {"document": "통신서비스 이용증명원", "reference": "KT-1234"},
                }
            ]
        },
    )


class SenderNumberPublic(SenderNumberBase, _Out):
    id: int
    kind: str
    status: SenderStatus
    verified_at: datetime
    created_at: datetime


class SenderNumberUpdate(_In):
    status: SenderStatus


class SenderNumbersPublic(PagePublic[SenderNumberPublic]):
    pass


# -- theft protection ------------------------------------------------------------------------


class TheftProtectionCreate(_In):
    number: Annotated[str, Field(min_length=1, max_length=32)]
    #: How the owner's request was verified (request form, identity check reference).
    evidence: Evidence
    requested_by: Annotated[str, Field(max_length=200)] | None = None


class TheftProtectionPublic(_Out):
    id: int
    number: str
    requested_by: str | None = None
    created_at: datetime


class TheftProtectionListPublic(PagePublic[TheftProtectionPublic]):
    pass


# -- block list ------------------------------------------------------------------------------


class BlockEntryCreate(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "number",
                    "value": "010-9876-5432",
                    "source": "KISA 118",
                    "reason": "reported 50+ times a day",
                    "expires_at": "2027-02-26T00:00:00+09:00",
                }
            ]
        },
    )

    kind: BlockKind
    value: Annotated[str, Field(min_length=1, max_length=2048)]
    source: Annotated[str, Field(min_length=1, max_length=200)]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    expires_at: AwareDatetime | None = None


class BlockEntryPublic(_Out):
    id: int
    kind: BlockKind
    value: str
    source: str
    reason: str
    expires_at: datetime | None
    created_by: str
    created_at: datetime


class BlockListPublic(PagePublic[BlockEntryPublic]):
    pass


# -- tokens ----------------------------------------------------------------------------------


class TokenCreate(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"role": "reseller", "operator_id": 3}]},
    )

    role: Role
    operator_id: Id | None = None
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] = 90
    label: Annotated[str, Field(max_length=200)] | None = None


class TokenCreated(BaseModel):
    id: int
    #: The bearer token, shown this once (only its argon2 hash is kept).
    token: str
    role: Role
    operator_id: int | None
    expires_at: datetime | None
