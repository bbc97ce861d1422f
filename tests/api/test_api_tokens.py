"""Tokens, roles and request limits of the registry API, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from registry_support import Chain, FakeClock
from spamgate.registry.auth import SYSTEM
from spamgate.registry.models import ApiToken, Role


def test_missing_wrong_and_expired_tokens_are_401(
    client: TestClient, chain: Chain, clock: FakeClock
) -> None:
    url = "/api/v1/operators"
    good = chain.tokens["regulator"]
    wrong_secret = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Bearer {wrong_secret}"},
        {"Authorization": "Bearer sgt_000000000000_" + "A" * 43},
    ):
        resp = client.get(url, headers=headers)
        assert resp.status_code == 401, headers
        assert resp.headers["www-authenticate"] == "Bearer"
    assert client.get(url, headers={"Authorization": f"Bearer {good}"}).status_code == 200
    short = chain.registry.create_token(SYSTEM, role=Role.REGULATOR, expires_in_days=1).token
    assert client.get(url, headers={"Authorization": f"Bearer {short}"}).status_code == 200
    clock.advance(days=1, seconds=1)
    # expired even though it was verified (and cached) a moment ago
    assert client.get(url, headers={"Authorization": f"Bearer {short}"}).status_code == 401


def test_tokens_are_stored_hashed_and_shown_once(client: TestClient, chain: Chain) -> None:
    resp = client.post(
        "/api/v1/tokens",
        json={"role": "reseller", "operator_id": chain.reseller},
        headers=chain.auth("regulator"),
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["id"] > 0 and body["token"].startswith("sgt_") and body["role"] == "reseller"
    with chain.registry.db.session() as session:
        row = session.get(ApiToken, body["id"])
        assert row is not None
        assert body["token"] not in row.secret_hash and row.secret_hash.startswith("$argon2id$")
    new = {"Authorization": f"Bearer {body['token']}"}
    ops = client.get("/api/v1/operators", headers=new).json()
    assert [o["id"] for o in ops["items"]] == [chain.reseller]
    assert client.delete(f"/api/v1/tokens/{body['id']}", headers=new).status_code == 204
    assert client.get("/api/v1/operators", headers=new).status_code == 401


def test_token_roles(client: TestClient, chain: Chain) -> None:
    cases = [
        ("reseller", {"role": "regulator"}, 403),  # no escalation
        ("reseller", {"role": "reseller", "operator_id": chain.relay}, 403),
        ("relay", {"role": "reseller", "operator_id": chain.reseller}, 403),
        ("certifier", {"role": "certifier"}, 403),
        ("reseller", {"role": "reseller", "operator_id": chain.reseller}, 201),  # rotation
        ("regulator", {"role": "relay", "operator_id": chain.reseller}, 422),  # kind mismatch
        ("regulator", {"role": "carrier"}, 422),  # operator missing
        ("regulator", {"role": "certifier", "operator_id": chain.carrier}, 422),
        ("regulator", {"role": "reseller", "operator_id": 999_999}, 404),
        ("regulator", {"role": "emperor"}, 422),
        ("regulator", {"role": "certifier", "expires_in_days": 0}, 422),
        ("regulator", {"role": "certifier"}, 201),
    ]
    for who, body, status in cases:
        resp = client.post("/api/v1/tokens", json=body, headers=chain.auth(who))
        assert resp.status_code == status, (who, body, resp.text)


def test_wrong_role_is_403(client: TestClient, chain: Chain) -> None:
    theft = {"number": "0311112222", "evidence": {"x": 1}}
    assert (
        client.post("/api/v1/theft-protection", json=theft, headers=chain.auth("reseller"))
    ).status_code == 403
    assert (
        client.post("/api/v1/theft-protection", json=theft, headers=chain.auth("certifier"))
    ).status_code == 403
    cert = client.post(
        f"/api/v1/operators/{chain.reseller}/certification",
        json={"action": "suspend", "note": "x"},
        headers=chain.auth("reseller"),
    )
    assert cert.status_code == 403


def test_oversized_and_malformed_bodies(client: TestClient, chain: Chain) -> None:
    reg = chain.auth("regulator")
    huge = {"name": "x", "kind": "carrier", "padding": "y" * 70_000}
    assert client.post("/api/v1/operators", json=huge, headers=reg).status_code == 413

    def chunks() -> object:
        for _ in range(100):
            yield b"x" * 1024

    streamed = client.post(
        "/api/v1/operators",
        content=chunks(),  # type: ignore[arg-type]
        headers={**reg, "content-type": "application/json"},
    )
    assert streamed.status_code == 413
    for body in (
        b"{",
        b"[]",
        b'{"name": "x"}',
        b'{"name": "x", "kind": "carrier", "extra": 1}',
        b'{"name": "", "kind": "carrier"}',
        b'{"name": "x", "kind": "reseller", "parent_id": 99999999999}',
    ):
        resp = client.post(
            "/api/v1/operators", content=body, headers={**reg, "content-type": "application/json"}
        )
        assert resp.status_code == 422, body
    assert client.get("/api/v1/operators/99999999999", headers=reg).status_code == 422
    assert client.get("/api/v1/operators", params={"limit": 501}, headers=reg).status_code == 422
    assert client.get("/api/v1/operators", params={"offset": -1}, headers=reg).status_code == 422
    # the check endpoint keeps its own limits (a large batch is not a registry body)
    batch = {"messages": [{"text": "안녕하세요 " * 100}] * 100}
    assert client.post("/api/v1/check", json=batch).status_code == 200


def test_openapi_lists_the_registry(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/v1/operators",
        "/api/v1/operators/{operator_id}/certification",
        "/api/v1/accounts",
        "/api/v1/sender-numbers",
        "/api/v1/sender-numbers/{number_id}",
        "/api/v1/theft-protection",
        "/api/v1/theft-protection/{entry_id}",
        "/api/v1/blocklist",
        "/api/v1/tokens",
    ):
        assert path in spec["paths"], path
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    check = spec["components"]["schemas"]["CheckRequest"]["properties"]
    assert "auth" in check
