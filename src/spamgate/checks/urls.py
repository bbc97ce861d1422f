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
from spamgate.text.terms import TermMatcher
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


class _BrandIndex:
    """Which brand tokens a host's pieces contain: exactly, as a substring (tokens of 4+
    letters) or within one edit (tokens of ``min_fuzzy_len``+ letters, not in _NO_FUZZY).

    Every new host of a smishing campaign is looked up once; comparing each piece with each
    token cost about 70 µs a host. Here substrings come from one Aho-Corasick pass and
    near-misses from a one-deletion index (two strings within one edit, a swap of neighbours
    included, share a one-deletion variant), so only real candidates are compared.
    """

    def __init__(self, tokens: list[str], options: UrlOptions) -> None:
        self.order = {token: i for i, token in enumerate(dict.fromkeys(tokens))}
        self.substring_tokens = tuple(t for t in self.order if len(t) >= 4)
        self._substrings = TermMatcher(self.substring_tokens)
        fuzzy = [t for t in self.order if len(t) >= options.min_fuzzy_len and t not in _NO_FUZZY]
        self._deletions: dict[str, set[str]] = {}
        for token in fuzzy:
            for variant in (token, *_one_deletions(token)):
                self._deletions.setdefault(variant, set()).add(token)
        lengths = [len(t) for t in fuzzy]
        self._fuzzy_lengths = range(min(lengths) - 1, max(lengths) + 2) if lengths else range(0)

    def first_match(self, pieces: Iterable[str]) -> str | None:
        """The earliest token (in the configured order) any piece matches."""
        order = self.order
        deletions = self._deletions
        matched: set[str] = set()
        for piece in pieces:
            if piece in order:
                matched.add(piece)
            matched.update(self._substrings.found(piece))
            if len(piece) in self._fuzzy_lengths:
                candidates = set(deletions.get(piece, ()))
                for variant in _one_deletions(piece):
                    candidates.update(deletions.get(variant, ()))
                matched.update(t for t in candidates if _within_one_edit(piece, t))
        return min(matched, key=order.__getitem__) if matched else None


def _one_deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


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
        self._brands = _BrandIndex([token.lower() for token in options.brands], options)
        self._lookalike = lru_cache(maxsize=16384)(self._brand_lookalike)

    def _brand_lookalike(self, host: str, registered: str, suffix: str) -> str | None:
        """The brand a host imitates, or None. Cached: the same domains recur in campaigns."""
        if registered in self._official:
            return None
        label = registered.split(".", 1)[0]
        if (
            suffix in _KR_VERIFIED_SUFFIXES
            and "-" not in label
            and any(label.startswith(token) for token in self._brands.substring_tokens)
        ):
            return None
        labels = host.translate(_FOLD).replace("_", "-").split(".")
        pieces = {p for label in labels for p in label.split("-") if p}
        pieces.update(label.replace("-", "") for label in labels)
        return self._brands.first_match(pieces)

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
