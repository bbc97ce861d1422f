"""Links as the content model sees them: the site, not the path, and a token where the kind of
link is telling.

A link's path is random per message (``cj-kj65.buzz/DyYuLe``), so its n-grams teach a model
nothing that carries over to the next campaign; they only make it remember campaigns. Before the
n-grams are taken, each link in a Korean text is replaced by its registered domain, followed by
one token when the kind of link says something on its own: a brand's or a public body's own
domain (``urlofficial``), a throw-away TLD (``urlbadtld``), an IP literal (``urlip``)::

    배송조회 https://trace.cjlogistics.com/next/track?no=1  ->  배송조회 cjlogistics.com urlofficial
    재배달 예약: cj-kj65.buzz/DyYuLe                         ->  재배달 예약: cj-kj65.buzz urlbadtld
    예약 https://naver.me/GbL3p8Qa                          ->  예약 naver.me

Shorteners and other sites get no token: legitimate shops, schools and families use them as
much as lures do, and one shared token for all of them (tried in version 1) taught the model
that any shortened link is spam (on independently written Korean texts, more genuine notices
with a naver.me or me2.do link went to the spam box). Their domain stays a feature.

Only texts with Hangul in them change: the lists below describe Korean traffic (its brands and
lures' TLDs); English texts keep their links as written. The lists are the built-in ones, never
a policy's, and :data:`VERSION` names the scheme in the feature layout: a model sees exactly the
tokens it was trained with, and changing a list means a new version and a retrained model.
"""

from __future__ import annotations

import re
from typing import Final

from spamgate.text.url_lists import DEFAULT_BRANDS, DEFAULT_SUSPICIOUS_TLDS
from spamgate.text.urls import ExtractedUrl, extract_urls

__all__ = ["TOKEN_LABELS", "VERSION", "token_label", "url_kind", "with_url_tokens"]

#: Names the token scheme and the lists behind it (part of the content model's layout).
VERSION: Final = "spamgate-url-tokens/2"

_OFFICIAL: Final = frozenset(domain for domains in DEFAULT_BRANDS.values() for domain in domains)
#: Public bodies' second-level domains: registered only by government and non-profit bodies.
_PUBLIC_SUFFIXES: Final = ("go.kr", "or.kr")
_SUSPICIOUS: Final = frozenset(DEFAULT_SUSPICIOUS_TLDS)

#: How an explanation names a token (an n-gram inside one means the token's kind of link).
TOKEN_LABELS: Final = {
    "urlofficial": "<link: official site>",
    "urlbadtld": "<link: suspicious TLD>",
    "urlip": "<link: IP address>",
}
_MAYBE_LINK: Final = re.compile(r"[^\s.]\.[^\s.]|://|。")
_LONGEST_FIRST: Final = sorted(TOKEN_LABELS, key=len, reverse=True)


def url_kind(url: ExtractedUrl) -> str | None:
    """The token for one link: ``urlip``, ``urlofficial`` or ``urlbadtld``; None for a
    shortener or any other site (its domain alone speaks for it)."""
    if url.is_ip:
        return "urlip"
    if url.is_shortener:
        return None
    if url.registered_domain in _OFFICIAL or url.suffix.endswith(_PUBLIC_SUFFIXES):
        return "urlofficial"
    if url.suffix.rpartition(".")[2] in _SUSPICIOUS:
        return "urlbadtld"
    return None


def with_url_tokens(text: str) -> str:
    """``text`` (normalised, Korean) with each link replaced by its site and kind token."""
    # Cheap test first: a host needs a dot between two characters (a sentence's full stop is
    # followed by a space); most Korean texts have none and skip the extractor.
    if _MAYBE_LINK.search(text) is None:
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
        kind = url_kind(url)
        parts.append(f"{text[at:found]} {site} {kind} " if kind else f"{text[at:found]} {site} ")
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
