"""Obfuscated variants of a text, as Korean spammers write them, for robustness evaluation.

Each variant is deterministic for a given seed. Word-level tricks hit about half the words (a
spammer disguises the keywords, not every word) and leave alone tokens that must stay working —
links, domains, @handles, e-mail addresses — and tokens without letters (numbers, amounts);
full-width applies to every ASCII character, links included, as handsets render them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

__all__ = ["VARIANTS", "decompose_jamo", "obfuscate"]

_L = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_V = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_T = ["", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"]
_LOOKALIKE = {
    "a": "а", "c": "с", "e": "е", "i": "і", "o": "о", "p": "р", "x": "х", "y": "у",
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О",
    "P": "Р", "T": "Т", "X": "Х",
}  # fmt: skip


def decompose_jamo(text: str) -> str:
    """Hangul syllables written as compatibility jamo (``대출`` → ``ㄷㅐㅊㅜㄹ``)."""
    out: list[str] = []
    for ch in text:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            out.append(_L[code // 588] + _V[(code % 588) // 28] + _T[code % 28])
        else:
            out.append(ch)
    return "".join(out)


_KEEP = re.compile(r"://|www\.|@|\w\.\w{2,}")


def _disguisable(word: str) -> bool:
    return len(word) > 1 and any(c.isalpha() for c in word) and not _KEEP.search(word)


_WHITESPACE = re.compile(r"(\s+)")


def _per_word(text: str, rng: random.Random, change: Callable[[str], str]) -> str:
    # Words end at any whitespace, line breaks included: a spammer dots 계.좌 and 등.록 on two
    # lines, not "계.좌.등.록.\n.본" across the break. The whitespace itself is kept as it was.
    parts = _WHITESPACE.split(text)
    for i in range(0, len(parts), 2):
        if _disguisable(parts[i]) and rng.random() < 0.5:
            parts[i] = change(parts[i])
    return "".join(parts)


def _spacing(text: str, rng: random.Random) -> str:
    return _per_word(text, rng, lambda w: " ".join(w))


def _dots(text: str, rng: random.Random) -> str:
    return _per_word(text, rng, lambda w: ".".join(w))


def _jamo(text: str, rng: random.Random) -> str:
    return _per_word(text, rng, decompose_jamo)


def _fullwidth(text: str, rng: random.Random) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _lookalike(text: str, rng: random.Random) -> str:
    return _per_word(text, rng, lambda w: "".join(_LOOKALIKE.get(c, c) for c in w))


VARIANTS: dict[str, Callable[[str, random.Random], str]] = {
    "spacing": _spacing,
    "dots": _dots,
    "jamo": _jamo,
    "fullwidth": _fullwidth,
    "lookalike": _lookalike,
}


def obfuscate(text: str, variant: str, seed: int = 0) -> str:
    """``text`` disguised by ``variant`` (one of :data:`VARIANTS`)."""
    rng = random.Random(f"{seed}:{variant}:{len(text)}")  # noqa: S311 - not for security
    return VARIANTS[variant](text, rng)
