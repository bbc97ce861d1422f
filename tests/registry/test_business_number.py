"""Korean business registration numbers: the check digit."""

from __future__ import annotations

import pytest

from spamgate.domain.business import business_number_checksum_ok, parse_business_number


@pytest.mark.parametrize("raw", ["124-81-00998", "1248100998", " 220-81-62517 ", "107.81.55843"])
def test_valid(raw: str) -> None:
    assert parse_business_number(raw) == raw.strip().replace("-", "").replace(".", "")


@pytest.mark.parametrize(
    "raw",
    [
        "1248100999",
        "124-81-0099",
        "12481009980",
        "12A8100998",
        "",
        "１２４８１００９９８",
        "9" * 40,
    ],
)
def test_invalid(raw: str) -> None:
    assert parse_business_number(raw) is None


def test_any_single_digit_typo_is_caught() -> None:
    good = "1248100998"
    assert business_number_checksum_ok(good)
    for i in range(10):
        for d in "0123456789":
            if d != good[i]:
                assert not business_number_checksum_ok(good[:i] + d + good[i + 1 :])
