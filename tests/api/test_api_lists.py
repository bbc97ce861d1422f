"""/api/v1/theft-protection and /api/v1/blocklist: effective at once, on both backends."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from registry_support import EVIDENCE, Chain, FakeClock
from spamgate.registry.auth import SYSTEM
from spamgate.registry.models import Role
from spamgate.registry.persend import make_proof


def _check(client: TestClient, chain: Chain, text: str, **fields: object) -> dict[str, object]:
    body: dict[str, object] = {"text": text, **fields}
    resp = client.post("/api/v1/check", json=body)
    assert resp.status_code == 200, resp.text
    verdict: dict[str, object] = resp.json()
    return verdict


def _names(verdict: dict[str, object]) -> set[str]:
    symbols = verdict["symbols"]
    assert isinstance(symbols, list)
    return {s["name"] for s in symbols}


def test_theft_protection_takes_effect_on_the_next_message(
    client: TestClient, chain: Chain
) -> None:
    text = "안녕하세요 예약 확인 문자입니다"
    assert "SENDER_THEFT_PROTECTED" not in _names(_check(client, chain, text, sender="0312345678"))
    resp = client.post(
        "/api/v1/theft-protection",
        json={"number": "031-234-5678", "evidence": {"form": "owner request 7"}},
        headers=chain.auth("carrier"),
    )
    assert resp.status_code == 201, resp.text
    entry = resp.json()
    assert entry["number"] == "0312345678"
    verdict = _check(client, chain, text, sender="031 234 5678")
    assert verdict["action"] == "reject" and "SENDER_THEFT_PROTECTED" in _names(verdict)
    again = client.post(
        "/api/v1/theft-protection",
        json={"number": "0312345678", "evidence": EVIDENCE},
        headers=chain.auth("regulator"),
    )
    assert again.status_code == 409
    # a protected number cannot be registered as anyone's sender
    register = client.post(
        "/api/v1/sender-numbers",
        json={"account_id": chain.account, "number": "0312345678", "evidence": EVIDENCE},
        headers=chain.auth("reseller"),
    )
    assert register.status_code == 409 and "theft-protected" in register.json()["detail"]
    listed = client.get(
        "/api/v1/theft-protection", params={"number": "031-234-5678"}, headers=chain.auth("relay")
    ).json()
    assert [e["id"] for e in listed["items"]] == [entry["id"]]
    assert client.get("/api/v1/theft-protection", headers=chain.auth("reseller")).status_code == 403
    delete = client.delete(f"/api/v1/theft-protection/{entry['id']}", headers=chain.auth("relay"))
    assert delete.status_code == 403
    delete = client.delete(f"/api/v1/theft-protection/{entry['id']}", headers=chain.auth("carrier"))
    assert delete.status_code == 204
    assert "SENDER_THEFT_PROTECTED" not in _names(_check(client, chain, text, sender="0312345678"))
    gone = client.delete(f"/api/v1/theft-protection/{entry['id']}", headers=chain.auth("carrier"))
    assert gone.status_code == 404
    bad = client.post(
        "/api/v1/theft-protection",
        json={"number": "12345", "evidence": EVIDENCE},
        headers=chain.auth("carrier"),
    )
    assert bad.status_code == 422


def test_blocklist_numbers_domains_urls_and_expiry(
    client: TestClient, chain: Chain, clock: FakeClock
) -> None:
    relay = chain.auth("relay")
    expires = (clock.now + timedelta(days=90)).isoformat()
    entries = [
        {"kind": "number", "value": "010-9876-5432", "expires_at": expires},
        {"kind": "domain", "value": "Evil-Loans.xyz"},
        {"kind": "url", "value": "https://bit.ly/AbCd"},
    ]
    ids = []
    for entry in entries:
        resp = client.post(
            "/api/v1/blocklist",
            json={**entry, "source": "KISA 118", "reason": "reported 50+ times a day"},
            headers=relay,
        )
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    values = [e["value"] for e in client.get("/api/v1/blocklist", headers=relay).json()["items"]]
    assert values == ["01098765432", "evil-loans.xyz", "bit.ly/AbCd"]
    verdict = _check(client, chain, "급전 대출 상담", sender="01098765432")
    assert "SENDER_BLOCKLISTED" in _names(verdict) and verdict["action"] == "reject"
    verdict = _check(client, chain, "확인 http://www.evil-loans.xyz/apply")
    assert "URL_REGISTRY_BLOCKLISTED" in _names(verdict)
    verdict = _check(client, chain, "확인 http://bit.ly/AbCd")
    assert "URL_REGISTRY_BLOCKLISTED" in _names(verdict)
    assert "URL_REGISTRY_BLOCKLISTED" not in _names(_check(client, chain, "확인 bit.ly/other"))
    dup = client.post(
        "/api/v1/blocklist",
        json={"kind": "number", "value": "01098765432", "source": "x", "reason": "y"},
        headers=relay,
    )
    assert dup.status_code == 409
    clock.advance(days=91)
    assert "SENDER_BLOCKLISTED" not in _names(
        _check(client, chain, "급전 대출 상담", sender="01098765432")
    )
    reg = {
        "Authorization": "Bearer " + chain.registry.create_token(SYSTEM, role=Role.REGULATOR).token
    }
    active = client.get("/api/v1/blocklist", params={"active": True}, headers=reg).json()
    assert active["total"] == 2
    by_kind = client.get(
        "/api/v1/blocklist", params={"kind": "number", "value": "010 9876 5432"}, headers=reg
    ).json()
    assert [e["id"] for e in by_kind["items"]] == [ids[0]]
    assert client.delete(f"/api/v1/blocklist/{ids[1]}", headers=reg).status_code == 204
    assert "URL_REGISTRY_BLOCKLISTED" not in _names(
        _check(client, chain, "확인 http://www.evil-loans.xyz/apply")
    )


def test_bad_blocklist_entries(client: TestClient, chain: Chain, clock: FakeClock) -> None:
    relay = chain.auth("relay")
    base = {"source": "s", "reason": "r"}
    past = (clock.now - timedelta(days=1)).isoformat()
    cases = [
        ({"kind": "number", "value": "not a number"}, 422),
        ({"kind": "domain", "value": "no spaces allowed.com x"}, 422),
        ({"kind": "domain", "value": "http://evil.com/path"}, 422),
        ({"kind": "url", "value": "two.com three.com"}, 422),
        ({"kind": "planet", "value": "mars"}, 422),
        ({"kind": "number", "value": "01011112222", "expires_at": past}, 422),
        ({"kind": "number", "value": "01011112222", "expires_at": "2030-01-01T00:00:00"}, 422),
        ({"kind": "number", "value": "01011112222", "source": ""}, 422),
    ]
    for body, status in cases:
        resp = client.post("/api/v1/blocklist", json={**base, **body}, headers=relay)
        assert resp.status_code == status, (body, resp.text)
    reseller = client.post(
        "/api/v1/blocklist",
        json={**base, "kind": "number", "value": "01011112222"},
        headers=chain.auth("reseller"),
    )
    assert reseller.status_code == 403


def test_registered_sender_with_valid_proof_is_delivered(client: TestClient, chain: Chain) -> None:
    text = "[행복마트] 주문하신 상품이 발송되었습니다"
    account = str(chain.account)
    proof = make_proof(
        chain.send_secret,
        account=account,
        text=text,
        timestamp=int(chain.registry.clock().timestamp()),
        sender=chain.sender,
    )
    verdict = _check(client, chain, text, sender=chain.sender, account=account, auth=proof)
    assert verdict["action"] == "deliver", verdict
