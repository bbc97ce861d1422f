"""Lexical URL heuristics on smishing-style links."""

from __future__ import annotations

import random

import pytest

from conftest import Judge
from spamgate.checks.urls import UrlCheck, UrlOptions


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


def _reference_lookalike(check: UrlCheck, host: str, registered: str, suffix: str) -> str | None:
    """The brand look-alike rule written the plain way (every piece against every token), as
    it was before the index: the indexed lookup must give the same answer on any host."""
    options = check.options
    brands = {t.lower(): frozenset(ds) for t, ds in options.brands.items()}
    official = frozenset(d for ds in brands.values() for d in ds)
    if registered in official:
        return None
    label = registered.split(".", 1)[0]
    if (
        suffix in {"co.kr", "or.kr", "go.kr", "ac.kr", "re.kr"}
        and "-" not in label
        and any(label.startswith(token) for token in brands if len(token) >= 4)
    ):
        return None
    labels = host.translate(str.maketrans("0134578", "oleastb")).replace("_", "-").split(".")
    pieces = {p for lab in labels for p in lab.split("-") if p}
    pieces |= {lab.replace("-", "") for lab in labels}
    for token in brands:
        for piece in pieces:
            if piece == token or (len(token) >= 4 and token in piece):
                return token
            if (
                len(token) >= options.min_fuzzy_len
                and token not in {"police", "customs", "minwon", "unipass", "wetax", "efine"}
                and _one_edit_reference(piece, token)
            ):
                return token
    return None


def _one_edit_reference(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )  # fmt: skip
    if abs(len(a) - len(b)) != 1:
        return False
    shorter, longer = sorted((a, b), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def _mutate(rng: random.Random, word: str) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz0134578-"
    i = rng.randrange(len(word) + 1)
    kind = rng.randrange(5)
    if kind == 0 and word:  # delete
        return word[: min(i, len(word) - 1)] + word[min(i, len(word) - 1) + 1 :]
    if kind == 1:  # insert
        return word[:i] + rng.choice(letters) + word[i:]
    if kind == 2 and i < len(word):  # substitute
        return word[:i] + rng.choice(letters) + word[i + 1 :]
    if kind == 3 and i + 1 < len(word):  # swap neighbours
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word


def test_brand_index_agrees_with_the_plain_rule() -> None:
    check = UrlCheck(UrlOptions())
    tokens = [t.lower() for t in check.options.brands]
    rng = random.Random(20261126)
    suffixes = ["com", "xyz", "co.kr", "kr", "help", "or.kr"]
    fired = 0
    for _ in range(4000):
        parts = []
        for _ in range(rng.randrange(1, 4)):
            word = rng.choice(tokens) if rng.random() < 0.7 else "".join(
                rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(2, 12))
            )  # fmt: skip
            for _ in range(rng.randrange(3)):
                word = _mutate(rng, word)
            parts.append(word.strip("-") or "x")
        suffix = rng.choice(suffixes)
        registered = f"{rng.choice(['-', '', 'x']).join(parts[-2:])}.{suffix}".lstrip("-")
        host = ".".join([*parts[:-2], registered]) if rng.random() < 0.5 else registered
        expected = _reference_lookalike(check, host, registered, suffix)
        assert check._brand_lookalike(host, registered, suffix) == expected, host
        fired += expected is not None
    assert 1000 < fired < 3900  # the sample exercises both answers
