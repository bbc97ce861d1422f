"""The registry service: every registry operation, with roles, tenancy and the audit log.

The HTTP API, the CLI and the gateway all go through :class:`Registry`; nothing else writes
the registry tables. Each operation

1. checks the caller's role (:class:`~spamgate.errors.Forbidden`, 403),
2. finds objects through tenancy-scoped queries (:mod:`spamgate.registry.repository`: another
   tenant's id is :class:`~spamgate.errors.NotFound`, 404),
3. validates values (:class:`~spamgate.errors.InvalidValue`, 422) and state
   (:class:`~spamgate.errors.Conflict`, 409: duplicates, refused certification steps),
4. writes the change and its audit row in one transaction, and
5. after the commit, tells the check cache (:mod:`spamgate.registry.view`) to rebuild.

A :class:`Registry` is also the pipeline's :class:`~spamgate.checks.registry_view.RegistrySource`
(``Pipeline(registry=registry)``): the checks use it without HTTP.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import ColumnElement, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spamgate.checks.registry_view import AccountStanding
from spamgate.config import Settings
from spamgate.domain.business import parse_business_number
from spamgate.domain.message import KST
from spamgate.domain.numbers import NumberKind, parse_number
from spamgate.errors import Conflict, Forbidden, InvalidValue, NotFound, Unauthorized
from spamgate.registry import audit
from spamgate.registry.auth import (
    OPERATOR_ROLES,
    Principal,
    SecretHasher,
    TokenCache,
    new_token,
    split_token,
)
from spamgate.registry.certification import (
    ACTION_ROLES,
    NEEDS_EVIDENCE,
    NEEDS_NOTE,
    CertAction,
    allowed_actions,
    default_valid_until,
    effective,
    next_state,
)
from spamgate.registry.gateway import AccountRateInfo, GatewayStanding, SmppLogin
from spamgate.registry.models import (
    Account,
    AccountStatus,
    ApiToken,
    BlockEntry,
    BlockKind,
    Certification,
    CertificationEvent,
    CertState,
    Operator,
    OperatorKind,
    RegistryState,
    Role,
    SenderNumber,
    SenderStatus,
    TheftProtection,
    TrustTier,
)
from spamgate.registry.number_status import NumberStatusRegistry
from spamgate.registry.persend import HmacKey, NonceCache, NonceStore, PerSendVerifier
from spamgate.registry.repository import (
    Page,
    account_scope,
    get_account,
    get_operator,
    get_sender_number,
    operator_scope,
    paginate,
    sender_scope,
)
from spamgate.registry.view import BlockInfo, BoundView, RegistryCache, RegistrySnapshot
from spamgate.store.db import Database
from spamgate.text import extract_urls

__all__ = [
    "DEFAULT_TOKEN_DAYS",
    "MAX_EVIDENCE_BYTES",
    "CertificationStatus",
    "IssuedToken",
    "NewAccount",
    "Registry",
    "canonical_block_value",
]

log = logging.getLogger(__name__)

#: Evidence is metadata (document references, inspection report ids), not the documents.
MAX_EVIDENCE_BYTES: Final = 8192
DEFAULT_TOKEN_DAYS: Final = 90
MAX_TOKEN_DAYS: Final = 3650
_SYSTEM_ID_RE: Final = re.compile(r"[\x21-\x7e]{1,15}")  # SMPP 3.4: C-string of 16 octets
_SMPP_PASSWORD_MAX: Final = 8  # SMPP 3.4: C-string of 9 octets


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: the secret string (shown once) and its stored record."""

    token: str
    record: ApiToken


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A new account and its per-send secret (shown once)."""

    account: Account
    send_secret: str


@dataclass(frozen=True, slots=True)
class CertificationStatus:
    """A reseller's certification as it stands ``today`` (``expired`` past its end date)."""

    operator_id: int
    state: CertState | None
    stored_state: CertState | None
    valid_until: date | None
    certified_at: datetime | None
    allowed_actions: list[str]
    history: list[CertificationEvent]


#: A row of a list the registry deletes from (theft protection, block list).
_ListRow = TypeVar("_ListRow", TheftProtection, BlockEntry)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _acts_for(principal: Principal, operator_id: int) -> bool:
    """The regulator, or the operator ``operator_id`` itself."""
    return principal.role is Role.REGULATOR or (
        principal.role in OPERATOR_ROLES and principal.operator_id == operator_id
    )


def _acts_for_or_above(principal: Principal, operator: Operator | None) -> bool:
    """The regulator, the operator itself, or its parent (a relay acts on its resellers)."""
    return principal.role is Role.REGULATOR or (
        principal.role in OPERATOR_ROLES
        and principal.operator_id is not None
        and operator is not None
        and principal.operator_id in (operator.id, operator.parent_id)
    )


def _exists(session: Session, *conditions: ColumnElement[bool]) -> bool:
    """Whether a row matches all ``conditions`` (all on one table), e.g. a duplicate."""
    return session.execute(select(literal(1)).where(*conditions).limit(1)).first() is not None


def _require(principal: Principal, roles: frozenset[Role] | set[Role], what: str) -> None:
    if principal.role not in roles:
        raise Forbidden(f"role {principal.role} may not {what}")


