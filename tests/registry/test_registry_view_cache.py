"""The cached view the checks read: how soon changes arrive, offline views, batch views, and
list entries removed through the service (audited, and gone from the view)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from registry_support import Chain, FakeClock, build_chain, make_registry
from spamgate.checks.registry_view import SendAuth
from spamgate.config import Settings, load_policy
from spamgate.domain.message import KST, Message, SendProof
from spamgate.errors import NotFound
from spamgate.pipeline import MessageFields, Pipeline
from spamgate.registry.auth import SYSTEM
from spamgate.registry.models import AuditEntry, BlockKind
from spamgate.registry.persend import make_proof
from spamgate.registry.service import Registry

PROTECTED = "0312345678"
TEXT = "[행복마트] 주문하신 상품이 발송되었습니다"


class FakeMonotonic:
    """time.monotonic for a cache under test: moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_default_refresh_is_well_within_a_minute() -> None:
    field = Settings.model_fields["registry_refresh_seconds"]
    assert field.default == 5.0
    assert any(getattr(rule, "le", None) == 60.0 for rule in field.metadata)


@pytest.fixture
def nodes(db_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[tuple[Registry, Registry]]:
    """Two gateway nodes on one database: ``gateway`` judges (default refresh, a fake monotonic
    clock), ``admin`` takes the carrier's request."""
    monotonic = FakeMonotonic()
    gateway = make_registry(db_url, clock, tmp_path, monotonic=monotonic)
    admin = make_registry(db_url, clock, tmp_path)
    try:
        yield gateway, admin
    finally:
        gateway.close()
        admin.close()


def test_theft_protection_reaches_a_running_gateway_within_its_refresh(
    nodes: tuple[Registry, Registry],
) -> None:
    gateway, admin = nodes
    monotonic: FakeMonotonic = gateway.cache._monotonic  # type: ignore[assignment]
    pipeline = Pipeline(load_policy(), model=None, url_model=None, registry=gateway)

    def symbols() -> list[str]:
        return pipeline.judge_fields(MessageFields(TEXT, sender=PROTECTED)).symbol_names()

    assert "SENDER_THEFT_PROTECTED" not in symbols()  # the gateway's view is built now
    entry = admin.protect_number(SYSTEM, number=PROTECTED, evidence={"form": "owner request"})
    monotonic.now += 4.9
    assert "SENDER_THEFT_PROTECTED" not in symbols()  # still the cached view (bounded staleness)
    monotonic.now += 0.1
    assert "SENDER_THEFT_PROTECTED" in symbols()  # refresh_seconds (5 s) on: in force
    admin.unprotect_number(SYSTEM, entry.id)
    monotonic.now += 5.0
    assert "SENDER_THEFT_PROTECTED" not in symbols()
    # A change made through this very node is seen at once, even within the same second.
    gateway.protect_number(SYSTEM, number=PROTECTED, evidence={"form": "again"})
    assert "SENDER_THEFT_PROTECTED" in symbols()


def _audit(registry: Registry, action: str) -> list[dict[str, Any]]:
    with registry.db.session() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars()
        return [json.loads(row.payload) for row in rows]


def test_removing_list_entries_is_audited_and_unknown_ids_are_not_found(
    sqlite_registry: Registry,
) -> None:
    registry = sqlite_registry
    protected = registry.protect_number(SYSTEM, number=PROTECTED, evidence={"form": 1})
    blocked = registry.block(
        SYSTEM, kind=BlockKind.DOMAIN, value="bad-loan.xyz", source="KISA", reason="loan spam"
    )
    assert registry.view().theft_protected(PROTECTED)
    registry.unprotect_number(SYSTEM, protected.id)
    registry.unblock(SYSTEM, blocked.id)
    view = registry.view()
    assert not view.theft_protected(PROTECTED) and not view.snapshot.blocked_domains
    [removed] = _audit(registry, "theft_protection.delete")
    assert removed["data"] == {"number": PROTECTED}
    assert removed["entity_id"] == str(protected.id)
    [unblocked] = _audit(registry, "blocklist.delete")
    assert unblocked["data"] == {"kind": "domain", "value": "bad-loan.xyz"}
    with pytest.raises(NotFound, match=f"theft protection {protected.id} not found"):
        registry.unprotect_number(SYSTEM, protected.id)
    with pytest.raises(NotFound, match=f"block-list entry {blocked.id} not found"):
        registry.unblock(SYSTEM, blocked.id)
    assert registry.verify_audit().ok


def _message(chain: Chain, nonce: str, registry: Registry) -> Message:
    proof = make_proof(
        chain.send_secret,
        account=str(chain.account),
        text=TEXT,
        timestamp=int(registry.clock().timestamp()),
        sender=chain.sender,
        nonce=nonce,
    )
    return Message(
        text=TEXT,
        submitted_at=registry.clock().astimezone(KST),
        sender=chain.sender,
        account=str(chain.account),
        auth=SendProof(**proof),  # type: ignore[arg-type]
    )


def test_an_offline_view_checks_no_proof(sqlite_registry: Registry) -> None:
    chain = build_chain(sqlite_registry)
    message = _message(chain, "offline-nonce-0001", sqlite_registry)
    sqlite_registry.cache.per_send = False
    assert sqlite_registry.view().authenticate(message) is SendAuth.OFFLINE
    assert sqlite_registry.view().authenticate_many([message]) == [SendAuth.OFFLINE]
    sqlite_registry.cache.per_send = True  # the nonce was not spent offline
    assert sqlite_registry.view().authenticate(message) is SendAuth.OK
    assert sqlite_registry.view().authenticate(message) is SendAuth.REPLAYED


def test_a_batch_view_hands_out_each_outcome_once(sqlite_registry: Registry) -> None:
    chain = build_chain(sqlite_registry)
    first = _message(chain, "batch-nonce-000001", sqlite_registry)
    second = _message(chain, "batch-nonce-000002", sqlite_registry)
    unnamed = Message(text=TEXT, submitted_at=first.submitted_at)
    shared = sqlite_registry.view()
    batch = shared.batch([first, unnamed, second])
    assert batch.snapshot is shared.snapshot and batch.now == shared.now
    assert batch.authenticate(second) is SendAuth.OK
    assert batch.authenticate(first) is SendAuth.OK
    # Asked again, the proof is checked again: its nonce is spent.
    assert batch.authenticate(first) is SendAuth.REPLAYED
    assert shared.authenticate(second) is SendAuth.REPLAYED
    # An equal but distinct message object was not in the batch: checked on its own.
    twin = _message(chain, "batch-nonce-000003", sqlite_registry)
    other = shared.batch([twin])
    copy = replace(twin)
    assert copy == twin and copy is not twin
    assert other.authenticate(copy) is SendAuth.REPLAYED
    assert other.authenticate(twin) is SendAuth.OK


def test_one_message_twice_in_a_batch_is_good_once(sqlite_registry: Registry) -> None:
    chain = build_chain(sqlite_registry)
    message = _message(chain, "twice-nonce-000001", sqlite_registry)
    batch = sqlite_registry.view().batch([message, message])
    assert [batch.authenticate(message), batch.authenticate(message)] == [
        SendAuth.OK,
        SendAuth.REPLAYED,
    ]
