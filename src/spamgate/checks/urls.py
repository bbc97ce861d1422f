"""Lexical URL heuristics: shorteners, IP literals, throw-away TLDs, brand look-alikes, IDN.

Smishing hides its landing page behind shorteners and cheap domains, and imitates the domains of
Korean banks, couriers and agencies (``kbstar-secure.com``, ``cj-logistics.xyz``,
``gov-kr.help``). A brand token or a near-miss spelling in a host that is not the brand's own
registered domain is the strongest lexical sign. No network: everything is read off the URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from pydantic import Field

from spamgate.checks.base import Check, Hit, Options, SymbolDef
from spamgate.checks.context import CheckContext
from spamgate.text import ExtractedUrl
from spamgate.text.url_lists import DEFAULT_BRANDS, DEFAULT_SUSPICIOUS_TLDS

__all__ = ["DEFAULT_BRANDS", "DEFAULT_SUSPICIOUS_TLDS", "UrlCheck", "UrlOptions"]

GROUP = "url"

# Second-level Korean domains need a verified Korean registrant (KRNIC), so a brand's own
# family (shinhanlife.co.kr, kbinsure.co.kr) is far likelier there than a phishing copy; a hyphen
# or a brand hidden in a subdomain still counts as a look-alike.
_KR_VERIFIED_SUFFIXES = frozenset({"co.kr", "or.kr", "go.kr", "ac.kr", "re.kr"})


# Brand tokens that are also ordinary words one edit away from others (police ~ policy): matched
# as a token only, never as a near-miss.
_NO_FUZZY = frozenset({"police", "customs", "minwon", "unipass", "wetax", "efine"})

# Look-alike folding for brand matching: digits and letters that pass for others in a host.
_FOLD = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})


class UrlOptions(Options):
    suspicious_tlds: list[str] = Field(default_factory=lambda: list(DEFAULT_SUSPICIOUS_TLDS))
    brands: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_BRANDS))
    #: Tokens shorter than this are only matched as a whole host label, never as a near-miss.
    min_fuzzy_len: int = Field(default=6, ge=3, le=20)


def _within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one edit: an insertion, a deletion, a
    substitution or a swap of two neighbours (coupnag ~ coupang)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(shorter) and shorter[i] == longer[i]:
        i += 1
    return shorter[i:] == longer[i + 1 :]


class UrlCheck(Check[UrlOptions]):
    name = "urls"
    symbols = (
        SymbolDef("URL_SHORTENER", 2.0, GROUP, "link hidden behind a URL shortener"),
        SymbolDef("URL_IP_LITERAL", 4.0, GROUP, "link to a bare IP address instead of a domain"),
        SymbolDef(
            "URL_SUSPICIOUS_TLD", 2.5, GROUP, "link on a cheap top-level domain favoured by spam"
        ),
        SymbolDef(
            "URL_BRAND_LOOKALIKE",
            7.0,
            GROUP,
            "link imitates a Korean bank, courier or agency domain it does not belong to",
        ),
        SymbolDef(
            "URL_IDN", 2.0, GROUP, "link uses an internationalised (possibly homograph) domain"
        ),
    )
    options_model = UrlOptions
    requires = ("urls",)

    def __init__(self, options: UrlOptions) -> None:
        super().__init__(options)
        self._tlds = frozenset(t.lower().lstrip(".") for t in options.suspicious_tlds)
        self._official = frozenset(d.lower() for ds in options.brands.values() for d in ds)
        self._brands = {token.lower(): frozenset(ds) for token, ds in options.brands.items()}
        self._lookalike = lru_cache(maxsize=16384)(self._brand_lookalike)

    def _brand_lookalike(self, host: str, registered: str, suffix: str) -> str | None:
        """The brand a host imitates, or None. Cached: the same domains recur in campaigns."""
        if registered in self._official:
            return None
        label = registered.split(".", 1)[0]
        if (
            suffix in _KR_VERIFIED_SUFFIXES
            and "-" not in label
            and any(label.startswith(token) for token in self._brands if len(token) >= 4)
        ):
            return None
        labels = host.translate(_FOLD).replace("_", "-").split(".")
        pieces = {p for label in labels for p in label.split("-") if p}
        joined = {label.replace("-", "") for label in labels}
        for token, official in self._brands.items():
            if registered in official:
                return None
            for piece in pieces | joined:
                if piece == token or (len(token) >= 4 and token in piece):
                    return token
                if (
                    len(token) >= self.options.min_fuzzy_len
                    and token not in _NO_FUZZY
                    and _within_one_edit(piece, token)
                ):
                    return token
        return None

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        hits: list[Hit] = []
        fired: set[str] = set()
        for url in ctx.urls:
            for hit in self._url_hits(url):
                if hit.symbol not in fired:  # one hit per symbol; the first URL is the evidence
                    fired.add(hit.symbol)
                    hits.append(hit)
        return hits

    def _url_hits(self, url: ExtractedUrl) -> Iterable[Hit]:
        evidence = url.raw[:60]
        if url.is_shortener:
            yield Hit("URL_SHORTENER", evidence)
        if url.is_ip:
            yield Hit("URL_IP_LITERAL", evidence)
            return
        tld = url.suffix.rsplit(".", 1)[-1] if url.suffix else ""
        if tld in self._tlds:
            yield Hit("URL_SUSPICIOUS_TLD", evidence)
        if url.is_idn:
            yield Hit("URL_IDN", f"{url.host_unicode} ({url.host})")
        brand = self._lookalike(url.host, url.registered_domain, url.suffix)
        if brand is not None:
            yield Hit("URL_BRAND_LOOKALIKE", f"{url.host} imitates {brand}")
