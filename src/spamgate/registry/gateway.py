"""What the SMPP gateway reads from the registry besides the checks' view: who may bind and send.

:meth:`~spamgate.registry.service.Registry.gateway_standing` builds one :class:`GatewayStanding`
(a few columns of two tables); the gateway keeps it in memory and rebuilds it every few seconds,
so a reseller suspended while bound is stopped within that time (see ``spamgate.smpp.auth``).
No secrets are in it: SMPP password hashes stay in the database and are read per bind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

__all__ = ["AccountRateInfo", "GatewayStanding", "SmppLogin"]


@dataclass(frozen=True, slots=True)
class SmppLogin:
    """A reseller with an SMPP login and its certification as of the standing's day."""

    system_id: str
    operator_id: int
    operator_name: str
    #: The effective certification state (``expired`` past its end date); None: never applied.
    certification: str | None
    valid_until: date | None

    @property
    def may_send(self) -> bool:
        return self.certification == "certified"


@dataclass(frozen=True, slots=True)
class AccountRateInfo:
    """One account as the rate limiter needs it."""

    account_id: str
    operator_id: int
    trust_tier: str


@dataclass(frozen=True, slots=True)
class GatewayStanding:
    """SMPP logins by system_id and accounts by id (string, as messages name them)."""

    logins: Mapping[str, SmppLogin] = field(default_factory=dict)
    accounts: Mapping[str, AccountRateInfo] = field(default_factory=dict)
