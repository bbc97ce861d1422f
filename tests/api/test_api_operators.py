"""/api/v1/operators and certification over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from registry_support import Chain, FakeClock
from spamgate.domain.message import KST
from spamgate.registry.auth import SYSTEM
from spamgate.registry.models import Role


def test_create_and_list_operators_with_paging(client: TestClient, chain: Chain) -> None:
    reg = chain.auth("regulator")
    ids = []
    for n in range(3):
        resp = client.post(
            "/api/v1/operators",
            json={"name": f"Sub {n}", "kind": "reseller", "parent_id": chain.relay},
            headers=reg,
        )
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert body["id"] > 0 and body["kind"] == "reseller" and body["parent_id"] == chain.relay
        ids.append(body["id"])
    page = client.get(
        "/api/v1/operators",
        params={"parent_id": chain.relay, "limit": 2, "offset": 1},
        headers=reg,
    ).json()
    assert page["total"] == 4  # the chain's reseller and three new ones
    assert page["limit"] == 2 and page["offset"] == 1
    assert [o["id"] for o in page["items"]] == ids[:2]
    kinds = client.get("/api/v1/operators", params={"kind": "carrier"}, headers=reg).json()
    assert {o["kind"] for o in kinds["items"]} == {"carrier"}


def test_chain_rules(client: TestClient, chain: Chain) -> None:
    reg = chain.auth("regulator")
    bad_parent = client.post(
        "/api/v1/operators",
        json={"name": "X", "kind": "reseller", "parent_id": chain.carrier},
        headers=reg,
    )
    assert bad_parent.status_code == 422
    assert "must be a relay" in bad_parent.json()["detail"]
    orphan = client.post("/api/v1/operators", json={"name": "Y", "kind": "relay"}, headers=reg)
    assert orphan.status_code == 422
    first = client.get("/api/v1/operators", params={"kind": "carrier"}, headers=reg).json()
    name = first["items"][0]["name"]
    dup = client.post("/api/v1/operators", json={"name": name, "kind": "carrier"}, headers=reg)
    assert dup.status_code == 409


def test_relay_registers_its_resellers_only(client: TestClient, chain: Chain) -> None:
    relay = chain.auth("relay")
    ok = client.post(
        "/api/v1/operators",
        json={"name": "Relay's new reseller", "kind": "reseller", "parent_id": chain.relay},
        headers=relay,
    )
    assert ok.status_code == 201
    carrier = client.post(
        "/api/v1/operators", json={"name": "Rogue carrier", "kind": "carrier"}, headers=relay
    )
    assert carrier.status_code == 403
    reseller = client.post(
        "/api/v1/operators",
        json={"name": "R2", "kind": "reseller", "parent_id": chain.relay},
        headers=chain.auth("reseller"),
    )
    assert reseller.status_code == 403


def test_tenancy_hides_other_chains(client: TestClient, chain: Chain) -> None:
    from registry_support import build_chain

    other = build_chain(chain.registry)
    for who in ("reseller", "relay", "carrier"):
        headers = chain.auth(who)
        assert client.get(f"/api/v1/operators/{other.reseller}", headers=headers).status_code == 404
        listed = client.get("/api/v1/operators", headers=headers).json()
        assert other.reseller not in {o["id"] for o in listed["items"]}
        # ... and another tenant's id answers exactly like an id that does not exist
        missing = client.get("/api/v1/operators/999999", headers=headers)
        hidden = client.get(f"/api/v1/operators/{other.relay}", headers=headers)
        assert missing.status_code == hidden.status_code == 404
        assert missing.json()["detail"].replace("999999", "N") == hidden.json()["detail"].replace(
            str(other.relay), "N"
        )
    mine = client.get("/api/v1/operators", headers=chain.auth("reseller")).json()
    assert [o["id"] for o in mine["items"]] == [chain.reseller]
    relay_view = client.get("/api/v1/operators", headers=chain.auth("relay")).json()
    assert {o["id"] for o in relay_view["items"]} == {chain.relay, chain.reseller}
    carrier_view = client.get("/api/v1/operators", headers=chain.auth("carrier")).json()
    assert {o["id"] for o in carrier_view["items"]} == {chain.carrier, chain.relay, chain.reseller}
    everything = client.get("/api/v1/operators", headers=chain.auth("certifier")).json()
    assert everything["total"] >= 6


def test_certification_lifecycle(client: TestClient, chain: Chain) -> None:
    reg = chain.auth("regulator")
    new = client.post(
        "/api/v1/operators",
        json={"name": "Applicant", "kind": "reseller", "parent_id": chain.relay},
        headers=reg,
    ).json()
    url = f"/api/v1/operators/{new['id']}/certification"
    assert client.get(url, headers=reg).json()["state"] is None
    applied = client.post(
        url,
        json={"action": "apply", "evidence": {"documents": ["registration"]}},
        headers=chain.auth("relay"),
    )
    assert applied.status_code == 403  # a relay does not apply for its resellers
    steps = [("apply", "applied"), ("review", "documents_reviewed"), ("inspect", "onsite_reviewed")]
    for action, state in steps:
        resp = client.post(url, json={"action": action, "evidence": {"ref": action}}, headers=reg)
        assert resp.status_code == 200, resp.text
        assert resp.json()["state"] == state
    until = (date.today() + timedelta(days=200)).isoformat()
    approved = client.post(
        url,
        json={"action": "approve", "evidence": {"committee": "7"}, "valid_until": until},
        headers=chain.auth("certifier"),
    ).json()
    assert approved["state"] == "certified" and approved["valid_until"] == until
    assert approved["allowed_actions"] == ["renew", "suspend", "cancel"]
    history = approved["history"]
    assert [h["action"] for h in history] == ["apply", "review", "inspect", "approve"]
    assert history[-1]["actor"].startswith("token ") and "certifier" in history[-1]["actor"]
    assert history[0]["evidence"] == {"ref": "apply"}


def test_invalid_transitions_are_409_with_the_reason(client: TestClient, chain: Chain) -> None:
    reg = chain.auth("regulator")
    url = f"/api/v1/operators/{chain.reseller}/certification"
    again = client.post(url, json={"action": "approve", "evidence": {"x": 1}}, headers=reg)
    assert again.status_code == 409
    detail = again.json()["detail"]
    assert "cannot approve" in detail and "certified" in detail and "renew" in detail
    no_reason = client.post(url, json={"action": "suspend"}, headers=reg)
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
    suspended = client.post(url, json={"action": "suspend", "note": "spam"}, headers=reg)
    assert suspended.json()["state"] == "suspended"
    renew = client.post(url, json={"action": "renew", "evidence": {"x": 1}}, headers=reg)
    assert renew.status_code == 409
    cancelled = client.post(url, json={"action": "cancel", "note": "repeat offender"}, headers=reg)
    assert cancelled.json()["state"] == "cancelled" and cancelled.json()["allowed_actions"] == []
    final = client.post(url, json={"action": "apply", "evidence": {"x": 1}}, headers=reg)
    assert final.status_code == 409 and "final" in final.json()["detail"]
    carrier = client.post(
        f"/api/v1/operators/{chain.carrier}/certification",
        json={"action": "apply", "evidence": {"x": 1}},
        headers=reg,
    )
    assert carrier.status_code == 409 and "only resellers" in carrier.json()["detail"]
    unknown = client.post(url, json={"action": "bless"}, headers=reg)
    assert unknown.status_code == 422
    evidence_missing = client.post(
        f"/api/v1/operators/{chain.relay}/certification", json={"action": "apply"}, headers=reg
    )
    assert evidence_missing.status_code == 422


def test_expired_certificate_reads_expired_and_cannot_be_renewed(
    client: TestClient, chain: Chain, clock: FakeClock
) -> None:
    reg = chain.auth("regulator")
    url = f"/api/v1/operators/{chain.reseller}/certification"
    status = client.get(url, headers=reg).json()
    assert status["state"] == "certified"
    end = date.fromisoformat(status["valid_until"])
    days = (end - clock.now.astimezone(KST).date()).days
    clock.advance(days=days + 1)
    # the chain's tokens (90 days) have expired too
    assert client.get(url, headers=reg).status_code == 401
    reg = {
        "Authorization": "Bearer " + chain.registry.create_token(SYSTEM, role=Role.REGULATOR).token
    }
    expired = client.get(url, headers=reg).json()
    assert expired["state"] == "expired"
    renew = client.post(url, json={"action": "renew", "evidence": {"x": 1}}, headers=reg)
    assert renew.status_code == 409 and "apply again" in renew.json()["detail"]
    reapply = client.post(url, json={"action": "apply", "evidence": {"x": 1}}, headers=reg)
    assert reapply.json()["state"] == "applied" and reapply.json()["valid_until"] is None
