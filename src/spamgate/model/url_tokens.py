"""Links as the content model sees them: the site and what kind of link it is, not its path.

A link's path is random per message (``cj-kj65.buzz/DyYuLe``), so its n-grams teach a model
nothing that carries over to the next campaign, while what the link *is* does: a shortener, an IP
literal, a throw-away TLD, a brand's or an agency's own domain. Before the n-grams are taken,
each link in a Korean text is replaced by its registered domain and one token for its kind::

    배송조회 https://trace.cjlogistics.com/next/track?no=1  ->  배송조회 cjlogistics.com urlofficial
    재배달 예약: cj-kj65.buzz/DyYuLe                         ->  재배달 예약: cj-kj65.buzz urlbadtld

Only texts the model counts as Korean (:func:`~spamgate.model.features.language_of`) change:
the lists below describe Korean traffic (its brands, shorteners and lures' TLDs); English texts
keep their links as written. The lists are the built-in ones, never a policy's, and
:data:`VERSION` names them in the feature layout: a model sees exactly the tokens it was trained
with, and changing a list means a new version and a retrained model.
"""

from __future__ import annotations

from typing import Final

from spamgate.text.url_lists import DEFAULT_BRANDS, DEFAULT_SUSPICIOUS_TLDS
from spamgate.text.urls import ExtractedUrl, extract_urls

__all__ = ["TOKEN_LABELS", "VERSION", "token_label", "url_kind", "with_url_tokens"]

#: Names the token scheme and the lists behind it (part of the content model's layout).
VERSION: Final = "spamgate-url-tokens/1"

_OFFICIAL: Final = frozenset(domain for domains in DEFAULT_BRANDS.values() for domain in domains)
#: Public bodies' second-level domains: registered only by government and non-profit bodies.
_PUBLIC_SUFFIXES: Final = ("go.kr", "or.kr")
_SUSPICIOUS: Final = frozenset(DEFAULT_SUSPICIOUS_TLDS)

#: How an explanation names a token (an n-gram inside one means the token's kind of link).
TOKEN_LABELS: Final = {
    "urlotherkr": "<link: other .kr site>",
    "urlofficial": "<link: official site>",
    "urlbadtld": "<link: suspicious TLD>",
    "urlshort": "<link: shortener>",
    "urlother": "<link: other site>",
    "urlip": "<link: IP address>",
}
_LONGEST_FIRST: Final = sorted(TOKEN_LABELS, key=len, reverse=True)


def url_kind(url: ExtractedUrl) -> str:
    """The token for one link: ``urlip``, ``urlshort``, ``urlofficial``, ``urlbadtld``,
    ``urlotherkr`` (another .kr site) or ``urlother``."""
    if url.is_ip:
        return "urlip"
    if url.is_shortener:
        return "urlshort"
    if url.registered_domain in _OFFICIAL or url.suffix.endswith(_PUBLIC_SUFFIXES):
        return "urlofficial"
    tld = url.suffix.rpartition(".")[2]
    if tld in _SUSPICIOUS:
        return "urlbadtld"
    return "urlotherkr" if tld == "kr" else "urlother"


def with_url_tokens(text: str) -> str:
    """``text`` (normalised, Korean) with each link replaced by its site and kind token."""
    # Cheap test first: a link needs a dot (or a full stop look-alike the normaliser folded).
    if "." not in text:
        return text
    urls = extract_urls(text)
    if not urls:
        return text
    parts: list[str] = []
    at = 0
    for url in urls:
        found = text.find(url.raw, at)
        if found < 0:  # never expected: the extractor reports what it found in this text
            continue
        site = url.registered_domain or url.host
        parts.append(f"{text[at:found]} {site} {url_kind(url)} ")
        at = found + len(url.raw)
    parts.append(text[at:])
    return "".join(parts)


def token_label(joined: str, start: int, length: int) -> str | None:
    """The label of the link token that the n-gram at ``joined[start:start + length]``
    overlaps (in the readable or the compact view), or None."""
    end = start + length
    for token in _LONGEST_FIRST:
        at = joined.find(token, max(0, start - len(token) + 1), end + len(token) - 1)
        while 0 <= at < end:
            if at + len(token) > start:
                return TOKEN_LABELS[token]
            at = joined.find(token, at + 1, end + len(token) - 1)
    return None
