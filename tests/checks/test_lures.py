"""The linkless smishing moves (checks/lures.py): each fires on its script and not on the
genuine messages that share its words."""

from __future__ import annotations

import pytest

from conftest import Judge
from spamgate.checks.lures import LureCheck, LureOptions
from spamgate.config import load_policy
from spamgate.pipeline import MessageFields, Pipeline

DAY = "2026-11-26T14:00:00+09:00"


def lures(judge: Judge, text: str) -> dict[str, str | None]:
    verdict = judge(text, at=DAY)
    return {s.name: s.evidence for s in verdict.symbols if s.name.startswith("LURE_")}


# -- callback --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        (
            "[Web발신]\n[국민카드] 해외결제 1,280,000원 승인. 본인이 아닐 경우 070-4123-8877 신고",
            "07041238877",
        ),
        (
            "[우리은행] 고객님 명의로 비대면 계좌가 개설되었습니다. 본인이 신청하지 않았다면"
            " 02-3471-2290으로 연락주십시오.",
            "0234712290",
        ),
        (
            "쿠팡 주문 결제완료 849,000원 (노트북) 본인 결제가 아닌 경우 010 5523 1187 취소요청",
            "01055231187",
        ),
        ("［신한］　명의도용 의심 대출 신청 접수. 문의 ０５０４－２２１－３３８７", "05042213387"),
    ],
)
def test_callback_lure(judge: Judge, text: str, number: str) -> None:
    found = lures(judge, text)
    assert "LURE_CALLBACK" in found
    assert number in (found["LURE_CALLBACK"] or "")


@pytest.mark.parametrize(
    "text",
    [
        # the same alerts as institutions send them: a representative or toll-free line
        "[신한은행] 11/06 14:01 이체한도가 변경되었습니다. 본인이 아닌 경우 고객센터(1599-8000)로 연락",
        "[KB국민카드] 해외승인 $120.00 본인 사용이 아닌 경우 080-800-1234 (24시간)",
        "[KT] 소액결제 한도가 변경되었습니다. 본인이 변경하지 않았다면 114로 연락하세요.",
        # a courier driver's mobile without any "if it was not you"
        "[CJ대한통운] 오늘 14~16시 배송 예정입니다. 배송기사 010-2231-4455",
        # "not you?" with a landline but about nothing an institution alerts on
        "동창회 사진 보냈어요. 본인이 아니면 말씀해 주세요 02-333-4444",
    ],
)
def test_callback_lure_spares_genuine_alerts(judge: Judge, text: str) -> None:
    assert "LURE_CALLBACK" not in lures(judge, text)


# -- messenger -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "무직자 당일 300만 가능 상담은 카톡 ID: money77",
        "재택 부업 하루 5만원 보장 텔레그램 @side_job_kr 으로 문의",
        "급등 종목 무료 리딩방 입장 t.me/+a1B2c3D4",
        "정품 보장 당일 발송 라인 aabb123",
        "코인 선물 수익 인증 까톡 kingcoin",
    ],
)
def test_messenger_lure(judge: Judge, text: str) -> None:
    assert "LURE_MESSENGER" in lures(judge, text)


@pytest.mark.parametrize(
    "text",
    [
        # an ad's Instagram profile, a company channel, an e-mail address
        "(광고)[요가하우스] 첫 수업 무료, 당일 예약 가능 인스타 @yogahouse_mw 무료거부 080-123-4567",
        "[하나은행] 대출 만기 안내는 카카오톡 채널 pf.kakao.com/_xAbC 에서 확인하세요",
        "입금 확인 부탁드립니다. 세금계산서는 tax.team@company.co.kr 로 보내주세요",
        # money talk that names a messenger but no ID
        "엄마 용돈 입금했어 카톡 확인해봐",
        # 온라인 is not 라인
        "온라인 주문 결제 승인 안내 주문번호 A123456",
    ],
)
def test_messenger_lure_spares_genuine_texts(judge: Judge, text: str) -> None:
    assert "LURE_MESSENGER" not in lures(judge, text)


