"""``spamgate serve --demo``: a small chain to try everything with, seeded on first start.

Carrier "Demo Carrier" ← relay "Demo Relay" ← reseller "Demo Reseller" (certified for a year,
SMPP ``system_id`` ``demo`` / password ``demopass``), and its account "Demo Shop" with the
registered sender ``0212345678``. These are the only default credentials spamgate has, and they
exist only in the demo's own data directory, which serves on loopback only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from spamgate.registry.auth import SYSTEM
from spamgate.registry.models import OperatorKind, Role
from spamgate.registry.service import Registry

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_SENDER",
    "DEMO_SYSTEM_ID",
    "DemoSeed",
    "seed_demo",
]

DEMO_SYSTEM_ID: Final = "demo"
DEMO_PASSWORD: Final = "demopass"  # noqa: S105 - the documented demo credential
DEMO_SENDER: Final = "0212345678"
#: A valid (check-digit) business registration number for the demo shop.
_DEMO_BUSINESS_NUMBER: Final = "1248100998"


@dataclass(frozen=True, slots=True)
class DemoSeed:
    """What the demo start prints: ids, the demo account's per-send secret, a fresh token."""

    created: bool
    carrier_id: int
    relay_id: int
    reseller_id: int
    account_id: int
    send_secret: str
    regulator_token: str


def seed_demo(registry: Registry, *, token_days: int = 7) -> DemoSeed:
    """Seed the demo chain unless present; always issue a fresh regulator token."""
    existing = registry.list_operators(SYSTEM, name="Demo Reseller", limit=1).items
    created = not existing
    if created:
        carrier = registry.create_operator(SYSTEM, name="Demo Carrier", kind=OperatorKind.CARRIER)
        relay = registry.create_operator(
            SYSTEM, name="Demo Relay", kind=OperatorKind.RELAY, parent_id=carrier.id
        )
        reseller = registry.create_operator(
            SYSTEM,
            name="Demo Reseller",
            kind=OperatorKind.RESELLER,
            parent_id=relay.id,
            smpp_system_id=DEMO_SYSTEM_ID,
            smpp_password=DEMO_PASSWORD,
        )
        steps = (
            ("apply", {"documents": ["business registration", "capital statement"]}),
            ("review", {"reviewer": "demo"}),
            ("inspect", {"report": "demo on-site review"}),
            ("approve", {"committee": "demo decision"}),
        )
        for action, evidence in steps:
            registry.certify(SYSTEM, reseller.id, action=action, evidence=evidence)
        new = registry.create_account(
            SYSTEM,
            operator_id=reseller.id,
            name="Demo Shop",
            business_number=_DEMO_BUSINESS_NUMBER,
            identity_evidence={"document": "business registration certificate", "demo": True},
        )
        registry.register_sender(
            SYSTEM,
            account_id=new.account.id,
            number=DEMO_SENDER,
            evidence={"document": "certificate of telecom service use", "demo": True},
        )
        carrier_id, relay_id, reseller_id = carrier.id, relay.id, reseller.id
        account_id, secret = new.account.id, new.send_secret
    else:
        reseller = existing[0]
        relay_id = reseller.parent_id or 0
        carrier_id = registry.get_operator(SYSTEM, relay_id).parent_id or 0
        reseller_id = reseller.id
        account = registry.list_accounts(SYSTEM, operator_id=reseller_id, limit=1).items[0]
        account_id = account.id
        secret = account.send_secret
    issued = registry.create_token(
        SYSTEM, role=Role.REGULATOR, expires_in_days=token_days, label="demo"
    )
    return DemoSeed(
        created=created,
        carrier_id=carrier_id,
        relay_id=relay_id,
        reseller_id=reseller_id,
        account_id=account_id,
        send_secret=secret,
        regulator_token=issued.token,
    )
