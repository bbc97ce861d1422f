"""Content for goods and services that are illegal to advertise, even with consent (art. 50).

Matching runs on the *compact* normalised text (letters and digits only), so spacing, symbols,
emoji separators, full-width forms and jamo tricks (`바 카 라`, `카⭐지⭐노`, `ㅋr지노`) do not
hide a term. Each category is one symbol; more distinct terms raise the factor, capped. The
categories found are published as the fact ``illegal_categories`` so the advertising check knows
the message advertises something.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from spamgate.checks.base import Check, Hit, Options, SymbolDef
from spamgate.checks.context import CheckContext
from spamgate.text import normalize
from spamgate.text.terms import TermMatcher

__all__ = ["DEFAULT_TERMS", "IllegalGoodsCheck", "IllegalGoodsOptions"]

GROUP = "illegal_content"

# Chosen to be specific to the illegal trade: plain words that legitimate senders also use (대출
# alone, 투자, 만남, 마약김밥) are only counted with a qualifier. A leading "=" keeps a term off the
# compact text (see IllegalGoodsCheck): 개인 돈 / 개인돈 must be one word to count.
DEFAULT_TERMS: dict[str, list[str]] = {
    "gambling": [
        "카지노",
        "바카라",
        "토토사이트",
        "사설토토",
        "슬롯머신",
        "온라인슬롯",
        "슬롯사이트",
        "첫충",
        "매충",
        "입플",
        "꽁머니",
        "먹튀",
        "홀덤사이트",
        "파워볼",
        "배팅",
        "베팅",
        "충전보너스",
        "가입머니",
        "환전무제한",
        "출금제한없음",
        "무제한출금",
        "라이브카지노",
        "그래프게임",
        "바둑이",
        "섯다",
        "토토",
        "casino",
        "baccarat",
        "betting",
        "slot site",
        "free spins",
        "sportsbook",
    ],
    "illegal_loan": [
        "급전",
        "일수대출",
        "월변",
        "작업대출",
        "대포통장",
        "=개인돈",
        "당일대출",
        "즉시대출",
        "무직자대출",
        "신불자대출",
        "연체자대출",
        "저신용대출",
        "무서류대출",
        "무담보대출",
        "신용무관",
        "연체자 ok",
        "회생자 ok",
        "신불자 ok",
        "무직자 ok",
        "부결자 ok",
        "누구나대출",
        "대출승인률",
        "통장매입",
        "통장임대",
        "카드깡",
        "휴대폰깡",
        "내구제",
    ],
    "drugs": [
        "대마초",
        "대마젤리",
        "대마오일",
        "대마액상",
        "대마구매",
        "마약판매",
        "마약구매",
        "필로폰",
        "떨팝니다",
        "=작대기",
        "케타민",
        "엑스터시",
        "엑스타시",
        "코카인",
        "물뽕",
        "졸피뎀",
        "아이스팝니다",
        "캔디팝니다",
        "마리화나",
        "사티바",
        "ghb",
        "lsd",
        "mdma",
    ],
    "adult": [
        "조건만남",
        "출장안마",
        "출장마사지",
        "키스방",
        "립카페",
        "애인대행",
        "섹스",
        "야동",
        "성인방송",
        "19금영상",
        "야설",
        "원나잇",
        "즉석만남",
        "만남주선",
        "몸캠",
        "porn",
        "escort",
    ],
    "investment_fraud": [
        "리딩방",
        "주식리딩",
        "급등주",
        "급등예상",
        "수익률보장",
        "손실복구",
        "vip종목",
        "세력주",
        "작전주",
        "코인리딩",
        "투자리딩",
        "상한가종목",
        "실전매매방",
        "고수익보장",
    ],
}

# Category → (symbol, default weight, description). Weights are defaults; policy sets them.
_SYMBOLS = {
    "gambling": ("ILLEGAL_GAMBLING", 7.0, "illegal gambling content (불법 도박)"),
    "illegal_loan": ("ILLEGAL_LOAN", 7.0, "illegal lending content (불법 대출·대부)"),
    "drugs": ("ILLEGAL_DRUGS", 9.0, "drug sales content (마약류 판매)"),
    "adult": ("ILLEGAL_ADULT", 6.0, "adult / prostitution content (성매매·음란)"),
    "investment_fraud": (
        "ILLEGAL_INVESTMENT",
        6.0,
        "stock/crypto 'leading room' or guaranteed-return lure (불법 투자 리딩)",
    ),
}


class IllegalGoodsOptions(Options):
    """Extra terms per category (merged with the defaults) and the factor per extra term."""

    extra_terms: dict[str, list[str]] = Field(default_factory=dict)
    factor_per_extra_term: float = Field(default=0.25, ge=0, le=2)
    max_factor: float = Field(default=2.0, ge=1, le=5)


def _is_hangul(ch: str) -> bool:
    return "가" <= ch <= "힣"


def _bounded(text: str, start: int, end: int) -> bool:
    """A readable-text hit counts only if it does not start (or, for Latin, end) inside a word."""
    before = text[start - 1] if start > 0 else " "
    if text[start].isascii():
        after = text[end] if end < len(text) else " "
        return not (before.isascii() and before.isalnum()) and not (
            after.isascii() and after.isalpha()
        )
    return not _is_hangul(before)


class IllegalGoodsCheck(Check[IllegalGoodsOptions]):
    name = "illegal_goods"
    symbols = tuple(SymbolDef(sym, w, GROUP, desc) for sym, w, desc in _SYMBOLS.values())
    options_model = IllegalGoodsOptions

    def __init__(self, options: IllegalGoodsOptions) -> None:
        super().__init__(options)
        unknown = set(options.extra_terms) - set(_SYMBOLS)
        if unknown:
            raise ValueError(f"unknown categories in extra_terms: {sorted(unknown)}")
        # Hangul terms of three or more syllables are matched on the compact text, where no
        # spacing or symbol can split them. Shorter and Latin terms would match across word
        # boundaries or inside random URL tails there, so they are matched on the readable text
        # (where the normaliser already re-joined single syllables split by separators) with
        # boundaries; a term written with a space also matches without it.
        # Terms go through the same normaliser as the messages, so they match its forms exactly.
        compact_terms: list[str] = []
        text_terms: list[str] = []
        self._category_of: dict[str, str] = {}
        #: Every form a matcher may report → the term's compact key (evidence and counting).
        self._key_of: dict[str, str] = {}
        for category in _SYMBOLS:
            for term in DEFAULT_TERMS[category] + options.extra_terms.get(category, []):
                text_only = term.startswith("=")
                forms = normalize(term.removeprefix("="))
                key = forms.compact
                if not key or key in self._category_of:
                    continue
                self._category_of[key] = category
                if not text_only and len(key) >= 3 and all(_is_hangul(ch) for ch in key):
                    compact_terms.append(key)
                    self._key_of[key] = key
                else:
                    text_terms.extend({forms.text, key})
                    self._key_of[forms.text] = self._key_of[key] = key
        self._compact_terms = TermMatcher(compact_terms)
        self._text_terms = TermMatcher(text_terms)

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        # Lists, not generators: this runs for every message and nearly all find nothing.
        hits = self._compact_terms.found(ctx.text.compact)
        text = ctx.text.text
        hits += [term for a, b, term in self._text_terms.spans(text) if _bounded(text, a, b)]
        if not hits:
            ctx.facts["illegal_categories"] = ()
            return ()
        found: dict[str, list[str]] = {}
        for term in hits:
            key = self._key_of[term]
            terms = found.setdefault(self._category_of[key], [])
            if key not in terms:
                terms.append(key)
        ctx.facts["illegal_categories"] = tuple(found)
        opts = self.options
        return [
            Hit(
                _SYMBOLS[category][0],
                ", ".join(terms[:4]),
                min(opts.max_factor, 1.0 + opts.factor_per_extra_term * (len(terms) - 1)),
            )
            for category, terms in found.items()
        ]
