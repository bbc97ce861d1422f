"""/api/v1/campaigns: a registered campaign matches from the next message, survives a restart,
is audited, and bad requests are refused without registering anything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from registry_support import TEST_ARGON2, Chain, build_chain
from spamgate.api.app import create_app
from spamgate.config import Settings, load_policy
from spamgate.model.campaigns import CampaignIndex, store_path
from spamgate.pipeline import Pipeline
from spamgate.registry.service import Registry

CAMPAIGN = (
    "[CJ대한통운] 김*수 고객님 택배가 주소 불일치로 반송 예정입니다.\n"
    "주소 수정: http://cj-logis.xyz/a1\n문의 010-1234-5678"
)
#: A variant: another name, link and callback number, spaced out, lines swapped.
VARIANT = (
    "문의 02-777-8888\n[CJ 대한통운] 박*영 고객님 택 배 가 주소 불일치로 반송 예정입니다!!\n"
    "주소 수정: new-link.top/x9"
)


def _client(registry: Registry, data_dir: Path) -> TestClient:
    settings = Settings(data_dir=data_dir, **TEST_ARGON2)
    pipeline = Pipeline(
        load_policy(),
        model=None,
        url_model=None,
        registry=registry,
        campaigns=CampaignIndex.open(data_dir),
    )
    return TestClient(create_app(settings, pipeline, registry))


@pytest.fixture
def api(registry: Registry, tmp_path: Path) -> Iterator[TestClient]:
    with _client(registry, tmp_path) as client:
        yield client


def _symbols(client: TestClient, text: str) -> set[str]:
    resp = client.post("/api/v1/check", json={"text": text})
    assert resp.status_code == 200, resp.text
    return {s["name"] for s in resp.json()["symbols"]}


def _audit_actions(registry: Registry) -> list[str]:
    from sqlalchemy import select

    from spamgate.registry.models import AuditEntry

    with registry.db.session() as session:
        return [a for (a,) in session.execute(select(AuditEntry.action).order_by(AuditEntry.seq))]


def test_register_match_list_restart_and_withdraw(
    api: TestClient, chain: Chain, registry: Registry, tmp_path: Path
) -> None:
    assert "CAMPAIGN_MATCH" not in _symbols(api, VARIANT)
    resp = api.post(
        "/api/v1/campaigns",
        json={"text": CAMPAIGN, "name": "택배 반송", "source": "KISA 118", "reason": "confirmed"},
        headers=chain.auth("carrier"),
    )
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["id"].startswith("c-") and created["name"] == "택배 반송"
    assert created["fingerprint"]["shingles"] > 10 and created["fingerprint"]["num_perm"] == 64
    assert created["sha256"] and "carrier" in created["added_by"]
    # the next message already matches: no restart
    assert "CAMPAIGN_MATCH" in _symbols(api, VARIANT)
    listed = api.get("/api/v1/campaigns", headers=chain.auth("relay")).json()
    assert listed["total"] == 1 and [c["id"] for c in listed["items"]] == [created["id"]]
    assert listed["items"][0]["reason"] == "confirmed"
    # persisted: a restarted process has it; no body in the store
    assert CampaignIndex.open(tmp_path).get(created["id"]) is not None
    stored = store_path(tmp_path).read_text(encoding="utf-8")
    assert "cj-logis" not in stored and "1234-5678" not in stored
    # audited, on the registry's hash chain
    assert _audit_actions(registry)[-1] == "campaign.create"
    assert registry.verify_audit().ok
    # withdrawn: stops matching, gone from the list and after a restart
    gone = api.delete(f"/api/v1/campaigns/{created['id']}", headers=chain.auth("regulator"))
    assert gone.status_code == 204, gone.text
    assert "CAMPAIGN_MATCH" not in _symbols(api, VARIANT)
    assert api.get("/api/v1/campaigns", headers=chain.auth("relay")).json()["total"] == 0
    assert CampaignIndex.open(tmp_path).get(created["id"]) is None
    assert _audit_actions(registry)[-1] == "campaign.delete"
    again = api.delete(f"/api/v1/campaigns/{created['id']}", headers=chain.auth("regulator"))
    assert again.status_code == 404


def test_bad_requests_register_nothing(sqlite_registry: Registry, tmp_path: Path) -> None:
    chain = build_chain(sqlite_registry)
    carrier = chain.auth("carrier")
    with _client(sqlite_registry, tmp_path) as api:
        ok = api.post("/api/v1/campaigns", json={"text": CAMPAIGN}, headers=carrier)
        assert ok.status_code == 201, ok.text
        audit_rows = len(_audit_actions(sqlite_registry))
        cases: list[tuple[dict[str, object], int]] = [
            ({"json": {"text": CAMPAIGN}}, 401),  # no token
            ({"json": {"text": CAMPAIGN}, "headers": {"Authorization": "Bearer sgt_x"}}, 401),
            ({"json": {"text": "다른 문자"}, "headers": chain.auth("reseller")}, 403),
            ({"json": {"text": "다른 문자"}, "headers": chain.auth("certifier")}, 403),
            ({"json": {"text": ""}, "headers": carrier}, 422),
            ({"json": {"text": "   \n "}, "headers": carrier}, 422),
            ({"json": {"text": "인증번호 [123456]"}, "headers": carrier}, 422),  # nothing left
            ({"json": {"text": "가" * 2001}, "headers": carrier}, 422),  # over max_text_chars
            ({"json": {"text": CAMPAIGN, "colour": "red"}, "headers": carrier}, 422),
            ({"json": {"name": "no text"}, "headers": carrier}, 422),
            ({"json": ["not", "an", "object"], "headers": carrier}, 422),
            (
                {
                    "content": b"{not json",
                    "headers": {**carrier, "content-type": "application/json"},
                },
                422,
            ),
            ({"json": {"text": "x" * 70_000}, "headers": carrier}, 413),  # body over 64 KiB
            ({"json": {"text": VARIANT}, "headers": chain.auth("relay")}, 409),  # same campaign
        ]
        for request, expected in cases:
            resp = api.post("/api/v1/campaigns", **request)  # type: ignore[arg-type]
            assert resp.status_code == expected, (request, resp.text)
            assert "detail" in resp.json()
        short = api.post("/api/v1/campaigns", json={"text": "인증번호 [123456]"}, headers=carrier)
        assert short.json()["field"] == "text"
        assert api.get("/api/v1/campaigns", headers=chain.auth("reseller")).status_code == 403
        assert api.get("/api/v1/campaigns").status_code == 401
        listed = api.get("/api/v1/campaigns", headers=carrier, params={"limit": 1}).json()
        assert listed["total"] == 1 and listed["limit"] == 1
        assert api.get("/api/v1/campaigns", headers=carrier, params={"limit": 0}).status_code == 422
        bad_id = api.delete("/api/v1/campaigns/../../etc", headers=carrier)
        assert bad_id.status_code in (404, 422)
        assert api.delete("/api/v1/campaigns/c-XYZ", headers=carrier).status_code == 422
        assert api.delete(f"/api/v1/campaigns/c-{'0' * 16}", headers=carrier).status_code == 404
        assert (
            api.delete(
                f"/api/v1/campaigns/c-{'0' * 16}", headers=chain.auth("reseller")
            ).status_code
            == 403
        )
        assert len(_audit_actions(sqlite_registry)) == audit_rows  # nothing refused was audited
    assert len(CampaignIndex.open(tmp_path)) == 1


def test_unwritable_store_is_503_and_not_audited(sqlite_registry: Registry, tmp_path: Path) -> None:
    chain = build_chain(sqlite_registry)
    store_path(tmp_path).mkdir(parents=True)  # a directory where the store file should be
    with _client(sqlite_registry, tmp_path) as api:
        audit_rows = len(_audit_actions(sqlite_registry))
        resp = api.post("/api/v1/campaigns", json={"text": CAMPAIGN}, headers=chain.auth("carrier"))
        assert resp.status_code == 503 and "campaign store" in resp.json()["detail"]
        assert len(_audit_actions(sqlite_registry)) == audit_rows
        # the gateway keeps judging
        assert "CAMPAIGN_MATCH" not in _symbols(api, VARIANT)
