"""Binds checked against the registry: passwords, lockout, certification, suspension while bound,
SMPP 3.4 field limits, and the config logins as a fallback for system_ids the registry lacks."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator

import pytest
from gate_support import (
    PASSWORD,
    STATIC_PASSWORD,
    Esme,
    Gateway,
    cheap_hash,
    give_login,
    start_gateway,
)
from prometheus_client import generate_latest

from registry_support import FakeClock, build_chain
from spamgate.config import SmppAccountConfig
from spamgate.errors import Forbidden, InvalidValue, NotFound
from spamgate.registry.auth import SYSTEM, Principal
from spamgate.registry.models import Role
from spamgate.registry.service import Registry
from spamgate.smpp import CommandId, CommandStatus, PduReader
from spamgate.smpp.vendor import VendorStatus

S = CommandStatus


@pytest.fixture
def gateway(sqlite_registry: Registry) -> Iterator[Gateway]:
    static = {"tool": SmppAccountConfig(password_hash=cheap_hash(STATIC_PASSWORD))}
    gw = start_gateway(sqlite_registry, static=static)
    yield gw
    gw.thread.__exit__()


def _bind(gw: Gateway, system_id: str, password: str = PASSWORD) -> int:
    esme = Esme(gw.port)
    try:
        return esme.bind(system_id, password)
    finally:
        esme.close()


def test_registry_login_binds_and_wrong_passwords_do_not(gateway: Gateway) -> None:
    assert _bind(gateway, gateway.system_id) == S.ESME_ROK
    assert _bind(gateway, gateway.system_id, "wrong") == S.ESME_RINVPASWD
    assert _bind(gateway, "nobody") == S.ESME_RINVPASWD  # unknown looks like a wrong password


def test_lockout_after_repeated_failures(gateway: Gateway) -> None:
    for _ in range(3):
        assert _bind(gateway, gateway.system_id, "guess") == S.ESME_RINVPASWD
    # The right password is not even checked while locked out.
    assert _bind(gateway, gateway.system_id) == S.ESME_RBINDFAIL


@pytest.mark.parametrize("how", ["suspend", "cancel", "expire", "never_certified"])
def test_reseller_without_current_certification_cannot_bind(
    gateway: Gateway, clock: FakeClock, how: str
) -> None:
    registry = gateway.registry
    chain = build_chain(registry, certify=how != "never_certified")
    system_id = give_login(registry, chain)
    if how in ("suspend", "cancel"):
        registry.certify(SYSTEM, chain.reseller, action=how, note="report volume")
    elif how == "expire":
        clock.advance(days=400)
    assert _bind(gateway, system_id) == S.ESME_RBINDFAIL


def test_suspended_while_bound_cannot_send(gateway: Gateway) -> None:
    esme = Esme(gateway.port)
    try:
        assert esme.bind(gateway.system_id) == S.ESME_ROK
        assert esme.submit(tlvs=[gateway.proof()]).command_status == S.ESME_ROK
        gateway.registry.certify(
            SYSTEM, gateway.chain.reseller, action="suspend", note="illegal loan ads"
        )
        deadline = time.monotonic() + 5  # the standing refreshes every 0.2 s here
        status: int = S.ESME_ROK
        while time.monotonic() < deadline:
            status = esme.submit(tlvs=[gateway.proof()]).command_status
            if status != S.ESME_ROK:
                break
            time.sleep(0.05)
        assert status == VendorStatus.SG_RNOTCERTIFIED
    finally:
        esme.close()
    text = generate_latest(gateway.metrics.registry).decode()
    assert 'status="0x00000406"' in text
    # Within the refresh time the gate itself refuses, before any judging.
    deadline = time.monotonic() + 5
    while gateway.logins.login(gateway.system_id).may_send:  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "standing never refreshed"
        time.sleep(0.05)
    assert _bind(gateway, gateway.system_id) == S.ESME_RBINDFAIL


def _raw_bind(port: int, system_id: bytes, password: bytes) -> int:
    body = system_id + b"\0" + password + b"\0" + b"\0" + bytes((0x34, 0, 0)) + b"\0"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(struct.pack(">IIII", 16 + len(body), CommandId.BIND_TRANSCEIVER, 0, 1) + body)
        reader = PduReader()
        while True:
            data = sock.recv(4096)
            assert data, "connection closed without an answer"
            reader.feed(data)
            for pdu in reader:
                return pdu.command_status


def test_overlong_system_id_or_password_is_refused(gateway: Gateway) -> None:
    assert _raw_bind(gateway.port, b"s" * 16, PASSWORD.encode()) == S.ESME_RINVSYSID
    assert _raw_bind(gateway.port, gateway.system_id.encode(), b"p" * 9) == S.ESME_RINVPASWD
    with pytest.raises(InvalidValue):
        gateway.registry.set_smpp_login(
            SYSTEM, gateway.chain.reseller, system_id="x" * 16, password="pw"
        )
    with pytest.raises(InvalidValue):
        gateway.registry.set_smpp_login(
            SYSTEM, gateway.chain.reseller, system_id="okid", password="123456789"
        )


def test_set_login_respects_tenancy(gateway: Gateway) -> None:
    registry = gateway.registry
    other = build_chain(registry)
    stranger = Principal(Role.RESELLER, other.reseller, None, "reseller:other")
    with pytest.raises((NotFound, Forbidden)):
        registry.set_smpp_login(stranger, gateway.chain.reseller, system_id="stolen", password="pw")
    own = Principal(Role.RESELLER, gateway.chain.reseller, None, "reseller:own")
    registry.set_smpp_login(
        own, gateway.chain.reseller, system_id=gateway.system_id, password="n3w"
    )
    assert _bind(gateway, gateway.system_id, "n3w") == S.ESME_ROK
    assert _bind(gateway, gateway.system_id, PASSWORD) == S.ESME_RINVPASWD


def test_config_logins_serve_only_system_ids_the_registry_lacks(sqlite_registry: Registry) -> None:
    probe = start_gateway(sqlite_registry)
    taken = probe.system_id
    probe.thread.__exit__()
    static = {
        "tool": SmppAccountConfig(password_hash=cheap_hash(STATIC_PASSWORD)),
        taken: SmppAccountConfig(password_hash=cheap_hash(STATIC_PASSWORD)),
    }
    gw = start_gateway(sqlite_registry, static=static)
    try:
        assert _bind(gw, "tool", STATIC_PASSWORD) == S.ESME_ROK
        # The registry knows this system_id: its config twin cannot bypass it.
        assert _bind(gw, taken, STATIC_PASSWORD) == S.ESME_RINVPASWD
        assert _bind(gw, taken, PASSWORD) == S.ESME_ROK
    finally:
        gw.thread.__exit__()
