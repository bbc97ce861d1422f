"""The shortcuts the hot path takes must answer exactly as the long way round."""

import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from spamgate.text.normalize import _STRIP_HINT_RE, _STRIP_RE
from spamgate.text.terms import TermMatcher

_TERMS = ["대출", "출금", "금리", "대", "할인", "인", "abc", "bc", "c"]
_LETTERS = st.text(alphabet="대출금리할인abc 가.", max_size=40)


def test_strip_screen_covers_every_character_the_strip_pattern_takes() -> None:
    # The screen may let through more (then the exact pattern decides), never fewer.
    missed = [
        hex(cp)
        for cp in range(sys.maxunicode + 1)
        if _STRIP_RE.match(chr(cp)) and not _STRIP_HINT_RE.match(chr(cp))
    ]
    assert missed == []


@given(_LETTERS)
@settings(max_examples=300)
def test_term_lists_match_finditer(text: str) -> None:
    matcher = TermMatcher(_TERMS)
    spans = list(matcher.finditer(text))
    assert matcher.spans(text) == spans
    assert matcher.found(text) == [term for _, _, term in spans]
    assert matcher.search(text) is bool(spans)
    for start, end, term in spans:
        assert text[start:end] == term


def test_empty_matcher_finds_nothing() -> None:
    matcher = TermMatcher([])
    assert matcher.found("대출") == [] and matcher.spans("대출") == []
    assert matcher.search("대출") is False
