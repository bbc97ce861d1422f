"""Canonical 010 digits take a short path in parse_number: it must answer as the general one."""

from __future__ import annotations

import pytest

from spamgate.domain.numbers import InvalidReason, NumberKind, parse_number


@pytest.mark.parametrize("exchange", "0123456789")
def test_canonical_mobile_digits_read_as_their_spaced_form(exchange: str) -> None:
    digits = f"010{exchange}2345678"
    fast = parse_number(digits)
    general = parse_number(f"010-{exchange}234-5678")  # separators: the general path
    assert fast.raw == digits
    assert (fast.digits, fast.kind, fast.valid, fast.reason, fast.country_code) == (
        general.digits,
        general.kind,
        general.valid,
        general.reason,
        general.country_code,
    )
    if exchange in "01":
        assert fast.reason is InvalidReason.UNASSIGNED_PREFIX and not fast.valid
    else:
        assert fast.kind is NumberKind.MOBILE and fast.valid


@pytest.mark.parametrize("raw", ["0102345678", "010234567890", "０1023456789", "010234５6789"])
def test_near_canonical_spellings_still_take_the_general_path(raw: str) -> None:
    info = parse_number(raw)
    assert not info.valid
