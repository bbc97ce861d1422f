"""Who is calling: API tokens, principals, and argon2id hashing of secrets.

A token reads ``sgt_<public id>_<secret>``: 12 hex characters that find the row, then 43
URL-safe characters of secret (256 bits) that only its argon2id hash in the database can
confirm. The whole token is shown once, when it is made, and never stored or logged.

Checking argon2id costs tens of milliseconds by design, so a checked token is remembered for a
short while (:class:`TokenCache`, keyed by a SHA-256 of the token, never the token itself) and
the next requests skip the hash. The cache honours the token's expiry and is cleared whenever a
token changes.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from spamgate.config import Settings
from spamgate.registry.models import Role

__all__ = [
    "OPERATOR_ROLES",
    "SYSTEM",
    "TOKEN_PREFIX",
    "Principal",
    "SecretHasher",
    "TokenCache",
    "new_token",
    "split_token",
]

TOKEN_PREFIX: Final = "sgt_"  # noqa: S105 - a prefix, not a secret
_PUBLIC_HEX: Final = 12
_SECRET_CHARS: Final = 43  # secrets.token_urlsafe(32)
_TOKEN_LENGTH: Final = len(TOKEN_PREFIX) + _PUBLIC_HEX + 1 + _SECRET_CHARS
_URLSAFE: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_HEX: Final = frozenset("0123456789abcdef")

#: Roles that act for one operator, of the same kind.
OPERATOR_ROLES: Final = frozenset({Role.CARRIER, Role.RELAY, Role.RESELLER})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a registry operation: a role, and for operator roles, the operator.

    ``name`` says where it came from (``token 12``, ``cli``) and goes into the audit log.
    """

    role: Role
    operator_id: int | None = None
    token_id: int | None = None
    name: str = "system"

    @property
    def actor(self) -> str:
        """How the audit log names this caller, e.g. ``token 7 (relay, operator 3)``."""
        scope = f"{self.role.value}" + (
            f", operator {self.operator_id}" if self.operator_id is not None else ""
        )
        return f"{self.name} ({scope})"

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.REGULATOR, Role.CERTIFIER)


#: The principal of local administration (``spamgate admin``, the demo seeding).
SYSTEM: Final = Principal(Role.REGULATOR, None, None, "system")


class SecretHasher:
    """argon2id for API tokens and SMPP passwords, with the cost from settings."""

    def __init__(self, *, time_cost: int = 3, memory_kib: int = 65_536, parallelism: int = 4):
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretHasher:
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, hashed: str, secret: str) -> bool:
        """True if ``secret`` matches; False for a mismatch or an unusable hash (never raises)."""
        try:
            return self._hasher.verify(hashed, secret)
        except (VerificationError, InvalidHashError):
            return False


def new_token() -> tuple[str, str]:
    """A fresh ``(public_id, token)``; the token embeds the public id and the secret."""
    public_id = secrets.token_hex(_PUBLIC_HEX // 2)
    secret = secrets.token_urlsafe(32)
    return public_id, f"{TOKEN_PREFIX}{public_id}_{secret}"


def split_token(token: str) -> tuple[str, str] | None:
    """``(public_id, secret)`` of a well-formed token, else None (checked without hashing)."""
    if len(token) != _TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        return None
    public_id = token[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + _PUBLIC_HEX]
    if token[len(TOKEN_PREFIX) + _PUBLIC_HEX] != "_":
        return None
    secret = token[len(TOKEN_PREFIX) + _PUBLIC_HEX + 1 :]
    if not set(public_id) <= _HEX or not set(secret) <= _URLSAFE:
        return None
    return public_id, secret


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


class TokenCache:
    """Recently verified tokens → principal, for ``ttl`` seconds (bounded, thread-safe)."""

    def __init__(self, *, ttl: float = 60.0, capacity: int = 10_000) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._entries: OrderedDict[bytes, tuple[Principal, float, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, now: datetime) -> Principal | None:
        key = _digest(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            principal, until, expires_at = entry
            if time.monotonic() > until or (expires_at is not None and now >= expires_at):
                del self._entries[key]
                return None
            return principal

    def put(self, token: str, principal: Principal, expires_at: datetime | None) -> None:
        key = _digest(token)
        with self._lock:
            self._entries[key] = (principal, time.monotonic() + self.ttl, expires_at)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
