"""The three moves of Korean smishing that need no link: explainable rules beside the model.

KISA and the police describe the same few scripts again and again. The content model learns
them from examples and misses new wordings; these rules name the move itself, so a verdict can
say *why* a linkless text is a lure, and a sanction can cite it:

* ``LURE_CALLBACK`` — a payment, card, account or legal alert that asks the recipient, "if it
  was not you", to call a number of a kind no bank, card issuer, shop or agency uses for it:
  a mobile (010), VoIP (070), personal (050X) or plain landline number, and no representative
  (15XX/16XX/18XX) or toll-free (080) number beside it. The fake charge or fake account
  opening is the bait; the phone call is the voice-phishing step (결제·개설 사칭 전화 유도).
* ``LURE_MESSENGER`` — a text about money, loans, side jobs, investment tips, gambling or
  goods that moves the recipient to a messenger ID (카톡/텔레그램/라인 ID, a t.me link, a bare
  @handle): how illegal lenders, leading rooms and sellers leave the traceable SMS channel.
  Companies use channels (카카오톡 채널, pf.kakao.com), not personal IDs.
* ``LURE_IMPERSONATION`` — acquaintance impersonation (지인·가족 사칭): a broken, lost or new
  phone as the pretext, together with a request for money, gift cards, a verification code,
  ID or card photos, a password, an app or a link.

Each fires on wording alone, so a lure alone only labels the message (the policy's weight
equals the ``label`` threshold): the recipient is warned; a second sign (the model, a link, the
envelope) is needed to keep it out of the inbox. The matching runs on the normalised text
(spacing, symbols and full-width forms undone), with cheap substring gates first: nearly every
message skips all three regexes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from spamgate.checks.base import Check, Hit, Options, SymbolDef
from spamgate.checks.context import CheckContext
from spamgate.domain.numbers import NumberKind

__all__ = ["LureCheck", "LureOptions"]

GROUP = "lures"

# -- callback ------------------------------------------------------------------------------
# "If it was not you" in its usual forms: 본인이 아니면 / 본인이 신청하지 않았다면 / 본인 결제가
# 아닐 경우 / 명의 도용.
_DENIAL: Final = re.compile(
    r"본인\s*(?:이|께서)?\s*(?:직접\s*)?(?:아니|아닐|아닌|신청하지|요청하지|개설하지|결제하지"
    r"|변경하지|가입하지|구매하지|하지\s*않)"
    r"|본인\s*(?:의\s*)?(?:거래|결제|사용|신청|요청)\s*(?:가|이)?\s*아닌|명의\s*도용|도용"
)
_ALERT: Final = re.compile(
    r"결제|승인|발급|개설|이체|출금|인출|해외|로그인|접속|대출|명의|카드|계좌|지급\s*정지"
    r"|범죄|소환|압류|주문|가입"
)
#: Kinds of number an institution's alert never asks you to call back.
_CALLBACK_KINDS: Final = frozenset(
    {NumberKind.MOBILE, NumberKind.VOIP, NumberKind.PERSONAL, NumberKind.GEOGRAPHIC}
)
#: Kinds that institutions do publish (a representative or toll-free line).
_INSTITUTION_KINDS: Final = frozenset(
    {NumberKind.REPRESENTATIVE, NumberKind.TOLL_FREE, NumberKind.SPECIAL}
)

# -- messenger -----------------------------------------------------------------------------
_MESSENGER_ID: Final = re.compile(
    r"(?<![가-힣a-z0-9.])(?:카카오\s*톡|카톡|까톡|캌톡|텔레\s*그램|텔레그렘|텔레|텔그|라인|위챗"
    r"|wechat|telegram|kakao\s*(?:talk)?)\s*(?:id|아이디)?\s*[:：]?\s*@?[a-z0-9][a-z0-9_.-]{2,20}"
    r"|(?<![가-힣a-z0-9.])(?:id|아이디)\s*[:：]\s*@?[a-z0-9][a-z0-9_.-]{2,20}"
    r"|t\.me/\S+"
    r"|(?<![a-z0-9._%+-])@[a-z][a-z0-9_]{3,20}(?![a-z0-9_]*\.[a-z])"
)
# An @handle after these is a profile to look at (an ad's Instagram), not a contact to move to.
_PROFILE_BEFORE: Final = re.compile(
    r"(?:인스타(?:그램)?|insta(?:gram)?|유튜브|youtube|틱톡)\s*:?\s*$"
)
_MONEY: Final = re.compile(
    r"대출|자금|급전|한도|승인|입금|출금|환전|현금|수익|부업|알바|재택|고수익|종목|리딩|주식|코인"
    r"|비트|usdt|투자|상품권|카지노|배팅|베팅|토토|슬롯|정품|당일"
)

# -- impersonation -------------------------------------------------------------------------
_PRETEXT: Final = re.compile(
    r"(?:핸드폰|휴대폰|휴대\s*전화|전화기|폰|액정)\s*(?:이|가|을|를|도)?\s*"
    r"(?:고장|깨져|깨졌|깨지|깨짐|수리|a/?s|분실|잃어\s*버|침수|망가|박살|떨어뜨|먹통|초기화)"
    r"|(?<!비밀)번호\s*(?:가|이|를|을)?\s*(?:바뀌|바뀐|바꿨|바꿔|바꾸)"
    r"|폰\s*(?:을|를)?\s*(?:바꿨|바꿔|바꾸)"
    r"|(?:새|임시)\s*(?:번호|폰)"
    r"|(?:피시|pc|컴퓨터|노트북)\s*(?:로|으로)\s*(?:카톡|문자|연락)"
    r"|인증서\s*(?:가|이)?\s*(?:오류|안\s*(?:돼|되)|만료)"
)
_REQUEST: Final = re.compile(
    r"송금|입금|이체|(?:돈|원|금액)\s*(?:만|좀|을|를)?\s*(?:보내|부쳐)|빌려\s*(?:줘|줄|주)"
    r"|대신\s*(?:결제|구매|사\s*줘|해\s*줘)"
    r"|결제\s*(?:좀|해\s*(?:줘|줄|주))|구매\s*(?:좀|해\s*(?:줘|줄|주))|상품권|기프트\s*카드|기프티콘"
    r"|구글\s*(?:기프트|카드|플레이)|인증\s*번호|신분증|주민\s*(?:등록)?\s*(?:증|사진|번호)"
    r"|카드\s*(?:앞|뒤|번호|사진)|(?:카드|통장|계좌|인증서|은행|뱅킹)\s*(?:의\s*)?(?:비밀\s*번호|비번)"
    r"|앱\s*(?:을|좀)?\s*(?:설치|깔아)"
    r"|링크\s*(?:좀\s*)?(?:눌러|들어가|클릭)|원격"
)

# A warning *about* this scam ("돈 보내달라는 문자 오면 나 아니야", "절대 보내지 마") uses the same
# words; the scam itself never warns.
_WARNS: Final = re.compile(r"보내지\s*마|나\s*아니|사칭|사기\s*(?:문자|조심)|속지\s*마")


class LureOptions(Options):
    #: Each rule can be switched off on its own (weights are set in the policy's symbols).
    callback: bool = True
    messenger: bool = True
    impersonation: bool = True


class LureCheck(Check[LureOptions]):
    name = "lures"
    options_model = LureOptions
    symbols = (
        SymbolDef(
            "LURE_CALLBACK",
            4.0,
            GROUP,
            "an account or payment alert asks to call back a mobile, VoIP or plain landline "
            "number (결제·개설 사칭 전화 유도)",
        ),
        SymbolDef(
            "LURE_MESSENGER",
            4.0,
            GROUP,
            "money, loans, side jobs or investment offered through a messenger ID "
            "(카톡·텔레그램 ID 유도)",
        ),
        SymbolDef(
            "LURE_IMPERSONATION",
            4.0,
            GROUP,
            "a broken or new phone as the pretext for a request for money, gift cards, codes, "
            "ID or an app (지인·가족 사칭)",
        ),
    )

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        # A list, not a generator: this runs for every message, and most get nothing.
        text = ctx.text.text
        opts = self.options
        hits: list[Hit] = []
        if opts.callback and ("본인" in text or "도용" in text):
            evidence = _callback(ctx, text)
            if evidence is not None:
                hits.append(Hit("LURE_CALLBACK", evidence))
        # Substring gates (tens of ns each) before the regexes (microseconds).
        if opts.messenger and (
            "톡" in text
            or "텔" in text
            or "라인" in text
            or "@" in text
            or "id" in text
            or "아이디" in text
            or "t.me/" in text
            or "위챗" in text
            or "kakao" in text
            or "wechat" in text
            or "telegram" in text
        ):
            evidence = _messenger(text)
            if evidence is not None:
                hits.append(Hit("LURE_MESSENGER", evidence))
        if opts.impersonation and (
            "폰" in text
            or "액정" in text
            or "휴대" in text  # 휴대 전화: the pretext's spaced form
            or "전화기" in text
            or "인증서" in text
            # 번호 alone is in every 인증번호/운송장번호: only with a change or a new number
            or ("번호" in text and ("바" in text or "새" in text or "임시" in text))
            or (
                ("pc" in text or "피시" in text or "컴퓨터" in text or "노트북" in text)
                and ("카톡" in text or "문자" in text or "연락" in text)
            )
        ):
            evidence = _impersonation(text)
            if evidence is not None:
                hits.append(Hit("LURE_IMPERSONATION", evidence))
        return hits


def _callback(ctx: CheckContext, text: str) -> str | None:
    denial = _DENIAL.search(text)
    if denial is None or _ALERT.search(text) is None:
        return None
    numbers = ctx.numbers_in_text
    if any(n.kind in _INSTITUTION_KINDS for n in numbers):
        return None
    for number in numbers:
        if number.kind in _CALLBACK_KINDS:
            return f"'{denial.group(0)}' + call {number.kind.value} {number.digits}"
    return None


def _messenger(text: str) -> str | None:
    money = _MONEY.search(text)
    if money is None:
        return None
    for match in _MESSENGER_ID.finditer(text):
        found = match.group(0)
        before = text[max(0, match.start() - 16) : match.start()]
        if found.startswith("@") and _PROFILE_BEFORE.search(before):
            continue
        return f"{found[:40]} ({money.group(0)})"
    return None


def _impersonation(text: str) -> str | None:
    pretext = _PRETEXT.search(text)
    if pretext is None:
        return None
    request = _REQUEST.search(text)
    if request is None or _WARNS.search(text):
        return None
    return f"{pretext.group(0)} + {request.group(0)}"
