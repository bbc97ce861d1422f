"""Advertisement detection and the Network Act art. 50 rules for advertising messages.

First decide whether the message is an advertisement: a declared ``(광고)`` (or a variant), an
opt-out line, illegal-goods content (published by the ``illegal_goods`` check), or enough
promotional cues that outweigh transactional ones (OTP, delivery, billing notices carry none of
the ad duties). Then check the duties: ``(광고)`` at the very start, sender name and contact, a
free opt-out (``무료수신거부``/``무료거부`` + an 080 number), and no sending 21:00–08:00 KST
without night consent. The decision is published as the fact ``advertisement``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

from pydantic import Field

from spamgate.checks.base import Check, Hit, Options, SymbolDef
from spamgate.checks.context import CheckContext
from spamgate.domain.numbers import NumberKind, parse_number
from spamgate.text import normalize
from spamgate.text.terms import TermMatcher

__all__ = ["AdFacts", "AdvertisingCheck", "AdvertisingOptions"]

GROUP = "ad_law"

# Carrier labels that may precede the text as the recipient sees it.
_LABELS = re.compile(
    r"^\s*(?:[\[(](?:web\s*발신|국제\s*발신|국외\s*발신|해외\s*발신)[\])]\s*)*", re.I
)
_OPEN = "([{<【〔「『《〈"
_CLOSE = ")]}>】〕」』》〉"
# A bracketed 광고/廣告/AD/공고 with anything in between, at the start; "(광고)" exactly is lawful.
_PREFIX_VARIANT = re.compile(
    rf"^(?:[{re.escape(_OPEN)}][^{re.escape(_CLOSE)}\n]{{0,3}}?(?:광|廣)[^가-힣\n]{{0,3}}?(?:고|告)"
    rf"[^{re.escape(_CLOSE)}\n]{{0,2}}?[{re.escape(_CLOSE)}]?"
    rf"|(?:광|廣)[^가-힣\n]{{0,3}}?(?:고|告)\s*[{re.escape(_CLOSE)}]"
    rf"|[{re.escape(_OPEN)}]\s*ad\s*[{re.escape(_CLOSE)}])",
    re.I,
)
_PREFIX_FIRST = frozenset(_OPEN + "광廣")  # what _PREFIX_VARIANT and _NOTICE_PREFIX start with
_NOTICE_PREFIX = re.compile(rf"^[{re.escape(_OPEN)}]\s*공\s*고\s*[{re.escape(_CLOSE)}]")
_LAWFUL_PREFIX = "(광고)"
# Election campaign texts open with this mark (Public Official Election Act art. 82-5); they are
# political, not commercial, so the Network Act's duties for ads (art. 50) do not apply.
_ELECTION_MARK = re.compile(r"^[\[(【<〔]\s*선\s*거\s*운\s*동\s*정\s*보\s*[\])】>〕]")
_BRACKETED_NAME = re.compile(r"[\[【〔「『《〈(][^\]】〕」』》〉)\n]{2,30}[\]】〕」』》〉)]")

_OPTOUT = re.compile(
    r"(?:(?P<free>무\s?료)\s*(?:수\s?신\s*)?(?:거\s?부|차\s?단)|수\s?신\s*(?:거\s?부|차\s?단))"
    r"\s*(?:하기|방법|번호|는|시)?\s*[:：]?\s*(?:☎|tel\.?|전화)?\s*"
    r"(?P<number>\+?\d[\d .)(-]{5,16}\d)?"
    # "수신거부 080-123-4567(무료)": free said after the number
    r"(?:\s*[(（]?\s*(?P<free_after>무\s?료)\s*[)）]?)?",
    re.I,
)
_LATER_080 = re.compile(r"[^\d\n]{1,24}?(?P<number>080[ .)-]?\d{3,4}[ .-]?\d{4})(?!\d)")
_OPTOUT_EN = re.compile(r"\b(?:unsubscribe|opt[ -]?out|reply stop|txt stop|text stop)\b", re.I)

_PROMO_TERMS = (
    "할인",
    "세일",
    "특가",
    "이벤트",
    "쿠폰",
    "증정",
    "사은품",
    "무료체험",
    "체험단",
    "혜택",
    "적립",
    "프로모션",
    "오픈기념",
    "그랜드오픈",
    "신규가입",
    "가입시",
    "선착순",
    "한정판매",
    "최저가",
    "무료상담",
    "상담문의",
    "분양",
    "회원모집",
    "모집중",
    "런칭",
    "출시기념",
    "경품",
    "당첨",
    "지금바로",
    "마감임박",
    "특별혜택",
    "초대합니다",
    "방문하세요",
    "문의주세요",
    "기회",
    "시즌오프",
    "패키지",
    "입점",
    "구매시",
    "무료배송",
    "첫구매",
    "견본주택",
)
_PROMO_PCT = re.compile(r"\d{1,2}\s*%\s*(?:할인|off|dc|세일)|최대\s*\d{1,2}\s*%", re.I)
_PROMO_EN = re.compile(r"\b(?:sale|discount|promo|offer)\b", re.I)
_PROMO_EN_HINTS = re.compile("sale|disc|promo|offer")
_TRANSACTIONAL_TERMS = (
    "인증번호",
    "인증코드",
    "확인코드",
    "본인확인",
    "승인",
    "결제완료",
    "결제금액",
    "출금",
    "입금",
    "잔액",
    "배송예정",
    "배송완료",
    "배송출발",
    "도착예정",
    "주문번호",
    "주문이완료",
    "예약이확정",
    "예약이완료",
    "예약이접수",
    "청구",
    "납부",
    "고지",
    "요금은",
    "만기",
    "발급",
    "접수되었습니다",
    "완료되었습니다",
    "처리되었습니다",
    "비밀번호",
    "검침",
    "점검",
    "하원",
    "등원",
    "가정통신문",
    "합격",
    "진료",
    "처방",
)
_TRANSACTIONAL_EN_HINTS = re.compile("code|otp|order|shipped|delivered|payment|statement")
# Either list's hint words in one scan: most texts have none and skip both.
_EN_HINTS = re.compile(f"{_PROMO_EN_HINTS.pattern}|{_TRANSACTIONAL_EN_HINTS.pattern}")
_TRANSACTIONAL_EN = re.compile(
    r"\b(?:verification code|one[- ]time (?:pass)?code|otp|your code|passcode|order (?:no|number)"
    r"|has been (?:shipped|delivered)|payment (?:received|due)|statement)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class AdFacts:
    """Why the message is (or is not) taken for an advertisement."""

    is_ad: bool
    declared: bool
    reasons: tuple[str, ...]
    transactional: bool
    #: Only promotional wording says it is an ad (no (광고), opt-out line or illegal goods).
    inferred_only: bool = False


_NOT_AN_AD = AdFacts(False, False, (), False)
_TRANSACTIONAL = AdFacts(False, False, (), True)


class AdvertisingOptions(Options):
    night_start: time = time(21, 0)
    night_end: time = time(8, 0)
    #: Distinct promotional cues that make an undeclared message an advertisement.
    promo_threshold: int = Field(default=2, ge=1, le=10)
    extra_promo_terms: list[str] = Field(default_factory=list)
    extra_transactional_terms: list[str] = Field(default_factory=list)


def _sym(name: str, weight: float, description: str, group: str = GROUP) -> SymbolDef:
    return SymbolDef(name, weight, group, description)


class AdvertisingCheck(Check[AdvertisingOptions]):
    name = "advertising"
    symbols = (
        _sym("AD_PREFIX_MISSING", 4.5, "advertisement without (광고) at the very start"),
        _sym(
            "AD_PREFIX_VARIANT",
            6.0,
            "(광고) written as a filter-dodging variant, e.g. (광 고), [광고]",
        ),
        _sym("AD_PREFIX_MISPLACED", 4.0, "(광고) present but not at the very start of the text"),
        _sym("AD_SENDER_MISSING", 1.0, "advertisement does not name its sender (service name)"),
        _sym("AD_CONTACT_MISSING", 1.0, "advertisement gives no contact number or address"),
        _sym(
            "AD_OPTOUT_MISSING",
            4.0,
            "advertisement without a free opt-out (무료수신거부 + 080 number)",
        ),
        _sym("AD_OPTOUT_NOT_FREE", 2.5, "opt-out is not free: no 무료, or not an 080 number"),
        _sym("AD_NIGHT_SENDING", 6.0, "advertisement sent 21:00-08:00 KST without night consent"),
        _sym(
            "ELECTION_CAMPAIGN",
            0.0,
            "election campaign text marked [선거운동정보] (Election Act art. 82-5): no ad duties",
            "info",
        ),
        _sym(
            "TRANSACTIONAL",
            0.0,
            "transactional message (OTP, delivery, billing): no ad duties",
            "info",
        ),
    )
    options_model = AdvertisingOptions

    def __init__(self, options: AdvertisingOptions) -> None:
        super().__init__(options)
        # Compacted by the same normaliser as the messages, so the keys match ctx.text.compact.
        self._promo = _matcher([*_PROMO_TERMS, *options.extra_promo_terms])
        self._transactional = _matcher([*_TRANSACTIONAL_TERMS, *options.extra_transactional_terms])
        # Both lists in one automaton: one scan of the text per message instead of two.
        self._cues = TermMatcher(self._promo.terms | self._transactional.terms)

    # -- classification -------------------------------------------------------------------
    def _prefix(self, original: str) -> tuple[str, str | None]:
        """('lawful'|'variant'|'misplaced'|'notice'|'election'|'none', evidence) from the
        original text."""
        head = unicodedata.normalize("NFKC", original[:200])
        head = head[_LABELS.match(head).end() :]  # type: ignore[union-attr]  # always matches
        if head.startswith(_LAWFUL_PREFIX):
            return "lawful", None
        if head.startswith(("[선", "(선", "【선", "<선", "〔선")) and _ELECTION_MARK.match(head):
            return "election", None
        # Every variant and notice form opens with a bracket or 광/廣; most texts open otherwise.
        opens = head[:1] in _PREFIX_FIRST
        variant = _PREFIX_VARIANT.match(head) if opens else None
        if variant:
            return "variant", variant.group(0)
        if "광" in original and _LAWFUL_PREFIX in unicodedata.normalize("NFKC", original):
            return "misplaced", head[:20]
        notice = _NOTICE_PREFIX.match(head) if opens else None
        if notice:
            return "notice", notice.group(0)
        return "none", None

    def classify(self, ctx: CheckContext, prefix: str) -> AdFacts:
        compact = ctx.text.compact
        reasons: list[str] = []
        declared = prefix in ("lawful", "variant", "misplaced")
        if declared:
            reasons.append(f"prefix:{prefix}")
        optout = _has_optout(ctx.text.text)
        if optout:
            reasons.append("opt-out line")
        illegal = ctx.facts.get("illegal_categories", ())
        text = ctx.text.text
        promo: set[str] = set()
        transactional = False
        promo_terms, transactional_terms = self._promo.terms, self._transactional.terms
        for term in self._cues.found(compact):
            if term in promo_terms:
                promo.add(term)
            if term in transactional_terms:  # a term may be on both lists
                transactional = True
        # The regexes cost microseconds each; cheap substring tests skip them for most texts.
        if "%" in text:
            promo.update(m.group(0).lower() for m in _PROMO_PCT.finditer(text))
        en_hints = _EN_HINTS.search(text) is not None
        if en_hints and _PROMO_EN_HINTS.search(text):
            promo.update(m.group(0).lower() for m in _PROMO_EN.finditer(text))
        if not transactional and en_hints:
            transactional = _TRANSACTIONAL_EN_HINTS.search(text) is not None and bool(
                _TRANSACTIONAL_EN.search(text)
            )
        # Illegal goods make an advertisement when the text also calls to action (a link, a number
        # to call, a promotional cue); a chat that merely mentions 카지노 is not one.
        if illegal and (promo or ctx.urls or ctx.numbers_in_text or "텔레" in text or "@" in text):
            reasons.append("illegal goods: " + ",".join(illegal))
        needed = self.options.promo_threshold + (1 if transactional else 0)
        if len(promo) >= needed:
            reasons.append("promotional: " + ",".join(sorted(promo)[:4]))
        is_ad = bool(reasons)
        if prefix == "notice" and promo:  # "(공고)" dressing up an ad
            is_ad = True
            reasons.append("(공고) prefix with promotional cues")
        if not is_ad:  # most messages: one shared (immutable) answer each, not a new object
            return _TRANSACTIONAL if transactional else _NOT_AN_AD
        inferred_only = all(r.startswith(("promotional", "(공고)")) for r in reasons)
        return AdFacts(is_ad, declared, tuple(reasons), False, inferred_only)

    # -- duties ---------------------------------------------------------------------------
    def _sender_named(self, original: str) -> bool:
        text = unicodedata.normalize("NFKC", original)
        at = text.find("광고")
        rest = text[at + 3 :] if at >= 0 else text
        rest = rest.lstrip(" )]}】〕」』》〉:-·")
        if _BRACKETED_NAME.search(rest[:80]):
            return True
        first = rest.strip().split("\n", 1)[0].strip()
        return 2 <= len(first) <= 25 and "%" not in first and "!" not in first

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        # Hits go into a list rather than being yielded: this runs for every message.
        prefix, prefix_evidence = self._prefix(ctx.message.text)
        if prefix == "election":
            ctx.facts["advertisement"] = _NOT_AN_AD
            return [Hit("ELECTION_CAMPAIGN", "[선거운동정보]")]
        facts = self.classify(ctx, prefix)
        ctx.facts["advertisement"] = facts
        if not facts.is_ad:
            return [Hit("TRANSACTIONAL", None)] if facts.transactional else ()
        hits: list[Hit] = []
        why = "; ".join(facts.reasons)
        if prefix == "variant":
            hits.append(Hit("AD_PREFIX_VARIANT", prefix_evidence))
        elif prefix == "misplaced":
            hits.append(Hit("AD_PREFIX_MISPLACED", prefix_evidence))
        elif prefix in ("none", "notice"):
            hits.append(Hit("AD_PREFIX_MISSING", why))
        if facts.inferred_only:
            # Wording alone can be wrong (a notice with an upsell line): one symbol, not a pile.
            self._night(ctx, hits)
            return hits
        if facts.declared and not self._sender_named(ctx.message.text):
            hits.append(Hit("AD_SENDER_MISSING", None))
        self._optout_and_contact(ctx, hits)
        self._night(ctx, hits)
        return hits

    def _optout_and_contact(self, ctx: CheckContext, hits: list[Hit]) -> None:
        text = ctx.text.text
        optout_numbers: set[str] = set()
        best: tuple[bool, str | None] | None = None  # (free, number digits)
        for match in _OPTOUT.finditer(text):
            number = match.group("number")
            if number is None:
                # "수신거부: 앱 설정 또는 080-896-1010": the 080 line a few words on
                later = _LATER_080.match(text, match.end())
                number = later.group("number") if later else None
            digits = parse_number(number).digits if number else None
            if digits:
                optout_numbers.add(digits)
            free = match.group("free") is not None or match.group("free_after") is not None
            candidate = (free, digits)
            if best is None or (candidate[0] and candidate[1]):
                best = candidate
        if best is None:
            if not _OPTOUT_EN.search(text):
                hits.append(Hit("AD_OPTOUT_MISSING", None))
        else:
            free, digits = best
            if digits is None:
                hits.append(Hit("AD_OPTOUT_MISSING", "opt-out line without a number"))
            elif not _is_toll_free(digits):
                hits.append(
                    Hit("AD_OPTOUT_NOT_FREE", f"opt-out number {digits} is not an 080 number")
                )
            elif not free:
                hits.append(Hit("AD_OPTOUT_NOT_FREE", "무료 (free) missing before 수신거부"))
        contacts = [n for n in ctx.numbers_in_text if n.digits not in optout_numbers]
        if not contacts and not ctx.urls and "카카오" not in text and "@" not in text:
            hits.append(Hit("AD_CONTACT_MISSING", None))

    def _night(self, ctx: CheckContext, hits: list[Hit]) -> None:
        if ctx.account is not None and ctx.account.night_ad_consent:
            return
        now = ctx.local_time.timetz().replace(tzinfo=None)
        start, end = self.options.night_start, self.options.night_end
        at_night = (now >= start or now < end) if start > end else (start <= now < end)
        if at_night:
            hits.append(Hit("AD_NIGHT_SENDING", ctx.local_time.strftime("%H:%M KST")))


def _matcher(terms: list[str]) -> TermMatcher:
    return TermMatcher(normalize(term).compact for term in terms)


def _has_optout(text: str) -> bool:
    # Cheap substring tests first: nearly all messages have neither 거/차 nor Latin opt-out words.
    if ("거" in text or "차" in text) and _OPTOUT.search(text):
        return True
    return ("stop" in text or "opt" in text or "unsub" in text) and bool(_OPTOUT_EN.search(text))


def _is_toll_free(digits: str) -> bool:
    # Lenient on length: the duty is a *free* number, and 080 is the free range.
    return digits.startswith("080") or parse_number(digits).kind == NumberKind.TOLL_FREE
