"""What the registry checks may read: a read-only view of the registry, one per batch.

The checks depend on this interface, not on the database: :mod:`spamgate.registry.view` serves
it from an in-memory snapshot (rebuilt when the registry changes), and tests can hand in any
object of this shape. A pipeline gets a :class:`RegistrySource` and asks it for a view once per
batch; :func:`spamgate.checks.context.prepare` puts the view on each message's context, with the
outcome of the message's per-send authentication.

Nothing here does I/O, and every lookup is a dictionary or set probe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from spamgate.domain.message import Message
    from spamgate.registry.number_status import NumberStatus
    from spamgate.text import ExtractedUrl

__all__ = ["AccountStanding", "AccountState", "RegistrySource", "RegistryView", "SendAuth"]


class SendAuth(StrEnum):
    """The outcome of checking a message's per-send proof."""

    OK = "ok"
    #: The message names an account but carries no proof.
    MISSING = "missing"
    #: The proof's nonce or signature is not in the documented format, or a signed field holds
    #: a line break.
    MALFORMED = "malformed"
    #: The timestamp is further from the registry's clock than the allowed skew.
    STALE = "stale"
    #: This account already used this nonce (or the nonce window could not vouch for it).
    REPLAYED = "replayed"
    #: The HMAC does not match the message and the account's secret.
    BAD_SIGNATURE = "bad_signature"
    #: The registry knows no such account, so there is no secret to check against.
    UNKNOWN_ACCOUNT = "unknown_account"
    #: Judged offline by an operator (``spamgate check`` / ``scan``): the message is no
    #: submission, so there is no proof to check and none is asked for.
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class AccountStanding:
    """One sender account as the checks see it (no secrets)."""

    account_id: str
    operator_id: int
    suspended: bool
    #: Canonical digits of the account's active sender numbers.
    senders: frozenset[str]
    #: Set when the account's operator is a reseller: its stored certification state (a
    #: :class:`~spamgate.registry.models.CertState` value, None before any application) and
    #: end date. Judge it with :meth:`RegistryView.certification`.
    reseller_id: int | None = None
    certification: str | None = None
    certified_until: date | None = None


#: An account with its reseller's certification state as of a view's ``now``:
#: ``(view.account(id), view.certification(standing))``, as :meth:`RegistryView.account_state`
#: answers it.
AccountState = tuple[AccountStanding, str | None]


class RegistryView(Protocol):
    """A consistent, read-only picture of the registry at one moment (``now``)."""

    @property
    def now(self) -> datetime:
        """The registry's clock when the view was taken (aware)."""
        ...

    def account(self, account_id: str) -> AccountStanding | None:
        """The account, or None if the registry does not know it."""
        ...

    def certification(self, standing: AccountStanding) -> str | None:
        """The reseller's certification state as of ``now`` (``expired`` past its end date);
        None when the account's operator is no reseller (nothing to certify)."""
        ...

    def account_state(self, account_id: str) -> AccountState | None:
        """``(account(account_id), certification(standing))`` in one probe; None if the
        registry does not know the account."""
        ...

    def sender_flagged(self, number: str) -> bool:
        """False when ``number`` is neither theft-protected nor on the block list, so the
        common case costs one probe; True: ask :meth:`theft_protected` and
        :meth:`blocked_number` (a block may have expired since)."""
        ...

    def theft_protected(self, number: str) -> bool:
        """Whether the owner of ``number`` (canonical digits) asked that nobody send from it."""
        ...

    def blocked_number(self, number: str) -> str | None:
        """Evidence (source and reason) if ``number`` is on the block list and not expired."""
        ...

    def blocked_link(self, url: ExtractedUrl) -> str | None:
        """Evidence if the URL, its host or a parent domain is on the block list."""
        ...

    def number_status(self, number: str) -> NumberStatus | None:
        """Allocation status of ``number`` from the number-status table; None if no data."""
        ...

    def authenticate(self, message: Message) -> SendAuth:
        """Check the message's per-send proof against its account (consumes the nonce)."""
        ...


class RegistrySource(Protocol):
    """Hands out the current view (cached; rebuilt after changes)."""

    def view(self) -> RegistryView: ...
