"""Lexical URL heuristics on smishing-style links."""

from __future__ import annotations

import pytest

from conftest import Judge


@pytest.mark.parametrize(
    ("text", "symbol"),
    [
        ("[쿠팡] 반송 대기중 https://c11.kr/Hc2Pc", "URL_SHORTENER"),
        ("택배 주소 확인 bit.ly/3xYz", "URL_SHORTENER"),
        ("[새마을금고] 정보 업데이트 http://17.172.171.159/765vz", "URL_IP_LITERAL"),
        ("[부고] 장례식장 안내 https://funeral-eix.top/m/vr96", "URL_SUSPICIOUS_TLD"),
        ("[KB국민은행] 보안 승급 kbstar-secure.com/login", "URL_BRAND_LOOKALIKE"),
        ("[신한은행] 이체 제한 해제 shinhan-bank.help/a", "URL_BRAND_LOOKALIKE"),
        ("[국민건강보험] 환급 신청 nhis-refund.xyz", "URL_BRAND_LOOKALIKE"),
        ("[우체국] 주소 불일치 epost-kr.cc/x", "URL_BRAND_LOOKALIKE"),
        ("[쿠팡] 결제 확인 coupnag.com/order", "URL_BRAND_LOOKALIKE"),
        ("[정부24] 지원금 신청 gov-kr.info", "URL_BRAND_LOOKALIKE"),
        ("[네이버] 로그인 확인 nav3r-login.com", "URL_BRAND_LOOKALIKE"),
        ("[KB] 보안 확인 kbstar.com-sec.xyz/a", "URL_BRAND_LOOKALIKE"),
        ("[국세청] 환급 nts-go.kr.xyz", "URL_BRAND_LOOKALIKE"),
        ("[신한] 인증 shinhan-bank.co.kr", "URL_BRAND_LOOKALIKE"),
    ],
)
def test_suspicious_links(judge: Judge, text: str, symbol: str) -> None:
    verdict = judge(text)
    assert symbol in verdict.symbol_names(), verdict.symbols


@pytest.mark.parametrize(
    "text",
    [
        "[신한카드] 명세서 확인 https://www.shinhancard.com",
        "[KB국민은행] 앱에서 확인하세요 https://obank.kbstar.com/quics",
        "[네이버 예약] 예약 확인 https://naver.me/MEHYQQkG",
        "[국민연금] 안내 https://www.nps.or.kr",
        "회의 링크 https://meet.google.com/7zy-3eki-x4u",
        "정책 보기 https://privacy-policy.com/terms",
        "[신한라이프] 보험금 지급 안내 https://www.shinhanlife.co.kr",
        "[KB손해보험] 안내 https://www.kbinsure.co.kr",
    ],
)
def test_official_links_are_not_lookalikes(judge: Judge, text: str) -> None:
    verdict = judge(text)
    assert "URL_BRAND_LOOKALIKE" not in verdict.symbol_names()
    assert "URL_IP_LITERAL" not in verdict.symbol_names()


def test_brand_lookalike_plus_shortener_is_spambox_or_worse(judge: Judge) -> None:
    verdict = judge("[KB국민은행] 보안 승급 필요 kbstar-secure.com/login 또는 bit.ly/kbk")
    assert verdict.action in ("spambox", "reject")
