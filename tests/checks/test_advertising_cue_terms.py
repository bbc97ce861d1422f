"""Promotional and transactional terms are found in one scan; a term may be on both lists."""

from spamgate.checks.advertising import AdFacts, AdvertisingCheck, AdvertisingOptions
from spamgate.checks.context import prepare
from spamgate.domain.message import parse_message


def _classify(check: AdvertisingCheck, text: str) -> AdFacts:
    ctx = prepare(parse_message(text))
    ctx.facts["illegal_categories"] = ()
    return check.classify(ctx, "none")


def test_a_term_on_both_lists_counts_for_both() -> None:
    # 승인 is a default transactional term; here it is a promotional one as well.
    check = AdvertisingCheck(AdvertisingOptions(extra_promo_terms=["승인"], promo_threshold=1))
    facts = _classify(check, "결제 승인 안내")
    # One promotional cue, but transactional: the threshold rises to 2, so no ad.
    assert not facts.is_ad and facts.transactional
    facts = _classify(check, "승인 기념 할인")
    assert facts.is_ad and facts.reasons == ("promotional: 승인,할인",)


def test_plain_messages_share_one_answer() -> None:
    check = AdvertisingCheck(AdvertisingOptions())
    first, second = (
        _classify(check, "안녕하세요 내일 뵙겠습니다"),
        _classify(check, "네 알겠습니다"),
    )
    assert first == second and not first.is_ad and not first.transactional
    assert first.reasons == () and not first.declared and not first.inferred_only
