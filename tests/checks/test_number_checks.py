"""Sender/recipient validity and route-based spoofing, with Korean numbers."""

from __future__ import annotations

import pytest

from conftest import Judge

TEXT = "내일 회의 10시로 변경되었습니다."


@pytest.mark.parametrize("sender", ["0212345678", "01023456789", "15881234", "+82 10-2345-6789"])
def test_valid_senders_pass(judge: Judge, sender: str) -> None:
    verdict = judge(TEXT, sender=sender)
    assert verdict.action == "deliver", verdict.symbols


@pytest.mark.parametrize(
    ("sender", "symbol"),
    [
        ("0101234", "SENDER_INVALID"),
        ("010234567899012", "SENDER_INVALID"),
        ("ABC-SHOP", "SENDER_INVALID"),
        ("0991234567", "SENDER_UNASSIGNED_PREFIX"),
    ],
)
def test_invalid_senders_are_rejected(judge: Judge, sender: str, symbol: str) -> None:
    verdict = judge(TEXT, sender=sender)
    assert verdict.action == "reject"
    assert symbol in verdict.symbol_names()


def test_unverifiable_foreign_sender_is_weak_evidence(judge: Judge) -> None:
    verdict = judge(TEXT, sender="+353821088683", route="international")
    assert verdict.action == "overseas_inbox"
    assert "SENDER_FOREIGN_UNVERIFIABLE" in verdict.symbol_names()


def test_reserved_mobile_block_is_unassigned(judge: Judge) -> None:
    # 010-0XXX/1XXX exchanges are never assigned (MSIT): a classic forged caller ID.
    assert "SENDER_UNASSIGNED_PREFIX" in judge(TEXT, sender="010-1234-5678").symbol_names()


def test_absent_sender_does_not_fire(judge: Judge) -> None:
    verdict = judge(TEXT)
    assert verdict.symbols == ()


def test_premium_rate_sender_is_scored(judge: Judge) -> None:
    assert "SENDER_PREMIUM_RATE" in judge(TEXT, sender="0602345678").symbol_names()


def test_domestic_number_over_international_route_is_spoofing(judge: Judge) -> None:
    verdict = judge(TEXT, sender="01023456789", route="international")
    assert verdict.action == "reject"
    assert verdict.symbol_names()[0] == "SENDER_SPOOFED_DOMESTIC"


def test_plus82_over_international_route_is_spoofing(judge: Judge) -> None:
    verdict = judge(TEXT, sender="+82 2-1234-5678", route="international")
    assert "SENDER_SPOOFED_DOMESTIC" in verdict.symbol_names()


def test_foreign_sender_goes_to_overseas_inbox(judge: Judge) -> None:
    verdict = judge(TEXT, sender="+14155550100", route="international")
    assert verdict.action == "overseas_inbox"
    assert "INTERNATIONAL_ORIGIN" in verdict.symbol_names()


def test_verified_international_account_is_delivered(tmp_path: object) -> None:
    from pathlib import Path

    from spamgate.config import load_policy
    from spamgate.pipeline import MessageFields, Pipeline

    conf = Path(str(tmp_path)) / "p.toml"
    conf.write_text("[accounts.GLOBAL]\ninternational_verified = true\n", encoding="utf-8")
    pipeline = Pipeline(load_policy(conf))
    verdict = pipeline.judge_fields(
        MessageFields(TEXT, sender="+14155550100", route="international", account="GLOBAL")
    )
    assert verdict.action == "deliver"
    assert verdict.symbol_names() == ["INTERNATIONAL_VERIFIED"]


def test_recipient_with_letters_is_an_error(judge: Judge) -> None:
    verdict = judge(TEXT, recipient="010-ABCD-5678")
    assert verdict.action == "error"
    assert verdict.reason is not None and "recipient" in verdict.reason


def test_malformed_recipient_is_rejected(judge: Judge) -> None:
    verdict = judge(TEXT, recipient="010-123")
    assert verdict.action == "reject"
    assert "RECIPIENT_MALFORMED" in verdict.symbol_names()


@pytest.mark.parametrize(
    ("text", "sender"),
    [
        ("[국민은행] 고객님 계좌가 일시 정지되었습니다. 영업점에 문의하세요.", "01023456789"),
        ("[Web발신]\n[서울중앙지방검찰청] 사건 조회 안내입니다.", "050412345678"),
        ("［신한카드］ 이용 안내", "01023456789"),
        ("(국세청) 환급금 안내", "+14155550100"),
    ],
)
def test_institution_header_from_a_personal_number(judge: Judge, text: str, sender: str) -> None:
    route = "international" if sender.startswith("+") else "domestic"
    verdict = judge(text, sender=sender, route=route)
    found = {s.name: s.evidence for s in verdict.symbols}
    assert "SENDER_BRAND_MISMATCH" in found
    assert found["SENDER_BRAND_MISMATCH"] is not None
    assert found["SENDER_BRAND_MISMATCH"].startswith("[")


@pytest.mark.parametrize(
    ("text", "sender"),
    [
        # the same headers from the numbers institutions send from
        ("[국민은행] 고객님 계좌가 일시 정지되었습니다. 영업점에 문의하세요.", "15889999"),
        ("[서울중앙지방검찰청] 사건 조회 안내입니다.", "0234801234"),
        # couriers and the post office: drivers text from their own mobiles
        ("[우체국] 소포가 배달 완료되었습니다.", "01023456789"),
        ("[CJ대한통운] 오늘 배송 예정입니다. 기사 010-2345-6789", "01023456789"),
        # an institution named later in the text, not as the signature
        ("엄마 국민은행 갔다가 바로 갈게", "01023456789"),
        # no sender at all
        ("[국민은행] 고객님 계좌가 일시 정지되었습니다.", ""),
    ],
)
def test_institution_header_spared(judge: Judge, text: str, sender: str) -> None:
    verdict = judge(text, sender=sender or None)
    assert "SENDER_BRAND_MISMATCH" not in verdict.symbol_names()
