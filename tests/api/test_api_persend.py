"""POST /api/v1/check with an account and a per-send proof, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from registry_support import Chain, FakeClock
from spamgate.registry.auth import SYSTEM
from spamgate.registry.persend import make_proof

TEXT = "[행복마트] 주문하신 상품이 오늘 발송됩니다"


def _send(client: TestClient, chain: Chain, **over: Any) -> dict[str, Any]:
    account = str(over.pop("account", chain.account))
    body: dict[str, Any] = {"text": TEXT, "sender": chain.sender, "account": account}
    body.update(over)
    if "auth" not in body:
        body["auth"] = make_proof(
            chain.send_secret,
            account=account,
            text=body["text"],
            timestamp=int(chain.registry.clock().timestamp()),
            sender=body.get("sender"),
            recipient=body.get("recipient"),
        )
    elif body["auth"] is None:
        del body["auth"]
    resp = client.post("/api/v1/check", json=body)
    assert resp.status_code == 200, resp.text
    verdict: dict[str, Any] = resp.json()
    return verdict


def _fired(verdict: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["evidence"] for s in verdict["symbols"]}


def test_valid_proof_delivers_and_a_replay_is_refused(client: TestClient, chain: Chain) -> None:
    proof = make_proof(
        chain.send_secret,
        account=str(chain.account),
        text=TEXT,
        timestamp=int(chain.registry.clock().timestamp()),
        sender=chain.sender,
    )
    first = _send(client, chain, auth=proof)
    assert first["action"] == "deliver", first
    replay = _send(client, chain, auth=proof)
    assert replay["action"] == "reject"
    assert _fired(replay)["PER_SEND_AUTH_FAILED"].endswith("replayed")


def test_bad_proofs(client: TestClient, chain: Chain, clock: FakeClock) -> None:
    now = int(clock.now.timestamp())
    account = str(chain.account)

    def proof(**over: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {"text": TEXT, "timestamp": now, "sender": chain.sender}
        fields.update(over)
        return make_proof(chain.send_secret, account=account, **fields)

    cases: list[tuple[dict[str, Any] | None, str]] = [
        (None, "missing"),
        (proof(timestamp=now - 301), "stale"),
        (proof(timestamp=now + 301), "stale"),
        (proof(text="다른 문구"), "bad_signature"),  # signed another text
        (proof(sender="0299998888"), "bad_signature"),  # signed another sender
        ({**proof(), "signature": "0" * 64}, "bad_signature"),
        ({**proof(), "nonce": "short"}, "malformed"),
        ({**proof(), "signature": "zz"}, "malformed"),
    ]
    for auth, outcome in cases:
        verdict = _send(client, chain, auth=auth)
        assert verdict["action"] == "reject", outcome
        assert _fired(verdict)["PER_SEND_AUTH_FAILED"].endswith(outcome), outcome
    within = _send(client, chain, auth=proof(timestamp=now - 299))
    assert "PER_SEND_AUTH_FAILED" not in _fired(within)
    unknown = _send(client, chain, account="424242", auth=proof())
    assert _fired(unknown)["PER_SEND_AUTH_FAILED"].endswith("unknown_account")
    shape = client.post(
        "/api/v1/check",
        json={"text": TEXT, "account": account, "auth": {"timestamp": "soon", "nonce": "n"}},
    )
    assert shape.status_code == 422


def test_account_rules_in_the_verdict(client: TestClient, chain: Chain) -> None:
    other_sender = _send(client, chain, sender="0299998888")
    assert _fired(other_sender).keys() == {"SENDER_NOT_REGISTERED"}
    assert other_sender["action"] == "reject"
    chain.registry.update_account(SYSTEM, chain.account, status="suspended", reason="spam")
    assert "ACCOUNT_SUSPENDED" in _fired(_send(client, chain))
    chain.registry.update_account(SYSTEM, chain.account, status="active")
    assert _send(client, chain)["action"] == "deliver"
    chain.registry.certify(SYSTEM, chain.reseller, action="suspend", note="sanction")
    fired = _fired(_send(client, chain))
    assert fired == {"RESELLER_NOT_CERTIFIED": f"reseller {chain.reseller}: suspended"}
    # a batch: every message is judged with the same registry view
    messages = [
        {
            "text": TEXT,
            "sender": chain.sender,
            "account": str(chain.account),
            "auth": make_proof(
                chain.send_secret,
                account=str(chain.account),
                text=TEXT,
                timestamp=int(chain.registry.clock().timestamp()),
                sender=chain.sender,
            ),
        }
        for _ in range(3)
    ]
    batch = client.post("/api/v1/check", json={"messages": messages}).json()
    assert [v["action"] for v in batch["verdicts"]] == ["reject"] * 3
