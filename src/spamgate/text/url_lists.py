"""What spamgate knows about links in Korean SMS: brands' real domains and the TLDs lures favour.

Shared by the URL check (look-alikes, suspicious TLDs; a policy may extend both) and the content
model's link tokens (:mod:`spamgate.model.url_tokens`, which use these built-in lists only, so
a model's features never depend on an operator's policy).
"""

from __future__ import annotations

__all__ = ["DEFAULT_BRANDS", "DEFAULT_SUSPICIOUS_TLDS"]

# Brand token → the registered domains that brand really uses. Tokens are matched inside host
# labels (after digit/letter look-alike folding), near-misses by one edit on tokens of 5+ letters.
DEFAULT_BRANDS: dict[str, list[str]] = {
    # banks and card companies
    "kbstar": ["kbstar.com", "kbcard.com", "kbinsure.co.kr"],
    "kbcard": ["kbcard.com"],
    "kb": ["kbstar.com", "kbcard.com", "kbinsure.co.kr", "kbsec.com"],
    "nh": ["nonghyup.com", "nhqv.com", "nhcard.co.kr", "nhlife.co.kr"],
    "cj": ["cjlogistics.com", "cj.net"],
    "toss": ["toss.im", "tossbank.com"],
    "shinhan": ["shinhan.com", "shinhancard.com", "shinhaninvest.com", "shinhanlife.co.kr"],
    "wooribank": ["wooribank.com", "wooricard.com"],
    "woori": ["wooribank.com", "wooricard.com", "woorifg.com"],
    "hanabank": ["hanabank.com", "hanacard.co.kr"],
    "nonghyup": ["nonghyup.com", "nhqv.com", "nhcard.co.kr"],
    "ibk": ["ibk.co.kr"],
    "kakaobank": ["kakaobank.com"],
    "kakaopay": ["kakaopay.com"],
    "tossbank": ["tossbank.com", "toss.im"],
    "kfcc": ["kfcc.co.kr"],
    "epostbank": ["epostbank.go.kr", "epost.go.kr"],
    "samsungcard": ["samsungcard.com"],
    "hyundaicard": ["hyundaicard.com"],
    "lottecard": ["lottecard.co.kr"],
    # couriers and shops
    "epost": ["epost.go.kr", "epost.kr"],
    "cjlogistics": ["cjlogistics.com"],
    "hanjin": ["hanjin.com", "hanjin.co.kr"],
    "lotteglogis": ["lotteglogis.com"],
    "ilogen": ["ilogen.com"],
    "coupang": ["coupang.com", "coupangcdn.com"],
    "naver": ["naver.com", "naver.me", "navercorp.com", "pstatic.net"],
    "kakao": ["kakao.com", "kakaocorp.com", "kakaobank.com", "kakaopay.com", "daum.net"],
    # government and public agencies
    "gov": ["gov.kr", "go.kr"],
    "hometax": ["hometax.go.kr"],
    "wetax": ["wetax.go.kr"],
    "nhis": ["nhis.or.kr"],
    "nps": ["nps.or.kr"],
    "police": ["police.go.kr"],
    "spo": ["spo.go.kr"],
    "scourt": ["scourt.go.kr"],
    "fss": ["fss.or.kr"],
    "efine": ["efine.go.kr"],
    "minwon": ["minwon.go.kr", "gov.kr"],
    "customs": ["customs.go.kr"],
    "unipass": ["customs.go.kr"],
    "nts": ["nts.go.kr", "hometax.go.kr"],
    "mois": ["mois.go.kr"],
    "gov24": ["gov.kr"],
    "koroad": ["koroad.or.kr"],
    "kepco": ["kepco.co.kr"],
    "upbit": ["upbit.com"],
    "bithumb": ["bithumb.com"],
    "samsungfire": ["samsungfire.com"],
}

DEFAULT_SUSPICIOUS_TLDS = [
    "xyz",
    "top",
    "club",
    "icu",
    "cyou",
    "shop",
    "click",
    "help",
    "live",
    "vip",
    "bet",
    "casino",
    "win",
    "loan",
    "buzz",
    "monster",
    "rest",
    "bar",
    "cfd",
    "sbs",
    "tk",
    "ml",
    "ga",
    "cf",
    "gq",
    "work",
    "link",
    "online",
    "site",
    "fun",
    "info",
    "pw",
    "cc",
    "su",
    "lol",
    "quest",
    "mom",
]
