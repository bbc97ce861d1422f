"""HTTP API: /api/v1/check (single and batch), /healthz, /metrics, /openapi.json."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from spamgate.api.app import create_app
from spamgate.config import Settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as test_client:
        yield test_client


def test_single_check(client: TestClient) -> None:
    response = client.post(
        "/api/v1/check",
        json={"text": "[KB국민은행] 보안 승급 kbstar-secure.com/login", "sender": "01023456789"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["action"] in ("label", "spambox", "reject")
    assert "URL_BRAND_LOOKALIKE" in [s["name"] for s in body["symbols"]]
    assert body["policy"] == "default"


def test_batch_keeps_order_and_isolates_bad_messages(client: TestClient) -> None:
    messages = [
        {"text": "안녕하세요 내일 뵙겠습니다"},
        {"text": ""},
        {
            "text": "바카라 카지노 첫충 매충 bit.ly/abc",
            "route": "international",
            "sender": "+14155550100",
        },
        {"text": "ok", "at": "not a time"},
    ]
    response = client.post("/api/v1/check", json={"messages": messages})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert [v["action"] for v in body["verdicts"]] == ["deliver", "error", "reject", "error"]
    assert "empty" in body["verdicts"][1]["reason"]


def test_batch_limit(client: TestClient) -> None:
    response = client.post("/api/v1/check", json={"messages": [{"text": "x"}] * 10_001})
    assert response.status_code == 413
    assert "10000" in response.json()["detail"]


@pytest.mark.parametrize(
    "payload",
    [
        {"text": "x", "unknown_field": 1},
        {"messages": []},
        {"text": 12345},
        [1, 2, 3],
    ],
)
def test_malformed_bodies_are_422(client: TestClient, payload: object) -> None:
    assert client.post("/api/v1/check", json=payload).status_code == 422


def test_not_json_is_a_client_error(client: TestClient) -> None:
    response = client.post(
        "/api/v1/check", content=b"\xff\xfe{", headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.json()["detail"]


def test_healthz(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert "advertising" in body["checks_enabled"]
    assert body["checks_disabled"] == {}


def test_metrics_count_verdicts(client: TestClient) -> None:
    client.post("/api/v1/check", json={"text": "바카라 카지노 첫충 bit.ly/x"})
    text = client.get("/metrics").text
    assert 'spamgate_verdicts_total{action="reject"} 1.0' in text
    assert 'spamgate_symbols_total{symbol="ILLEGAL_GAMBLING"} 1.0' in text
    assert "spamgate_check_seconds_bucket" in text


def test_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/check" in spec["paths"]
    assert "/healthz" in spec["paths"]
