"""Network Act art. 50: advertisement detection and each duty, with Korean examples."""

from __future__ import annotations

import pytest

from conftest import Judge

COMPLIANT = (
    "(광고)[행복마트 역삼점]\n"
    "겨울 정기 세일 최대 30% 할인, 12/1~12/7\n"
    "문의 02-555-1234\n"
    "무료수신거부 080-123-4567"
)


def names(judge: Judge, text: str, **kw: str) -> list[str]:
    return judge(text, **kw).symbol_names()


def test_compliant_ad_is_delivered_without_ad_symbols(judge: Judge) -> None:
    verdict = judge(COMPLIANT, sender="0215881234", at="2026-11-26T14:00:00+09:00")
    assert verdict.action == "deliver"
    assert not [n for n in verdict.symbol_names() if n.startswith("AD_")]


def test_compliant_ad_with_web_label_and_fullwidth_parens(judge: Judge) -> None:
    text = "[Web발신]\n（광고）[요가하우스]\n첫 수업 무료 체험 이벤트\n☎ 031-123-4567\n무료거부 0801234567"
    assert not [n for n in names(judge, text) if n.startswith("AD_")]


def test_missing_prefix_on_promotional_text(judge: Judge) -> None:
    text = "방배 아웃렛 시즌오프 최대 20% + 추가 10% 쿠폰\n02-795-8135\n무료수신거부 080-470-5240"
    verdict = judge(text)
    assert "AD_PREFIX_MISSING" in verdict.symbol_names()
    assert verdict.action == "label"
    sym = next(s for s in verdict.symbols if s.name == "AD_PREFIX_MISSING")
    assert sym.evidence and "opt-out" in sym.evidence


@pytest.mark.parametrize(
    "prefix",
    ["(광 고)", "(광/고)", "[광고]", "(광.고)", "<광고>", "(廣告)", "광고)", "(광 .고)", "[AD]"],
)
def test_prefix_variants_are_violations(judge: Judge, prefix: str) -> None:
    text = f"{prefix}[미아 렌터카] 장기렌트 신차 특가 상담 1522-4935 무료수신거부 0808741586"
    verdict = judge(text)
    assert "AD_PREFIX_VARIANT" in verdict.symbol_names()
    assert "AD_PREFIX_MISSING" not in verdict.symbol_names()


def test_notice_prefix_dressing_an_ad(judge: Judge) -> None:
    text = "(공고)[강남 피부과] 여름 제모 40% 할인 이벤트 예약 02-6199-7093 무료거부 080-574-6345"
    assert "AD_PREFIX_MISSING" in names(judge, text)


def test_real_public_notice_is_not_an_ad(judge: Judge) -> None:
    text = "(공고) 2026년 정기 주주총회 소집 공고: 12월 15일 10시 본사 대회의실"
    assert judge(text).action == "deliver"


def test_misplaced_prefix(judge: Judge) -> None:
    text = "[웅진씽크빅 첨단지국](광고) 학습 진단 무료! 상담 010-5533-7359\n무료거부 080-975-6658"
    assert "AD_PREFIX_MISPLACED" in names(judge, text)


def test_missing_optout(judge: Judge) -> None:
    text = "(광고)\n[석촌휘트니스]\nPT 10회 특가 220,000원\n문의 032-5531-2060"
    found = names(judge, text)
    assert "AD_OPTOUT_MISSING" in found
    assert "AD_OPTOUT_NOT_FREE" not in found


def test_optout_to_a_mobile_number_is_not_free(judge: Judge) -> None:
    text = "(광고)\n[LG베스트샵 천안점]\n가전 최대 15% 할인\n☎ 02-6575-5120\n수신거부 010-8816-9963"
    verdict = judge(text)
    sym = next(s for s in verdict.symbols if s.name == "AD_OPTOUT_NOT_FREE")
    assert sym.evidence is not None and "01088169963" in sym.evidence


