"""Who may bind: the ``Authenticator`` protocol, its decision, and the static (TOML) implementation.

The server asks ``authenticate(system_id, password, bind_kind, peer)`` once per bind and answers
with the decision's status. SMPP 3.4 field limits (system_id ≤ 15, password ≤ 8 characters) are
enforced by the codec before anyone is asked: a longer field is answered ESME_RINVSYSID /
ESME_RINVPASWD, as real clients such as Kannel truncate to them.

``StaticAuthenticator`` reads ``[smpp.accounts.<system_id>]`` tables (argon2 hashes, never
passwords). Statuses it answers:

===================  ===========================================================================
ESME_RINVPASWD       unknown system_id or wrong password (the same answer, and the same argon2
                     work, for both, so a peer cannot learn which system_ids exist)
ESME_RBINDFAIL       locked out (``max_failures`` wrong passwords for this system_id from this
                     peer host, or 4× that from the host for any system_id, within ``window``
                     seconds: refused for ``lockout`` seconds without checking), suspended, or
                     this bind kind is not allowed for the login
===================  ===========================================================================

The registry supplies another implementation (operators, certification, suspension) later.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from spamgate.config import SmppAccountConfig
from spamgate.smpp.pdu import CommandStatus
from spamgate.smpp.session import BindKind

__all__ = [
    "Authenticator",
    "BindDecision",
    "StaticAuthenticator",
    "hash_password",
]

_S = CommandStatus
_MAX_TRACKED: Final = 10_000  # failure records kept (oldest dropped first)


@dataclass(frozen=True, slots=True, kw_only=True)
class BindDecision:
    """The answer to a bind. ``status`` 0 accepts; then the rest applies to the bind's messages.

    ``account`` names the registry/policy account whose rules judge them (None: the default
    policy and no account rules — a static login maps to an account only when told), ``route``
    forces domestic/international, ``window`` overrides the in-flight limit. ``reason`` is for the
    log only and never sent to the peer.
    """

    status: int
    account: str | None = None
    route: str | None = None
    window: int | None = None
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.status == 0

    @classmethod
    def refuse(cls, status: int, reason: str) -> BindDecision:
        return cls(status=status, reason=reason)


class Authenticator(Protocol):
    """Decides binds. Must not raise for bad credentials: it returns a refusal."""

    async def authenticate(
        self, system_id: str, password: str, bind_kind: BindKind, peer: str
    ) -> BindDecision: ...


def hash_password(
    password: str, *, time_cost: int = 3, memory_kib: int = 65_536, parallelism: int = 4
) -> str:
    """An argon2id hash for ``[smpp.accounts.<id>] password_hash`` (≤ 8 characters, SMPP 3.4)."""
    if not 1 <= len(password) <= 8:
        raise ValueError("an SMPP 3.4 password has 1 to 8 characters")
    if not password.isascii() or not password.isprintable():
        raise ValueError("an SMPP password is printable ASCII")
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    return hasher.hash(password)


@dataclass(slots=True)
class _Failures:
    times: list[float]
    locked_until: float = 0.0


class StaticAuthenticator:
    """Logins from configuration, with a lockout after repeated failures (see module docstring).

    ``clock`` is monotonic seconds (injectable for tests). argon2 verification runs in a worker
    thread so a bind never stalls the event loop.
    """

    def __init__(
        self,
        accounts: Mapping[str, SmppAccountConfig],
        *,
        max_failures: int = 5,
        window: float = 300.0,
        lockout: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._accounts = dict(accounts)
        self._max = max_failures
        self._window = window
        self._lockout = lockout
        self._clock = clock
        self._hasher = PasswordHasher()
        # A hash to verify against for unknown system_ids: same cost as a real one.
        cheapest = min((a.password_hash for a in self._accounts.values()), default=None, key=len)
        self._dummy = cheapest or self._hasher.hash("-unused-")
        self._failures: OrderedDict[tuple[str, str], _Failures] = OrderedDict()

    def _locked(self, key: tuple[str, str], now: float) -> bool:
        record = self._failures.get(key)
        return record is not None and record.locked_until > now

    def _fail(self, key: tuple[str, str], limit: int, now: float) -> None:
        record = self._failures.get(key)
        if record is None:
            record = self._failures[key] = _Failures([])
            while len(self._failures) > _MAX_TRACKED:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(key)
        record.times = [t for t in record.times if t > now - self._window]
        record.times.append(now)
        if len(record.times) >= limit:
            record.locked_until = now + self._lockout
            record.times.clear()

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def authenticate(
        self, system_id: str, password: str, bind_kind: BindKind, peer: str
    ) -> BindDecision:
        host = peer.rsplit(":", 1)[0] if ":" in peer else peer
        pair_key = (system_id, host)
        host_key = ("", host)
        now = self._clock()
        if self._locked(pair_key, now) or self._locked(host_key, now):
            return BindDecision.refuse(_S.ESME_RBINDFAIL, "locked out after failed binds")
        account = self._accounts.get(system_id)
        stored = account.password_hash if account is not None else self._dummy
        ok = await asyncio.to_thread(self._verify, stored, password)
        if account is None or not ok:
            now = self._clock()
            self._fail(pair_key, self._max, now)
            self._fail(host_key, self._max * 4, now)
            why = "unknown system_id" if account is None else "wrong password"
            return BindDecision.refuse(_S.ESME_RINVPASWD, why)
        self._failures.pop(pair_key, None)
        if account.suspended:
            return BindDecision.refuse(_S.ESME_RBINDFAIL, "login suspended")
        if bind_kind.value not in account.bind_kinds:
            return BindDecision.refuse(_S.ESME_RBINDFAIL, f"{bind_kind.value} bind not allowed")
        return BindDecision(
            status=_S.ESME_ROK,
            account=account.account,
            route=account.route,
            window=account.window,
        )