def _evidence(value: Mapping[str, Any] | None, *, required: bool, field: str) -> dict[str, Any]:
    data = dict(value or {})
    if required and not data:
        raise InvalidValue(
            f"{field} is required: what was checked and its reference "
            '(e.g. {"document": "telecom service certificate", "reference": "..."})',
            field=field,
        )
    try:
        size = len(audit.canonical_json(data).encode("utf-8"))
    except (TypeError, ValueError):
        raise InvalidValue(f"{field} must be a JSON object", field=field) from None
    if size > MAX_EVIDENCE_BYTES:
        raise InvalidValue(
            f"{field} is {size} bytes; at most {MAX_EVIDENCE_BYTES} (references, not documents)",
            field=field,
        )
    return data


def _korean_number(raw: str, field: str) -> tuple[str, NumberKind]:
    info = parse_number(raw)
    if not info.valid:
        raise InvalidValue(f"{raw[:32]!r} is not a valid number ({info.reason})", field=field)
    if not info.is_domestic or info.kind is NumberKind.SPECIAL:
        raise InvalidValue(
            f"{raw[:32]!r} is not a Korean subscriber number ({info.kind})", field=field
        )
    return info.digits, info.kind


def canonical_block_value(kind: BlockKind, raw: str) -> str:
    """The form block-list entries are stored and matched in.

    Numbers: canonical digits. Domains: lower-case punycode host (parents match too). URLs: the
    URL extractor's canonical form without the scheme (http and https match alike).
    """
    value = raw.strip()
    if kind is BlockKind.NUMBER:
        info = parse_number(value)
        if not info.valid:
            raise InvalidValue(
                f"{value[:32]!r} is not a valid number ({info.reason})", field="value"
            )
        return info.digits
    if kind is BlockKind.DOMAIN:
        bare = value.rstrip(".")
        found = [] if not bare or any(c in bare for c in "/:@ \t") else extract_urls(bare)
        if len(found) != 1 or found[0].is_ip or found[0].raw != bare:
            raise InvalidValue(f"{value[:64]!r} is not a domain name", field="value")
        return found[0].host
    found = extract_urls(value)
    if len(found) != 1 or found[0].raw != value:
        raise InvalidValue(f"{value[:64]!r} is not a single URL", field="value")
    url = found[0]
    return url.url.split("://", 1)[1]


