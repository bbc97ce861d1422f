"""The registry's tables (SQLAlchemy 2, typed ``Mapped``). Alembic migrations create them.

Operators form the chain reseller → relay → carrier (``parent_id``). Resellers are certified
(:mod:`spamgate.registry.certification` holds the lifecycle table); each step is a
:class:`CertificationEvent`. A reseller's customers are :class:`Account`\\ s, whose caller IDs
are :class:`SenderNumber`\\ s registered with ownership evidence. :class:`TheftProtection` and
:class:`BlockEntry` are the chain-wide lists; :class:`ApiToken` holds argon2 hashes of the API's
bearer tokens; :class:`AuditEntry` is the append-only, hash-chained log of every change, and
:class:`RegistryState` its head plus the version number caches watch.

Times are stored in UTC and come back timezone-aware on every backend (:class:`UTCDateTime`).
Pydantic schemas for the API live in :mod:`spamgate.api.registry_schemas`, never here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Account",
    "AccountStatus",
    "ApiToken",
    "AuditEntry",
    "Base",
    "BlockEntry",
    "BlockKind",
    "CertState",
    "Certification",
    "CertificationEvent",
    "Operator",
    "OperatorKind",
    "RegistryState",
    "Role",
    "SenderNumber",
    "SenderStatus",
    "TheftProtection",
    "TrustTier",
    "UTCDateTime",
]


class OperatorKind(StrEnum):
    CARRIER = "carrier"
    RELAY = "relay"
    RESELLER = "reseller"


class CertState(StrEnum):
    """A reseller's certification state. ``expired`` is never stored: a certificate whose end
    date has passed *reads* as expired (see :func:`spamgate.registry.certification.effective`)."""

    APPLIED = "applied"
    DOCUMENTS_REVIEWED = "documents_reviewed"
    ONSITE_REVIEWED = "onsite_reviewed"
    CERTIFIED = "certified"
    SUSPENDED = "suspended"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class TrustTier(StrEnum):
    """Vetting level of a sender account (sets its send rate, as 10DLC's vetting score does)."""

    NEW = "new"
    STANDARD = "standard"
    TRUSTED = "trusted"


class SenderStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class BlockKind(StrEnum):
    NUMBER = "number"
    DOMAIN = "domain"
    URL = "url"


class Role(StrEnum):
    """API roles. Operator roles (carrier, relay, reseller) act for one operator of that kind."""

    REGULATOR = "regulator"
    CERTIFIER = "certifier"
    CARRIER = "carrier"
    RELAY = "relay"
    RESELLER = "reseller"


def _in(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(str(m)) for m in enum)})"


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored in UTC (SQLite keeps no zone, so it is stripped and restored)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: registry times must be timezone-aware")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    # Deterministic constraint names, the same in the models and the migrations.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        date: Date(),
        dict[str, Any]: JSON(),
    }


class Operator(Base):
    """A carrier, relay or reseller. SMPP credentials exist only for resellers."""

    __tablename__ = "operators"
    __table_args__ = (
        CheckConstraint(_in("kind", OperatorKind), name="kind"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="parent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="RESTRICT"), index=True
    )
    business_number: Mapped[str | None] = mapped_column(String(10))
    smpp_system_id: Mapped[str | None] = mapped_column(String(16), unique=True)
    smpp_password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]


class Certification(Base):
    """The current certification of one reseller (its history is in CertificationEvent)."""

    __tablename__ = "certifications"
    __table_args__ = (CheckConstraint(_in("state", CertState), name="state"),)

    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="RESTRICT"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(24))
    valid_until: Mapped[date | None]
    certified_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class CertificationEvent(Base):
    """One step of a certification: who did what, when, on which evidence."""

    __tablename__ = "certification_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="RESTRICT"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    valid_until: Mapped[date | None]
    evidence: Mapped[dict[str, Any]]
    note: Mapped[str | None] = mapped_column(String(1000))


class Account(Base):
    """A sender account: a reseller's (or relay's) customer, with its per-send secret.

    The secret is an HMAC key, so it must be readable (it cannot be hashed like a password);
    it is returned once, at creation, and never listed or logged.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("operator_id", "name"),
        CheckConstraint(_in("status", AccountStatus), name="status"),
        CheckConstraint(_in("trust_tier", TrustTier), name="trust_tier"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    business_number: Mapped[str] = mapped_column(String(10), index=True)
    identity_evidence: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    trust_tier: Mapped[str] = mapped_column(String(16))
    send_secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SenderNumber(Base):
    """A caller ID registered to an account, with evidence of ownership."""

    __tablename__ = "sender_numbers"
    __table_args__ = (
        UniqueConstraint("account_id", "number"),
        CheckConstraint(_in("status", SenderStatus), name="status"),
        Index("ix_sender_numbers_number", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    verified_at: Mapped[datetime]
    created_at: Mapped[datetime]


class TheftProtection(Base):
    """A number its owner asked nobody to send from (번호도용 문자차단)."""

    __tablename__ = "theft_protection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    requested_by: Mapped[str | None] = mapped_column(String(200))
    evidence: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class BlockEntry(Base):
    """A blocked number, domain or URL, with where it came from, why, and until when."""

    __tablename__ = "blocklist"
    __table_args__ = (
        UniqueConstraint("kind", "value"),
        CheckConstraint(_in("kind", BlockKind), name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(2048))
    source: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(1000))
    expires_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ApiToken(Base):
    """A bearer token: ``public_id`` finds the row, ``secret_hash`` (argon2id) checks it."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_in("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="RESTRICT"), index=True
    )
    label: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One change. ``hash`` = SHA-256 over ``prev_hash`` and ``payload`` (canonical JSON that
    repeats every other column), so editing, inserting or deleting a row breaks the chain."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class RegistryState(Base):
    """The single row (id 1): the audit chain's head and the registry's change counter.

    Every change locks this row, appends to the audit log and bumps ``version``; caches in any
    process compare ``version`` to notice changes made elsewhere.
    """

    __tablename__ = "registry_state"
    __table_args__ = (CheckConstraint("id = 1", name="single"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    audit_seq: Mapped[int] = mapped_column(Integer)
    audit_head: Mapped[str] = mapped_column(String(64))
