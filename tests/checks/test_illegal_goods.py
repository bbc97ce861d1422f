"""Illegal goods: gambling, illegal loans, drugs, adult, investment lures — obfuscated too."""

from __future__ import annotations

import pytest

from conftest import Judge


@pytest.mark.parametrize(
    ("text", "symbol"),
    [
        ("신규 가입 첫충 20% 매충 10% 바카라 카지노 24시 환전", "ILLEGAL_GAMBLING"),
        ("카⭐지⭐노 첫ㅊㅜㅇ 50% king118.club", "ILLEGAL_GAMBLING"),
        ("바 카 라 최고 배당", "ILLEGAL_GAMBLING"),
        ("ｃａｓｉｎｏ ＶＩＰ 입플 3+3", "ILLEGAL_GAMBLING"),
        ("월변 · 일수대출 · 급전 / 연체자 OK / 1금융 부결자 OK", "ILLEGAL_LOAN"),
        ("무직자대출 당일 승인 신용무관", "ILLEGAL_LOAN"),
        ("대포통장 삽니다 통장매입 고가", "ILLEGAL_LOAN"),
        ("미국산 대마젤리 국내 배송 100% 비노출", "ILLEGAL_DRUGS"),
        ("클럽용 엑스터시 정품 보장", "ILLEGAL_DRUGS"),
        ("외로운 밤 조건만남 즉석만남 환영", "ILLEGAL_ADULT"),
        ("VIP 리딩방 급등주 무료 공유 수익률보장", "ILLEGAL_INVESTMENT"),
        ("주식리 딩 방 초대", "ILLEGAL_INVESTMENT"),
    ],
)
def test_illegal_content_fires(judge: Judge, text: str, symbol: str) -> None:
    verdict = judge(text)
    assert symbol in verdict.symbol_names()
    assert verdict.action in ("label", "spambox", "reject")


@pytest.mark.parametrize(
    "text",
    [
        "바 카 라 최고 배당 bit.ly/abc",
        "외로운 밤 조건만남 즉석만남 환영 010-2345-6789",
        "주식리 딩 방 초대 https://band.us/n/azGWfY5",
        "급전 필요하신분 텔레 @loan24",
    ],
)
def test_illegal_content_with_a_call_to_action_is_kept_from_the_inbox(
    judge: Judge, text: str
) -> None:
    assert judge(text).action in ("spambox", "reject")


def test_a_chat_that_mentions_a_casino_is_only_labelled(judge: Judge) -> None:
    verdict = judge("수영복 사놓고 카지노 돌고 있어요. 건물 안이 최고인 거 같아요.")
    assert verdict.symbol_names()[0] == "ILLEGAL_GAMBLING"
    assert "AD_PREFIX_MISSING" not in verdict.symbol_names()


def test_several_gambling_terms_reject(judge: Judge) -> None:
    verdict = judge("첫충 20% 바카라 카지노 슬롯사이트 환전무제한 bit.ly/abc")
    assert verdict.action == "reject"
    sym = next(s for s in verdict.symbols if s.name == "ILLEGAL_GAMBLING")
    assert sym.evidence is not None and "바카라" in sym.evidence


def test_illegal_goods_make_it_an_ad_without_prefix(judge: Judge) -> None:
    assert "AD_PREFIX_MISSING" in judge("급전 필요하신분 당일대출 010-2345-6789").symbol_names()


def test_illegal_goods_banned_even_when_declared(judge: Judge) -> None:
    text = "(광고) 스마일론\n연체자 OK 일수대출 상담 010-8848-0128\n무료수신거부 080-431-9186"
    verdict = judge(text)
    assert "ILLEGAL_LOAN" in verdict.symbol_names()
    assert verdict.action != "deliver"


@pytest.mark.parametrize(
    "text",
    [
        "[하나은행] 대출 원리금 135,230원이 04/16 정상 출금되었습니다.",
        "오늘 점심 마약김밥 어때? 광장시장에서",
        "대마도 여행 사진 보내줄게",
        "오피스텔 관리비 고지서가 발송되었습니다.",
        "휴일 수업은 없습니다. 일수 계산은 다음 주에 해요",
        "개인 돈으로 먼저 결제했어요 영수증 보내드릴게요",
        "I'm at the Sussex office, call me later",
        "[서민금융진흥원] 햇살론 상담 예약이 확정되었습니다.",
    ],
)
def test_ordinary_texts_do_not_fire(judge: Judge, text: str) -> None:
    verdict = judge(text)
    assert not [n for n in verdict.symbol_names() if n.startswith("ILLEGAL_")], verdict.symbols
