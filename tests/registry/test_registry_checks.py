"""The registry checks in the pipeline, without HTTP: Pipeline(registry=Registry)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from registry_support import Chain, FakeClock, build_chain, make_registry
from spamgate.checks.registry_view import AccountStanding, AccountState, SendAuth
from spamgate.config import load_policy
from spamgate.domain.verdict import Verdict
from spamgate.pipeline import MessageFields, Pipeline
from spamgate.registry.auth import SYSTEM
from spamgate.registry.number_status import (
    MOBILE_ARRAY_BYTES,
    NumberStatus,
    NumberStatusRegistry,
    NumberStatusTable,
    snapshot_path,
)
from spamgate.registry.persend import make_proof
from spamgate.registry.service import Registry

TEXT = "[행복마트] 주문하신 상품이 발송되었습니다"
REGISTRY_SYMBOLS = {
    "PER_SEND_AUTH_FAILED",
    "ACCOUNT_SUSPENDED",
    "RESELLER_NOT_CERTIFIED",
    "SENDER_NOT_REGISTERED",
    "SENDER_THEFT_PROTECTED",
    "SENDER_BLOCKLISTED",
    "RECIPIENT_INVALID",
    "URL_REGISTRY_BLOCKLISTED",
}


def _table(statuses: dict[str, NumberStatus]) -> NumberStatusTable:
    """A full table: every 010 number unallocated except those given."""
    codes = np.zeros(MOBILE_ARRAY_BYTES, dtype=np.uint8)
    for number, status in statuses.items():
        slot = int(number[3:])
        codes[slot >> 2] |= int(status) << ((slot & 3) << 1)
    return NumberStatusTable(codes, {}, full=True, created=datetime.now(UTC))


@pytest.fixture
def numbers() -> NumberStatusRegistry:
    return NumberStatusRegistry(
        _table(
            {
                "01023456789": NumberStatus.ALLOCATED,
                "01034567890": NumberStatus.SUSPENDED,
                "01045678901": NumberStatus.TERMINATED,
            }
        )
    )


@pytest.fixture
def wired(
    sqlite_url: str, clock: FakeClock, tmp_path: Path, numbers: NumberStatusRegistry
) -> tuple[Registry, Pipeline, Chain]:
    registry = make_registry(sqlite_url, clock, tmp_path, numbers=numbers)
    chain = build_chain(registry)
    pipeline = Pipeline(load_policy(), model=None, url_model=None, registry=registry)
    return registry, pipeline, chain


def _judge(pipeline: Pipeline, chain: Chain, **over: Any) -> Verdict:
    fields: dict[str, Any] = {
        "sender": chain.sender,
        "recipient": "01023456789",
        "account": str(chain.account),
    }
    fields.update(over)
    if fields.get("account") is not None and "auth" not in fields:
        fields["auth"] = make_proof(
            chain.send_secret,
            account=fields["account"],
            text=TEXT,
            timestamp=int(chain.registry.clock().timestamp()),
            sender=fields.get("sender"),
            recipient=fields.get("recipient"),
        )
    return pipeline.judge_fields(MessageFields(TEXT, **fields))


def test_no_registry_no_registry_symbols(pipeline: Pipeline) -> None:
    verdict = pipeline.judge_fields(
        MessageFields(TEXT, sender="0299998888", recipient="01034567890", account="42")
    )
    assert not REGISTRY_SYMBOLS & set(verdict.symbol_names())


def test_a_lawful_send_is_delivered(wired: tuple[Registry, Pipeline, Chain]) -> None:
    _, pipeline, chain = wired
    verdict = _judge(pipeline, chain)
    assert verdict.action == "deliver" and verdict.symbols == ()


def test_recipient_status(wired: tuple[Registry, Pipeline, Chain]) -> None:
    _, pipeline, chain = wired
    for number, label in [
        ("01034567890", "suspended"),
        ("01045678901", "terminated"),
        ("01056789012", "unallocated"),
    ]:
        verdict = _judge(pipeline, chain, recipient=number, account=None)
        assert verdict.action == "reject"
        [symbol] = verdict.symbols
        assert symbol.name == "RECIPIENT_INVALID" and symbol.evidence == f"{number} {label}"
    # no data for a landline: nothing to say
    assert _judge(pipeline, chain, recipient="0223456789", account=None).symbols == ()


def test_expired_certificate_stops_the_reseller_the_next_day(
    wired: tuple[Registry, Pipeline, Chain], clock: FakeClock
) -> None:
    registry, pipeline, chain = wired
    status = registry.certification(SYSTEM, chain.reseller)
    assert status.valid_until is not None
    clock.now = datetime.combine(status.valid_until, datetime.min.time(), UTC).replace(hour=12)
    assert "RESELLER_NOT_CERTIFIED" not in _judge(pipeline, chain).symbol_names()
    clock.advance(days=1)
    verdict = _judge(pipeline, chain)
    assert verdict.action == "reject"
    assert dict((s.name, s.evidence) for s in verdict.symbols) == {
        "RESELLER_NOT_CERTIFIED": f"reseller {chain.reseller}: expired"
    }


def test_never_certified_reseller(sqlite_registry: Registry) -> None:
    chain = build_chain(sqlite_registry, certify=False)
    pipeline = Pipeline(load_policy(), model=None, url_model=None, registry=sqlite_registry)
    verdict = _judge(pipeline, chain, recipient=None)
    assert [s.evidence for s in verdict.symbols] == [f"reseller {chain.reseller}: never applied"]


def test_proof_optional_by_policy(wired: tuple[Registry, Pipeline, Chain], tmp_path: Path) -> None:
    registry, _, chain = wired
    conf = tmp_path / "lax.toml"
    conf.write_text("[checks.registry.options]\nrequire_proof = false\n", encoding="utf-8")
    lax = Pipeline(load_policy(conf), model=None, url_model=None, registry=registry)
    assert _judge(lax, chain, auth=None).symbols == ()
    bad = {"timestamp": 1, "nonce": "x" * 20, "signature": "0" * 64}
    assert "PER_SEND_AUTH_FAILED" in _judge(lax, chain, auth=bad).symbol_names()


def test_changes_elsewhere_arrive_within_the_refresh_interval(
    sqlite_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    """Two registries on one database stand for two gateway nodes."""
    node_a = make_registry(sqlite_url, clock, tmp_path, refresh_seconds=0.0)
    node_b = make_registry(sqlite_url, clock, tmp_path, refresh_seconds=3600.0)
    try:
        assert not node_a.view().theft_protected("0312345678")
        node_b.protect_number(SYSTEM, number="0312345678", evidence={"form": 1})
        assert node_b.view().theft_protected("0312345678")  # its own change: at once
        assert node_a.view().theft_protected("0312345678")  # the other node: next refresh
    finally:
        node_a.close()
        node_b.close()


def test_view_rebuilds_only_after_a_change(sqlite_registry: Registry) -> None:
    first = sqlite_registry.view().snapshot
    assert sqlite_registry.view().snapshot is first
    build_chain(sqlite_registry)
    second = sqlite_registry.view().snapshot
    assert second is not first and second.version > first.version
    assert len(second.accounts) == 1


def test_number_status_file_is_picked_up(sqlite_url: str, clock: FakeClock, tmp_path: Path) -> None:
    registry = make_registry(sqlite_url, clock, tmp_path, refresh_seconds=0.0)
    try:
        assert registry.view().number_status("01034567890") is None
        _table({"01034567890": NumberStatus.SUSPENDED}).save(snapshot_path(tmp_path))
        assert registry.view().number_status("01034567890") is NumberStatus.SUSPENDED
        # a bad file keeps the last good table (files are replaced, never rewritten in place:
        # the live table is memory-mapped)
        bad = tmp_path / "bad.bin"
        bad.write_bytes(b"garbage")
        os.replace(bad, snapshot_path(tmp_path))
        assert registry.view().number_status("01034567890") is NumberStatus.SUSPENDED
    finally:
        registry.close()


class FakeView:
    """Any object of the RegistryView shape will do: the checks never touch the database."""

    now = datetime(2026, 11, 26, 5, tzinfo=UTC)

    def account(self, account_id: str) -> AccountStanding | None:
        return AccountStanding(account_id, 1, suspended=True, senders=frozenset({"0212345678"}))

    def certification(self, standing: AccountStanding) -> str | None:
        return None

    def account_state(self, account_id: str) -> AccountState | None:
        standing = self.account(account_id)
        return None if standing is None else (standing, self.certification(standing))

    def sender_flagged(self, number: str) -> bool:
        return self.theft_protected(number) or self.blocked_number(number) is not None

    def theft_protected(self, number: str) -> bool:
        return False

    def blocked_number(self, number: str) -> str | None:
        return None

    def blocked_link(self, url: object) -> str | None:
        return None

    def number_status(self, number: str) -> NumberStatus | None:
        return None

    def authenticate(self, message: object) -> SendAuth:
        return SendAuth.OK


class FakeSource:
    def view(self) -> FakeView:
        return FakeView()


def test_checks_read_only_the_view_interface() -> None:
    pipeline = Pipeline(load_policy(), model=None, url_model=None, registry=FakeSource())
    verdict = pipeline.judge_fields(MessageFields(TEXT, sender="0212345678", account="9"))
    assert verdict.symbol_names() == ["ACCOUNT_SUSPENDED"]
