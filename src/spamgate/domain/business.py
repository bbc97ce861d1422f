"""Korean business registration numbers (사업자등록번호): ``NNN-NN-NNNNN`` with a check digit.

The tenth digit checks the first nine: weights 1,3,7,1,3,7,1,3,5, plus the tens digit of
(ninth digit x 5); the check digit makes the sum a multiple of ten. A typo in any one digit, and
most swaps of neighbours, fail the check. Pure, no I/O.
"""

from __future__ import annotations

from typing import Final

__all__ = ["business_number_checksum_ok", "parse_business_number"]

_WEIGHTS: Final = (1, 3, 7, 1, 3, 7, 1, 3, 5)
_SEPARATORS: Final = str.maketrans("", "", " -.")


def business_number_checksum_ok(digits: str) -> bool:
    """True when ``digits`` is ten ASCII digits whose check digit is right."""
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):
        return False
    values = [ord(ch) - 48 for ch in digits]
    total = sum(v * w for v, w in zip(values, _WEIGHTS, strict=False))
    total += values[8] * 5 // 10
    return (10 - total % 10) % 10 == values[9]


def parse_business_number(raw: str) -> str | None:
    """The ten digits of ``raw`` (``124-81-00998``, ``1248100998``), or None if it is not a
    valid business registration number (wrong length, letters, failed check digit)."""
    if len(raw) > 32:
        return None
    digits = raw.strip().translate(_SEPARATORS)
    return digits if business_number_checksum_ok(digits) else None