def test_optout_without_free_word(judge: Judge) -> None:
    text = "(광고)[꽃집 플로라] 장미 한 다발 특가 문의 02-123-4567 수신거부 080-111-2222"
    verdict = judge(text)
    sym = next(s for s in verdict.symbols if s.name == "AD_OPTOUT_NOT_FREE")
    assert sym.evidence is not None and "무료" in sym.evidence


@pytest.mark.parametrize(
    "optout",
    ["수신거부: 080-870-4832(무료)", "수신거부 080-870-4832 (무료)", "수신거부 080-870-4832 무료"],
)
def test_optout_said_free_after_the_number(judge: Judge, optout: str) -> None:
    text = f"(광고)[올리브영] 올영세일 최대 70% 할인 문의 1577-4887 / {optout}"
    assert not [n for n in names(judge, text) if n.startswith("AD_OPTOUT")]


def test_optout_line_with_the_free_number_a_little_further(judge: Judge) -> None:
    text = "(광고)[배달의민족] 한식 최대 5천원 할인 쿠폰팩 1600-0987 무료수신거부: 앱 설정 또는 080-896-1010"
    assert not [n for n in names(judge, text) if n.startswith("AD_OPTOUT")]
    # a number much further on is not the opt-out's
    far = "(광고)[꽃집] 장미 특가 1600-0987 수신거부는 고객센터 홈페이지에서 가능합니다 평일 9시부터 080-896-1010"
    assert "AD_OPTOUT_MISSING" in names(judge, far)


def test_free_after_another_number_does_not_make_the_optout_free(judge: Judge) -> None:
    text = "(광고)[꽃집 플로라] 장미 특가 수신거부 010-111-2222 배송 무료 02-123-4567"
    assert "AD_OPTOUT_NOT_FREE" in names(judge, text)


@pytest.mark.parametrize(
    "text",
    [
        "[선거운동정보] 기호 2번 ○○○ 후보입니다. 오늘 저녁 7시 ○○역 광장에서 인사드립니다."
        " / 수신거부 080-957-6590",
        "[Web발신]\n[선거운동정보]\n구청장 후보 기호 1번 공약 안내 최대 30% 할인 같은 건 없습니다",
        "(선거운동정보) 사전투표 4/5~4/6, 신분증만 있으면 어디서든 투표할 수 있습니다",
    ],
)
def test_election_campaign_text_has_no_ad_duties(judge: Judge, text: str) -> None:
    verdict = judge(text, at="2026-11-26T22:00:00+09:00")
    found = verdict.symbol_names()
    assert "ELECTION_CAMPAIGN" in found
    assert not [n for n in found if n.startswith("AD_")]
    assert verdict.action == "deliver"


def test_election_mark_inside_the_text_is_no_exemption(judge: Judge) -> None:
    text = "겨울 시즌오프 최대 50% 할인 쿠폰 증정 [선거운동정보] 02-123-4567"
    found = names(judge, text)
    assert "ELECTION_CAMPAIGN" not in found
    assert "AD_PREFIX_MISSING" in found


def test_obfuscated_optout_still_counts(judge: Judge) -> None:
    text = "(광고)[스마일 안경]\n안경테 50% 할인 행사\n02-111-2222\n무✔료수신거부 080-431-9186"
    assert not [n for n in names(judge, text) if n.startswith("AD_OPTOUT")]


@pytest.mark.parametrize(
    ("at", "fires"),
    [
        ("2026-11-26T21:00:00+09:00", True),
        ("2026-11-26T23:59:00+09:00", True),
        ("2026-11-27T07:59:00+09:00", True),
        ("2026-11-27T08:00:00+09:00", False),
        ("2026-11-26T20:59:59+09:00", False),
        ("2026-11-26T12:30:00+00:00", True),  # 21:30 in Seoul: rules run on Korea time
        ("2026-11-26T22:30:00", True),  # naive time is Korea time
    ],
)
def test_night_sending(judge: Judge, at: str, fires: bool) -> None:
    assert ("AD_NIGHT_SENDING" in names(judge, COMPLIANT, at=at)) is fires


