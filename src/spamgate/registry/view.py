"""The registry as the message checks read it: an in-memory snapshot, rebuilt on change.

Checks run on the hot path (tens of thousands of messages a second), so they never query the
database. :class:`RegistryCache` keeps an immutable :class:`RegistrySnapshot` of what they need —
accounts with their senders and their reseller's certification, theft-protected numbers, the
block list — and hands out a :class:`BoundView` (the snapshot plus "now", the number-status
table and the per-send verifier) once per batch. Every lookup is a dict or set probe.

Invalidation:

* a change made through :class:`~spamgate.registry.service.Registry` in this process calls
  :meth:`RegistryCache.invalidate` after its commit, so the very next view sees it;
* a change made by another process (several gateway nodes on one PostgreSQL) bumps the
  ``registry_state.version`` counter; the cache reads it at most every ``refresh_seconds``
  (default 5 s) and rebuilds when it moved, so theft protection and blocks take effect on every
  node within seconds ("within a minute" with room to spare);
* the number-status snapshot file (``spamgate numbers import``) is looked at on the same
  schedule and swapped in atomically when it changed.

Per-send proofs are checked through the view (:meth:`BoundView.authenticate`, or
:meth:`BoundView.authenticate_many` for a batch: one round trip to a shared nonce store). A
cache made with ``per_send=False`` serves operators judging offline (``spamgate check`` and
``scan``): no message there is a submission, so every proof check answers
:attr:`~spamgate.checks.registry_view.SendAuth.OFFLINE`.

A rebuild reads a few columns of a few tables; until it finishes, other threads keep using the
previous snapshot (only the very first build blocks).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

from spamgate.checks.registry_view import AccountStanding, AccountState, SendAuth
from spamgate.domain.message import KST, Message
from spamgate.registry.certification import effective
from spamgate.registry.models import CertState
from spamgate.registry.number_status import (
    NumberStatus,
    NumberStatusError,
    NumberStatusRegistry,
    NumberStatusTable,
    snapshot_path,
)
from spamgate.registry.persend import HmacKey, PerSendVerifier
from spamgate.text import ExtractedUrl

__all__ = ["BlockInfo", "BoundView", "RegistryCache", "RegistrySnapshot", "certification_on"]

log = logging.getLogger(__name__)

_CERTIFIED = CertState.CERTIFIED.value
#: A view is reused while the clock moves less than this (one view per message otherwise).
_VIEW_REUSE = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class BlockInfo:
    """One block-list entry as the checks need it."""

    evidence: str
    expires_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True, slots=True)
class RegistrySnapshot:
    """Everything the checks read from the database, at registry ``version``."""

    version: int
    accounts: Mapping[str, AccountStanding] = field(default_factory=dict)
    #: account id → per-send HMAC key. Kept apart from the standings so no repr shows it.
    secrets: Mapping[str, HmacKey] = field(default_factory=dict, repr=False)
    theft_protected: frozenset[str] = frozenset()
    blocked_numbers: Mapping[str, BlockInfo] = field(default_factory=dict)
    blocked_domains: Mapping[str, BlockInfo] = field(default_factory=dict)
    blocked_urls: Mapping[str, BlockInfo] = field(default_factory=dict)
    #: Numbers theft-protected or on the block list: most senders are neither, and one probe
    #: here says so (BoundView.sender_flagged).
    flagged_numbers: frozenset[str] = field(init=False, repr=False, compare=False)
    #: The account states of the latest day asked for (see :meth:`account_states`).
    _states: _AccountStates | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        flagged = self.theft_protected.union(self.blocked_numbers)
        object.__setattr__(self, "flagged_numbers", flagged)
        object.__setattr__(self, "_states", None)

    @classmethod
    def empty(cls) -> RegistrySnapshot:
        return cls(version=-1)

    def account_states(self, today: date) -> _AccountStates:
        """account id -> (standing, certification on ``today``), filled in as accounts are
        asked for and shared by every view of this snapshot on that day (a certification
        depends on "now" only through its end date). Kept for one day at a time."""
        states = self._states
        if states is None or states.today != today:
            # Two threads may both build one; either is right, and the loser's is dropped.
            states = _AccountStates(self.accounts, today)
            object.__setattr__(self, "_states", states)
        return states


def certification_on(standing: AccountStanding, today: date) -> str | None:
    """The reseller's certification state on ``today`` (None: no reseller, or it never
    applied); see :meth:`~spamgate.checks.registry_view.RegistryView.certification`."""
    if standing.reseller_id is None:
        return None
    until = standing.certified_until
    if standing.certification == _CERTIFIED and (until is None or today <= until):
        return _CERTIFIED  # the common case, without building enums
    state = CertState(standing.certification) if standing.certification else None
    current = effective(state, until, today)
    return None if current is None else current.value


class _AccountStates(dict[str, AccountState | None]):
    """A memo of :func:`certification_on` per account for one day; a missing key is computed
    on first use. Unknown account ids are not stored (anyone can send any id), so it holds at
    most one entry per account of the snapshot."""

    __slots__ = ("_accounts", "today")

    def __init__(self, accounts: Mapping[str, AccountStanding], today: date) -> None:
        super().__init__()
        self._accounts = accounts
        self.today = today

    def __missing__(self, account_id: str) -> AccountState | None:
        standing = self._accounts.get(account_id)
        if standing is None:
            return None
        state = (standing, certification_on(standing, self.today))
        self[account_id] = state
        return state


def _no_status(number: str) -> None:
    """The number-status lookup of a view without a number-status table: no data."""
    return None


def _offline(message: Message) -> SendAuth:
    """The proof check of a view that checks none (offline judging)."""
    return SendAuth.OFFLINE


def _checked_ahead(
    outcomes: dict[int, tuple[Message, SendAuth]],
    authenticate: Callable[[Message], SendAuth],
    message: Message,
) -> SendAuth:
    """A batch view's proof check: the outcome :meth:`BoundView.batch` found for this message
    object (its nonce is spent), once; any other message is checked as usual."""
    done = outcomes.pop(id(message), None)
    if done is not None and done[0] is message:
        return done[1]
    return authenticate(message)


class BoundView:
    """A :class:`~spamgate.checks.registry_view.RegistryView`: a snapshot at one moment.

    ``verifier`` None: proofs are not checked here (offline judging, see the module docstring).
    """

    __slots__ = (
        "_now_s",
        "_numbers",
        "_snapshot",
        "_today",
        "_until",
        "_verifier",
        "account",
        "account_state",
        "authenticate",
        "now",
        "number_status",
        "sender_flagged",
        "theft_protected",
    )

    # RegistryView lookups bound in __init__ straight to the snapshot's containers and the
    # number table, so a probe costs no Python frame of its own (every message makes them).
    #: The account, or None if the registry does not know it.
    account: Callable[[str], AccountStanding | None]
    #: The account with its certification as of ``now``, one probe; None if unknown.
    account_state: Callable[[str], AccountState | None]
    #: Whether a number may be theft-protected or blocked (False: certainly neither).
    sender_flagged: Callable[[str], bool]
    #: Whether the owner of a number (canonical digits) asked that nobody send from it.
    theft_protected: Callable[[str], bool]
    #: Allocation status of a number from the number-status table; None if no data.
    number_status: Callable[[str], NumberStatus | None]
    #: Check the message's per-send proof against its account (consumes the nonce);
    #: :attr:`~spamgate.checks.registry_view.SendAuth.OFFLINE` when the view checks none.
    authenticate: Callable[[Message], SendAuth]

    def __init__(
        self,
        snapshot: RegistrySnapshot,
        *,
        now: datetime,
        numbers: NumberStatusTable | None,
        verifier: PerSendVerifier | None,
    ) -> None:
        self._snapshot = snapshot
        self.now = now
        #: Reused for calls up to this moment (see RegistryCache.view).
        self._until = now + _VIEW_REUSE
        #: Unix seconds, as the per-send verifier compares them.
        self._now_s = int(now.timestamp())
        self._today: date = now.astimezone(KST).date()
        self._numbers = numbers
        self._verifier = verifier
        self.account = snapshot.accounts.get
        self.account_state = snapshot.account_states(self._today).__getitem__
        self.sender_flagged = snapshot.flagged_numbers.__contains__
        self.theft_protected = snapshot.theft_protected.__contains__
        self.number_status = _no_status if numbers is None else numbers.lookup
        self.authenticate = (
            _offline
            if verifier is None
            # The verifier's check with this view's secrets and clock bound once: a message
            # costs one Python frame (prepare() calls this for every message naming an account).
            else partial(verifier._verify, snapshot.secrets.get, self._now_s, None)
        )

    @property
    def snapshot(self) -> RegistrySnapshot:
        return self._snapshot

    @property
    def numbers(self) -> NumberStatusTable | None:
        return self._numbers

    def certification(self, standing: AccountStanding) -> str | None:
        return certification_on(standing, self._today)

    def blocked_number(self, number: str) -> str | None:
        entry = self._snapshot.blocked_numbers.get(number)
        if entry is not None and entry.active(self.now):
            return entry.evidence
        return None

    def blocked_link(self, url: ExtractedUrl) -> str | None:
        snapshot = self._snapshot
        if snapshot.blocked_urls:
            # stored without the scheme, so http:// and https:// match alike
            entry = snapshot.blocked_urls.get(url.url.partition("://")[2])
            if entry is not None and entry.active(self.now):
                return entry.evidence
        domains = snapshot.blocked_domains
        if domains:
            host = url.host
            while host:
                entry = domains.get(host)
                if entry is not None and entry.active(self.now):
                    return f"{url.host}: {entry.evidence}"
                _, _, host = host.partition(".")
        return None

    def authenticate_many(self, messages: Sequence[Message]) -> list[SendAuth]:
        """:meth:`authenticate` for each message, in order, with one nonce-store call (one
        round trip to a shared store). Every message must name an account."""
        verifier = self._verifier
        if verifier is None:
            return [SendAuth.OFFLINE] * len(messages)
        secrets = self._snapshot.secrets
        return verifier.verify_many(
            [(message, secrets.get(message.account or "")) for message in messages],
            self._now_s,
        )

    def batch(self, messages: Sequence[Message]) -> BoundView:
        """This view for one batch: the proofs of ``messages`` that name an account are checked
        here at once (:meth:`authenticate_many`), and :meth:`authenticate` hands each of those
        message objects its outcome. The shared view is left as it was (threads share it)."""
        view = BoundView(
            self._snapshot, now=self.now, numbers=self._numbers, verifier=self._verifier
        )
        named = [message for message in messages if message.account is not None]
        if named:
            #: id(message) -> (message, outcome), checked here ahead
            outcomes: dict[int, tuple[Message, SendAuth]] = {}
            for message, outcome in zip(named, self.authenticate_many(named), strict=True):
                # One message object twice in a batch: its first outcome here; asked again,
                # it is checked again (and found replayed), as one by one.
                outcomes.setdefault(id(message), (message, outcome))
            view.authenticate = partial(_checked_ahead, outcomes, view.authenticate)
        return view


class RegistryCache:
    """Holds the current snapshot and rebuilds it when the registry changes.

    ``load`` builds a snapshot from the database; ``probe`` reads the current version number
    cheaply. Both are called from whichever thread asks for a view when a rebuild is due.
    """

    def __init__(
        self,
        *,
        load: Callable[[], RegistrySnapshot],
        probe: Callable[[], int],
        verifier: PerSendVerifier,
        clock: Callable[[], datetime],
        refresh_seconds: float = 5.0,
        data_dir: Path | None = None,
        numbers: NumberStatusRegistry | None = None,
        per_send: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._probe = probe
        self._verifier = verifier
        #: False: views do not check per-send proofs (offline judging; see the module doc).
        self.per_send = per_send
        self._clock = clock
        self._monotonic = monotonic
        self.refresh_seconds = refresh_seconds
        self._snapshot: RegistrySnapshot | None = None
        self._generation = 0
        self._built_generation = -1
        #: monotonic() time of the next look for changes made elsewhere
        self._due = 0.0
        self._lock = threading.Lock()
        self._numbers_path = snapshot_path(data_dir) if data_dir is not None else None
        self._numbers_stamp: tuple[int, int] | None = None
        self._numbers = numbers
        self._fixed_numbers = numbers is not None
        self._bound: BoundView | None = None

    @property
    def verifier(self) -> PerSendVerifier:
        return self._verifier

    def invalidate(self) -> None:
        """The registry changed in this process: the next view rebuilds."""
        self._generation += 1

    def view(self) -> BoundView:
        snapshot = self._snapshot
        if (
            snapshot is None
            or self._built_generation != self._generation
            or self._monotonic() >= self._due
        ):
            snapshot = self._refresh(blocking=snapshot is None)
        now = self._clock()
        numbers = self._numbers
        # ._table rather than the .table property: one frame less, and this runs per message.
        table = None if numbers is None else numbers._table
        bound = self._bound
        if (
            bound is not None
            and bound._snapshot is snapshot
            and bound._numbers is table
            and bound.now <= now < bound._until
            and (bound._verifier is not None) is self.per_send
        ):
            return bound  # same data, same second: judging one message at a time stays cheap
        verifier = self._verifier if self.per_send else None
        bound = BoundView(snapshot, now=now, numbers=table, verifier=verifier)
        self._bound = bound
        return bound

    def snapshot(self) -> RegistrySnapshot:
        """The current snapshot, rebuilt first if due (for tools and tests)."""
        return self.view().snapshot

    def _refresh(self, *, blocking: bool) -> RegistrySnapshot:
        if not self._lock.acquire(blocking=blocking):
            current = self._snapshot
            assert current is not None  # only the first build blocks
            return current
        try:
            current = self._snapshot
            generation = self._generation
            stale = current is None or self._built_generation != generation
            if not stale and current is not None:
                stale = self._probe() != current.version
            if stale:
                started = time.perf_counter()
                current = self._load()
                self._snapshot = current
                log.info(
                    "registry snapshot v%s: %d accounts, %d protected, %d blocked, %.1f ms",
                    current.version,
                    len(current.accounts),
                    len(current.theft_protected),
                    len(current.blocked_numbers)
                    + len(current.blocked_domains)
                    + len(current.blocked_urls),
                    (time.perf_counter() - started) * 1000,
                )
            self._built_generation = generation
            self._refresh_numbers()
            self._due = self._monotonic() + self.refresh_seconds
            assert current is not None
            return current
        finally:
            self._lock.release()

    def _refresh_numbers(self) -> None:
        path = self._numbers_path
        if self._fixed_numbers or path is None:
            return
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._numbers_stamp:
            return
        try:
            table = NumberStatusTable.load(path)
        except NumberStatusError as exc:
            log.error("number-status snapshot not loaded, keeping the previous one: %s", exc)
            self._numbers_stamp = stamp
            return
        if self._numbers is None:
            self._numbers = NumberStatusRegistry(table)
        else:
            self._numbers.swap(table)
        self._numbers_stamp = stamp
        log.info("number-status snapshot loaded from %s", path)
