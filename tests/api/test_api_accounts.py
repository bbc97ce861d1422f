"""/api/v1/accounts and /api/v1/sender-numbers over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from registry_support import EVIDENCE, VALID_BRN, Chain, build_chain


def _account(chain: Chain, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "operator_id": chain.reseller,
        "name": "New customer",
        "business_number": "124-81-00998",
        "identity_evidence": {"document": "사업자등록증", "reference": "A-1"},
    }
    body.update(over)
    return body


def test_reseller_opens_an_account_and_gets_its_secret_once(
    client: TestClient, chain: Chain
) -> None:
    resp = client.post("/api/v1/accounts", json=_account(chain), headers=chain.auth("reseller"))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["id"] > 0 and body["business_number"] == VALID_BRN
    assert body["status"] == "active" and body["trust_tier"] == "new"
    assert len(body["send_secret"]) == 64
    fetched = client.get(f"/api/v1/accounts/{body['id']}", headers=chain.auth("reseller")).json()
    assert "send_secret" not in fetched
    listed = client.get("/api/v1/accounts", headers=chain.auth("reseller")).json()
    assert listed["total"] == 2
    assert all("send_secret" not in a for a in listed["items"])
    dup = client.post("/api/v1/accounts", json=_account(chain), headers=chain.auth("reseller"))
    assert dup.status_code == 409


BAD_ACCOUNTS: list[tuple[dict[str, object], str]] = [
    ({"business_number": "1234567890"}, "business_number"),  # check digit wrong
    ({"business_number": "12-34-56789x"}, "business_number"),
    ({"identity_evidence": {}}, "identity_evidence"),
]


def test_bad_account_values_are_422(client: TestClient, chain: Chain) -> None:
    for over, field in BAD_ACCOUNTS:
        resp = client.post(
            "/api/v1/accounts", json=_account(chain, **over), headers=chain.auth("reseller")
        )
        assert resp.status_code == 422, over
        assert resp.json()["field"] == field


def test_account_tenancy_and_roles(client: TestClient, chain: Chain) -> None:
    other = build_chain(chain.registry)
    mine = chain.auth("reseller")
    # another tenant's account and operator: 404, never 403
    assert client.get(f"/api/v1/accounts/{other.account}", headers=mine).status_code == 404
    foreign = client.post(
        "/api/v1/accounts", json=_account(chain, operator_id=other.reseller), headers=mine
    )
    assert foreign.status_code == 404
    # visible but not its own: the relay sees its reseller's accounts but opens none for it
    relay = chain.auth("relay")
    assert client.get(f"/api/v1/accounts/{chain.account}", headers=relay).status_code == 200
    assert client.post("/api/v1/accounts", json=_account(chain), headers=relay).status_code == 403
    assert client.get(f"/api/v1/accounts/{other.account}", headers=relay).status_code == 404
    listed = client.get("/api/v1/accounts", headers=chain.auth("carrier")).json()
    assert [a["id"] for a in listed["items"]] == [chain.account]
    filtered = client.get(
        "/api/v1/accounts", params={"operator_id": other.reseller}, headers=mine
    ).json()
    assert filtered["total"] == 0


def test_suspend_account_needs_a_reason_and_the_right_party(
    client: TestClient, chain: Chain
) -> None:
    url = f"/api/v1/accounts/{chain.account}"
    no_reason = client.patch(url, json={"status": "suspended"}, headers=chain.auth("relay"))
    assert no_reason.status_code == 422
    carrier = client.patch(
        url, json={"status": "suspended", "reason": "x"}, headers=chain.auth("carrier")
    )
    assert carrier.status_code == 403
    done = client.patch(
        url, json={"status": "suspended", "reason": "spam reports"}, headers=chain.auth("relay")
    )
    assert done.status_code == 200
    assert done.json()["status"] == "suspended" and done.json()["status_reason"] == "spam reports"
    listed = client.get(
        "/api/v1/accounts", params={"status": "suspended"}, headers=chain.auth("regulator")
    ).json()
    assert [a["id"] for a in listed["items"]] == [chain.account]


def test_sender_numbers(client: TestClient, chain: Chain) -> None:
    mine = chain.auth("reseller")
    resp = client.post(
        "/api/v1/sender-numbers",
        json={"account_id": chain.account, "number": "010-2345-6789", "evidence": EVIDENCE},
        headers=mine,
    )
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["number"] == "01023456789" and created["kind"] == "mobile"
    assert created["status"] == "active" and created["verified_at"]
    got = client.get(f"/api/v1/sender-numbers/{created['id']}", headers=mine).json()
    assert got == created
    by_number = client.get(
        "/api/v1/sender-numbers", params={"number": "+82 10 2345 6789"}, headers=mine
    ).json()
    assert [n["id"] for n in by_number["items"]] == [created["id"]]
    page = client.get(
        "/api/v1/sender-numbers", params={"account_id": chain.account, "limit": 1}, headers=mine
    ).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    revoked = client.patch(
        f"/api/v1/sender-numbers/{created['id']}", json={"status": "revoked"}, headers=mine
    )
    assert revoked.json()["status"] == "revoked"


BAD_NUMBERS: list[tuple[str, dict[str, str], int]] = [
    ("010-1234-567", EVIDENCE, 422),  # too short
    ("0101234567890", EVIDENCE, 422),  # too long
    ("019-123-4567", EVIDENCE, 422),  # unassigned prefix
    ("abc", EVIDENCE, 422),
    ("+1 415 555 0100", EVIDENCE, 422),  # not a Korean number
    ("112", EVIDENCE, 422),  # special code
    ("02-1234-5678", {}, 422),  # evidence missing
    ("02-1234-5678", {"x": "y" * 9000}, 422),  # evidence too large
    ("02 1234 5678", EVIDENCE, 409),  # the chain's own sender again
]


def test_bad_sender_numbers(client: TestClient, chain: Chain) -> None:
    for number, evidence, status in BAD_NUMBERS:
        resp = client.post(
            "/api/v1/sender-numbers",
            json={"account_id": chain.account, "number": number, "evidence": evidence},
            headers=chain.auth("reseller"),
        )
        assert resp.status_code == status, (number, resp.text)


def test_sender_number_tenancy(client: TestClient, chain: Chain) -> None:
    other = build_chain(chain.registry)
    mine = chain.auth("reseller")
    theirs = client.get(
        "/api/v1/sender-numbers",
        params={"account_id": other.account},
        headers=other.auth("reseller"),
    ).json()["items"][0]
    assert client.get(f"/api/v1/sender-numbers/{theirs['id']}", headers=mine).status_code == 404
    post = client.post(
        "/api/v1/sender-numbers",
        json={"account_id": other.account, "number": "0311234567", "evidence": EVIDENCE},
        headers=mine,
    )
    assert post.status_code == 404
    relay = client.post(
        "/api/v1/sender-numbers",
        json={"account_id": chain.account, "number": "0311234567", "evidence": EVIDENCE},
        headers=chain.auth("relay"),
    )
    assert relay.status_code == 403
    listed = client.get("/api/v1/sender-numbers", headers=mine).json()
    assert {n["account_id"] for n in listed["items"]} == {chain.account}
