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

``RegistryAuthenticator`` checks binds against the registry (``Registry.verify_smpp_login``:
the reseller's ``smpp_system_id`` and argon2 password hash, set with ``spamgate smpp set-login``)
with the same lockout and the same answers, plus: a reseller whose certification is not current
(suspended, cancelled, expired, or never granted) is refused ESME_RBINDFAIL, with the reason in
the log. It also keeps the registry's :class:`~spamgate.registry.gateway.GatewayStanding` (SMPP
logins with their certification, accounts with their trust tier) in memory, rebuilt every
``refresh`` seconds (default 5, at most 60) by :meth:`RegistryAuthenticator.run`: the gateway
reads it per message, so a reseller suspended *while bound* is refused (SG_RNOTCERTIFIED) within
that time, without a database query on the hot path. (Polling, not a subscription: it works the
same with several processes on one PostgreSQL.)

Precedence (``ChainAuthenticator``): a system_id the registry knows is decided by the registry
only; ``[smpp.accounts]`` logins of the config apply to system_ids the registry does not know
(test links, a relay's own tools). So a suspended reseller cannot bind through a config login of
the same name.

Lockout (both implementations): ``max_failures`` failures for one (system_id, peer host) pair,
``max_failures_per_host`` for one host over all system_ids, or ``max_failures_per_system_id``
for one system_id over all hosts, within ``window`` seconds, refuse that pair, host or system_id
for ``lockout`` seconds without checking the password.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from spamgate.config import SmppAccountConfig
from spamgate.registry.gateway import GatewayStanding, SmppLogin
from spamgate.smpp.pdu import CommandStatus
from spamgate.smpp.session import BindKind

__all__ = [
    "Authenticator",
    "BindDecision",
    "ChainAuthenticator",
    "Lockout",
    "RegistryAuthenticator",
    "RegistryLogins",
    "StaticAuthenticator",
    "hash_password",
]

log = logging.getLogger(__name__)
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
    #: Set for registry binds: the reseller, whose messages must each carry a per-send proof
    #: (``spamgate.smpp.proof``) for one of its own accounts.
    operator_id: int | None = None

    @property
    def accepted(self) -> bool:
        return self.status == 0

    @classmethod
    def refuse(cls, status: int, reason: str) -> BindDecision:
        return cls(status=status, reason=reason)

    @property
    def from_registry(self) -> bool:
        return self.operator_id is not None


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


class Lockout:
    """Failed-bind bookkeeping per (system_id, host), per host and per system_id (bounded)."""

    def __init__(
        self,
        *,
        max_failures: int = 5,
        max_failures_per_host: int | None = None,
        max_failures_per_system_id: int | None = None,
        window: float = 300.0,
        lockout: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.per_host = max_failures_per_host or max_failures * 4
        self.per_system_id = max_failures_per_system_id or max_failures * 4
        self.window = window
        self.lockout = lockout
        self.clock = clock
        self._failures: OrderedDict[tuple[str, str], _Failures] = OrderedDict()

    @staticmethod
    def _keys(system_id: str, peer: str) -> tuple[tuple[str, str], ...]:
        host = peer.rsplit(":", 1)[0] if ":" in peer else peer
        return ((system_id, host), ("", host), (system_id, ""))

    def locked(self, system_id: str, peer: str) -> bool:
        now = self.clock()
        for key in self._keys(system_id, peer):
            record = self._failures.get(key)
            if record is not None and record.locked_until > now:
                return True
        return False

    def failed(self, system_id: str, peer: str) -> None:
        now = self.clock()
        limits = (self.max_failures, self.per_host, self.per_system_id)
        for key, limit in zip(self._keys(system_id, peer), limits, strict=True):
            self._fail(key, limit, now)

    def succeeded(self, system_id: str, peer: str) -> None:
        self._failures.pop(self._keys(system_id, peer)[0], None)

    def _fail(self, key: tuple[str, str], limit: int, now: float) -> None:
        record = self._failures.get(key)
        if record is None:
            record = self._failures[key] = _Failures([])
            while len(self._failures) > _MAX_TRACKED:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(key)
        record.times = [t for t in record.times if t > now - self.window]
        record.times.append(now)
        if len(record.times) >= limit:
            record.locked_until = now + self.lockout
            record.times.clear()


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
        lockouts: Lockout | None = None,
    ) -> None:
        self._accounts = dict(accounts)
        self.lockouts = lockouts or Lockout(
            max_failures=max_failures, window=window, lockout=lockout, clock=clock
        )
        self._hasher = PasswordHasher()
        # A hash to verify against for unknown system_ids: same cost as a real one.
        cheapest = min((a.password_hash for a in self._accounts.values()), default=None, key=len)
        self._dummy = cheapest or self._hasher.hash("-unused-")

    def knows(self, system_id: str) -> bool:
        return system_id in self._accounts

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def authenticate(
        self, system_id: str, password: str, bind_kind: BindKind, peer: str
    ) -> BindDecision:
        lockouts = self.lockouts
        if lockouts.locked(system_id, peer):
            return BindDecision.refuse(_S.ESME_RBINDFAIL, "locked out after failed binds")
        account = self._accounts.get(system_id)
        stored = account.password_hash if account is not None else self._dummy
        ok = await asyncio.to_thread(self._verify, stored, password)
        if account is None or not ok:
            lockouts.failed(system_id, peer)
            why = "unknown system_id" if account is None else "wrong password"
            return BindDecision.refuse(_S.ESME_RINVPASWD, why)
        lockouts.succeeded(system_id, peer)
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


class RegistryLogins(Protocol):
    """What :class:`RegistryAuthenticator` needs of :class:`~spamgate.registry.Registry`."""

    def verify_smpp_login(self, system_id: str, password: str) -> Any: ...

    def gateway_standing(self) -> GatewayStanding: ...


class RegistryAuthenticator:
    """Binds checked against the registry, and the standing cache (see the module docstring).

    Blocking registry calls (argon2, database) run in worker threads, never on the loop.
    """

    def __init__(
        self,
        registry: RegistryLogins,
        *,
        refresh: float = 5.0,
        lockouts: Lockout | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < refresh <= 60:
            raise ValueError("refresh must be in (0, 60] seconds")
        self.registry = registry
        self.refresh_seconds = refresh
        self.lockouts = lockouts or Lockout(clock=clock)
        self._clock = clock
        self.standing = GatewayStanding()
        self._standing_at = -float("inf")

    def login(self, system_id: str) -> SmppLogin | None:
        """The cached login (hot path: a dict probe)."""
        return self.standing.logins.get(system_id)

    async def refresh(self) -> GatewayStanding:
        """Rebuild the standing now (in a thread)."""
        standing = await asyncio.to_thread(self.registry.gateway_standing)
        self.standing = standing
        self._standing_at = self._clock()
        return standing

    async def knows(self, system_id: str) -> bool:
        if self._clock() - self._standing_at >= self.refresh_seconds:
            await self.refresh()
        return system_id in self.standing.logins

    async def run(self) -> None:
        """Rebuild the standing every ``refresh`` seconds until cancelled (errors are logged)."""
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("registry standing not refreshed; keeping the previous one")
            await asyncio.sleep(self.refresh_seconds)

    async def authenticate(
        self, system_id: str, password: str, bind_kind: BindKind, peer: str
    ) -> BindDecision:
        lockouts = self.lockouts
        if lockouts.locked(system_id, peer):
            return BindDecision.refuse(_S.ESME_RBINDFAIL, "locked out after failed binds")
        operator = await asyncio.to_thread(self.registry.verify_smpp_login, system_id, password)
        if operator is None:
            lockouts.failed(system_id, peer)
            return BindDecision.refuse(_S.ESME_RINVPASWD, "unknown system_id or wrong password")
        lockouts.succeeded(system_id, peer)
        standing = await self.refresh()  # binds are rare: decide on the registry as it is now
        login = standing.logins.get(system_id)
        if login is None or login.operator_id != operator.id:
            return BindDecision.refuse(_S.ESME_RBINDFAIL, "login changed while binding")
        if not login.may_send:
            state = login.certification or "never certified"
            return BindDecision.refuse(
                _S.ESME_RBINDFAIL, f"reseller {login.operator_id} certification: {state}"
            )
        return BindDecision(status=_S.ESME_ROK, operator_id=login.operator_id)


class ChainAuthenticator:
    """The registry for system_ids it knows, else the config's logins (module docstring)."""

    def __init__(self, registry: RegistryAuthenticator, static: StaticAuthenticator) -> None:
        self.registry = registry
        self.static = static

    async def authenticate(
        self, system_id: str, password: str, bind_kind: BindKind, peer: str
    ) -> BindDecision:
        if self.static.knows(system_id) and not await self.registry.knows(system_id):
            return await self.static.authenticate(system_id, password, bind_kind, peer)
        return await self.registry.authenticate(system_id, password, bind_kind, peer)