# -- impersonation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "엄마 나 폰 액정이 깨져서 수리 맡겼어 급하게 문화상품권 좀 사줄 수 있어?",
        "아빠 이거 임시 번호야. 인증번호 6자리 오면 바로 알려줘",
        "이모 저 휴대폰 고장나서 PC로 문자해요. 신분증 사진 좀 찍어서 보내주세요",
        "누나 폰 잃어버렸어 ㅠ 지금 친구폰이야 30만원만 송금해줄 수 있어? 내일 갚을게",
        "삼촌 폰을 바꿨는데 은행 인증서가 안 돼요. 먼저 이체 좀 부탁드려도 될까요",
        "이모 저 휴대 전화가 고장나서 친구 걸로 연락드려요 상품권 좀 대신 사주실 수 있어요?",
    ],
)
def test_impersonation_lure(judge: Judge, text: str) -> None:
    assert "LURE_IMPERSONATION" in lures(judge, text)


@pytest.mark.parametrize(
    "text",
    [
        # a new number with no request; a request with no pretext
        "엄마 나 번호 바꿨어 이걸로 저장해줘",
        "엄마 이번 달 용돈 10만원만 보내줄 수 있어?",
        # a warning about the scam, in its words
        "엄마 번호 바꿨다고 문자 오면 나 아니야. 절대 돈 보내지 마",
        # service notices about numbers and passwords
        "[배달의민족] 휴대폰 번호 변경 인증번호 [068395]. 본인이 요청하지 않았다면 고객센터로 문의하세요.",
        "[카카오] 비밀번호가 변경되었습니다. 본인이 변경하지 않았다면 고객센터에 문의해 주세요.",
    ],
)
def test_impersonation_lure_spares_genuine_texts(judge: Judge, text: str) -> None:
    assert "LURE_IMPERSONATION" not in lures(judge, text)


# -- policy and options ----------------------------------------------------------------------


def test_a_lure_alone_warns_and_a_second_sign_keeps_it_out() -> None:
    """Wording alone labels the message (a warning the recipient sees), never more; with a
    link that imitates a bank's domain the verdict keeps it out of the inbox."""
    pipeline = Pipeline(model=None, url_model=None)
    alone = pipeline.judge_fields(
        MessageFields("삼촌 폰 고장나서 PC로 문자해요 상품권 좀 대신 사주세요", at=DAY)
    )
    assert alone.action == "label"
    assert [s.name for s in alone.symbols] == ["LURE_IMPERSONATION"]
    both = pipeline.judge_fields(
        MessageFields(
            "[국민은행] 해외결제 승인 98만원. 본인이 아닐 경우 070-4123-8877 신고 kbstar-kr.top/a",
            at=DAY,
        )
    )
    assert {"LURE_CALLBACK", "URL_BRAND_LOOKALIKE"} <= {s.name for s in both.symbols}
    assert both.action in ("spambox", "reject")


def test_each_rule_can_be_switched_off(tmp_path: object) -> None:
    from pathlib import Path

    conf = Path(str(tmp_path)) / "p.toml"
    conf.write_text("[checks.lures.options]\nmessenger = false\n", encoding="utf-8")
    pipeline = Pipeline(load_policy(conf), model=None, url_model=None)
    verdict = pipeline.judge_fields(MessageFields("무직자 당일 대출 카톡 ID: money77", at=DAY))
    assert "LURE_MESSENGER" not in [s.name for s in verdict.symbols]
    assert LureCheck(LureOptions()).options.messenger


def test_unknown_option_disables_the_check_not_the_pipeline(tmp_path: object) -> None:
    from pathlib import Path

    conf = Path(str(tmp_path)) / "p.toml"
    conf.write_text("[checks.lures.options]\nsnooze = true\n", encoding="utf-8")
    pipeline = Pipeline(load_policy(conf), model=None, url_model=None)
    verdict = pipeline.judge_fields(MessageFields("무직자 당일 대출 카톡 ID: money77", at=DAY))
    assert verdict.action != "error"
    assert "LURE_MESSENGER" not in [s.name for s in verdict.symbols]