def test_night_consent_per_account(judge: Judge, tmp_path: object) -> None:
    from pathlib import Path

    from spamgate.config import load_policy
    from spamgate.pipeline import MessageFields, Pipeline

    conf = Path(str(tmp_path)) / "policy.toml"
    conf.write_text('[accounts."NIGHT-OK"]\nnight_ad_consent = true\n', encoding="utf-8")
    pipeline = Pipeline(load_policy(conf))
    at = "2026-11-26T22:00:00+09:00"
    with_consent = pipeline.judge_fields(MessageFields(COMPLIANT, at=at, account="NIGHT-OK"))
    without = pipeline.judge_fields(MessageFields(COMPLIANT, at=at, account="OTHER"))
    assert "AD_NIGHT_SENDING" not in with_consent.symbol_names()
    assert "AD_NIGHT_SENDING" in without.symbol_names()


def test_night_transactional_is_fine(judge: Judge) -> None:
    text = "[CJ대한통운] 고객님의 상품이 배송완료 되었습니다. 운송장 123456789012"
    verdict = judge(text, at="2026-11-26T23:30:00+09:00")
    assert verdict.action == "deliver"
    assert "AD_NIGHT_SENDING" not in verdict.symbol_names()


@pytest.mark.parametrize(
    "text",
    [
        "[KB국민은행] 인증번호 [482913]를 입력해주세요. 타인에게 절대 알려주지 마세요.",
        "[쿠팡] 주문이 완료되었습니다. 결제금액 32,800원 / 도착예정 11/28",
        "[한국전력] 11월분 전기요금은 45,270원입니다. 납기일 12/16",
        "[신한카드] 승인 홍*동님 15,000원 11/26 13:06 스타벅스 역삼점",
        "[로젠택배] 금일 12~14시 배송예정입니다. 부재시 문 앞에 두겠습니다.",
        "Your verification code is 615509. Don't share this code with anyone.",
    ],
)
def test_transactional_messages_are_not_ads(judge: Judge, text: str) -> None:
    verdict = judge(text)
    assert verdict.action == "deliver"
    assert not [n for n in verdict.symbol_names() if n.startswith("AD_")]


def test_transactional_with_heavy_promotion_is_an_ad(judge: Judge) -> None:
    text = "[쿠팡] 주문이 완료되었습니다. 지금 바로 앱에서 쿠폰 받고 최대 50% 할인 이벤트 참여!"
    assert "AD_PREFIX_MISSING" in names(judge, text)


def test_an_ad_inferred_from_wording_alone_gets_one_symbol(judge: Judge) -> None:
    # A notice with an upsell line: wording may mislead, so no pile of duties on top.
    text = (
        "[KT] 약정 만료 예정일은 2025.10.14입니다. 선택약정 재가입 시 요금 25% 할인이 가능합니다."
    )
    verdict = judge(text)
    assert verdict.symbol_names() == ["AD_PREFIX_MISSING"]
    assert verdict.action == "label"


def test_sender_name_missing(judge: Judge) -> None:
    text = (
        "(광고)\n\n최대 50% 할인! 지금 바로 구매하세요! 문의 02-111-2222\n무료수신거부 080-123-4567"
    )
    assert "AD_SENDER_MISSING" in names(judge, text)


def test_contact_missing(judge: Judge) -> None:
    text = "(광고)[행복마트] 주말 특가 세일 30% 할인\n무료수신거부 080-123-4567"
    assert "AD_CONTACT_MISSING" in names(judge, text)


def test_personal_chat_is_not_an_ad(judge: Judge) -> None:
    assert judge("현우야 승진 축하해!! 진짜 잘됐다", sender="01058186042").action == "deliver"


def test_advertising_fact_is_published(pipeline: object) -> None:
    from spamgate.checks.advertising import AdFacts
    from spamgate.checks.context import prepare
    from spamgate.checks.engine import evaluate
    from spamgate.pipeline import MessageFields, Pipeline

    assert isinstance(pipeline, Pipeline)
    message = pipeline.parse(MessageFields(COMPLIANT))
    ctx = prepare(message)
    evaluate(pipeline.default, ctx)
    facts = ctx.facts["advertisement"]
    assert isinstance(facts, AdFacts)
    assert facts.is_ad and facts.declared