class Registry:
    """Operators, certification, accounts, sender numbers, lists, tokens, audit — one API.

    Thread-safe: each call runs in its own session and transaction.
    """

    def __init__(
        self,
        db: Database,
        *,
        hasher: SecretHasher | None = None,
        clock: Callable[[], datetime] = _utcnow,
        data_dir: Path | None = None,
        max_skew: int = 300,
        nonce_capacity: int = 1_000_000,
        refresh_seconds: float = 5.0,
        numbers: NumberStatusRegistry | None = None,
        nonces: NonceStore | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.hasher = hasher or SecretHasher()
        self.clock = clock
        self.tokens = TokenCache()
        self._cache = RegistryCache(
            load=self._load_snapshot,
            probe=self._probe_version,
            verifier=PerSendVerifier(
                max_skew=max_skew,
                nonces=(
                    NonceCache(capacity=nonce_capacity, window=max_skew)
                    if nonces is None
                    else nonces
                ),
            ),
            clock=clock,
            refresh_seconds=refresh_seconds,
            data_dir=data_dir,
            numbers=numbers,
            monotonic=monotonic,
        )
        self._dummy_hash: str | None = None

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = _utcnow,
        numbers: NumberStatusRegistry | None = None,
        upgrade: bool = True,
    ) -> Registry:
        """Open (creating and migrating on first use, unless ``upgrade`` is False) the database
        ``settings`` name.

        Per-send nonces are shared through Redis when ``settings.redis_url`` is set (several
        gateway nodes), else remembered in this process."""
        nonces: NonceStore | None = None
        if settings.redis_url:
            from spamgate.registry.redis_nonces import RedisNonceStore

            nonces = RedisNonceStore.from_url(
                settings.redis_url, prefix=settings.redis_prefix, window=settings.persend_max_skew
            )
        return cls(
            Database.open(settings, upgrade=upgrade),
            hasher=SecretHasher.from_settings(settings),
            clock=clock,
            data_dir=Path(settings.data_dir),
            max_skew=settings.persend_max_skew,
            nonce_capacity=settings.persend_nonce_capacity,
            refresh_seconds=settings.registry_refresh_seconds,
            numbers=numbers,
            nonces=nonces,
        )

    def close(self) -> None:
        self.db.dispose()

    # -- plumbing ------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def _today(self) -> date:
        return self.clock().astimezone(KST).date()

    @contextmanager
    def _write(self, *, changes_view: bool = True) -> Iterator[Session]:
        """A write transaction; duplicates surface as Conflict, the cache learns of the change."""
        try:
            with self.db.session() as session:
                yield session
        except IntegrityError as exc:
            log.info("registry write refused by a constraint: %s", type(exc.orig).__name__)
            raise Conflict("a conflicting entry already exists") from None
        if changes_view:
            self._cache.invalidate()

    def _audit(
        self,
        session: Session,
        principal: Principal,
        action: str,
        entity: str,
        entity_id: int | str | None,
        data: Mapping[str, Any],
        *,
        changes_view: bool = True,
    ) -> None:
        audit.record(
            session,
            at=self._now(),
            actor=principal.actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            data=data,
            changes_view=changes_view,
        )

    def _add(
        self,
        session: Session,
        principal: Principal,
        entry: ApiToken | Operator | Account | SenderNumber | TheftProtection | BlockEntry,
        *,
        entity: str,
        data: Mapping[str, Any],
        changes_view: bool = True,
    ) -> None:
        """Insert ``entry`` and audit it as ``<entity>.create`` in the same transaction."""
        session.add(entry)
        session.flush()  # assigns entry.id
        self._audit(
            session,
            principal,
            f"{entity}.create",
            entity,
            entry.id,
            data,
            changes_view=changes_view,
        )

    def _delete_entry(
        self,
        principal: Principal,
        model: type[_ListRow],
        entry_id: int,
        *,
        entity: str,
        label: str,
        describe: Callable[[_ListRow], Mapping[str, Any]],
    ) -> None:
        """Delete one list entry by id (NotFound if there is none) and audit what it held."""
        with self._write() as session:
            entry = session.get(model, entry_id)
            if entry is None:
                raise NotFound(f"{label} {entry_id} not found")
            self._audit(session, principal, f"{entity}.delete", entity, entry_id, describe(entry))
            session.delete(entry)

    # -- the check cache (RegistrySource) ---------------------------------------------------------

    def view(self) -> BoundView:
        """The registry as the checks read it (cached; see :mod:`spamgate.registry.view`)."""
        return self._cache.view()

    def invalidate(self) -> None:
        self._cache.invalidate()

    @property
    def cache(self) -> RegistryCache:
        return self._cache

    def _probe_version(self) -> int:
        with self.db.sessions() as session:
            return session.execute(
                select(RegistryState.version).where(RegistryState.id == 1)
            ).scalar_one()

    def _load_snapshot(self) -> RegistrySnapshot:
        now = self._now()
        with self.db.session() as session:
            version = session.execute(
                select(RegistryState.version).where(RegistryState.id == 1)
            ).scalar_one()
            senders: dict[int, set[str]] = {}
            for account_id, number in session.execute(
                select(SenderNumber.account_id, SenderNumber.number).where(
                    SenderNumber.status == SenderStatus.ACTIVE
                )
            ):
                senders.setdefault(account_id, set()).add(number)
            accounts: dict[str, AccountStanding] = {}
            secrets_by_id: dict[str, HmacKey] = {}
            rows = session.execute(
                select(
                    Account.id,
                    Account.operator_id,
                    Account.status,
                    Account.send_secret,
                    Operator.kind,
                    Certification.state,
                    Certification.valid_until,
                )
                .join(Operator, Operator.id == Account.operator_id)
                .outerjoin(Certification, Certification.operator_id == Account.operator_id)
            )
            for acc_id, op_id, status, secret, kind, cert_state, valid_until in rows:
                key = str(acc_id)
                reseller = kind == OperatorKind.RESELLER
                accounts[key] = AccountStanding(
                    account_id=key,
                    operator_id=op_id,
                    suspended=status != AccountStatus.ACTIVE,
                    senders=frozenset(senders.get(acc_id, ())),
                    reseller_id=op_id if reseller else None,
                    certification=cert_state if reseller else None,
                    certified_until=valid_until if reseller else None,
                )
                secrets_by_id[key] = HmacKey(secret)
            protected = frozenset(session.execute(select(TheftProtection.number)).scalars())
            blocks: dict[str, dict[str, BlockInfo]] = {kind.value: {} for kind in BlockKind}
            for kind, value, source, reason, expires_at in session.execute(
                select(
                    BlockEntry.kind,
                    BlockEntry.value,
                    BlockEntry.source,
                    BlockEntry.reason,
                    BlockEntry.expires_at,
                )
            ):
                if expires_at is not None and expires_at <= now:
                    continue
                blocks[kind][value] = BlockInfo(f"{source}: {reason}"[:120], expires_at)
        return RegistrySnapshot(
            version=version,
            accounts=accounts,
            secrets=secrets_by_id,
            theft_protected=protected,
            blocked_numbers=blocks[BlockKind.NUMBER],
            blocked_domains=blocks[BlockKind.DOMAIN],
            blocked_urls=blocks[BlockKind.URL],
        )

    # -- tokens ------------------------------------------------------------------------------

    def authenticate(self, token: str) -> Principal:
        """The principal a bearer token stands for; :class:`Unauthorized` otherwise."""
        now = self._now()
        cached = self.tokens.get(token, now)
        if cached is not None:
            return cached
        parts = split_token(token)
        if parts is None:
            raise Unauthorized("malformed token")
        public_id, _ = parts
        with self.db.session() as session:
            row = session.execute(
                select(ApiToken).where(ApiToken.public_id == public_id)
            ).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            raise Unauthorized("unknown or revoked token")
        if row.expires_at is not None and now >= row.expires_at:
            raise Unauthorized("token expired")
        if not self.hasher.verify(row.secret_hash, token):
            raise Unauthorized("unknown or revoked token")
        principal = Principal(Role(row.role), row.operator_id, row.id, f"token {row.id}")
        self.tokens.put(token, principal, row.expires_at)
        return principal

    def create_token(
        self,
        principal: Principal,
        *,
        role: Role,
        operator_id: int | None = None,
        expires_in_days: int | None = DEFAULT_TOKEN_DAYS,
        label: str | None = None,
    ) -> IssuedToken:
        """Issue a token. The regulator issues any; an operator role issues its own kind only.

        ``expires_in_days=None`` makes a token that does not expire (administration only).
        """
        role = Role(role)
        if principal.role is not Role.REGULATOR:
            if principal.role not in OPERATOR_ROLES:
                raise Forbidden(f"role {principal.role} may not issue tokens")
            if role is not principal.role or operator_id != principal.operator_id:
                raise Forbidden("an operator may issue tokens only for itself, in its own role")
        if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
            raise InvalidValue(
                f"expires_in_days must be 1..{MAX_TOKEN_DAYS}", field="expires_in_days"
            )
        now = self._now()
        public_id, token = new_token()
        with self._write(changes_view=False) as session:
            if role in OPERATOR_ROLES:
                if operator_id is None:
                    raise InvalidValue(f"a {role} token needs operator_id", field="operator_id")
                operator = get_operator(session, principal, operator_id)
                if operator.kind != role.value:
                    raise InvalidValue(
                        f"operator {operator_id} is a {operator.kind}, not a {role}",
                        field="operator_id",
                    )
            elif operator_id is not None:
                raise InvalidValue(f"a {role} token acts for no operator", field="operator_id")
            record = ApiToken(
                public_id=public_id,
                secret_hash=self.hasher.hash(token),
                role=role.value,
                operator_id=operator_id,
                label=label,
                created_by=principal.actor,
                created_at=now,
                expires_at=None
                if expires_in_days is None
                else now + timedelta(days=expires_in_days),
            )
            self._add(
                session,
                principal,
                record,
                entity="token",
                data={
                    "public_id": public_id,
                    "role": role.value,
                    "operator_id": operator_id,
                    "label": label,
                    "expires_at": record.expires_at,
                },
                changes_view=False,
            )
        log.info("token %s issued (%s, operator %s)", record.id, role, operator_id)
        return IssuedToken(token=token, record=record)

    def revoke_token(self, principal: Principal, token_id: int) -> None:
        """Revoke a token: the regulator any, an operator its own operator's tokens."""
        with self._write(changes_view=False) as session:
            row = session.get(ApiToken, token_id)
            visible = row is not None and (
                principal.role is Role.REGULATOR
                or (
                    principal.role in OPERATOR_ROLES
                    and row.operator_id is not None
                    and row.operator_id == principal.operator_id
                )
            )
            if row is None or not visible:
                raise NotFound(f"token {token_id} not found")
            if row.revoked_at is None:
                row.revoked_at = self._now()
                self._audit(
                    session, principal, "token.revoke", "token", token_id, {}, changes_view=False
                )
        self.tokens.clear()

    # -- operators ---------------------------------------------------------------------------

    def create_operator(
        self,
        principal: Principal,
        *,
        name: str,
        kind: OperatorKind | str,
        parent_id: int | None = None,
        business_number: str | None = None,
        smpp_system_id: str | None = None,
        smpp_password: str | None = None,
    ) -> Operator:
        """Register an operator in the chain (carrier ← relay ← reseller).

        The regulator registers any; a carrier its relays; a relay its resellers.
        """
        kind = OperatorKind(kind)
        name = name.strip()
        if not name:
            raise InvalidValue("name must not be empty", field="name")
        if not (
            principal.role is Role.REGULATOR
            or (principal.role is Role.CARRIER and kind is OperatorKind.RELAY)
            or (principal.role is Role.RELAY and kind is OperatorKind.RESELLER)
        ):
            raise Forbidden(f"role {principal.role} may not register a {kind}")
        brn = None
        if business_number is not None:
            brn = parse_business_number(business_number)
            if brn is None:
                raise InvalidValue(
                    "not a valid business registration number", field="business_number"
                )
        if (smpp_system_id is None) != (smpp_password is None):
            raise InvalidValue(
                "give both smpp_system_id and smpp_password, or neither", field="smpp"
            )
        if smpp_system_id is not None and smpp_password is not None:
            if kind is not OperatorKind.RESELLER:
                raise InvalidValue("only resellers bind over SMPP here", field="smpp_system_id")
            if _SYSTEM_ID_RE.fullmatch(smpp_system_id) is None:
                raise InvalidValue(
                    "system_id: 1-15 printable ASCII characters", field="smpp_system_id"
                )
            if not 1 <= len(smpp_password) <= _SMPP_PASSWORD_MAX or not smpp_password.isascii():
                raise InvalidValue(
                    f"SMPP passwords are 1-{_SMPP_PASSWORD_MAX} ASCII characters (SMPP 3.4)",
                    field="smpp_password",
                )
        password_hash = None if smpp_password is None else self.hasher.hash(smpp_password)
        with self._write() as session:
            expected_parent = {
                OperatorKind.CARRIER: None,
                OperatorKind.RELAY: OperatorKind.CARRIER,
                OperatorKind.RESELLER: OperatorKind.RELAY,
            }[kind]
            if expected_parent is None:
                if parent_id is not None:
                    raise InvalidValue("a carrier has no parent", field="parent_id")
            else:
                if parent_id is None:
                    raise InvalidValue(
                        f"a {kind} needs a parent {expected_parent}", field="parent_id"
                    )
                parent = get_operator(session, principal, parent_id)
                if parent.kind != expected_parent:
                    raise InvalidValue(
                        f"the parent of a {kind} must be a {expected_parent}, "
                        f"operator {parent_id} is a {parent.kind}",
                        field="parent_id",
                    )
                if principal.role in OPERATOR_ROLES and parent.id != principal.operator_id:
                    raise Forbidden("an operator may register operators only under itself")
            if _exists(session, Operator.name == name):
                raise Conflict(f"an operator named {name!r} already exists")
            if (
                smpp_system_id is not None
                and session.execute(
                    select(Operator.id).where(Operator.smpp_system_id == smpp_system_id)
                ).first()
            ):
                raise Conflict(f"SMPP system_id {smpp_system_id!r} is taken")
            operator = Operator(
                name=name,
                kind=kind.value,
                parent_id=parent_id,
                business_number=brn,
                smpp_system_id=smpp_system_id,
                smpp_password_hash=password_hash,
                created_at=self._now(),
            )
            self._add(
                session,
                principal,
                operator,
                entity="operator",
                data={
                    "name": name,
                    "kind": kind.value,
                    "parent_id": parent_id,
                    "business_number": brn,
                    "smpp_system_id": smpp_system_id,
                },
            )
        return operator

    def list_operators(
        self,
        principal: Principal,
        *,
        kind: OperatorKind | str | None = None,
        parent_id: int | None = None,
        name: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Operator]:
        stmt = select(Operator).where(operator_scope(principal))
        if kind is not None:
            stmt = stmt.where(Operator.kind == OperatorKind(kind).value)
        if parent_id is not None:
            stmt = stmt.where(Operator.parent_id == parent_id)
        if name:
            stmt = stmt.where(Operator.name == name.strip())
        with self.db.session() as session:
            return paginate(session, stmt, limit=limit, offset=offset, order_by=Operator.id)

    def get_operator(self, principal: Principal, operator_id: int) -> Operator:
        with self.db.session() as session:
            return get_operator(session, principal, operator_id)

    def verify_smpp_login(self, system_id: str, password: str) -> Operator | None:
        """The reseller binding as ``system_id`` if ``password`` is right, else None.

        Costs one argon2 verification either way, so timing does not reveal valid system_ids.
        Whether the reseller may *send* (certification) is the checks' business.
        """
        with self.db.session() as session:
            operator = session.execute(
                select(Operator).where(Operator.smpp_system_id == system_id)
            ).scalar_one_or_none()
        if operator is None or operator.smpp_password_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = self.hasher.hash(secrets.token_hex(8))
            self.hasher.verify(self._dummy_hash, password)
            return None
        return operator if self.hasher.verify(operator.smpp_password_hash, password) else None

    # -- the SMPP gateway (issue 6): logins and standing -------------------------------------

    def set_smpp_login(
        self, principal: Principal, operator_id: int, *, system_id: str, password: str
    ) -> Operator:
        """Give a reseller an SMPP login, or change its password (argon2-hashed, audited).

        The regulator, the reseller's relay or the reseller itself may; ``system_id`` must stay
        the reseller's own or be free (SMPP 3.4: 1-15 characters, passwords 1-8).
        """
        if _SYSTEM_ID_RE.fullmatch(system_id) is None:
            raise InvalidValue("system_id: 1-15 printable ASCII characters", field="system_id")
        if not 1 <= len(password) <= _SMPP_PASSWORD_MAX or not password.isascii():
            raise InvalidValue(
                f"SMPP passwords are 1-{_SMPP_PASSWORD_MAX} ASCII characters (SMPP 3.4)",
                field="password",
            )
        hashed = self.hasher.hash(password)
        with self._write(changes_view=False) as session:
            operator = get_operator(session, principal, operator_id)
            allowed = principal.role is Role.REGULATOR or (
                principal.role in OPERATOR_ROLES
                and principal.operator_id in (operator.id, operator.parent_id)
            )
            if not allowed:
                raise Forbidden(f"role {principal.role} may not set this operator's SMPP login")
            if operator.kind != OperatorKind.RESELLER:
                raise InvalidValue("only resellers bind over SMPP here", field="operator_id")
            taken = session.execute(
                select(Operator.id).where(
                    Operator.smpp_system_id == system_id, Operator.id != operator.id
                )
            ).first()
            if taken:
                raise Conflict(f"SMPP system_id {system_id!r} is taken")
            previous = operator.smpp_system_id
            operator.smpp_system_id = system_id
            operator.smpp_password_hash = hashed
            self._audit(
                session,
                principal,
                "operator.smpp_login",
                "operator",
                operator.id,
                {"system_id": system_id, "previous_system_id": previous},
                changes_view=False,
            )
        return operator

    def gateway_standing(self) -> GatewayStanding:
        """SMPP logins with their certification as of today, and accounts with their tier."""
        today = self._today()
        with self.db.session() as session:
            logins: dict[str, SmppLogin] = {}
            for op_id, op_name, system_id, state, valid_until in session.execute(
                select(
                    Operator.id,
                    Operator.name,
                    Operator.smpp_system_id,
                    Certification.state,
                    Certification.valid_until,
                )
                .outerjoin(Certification, Certification.operator_id == Operator.id)
                .where(Operator.smpp_system_id.is_not(None))
            ):
                if system_id is None:  # filtered out by the query; for the type checker
                    continue
                current = effective(CertState(state) if state else None, valid_until, today)
                logins[system_id] = SmppLogin(
                    system_id=system_id,
                    operator_id=op_id,
                    operator_name=op_name,
                    certification=None if current is None else current.value,
                    valid_until=valid_until,
                )
            accounts = {
                str(acc_id): AccountRateInfo(str(acc_id), op_id, tier)
                for acc_id, op_id, tier in session.execute(
                    select(Account.id, Account.operator_id, Account.trust_tier)
                )
            }
        return GatewayStanding(logins=logins, accounts=accounts)

    # -- certification -----------------------------------------------------------------------

    def certification(self, principal: Principal, operator_id: int) -> CertificationStatus:
        with self.db.session() as session:
            operator = get_operator(session, principal, operator_id)
            return self._status(session, operator)

    def _status(self, session: Session, operator: Operator) -> CertificationStatus:
        row = session.get(Certification, operator.id)
        stored = CertState(row.state) if row is not None else None
        valid_until = row.valid_until if row is not None else None
        state = effective(stored, valid_until, self._today())
        history = list(
            session.execute(
                select(CertificationEvent)
                .where(CertificationEvent.operator_id == operator.id)
                .order_by(CertificationEvent.id)
            ).scalars()
        )
        return CertificationStatus(
            operator_id=operator.id,
            state=state,
            stored_state=stored,
            valid_until=valid_until,
            certified_at=row.certified_at if row is not None else None,
            allowed_actions=[a.value for a in allowed_actions(state)],
            history=history,
        )

    def certify(
        self,
        principal: Principal,
        operator_id: int,
        *,
        action: CertAction | str,
        evidence: Mapping[str, Any] | None = None,
        note: str | None = None,
        valid_until: date | None = None,
    ) -> CertificationStatus:
        """Take one step of a reseller's certification (see the table in
        :mod:`spamgate.registry.certification`); a step the state refuses is a Conflict."""
        action = CertAction(action)
        data = _evidence(evidence, required=action in NEEDS_EVIDENCE, field="evidence")
        note = (note or "").strip() or None
        if action in NEEDS_NOTE and note is None:
            raise InvalidValue(f"{action} needs a note giving the reason", field="note")
        today = self._today()
        now = self._now()
        with self._write() as session:
            operator = get_operator(session, principal, operator_id)
            _require(principal, ACTION_ROLES[action], f"{action} a certification")
            if operator.kind != OperatorKind.RESELLER:
                raise Conflict(
                    f"only resellers are certified; operator {operator_id} is a {operator.kind}"
                )
            row = session.get(Certification, operator.id, with_for_update=True)
            stored = CertState(row.state) if row is not None else None
            current = effective(stored, row.valid_until if row else None, today)
            target = next_state(current, action)
            until = row.valid_until if row is not None else None
            if action is CertAction.APPROVE:
                until = valid_until or default_valid_until(today)
                if until <= today:
                    raise InvalidValue("valid_until must be after today", field="valid_until")
            elif action is CertAction.RENEW:
                until = valid_until or default_valid_until(today, until)
                if row is not None and row.valid_until is not None and until <= row.valid_until:
                    raise InvalidValue(
                        f"a renewal must extend the end date past {row.valid_until}",
                        field="valid_until",
                    )
            elif action is CertAction.APPLY:
                until = None
            elif valid_until is not None:
                raise InvalidValue(f"{action} takes no valid_until", field="valid_until")
            if row is None:
                row = Certification(operator_id=operator.id, state=target.value, updated_at=now)
                session.add(row)
            row.state = target.value
            row.valid_until = until
            row.updated_at = now
            if action is CertAction.APPROVE:
                row.certified_at = now
            elif action is CertAction.APPLY:
                row.certified_at = None
            session.add(
                CertificationEvent(
                    operator_id=operator.id,
                    action=action.value,
                    from_state=None if current is None else current.value,
                    to_state=target.value,
                    actor=principal.actor,
                    at=now,
                    valid_until=until,
                    evidence=data,
                    note=note,
                )
            )
            session.flush()
            self._audit(
                session,
                principal,
                f"certification.{action.value}",
                "operator",
                operator.id,
                {
                    "from": None if current is None else current.value,
                    "to": target.value,
                    "valid_until": until,
                    "evidence": data,
                    "note": note,
                },
            )
            status = self._status(session, operator)
        return status

    # -- accounts ----------------------------------------------------------------------------

    def create_account(
        self,
        principal: Principal,
        *,
        operator_id: int,
        name: str,
        business_number: str,
        identity_evidence: Mapping[str, Any] | None = None,
        trust_tier: TrustTier | str = TrustTier.NEW,
    ) -> NewAccount:
        """Open a sender account for a reseller's (or relay's) customer.

        The business registration number must pass its check digit, and identity evidence
        (what was checked, e.g. the registration certificate's reference) is required.
        """
        name = name.strip()
        if not name:
            raise InvalidValue("name must not be empty", field="name")
        brn = parse_business_number(business_number)
        if brn is None:
            raise InvalidValue(
                f"{business_number[:16]!r} is not a valid business registration number "
                "(10 digits with a valid check digit)",
                field="business_number",
            )
        data = _evidence(identity_evidence, required=True, field="identity_evidence")
        tier = TrustTier(trust_tier)
        secret = secrets.token_hex(32)
        now = self._now()
        with self._write() as session:
            operator = get_operator(session, principal, operator_id)
            if not _acts_for(principal, operator.id):
                raise Forbidden(
                    f"role {principal.role} may not open accounts for operator {operator_id}"
                )
            if operator.kind not in (OperatorKind.RESELLER, OperatorKind.RELAY):
                raise InvalidValue("accounts belong to resellers or relays", field="operator_id")
            if _exists(session, Account.operator_id == operator.id, Account.name == name):
                raise Conflict(f"operator {operator_id} already has an account named {name!r}")
            account = Account(
                operator_id=operator.id,
                name=name,
                business_number=brn,
                identity_evidence=data,
                status=AccountStatus.ACTIVE.value,
                trust_tier=tier.value,
                send_secret=secret,
                created_at=now,
                updated_at=now,
            )
            self._add(
                session,
                principal,
                account,
                entity="account",
                data={
                    "operator_id": operator.id,
                    "name": name,
                    "business_number": brn,
                    "identity_evidence": data,
                    "trust_tier": tier.value,
                },
            )
        return NewAccount(account=account, send_secret=secret)

    def list_accounts(
        self,
        principal: Principal,
        *,
        operator_id: int | None = None,
        status: AccountStatus | str | None = None,
        business_number: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Account]:
        stmt = select(Account).where(account_scope(principal))
        if operator_id is not None:
            stmt = stmt.where(Account.operator_id == operator_id)
        if status is not None:
            stmt = stmt.where(Account.status == AccountStatus(status).value)
        if business_number:
            stmt = stmt.where(Account.business_number == business_number.replace("-", "").strip())
        with self.db.session() as session:
            return paginate(session, stmt, limit=limit, offset=offset, order_by=Account.id)

    def get_account(self, principal: Principal, account_id: int) -> Account:
        with self.db.session() as session:
            return get_account(session, principal, account_id)

    def update_account(
        self,
        principal: Principal,
        account_id: int,
        *,
        status: AccountStatus | str | None = None,
        reason: str | None = None,
        trust_tier: TrustTier | str | None = None,
    ) -> Account:
        """Suspend/reactivate an account or change its tier: its operator, the operator's
        relay (which must act on its resellers' spammers), or the regulator."""
        new_status = None if status is None else AccountStatus(status)
        tier = None if trust_tier is None else TrustTier(trust_tier)
        reason = (reason or "").strip() or None
        if new_status is AccountStatus.SUSPENDED and reason is None:
            raise InvalidValue("suspending an account needs a reason", field="reason")
        with self._write() as session:
            account = get_account(session, principal, account_id)
            operator = session.get(Operator, account.operator_id)
            if not _acts_for_or_above(principal, operator):
                raise Forbidden(f"role {principal.role} may not change account {account_id}")
            changes: dict[str, Any] = {}
            if new_status is not None and new_status.value != account.status:
                changes["status"] = {"from": account.status, "to": new_status.value}
                account.status = new_status.value
                account.status_reason = reason
                changes["reason"] = reason
            if tier is not None and tier.value != account.trust_tier:
                changes["trust_tier"] = {"from": account.trust_tier, "to": tier.value}
                account.trust_tier = tier.value
            if changes:
                account.updated_at = self._now()
                self._audit(session, principal, "account.update", "account", account.id, changes)
        return account

    def rotate_send_secret(self, principal: Principal, account_id: int) -> str:
        """A new per-send secret for the account (the old one stops working at once)."""
        secret = secrets.token_hex(32)
        with self._write() as session:
            account = get_account(session, principal, account_id)
            if not _acts_for(principal, account.operator_id):
                raise Forbidden(f"role {principal.role} may not rotate this account's secret")
            account.send_secret = secret
            account.updated_at = self._now()
            self._audit(session, principal, "account.rotate_secret", "account", account.id, {})
        return secret

    # -- sender numbers ----------------------------------------------------------------------

    def register_sender(
        self,
        principal: Principal,
        *,
        account_id: int,
        number: str,
        evidence: Mapping[str, Any] | None,
    ) -> SenderNumber:
        """Register a caller ID to an account, with evidence of ownership (e.g. a certificate
        of telecom service use). Invalid, theft-protected or duplicate numbers are refused."""
        digits, kind = _korean_number(number, "number")
        data = _evidence(evidence, required=True, field="evidence")
        now = self._now()
        with self._write() as session:
            account = get_account(session, principal, account_id)
            if not _acts_for(principal, account.operator_id):
                raise Forbidden(
                    f"role {principal.role} may not register numbers for account {account_id}"
                )
            if _exists(session, TheftProtection.number == digits):
                raise Conflict(
                    f"{digits} is theft-protected: its owner asked that nobody send from it"
                )
            if _exists(
                session, SenderNumber.account_id == account.id, SenderNumber.number == digits
            ):
                raise Conflict(f"{digits} is already registered to account {account_id}")
            entry = SenderNumber(
                account_id=account.id,
                number=digits,
                kind=kind.value,
                evidence=data,
                status=SenderStatus.ACTIVE.value,
                verified_at=now,
                created_at=now,
            )
            self._add(
                session,
                principal,
                entry,
                entity="sender_number",
                data={"account_id": account.id, "number": digits, "evidence": data},
            )
        return entry

    def list_senders(
        self,
        principal: Principal,
        *,
        account_id: int | None = None,
        number: str | None = None,
        status: SenderStatus | str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[SenderNumber]:
        stmt = select(SenderNumber).where(sender_scope(principal))
        if account_id is not None:
            stmt = stmt.where(SenderNumber.account_id == account_id)
        if number:
            info = parse_number(number)
            stmt = stmt.where(SenderNumber.number == (info.digits or number.strip()))
        if status is not None:
            stmt = stmt.where(SenderNumber.status == SenderStatus(status).value)
        with self.db.session() as session:
            return paginate(session, stmt, limit=limit, offset=offset, order_by=SenderNumber.id)

    def get_sender(self, principal: Principal, number_id: int) -> SenderNumber:
        with self.db.session() as session:
            return get_sender_number(session, principal, number_id)

    def update_sender(
        self, principal: Principal, number_id: int, *, status: SenderStatus | str
    ) -> SenderNumber:
        """Suspend, revoke or reactivate a registered number (owner, its relay, regulator)."""
        new_status = SenderStatus(status)
        with self._write() as session:
            entry = get_sender_number(session, principal, number_id)
            account = session.get(Account, entry.account_id)
            operator = None if account is None else session.get(Operator, account.operator_id)
            if not _acts_for_or_above(principal, operator):
                raise Forbidden(f"role {principal.role} may not change sender number {number_id}")
            if entry.status != new_status.value:
                self._audit(
                    session,
                    principal,
                    "sender_number.update",
                    "sender_number",
                    entry.id,
                    {"status": {"from": entry.status, "to": new_status.value}},
                )
                entry.status = new_status.value
        return entry

    # -- theft protection --------------------------------------------------------------------

    _THEFT_WRITERS: Final = frozenset({Role.REGULATOR, Role.CARRIER})
    _LIST_READERS: Final = frozenset({Role.REGULATOR, Role.CERTIFIER, Role.CARRIER, Role.RELAY})

    def protect_number(
        self,
        principal: Principal,
        *,
        number: str,
        evidence: Mapping[str, Any] | None,
        requested_by: str | None = None,
    ) -> TheftProtection:
        """Nobody may send from ``number`` from now on (its owner asked; the carrier checked).

        Takes effect on the next message judged in this process, and within
        ``registry_refresh_seconds`` on other nodes."""
        _require(principal, self._THEFT_WRITERS, "add theft protection")
        digits, _ = _korean_number(number, "number")
        data = _evidence(evidence, required=True, field="evidence")
        with self._write() as session:
            if _exists(session, TheftProtection.number == digits):
                raise Conflict(f"{digits} is already theft-protected")
            entry = TheftProtection(
                number=digits,
                requested_by=(requested_by or "").strip()[:200] or None,
                evidence=data,
                created_by=principal.actor,
                created_at=self._now(),
            )
            self._add(
                session,
                principal,
                entry,
                entity="theft_protection",
                data={"number": digits, "evidence": data},
            )
        return entry

    def unprotect_number(self, principal: Principal, entry_id: int) -> None:
        _require(principal, self._THEFT_WRITERS, "remove theft protection")
        self._delete_entry(
            principal,
            TheftProtection,
            entry_id,
            entity="theft_protection",
            label="theft protection",
            describe=lambda entry: {"number": entry.number},
        )

    def list_protected(
        self,
        principal: Principal,
        *,
        number: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[TheftProtection]:
        _require(principal, self._LIST_READERS, "read the theft-protection list")
        stmt = select(TheftProtection)
        if number:
            info = parse_number(number)
            stmt = stmt.where(TheftProtection.number == (info.digits or number.strip()))
        with self.db.session() as session:
            return paginate(session, stmt, limit=limit, offset=offset, order_by=TheftProtection.id)

    # -- block list --------------------------------------------------------------------------

    _BLOCK_WRITERS: Final = frozenset({Role.REGULATOR, Role.CARRIER, Role.RELAY})

    def block(
        self,
        principal: Principal,
        *,
        kind: BlockKind | str,
        value: str,
        source: str,
        reason: str,
        expires_at: datetime | None = None,
    ) -> BlockEntry:
        """Put a number, domain or URL on the block list (until ``expires_at``, if given)."""
        _require(principal, self._BLOCK_WRITERS, "add to the block list")
        kind = BlockKind(kind)
        canonical = canonical_block_value(kind, value)
        if len(canonical) > 2048:
            raise InvalidValue("value is longer than 2048 characters once canonical", field="value")
        source, reason = source.strip(), reason.strip()
        if not source:
            raise InvalidValue("source is required (who reported it)", field="source")
        if not reason:
            raise InvalidValue("reason is required", field="reason")
        now = self._now()
        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise InvalidValue("expires_at needs a time zone", field="expires_at")
            if expires_at <= now:
                raise InvalidValue("expires_at is in the past", field="expires_at")
        with self._write() as session:
            if _exists(session, BlockEntry.kind == kind.value, BlockEntry.value == canonical):
                raise Conflict(f"{kind} {canonical!r} is already on the block list")
            entry = BlockEntry(
                kind=kind.value,
                value=canonical,
                source=source,
                reason=reason,
                expires_at=expires_at,
                created_by=principal.actor,
                created_at=now,
            )
            self._add(
                session,
                principal,
                entry,
                entity="blocklist",
                data={
                    "kind": kind.value,
                    "value": canonical,
                    "source": source,
                    "reason": reason,
                    "expires_at": expires_at,
                },
            )
        return entry

    def unblock(self, principal: Principal, entry_id: int) -> None:
        _require(principal, self._BLOCK_WRITERS, "remove from the block list")
        self._delete_entry(
            principal,
            BlockEntry,
            entry_id,
            entity="blocklist",
            label="block-list entry",
            describe=lambda entry: {"kind": entry.kind, "value": entry.value},
        )

    def list_blocks(
        self,
        principal: Principal,
        *,
        kind: BlockKind | str | None = None,
        value: str | None = None,
        source: str | None = None,
        active: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[BlockEntry]:
        _require(principal, self._LIST_READERS, "read the block list")
        stmt = select(BlockEntry)
        if kind is not None:
            kind = BlockKind(kind)
            stmt = stmt.where(BlockEntry.kind == kind.value)
            if value:
                try:
                    value = canonical_block_value(kind, value)
                except InvalidValue:
                    value = value.strip()
        if value:
            stmt = stmt.where(BlockEntry.value == value.strip())
        if source:
            stmt = stmt.where(BlockEntry.source == source.strip())
        if active is not None:
            now = self._now()
            live = (BlockEntry.expires_at.is_(None)) | (BlockEntry.expires_at > now)
            stmt = stmt.where(live if active else ~live)
        with self.db.session() as session:
            return paginate(session, stmt, limit=limit, offset=offset, order_by=BlockEntry.id)

    # -- audit -------------------------------------------------------------------------------

    def verify_audit(self) -> audit.AuditReport:
        """Walk the audit chain; see :func:`spamgate.registry.audit.verify`."""
        with self.db.session() as session:
            return audit.verify(session)
