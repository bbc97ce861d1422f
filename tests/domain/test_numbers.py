"""Tests for the Korean number plan (spamgate.domain.numbers)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import phonenumbers
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from spamgate.domain.numbers import (
    KR_INTERNATIONAL_PREFIXES,
    KR_KNOWN_REPRESENTATIVE_PREFIXES,
    KR_NUMBER_PLAN,
    KR_SPECIAL_CODES,
    MAX_INPUT_CHARS,
    InvalidReason,
    NumberInfo,
    NumberKind,
    PlanRule,
    describe_kind,
    parse_number,
)

K = NumberKind

#: Representative blocks phonenumbers validates as numbers ("UAN"); it files 1811/1844/1866
#: under short codes instead, so is_valid_number() rejects those.
PHONENUMBERS_UAN = KR_KNOWN_REPRESENTATIVE_PREFIXES - {"1811", "1844", "1866"}

# (raw, kind, digits) for inputs that must parse as valid.
VALID: list[tuple[str, NumberKind, str]] = [
    # mobile: 010 + exchange 2000-9999 + 4 digits, every separator style
    ("010-2345-6789", K.MOBILE, "01023456789"),
    ("010 2345 6789", K.MOBILE, "01023456789"),
    ("01023456789", K.MOBILE, "01023456789"),
    ("010.2345.6789", K.MOBILE, "01023456789"),
    ("(010) 2345-6789", K.MOBILE, "01023456789"),
    ("  010-9999-0000 \n", K.MOBILE, "01099990000"),
    ("010\u20102345\u20106789", K.MOBILE, "01023456789"),  # typographic hyphen
    ("010\u00a02345\u00a06789", K.MOBILE, "01023456789"),  # no-break space
    ("010\u30002345\u30006789", K.MOBILE, "01023456789"),  # ideographic space
    ("010-2000-0000", K.MOBILE, "01020000000"),
    # geographic: 02 + 7/8 digits, 0XX + 7/8 digits, exchange starting 1-9
    ("02-123-4567", K.GEOGRAPHIC, "021234567"),
    ("031-123-4567", K.GEOGRAPHIC, "0311234567"),
    ("02-234-5678", K.GEOGRAPHIC, "022345678"),
    ("(02) 2345-6789", K.GEOGRAPHIC, "0223456789"),
    ("031-234-5678", K.GEOGRAPHIC, "0312345678"),
    ("031-2345-6789", K.GEOGRAPHIC, "03123456789"),
    ("033-900-1234", K.GEOGRAPHIC, "0339001234"),
    ("042.600.1234", K.GEOGRAPHIC, "0426001234"),
    ("044-850-1234", K.GEOGRAPHIC, "0448501234"),
    ("051 999 1234", K.GEOGRAPHIC, "0519991234"),
    ("055-2345-6789", K.GEOGRAPHIC, "05523456789"),
    ("061-234-5678", K.GEOGRAPHIC, "0612345678"),
    ("064-710-2114", K.GEOGRAPHIC, "0647102114"),
    # representative: 15XX/16XX/18XX + 4 digits
    ("1588-1234", K.REPRESENTATIVE, "15881234"),
    ("1544 0000", K.REPRESENTATIVE, "15440000"),
    ("16001234", K.REPRESENTATIVE, "16001234"),
    ("1899-9999", K.REPRESENTATIVE, "18999999"),
    ("1500-1234", K.REPRESENTATIVE, "15001234"),  # unfamiliar block: accepted broadly
    # toll-free, VoIP, personal, premium
    ("080-123-4567", K.TOLL_FREE, "0801234567"),
    ("080-1234-5678", K.TOLL_FREE, "08012345678"),
    ("070-1234-5678", K.VOIP, "07012345678"),
    ("070 8765 4321", K.VOIP, "07087654321"),
    ("0505-123-4567", K.PERSONAL, "05051234567"),
    ("0507-1234-5678", K.PERSONAL, "050712345678"),
    ("0502-123-4567", K.PERSONAL, "05021234567"),
    ("0508 1234 5678", K.PERSONAL, "050812345678"),
    ("060-234-5678", K.PREMIUM, "0602345678"),
    ("060-2345-6789", K.PREMIUM, "06023456789"),
    # special short codes
    ("112", K.SPECIAL, "112"),
    ("119", K.SPECIAL, "119"),
    ("114", K.SPECIAL, "114"),
    (" 118 ", K.SPECIAL, "118"),
    ("1301", K.SPECIAL, "1301"),
    ("1332", K.SPECIAL, "1332"),
    ("1393", K.SPECIAL, "1393"),
    # Korean international forms
    ("+82 10-2345-6789", K.MOBILE, "01023456789"),
    ("+82-10-2345-6789", K.MOBILE, "01023456789"),
    ("+821023456789", K.MOBILE, "01023456789"),
    ("+82 010-2345-6789", K.MOBILE, "01023456789"),  # lenient: trunk 0 after +82
    ("+82 (0)10 2345 6789", K.MOBILE, "01023456789"),
    ("(+82) 10 2345 6789", K.MOBILE, "01023456789"),
    ("821023456789", K.MOBILE, "01023456789"),  # 12 digits starting 8210, no "+"
    ("82 2 2345 6789", K.GEOGRAPHIC, "0223456789"),
    ("0082-10-2345-6789", K.MOBILE, "01023456789"),
    ("0082 2 2345 6789", K.GEOGRAPHIC, "0223456789"),
    ("001-82-10-2345-6789", K.MOBILE, "01023456789"),
    ("00700 82 10 2345 6789", K.MOBILE, "01023456789"),
    ("001 82 1500 0000", K.REPRESENTATIVE, "15000000"),  # Korean reading beats +1 821-500-0000
    ("+82 1588-1234", K.REPRESENTATIVE, "15881234"),
    ("+82 2-234-5678", K.GEOGRAPHIC, "022345678"),
    ("+82 80 123 4567", K.TOLL_FREE, "0801234567"),
    ("+82 505 123 4567", K.PERSONAL, "05051234567"),
    # foreign
    ("+1 415 555 0100", K.FOREIGN, "+14155550100"),
    ("+1 (415) 555-0100", K.FOREIGN, "+14155550100"),
    ("+44 20 7946 0958", K.FOREIGN, "+442079460958"),
    ("+86 138 0013 8000", K.FOREIGN, "+8613800138000"),
    ("+81 3-1234-5678", K.FOREIGN, "+81312345678"),
    ("0044 20 7946 0958", K.FOREIGN, "+442079460958"),
    ("001 1 415 555 0100", K.FOREIGN, "+14155550100"),
    ("00700-1-415-555-0100", K.FOREIGN, "+14155550100"),
]

# (raw, reason, digits, country_code) for inputs that must be invalid.
INVALID: list[tuple[str, InvalidReason, str, int | None]] = [
    # empty
    ("", InvalidReason.EMPTY, "", None),
    ("   ", InvalidReason.EMPTY, "", None),
    ("+", InvalidReason.EMPTY, "", None),
    ("-- ()", InvalidReason.EMPTY, "", None),
    # non_digit: letters or any other character
    ("abc", InvalidReason.NON_DIGIT, "", None),
    ("010-2345-678O", InvalidReason.NON_DIGIT, "0102345678", None),  # letter O
    ("010_2345_6789", InvalidReason.NON_DIGIT, "01023456789", None),
    ("010/2345/6789", InvalidReason.NON_DIGIT, "01023456789", None),
    ("tel:01023456789", InvalidReason.NON_DIGIT, "01023456789", None),
    ("010-2345-6789#", InvalidReason.NON_DIGIT, "01023456789", None),
    ("*114", InvalidReason.NON_DIGIT, "114", None),
    ("1588-1234 ext 5", InvalidReason.NON_DIGIT, "158812345", None),
    ("010\n2345\n6789", InvalidReason.NON_DIGIT, "01023456789", None),
    ("+82+1023456789", InvalidReason.NON_DIGIT, "821023456789", None),
    ("\uff10\uff11\uff10-2345-6789", InvalidReason.NON_DIGIT, "23456789", None),  # full-width
    ("010\u00b23456789", InvalidReason.NON_DIGIT, "0103456789", None),  # superscript two
    ("공일공-2345-6789", InvalidReason.NON_DIGIT, "23456789", None),
    ("\x00", InvalidReason.NON_DIGIT, "", None),
    # too_long: oversized input, or too long for the prefix within the 8-11 window
    ("1" * (MAX_INPUT_CHARS + 1), InvalidReason.TOO_LONG, "", None),
    ("010-2345-6789" * 10, InvalidReason.TOO_LONG, "", None),
    ("02-2345-67890", InvalidReason.TOO_LONG, "02234567890", 82),
    ("1588-12345", InvalidReason.TOO_LONG, "158812345", 82),
    # too_short: too short for the prefix within the 8-11 window
    ("010-234-5678", InvalidReason.TOO_SHORT, "0102345678", 82),
    ("070-123-4567", InvalidReason.TOO_SHORT, "0701234567", 82),
    ("02-234-567", InvalidReason.TOO_SHORT, "02234567", 82),
    ("031-234-567", InvalidReason.TOO_SHORT, "031234567", 82),
    ("0505-123-456", InvalidReason.TOO_SHORT, "0505123456", 82),
    ("060-234-567", InvalidReason.TOO_SHORT, "060234567", 82),
    ("+82 10 2345 678", InvalidReason.TOO_SHORT, "0102345678", 82),
    # bad_length: a domestic number outside 8-11 digits (12 for 050X) that is no special code
    ("0", InvalidReason.BAD_LENGTH, "0", 82),
    ("1", InvalidReason.BAD_LENGTH, "1", 82),
    ("199", InvalidReason.BAD_LENGTH, "199", 82),
    ("1588", InvalidReason.BAD_LENGTH, "1588", 82),
    ("12345", InvalidReason.BAD_LENGTH, "12345", 82),
    ("010-2345", InvalidReason.BAD_LENGTH, "0102345", 82),
    ("234-5678", InvalidReason.BAD_LENGTH, "2345678", 82),
    ("010-2345-67890", InvalidReason.BAD_LENGTH, "010234567890", 82),
    ("070-1234-56789", InvalidReason.BAD_LENGTH, "070123456789", 82),
    ("0505-1234-56789", InvalidReason.BAD_LENGTH, "0505123456789", 82),
    ("01023456789012345", InvalidReason.BAD_LENGTH, "01023456789012345", 82),
    ("00", InvalidReason.BAD_LENGTH, "00", 82),
    ("+82", InvalidReason.BAD_LENGTH, "0", 82),
    ("+82 10", InvalidReason.BAD_LENGTH, "010", 82),
    ("0082 10 1234", InvalidReason.BAD_LENGTH, "0101234", 82),
    # unassigned_prefix
    ("010-1234-5678", InvalidReason.UNASSIGNED_PREFIX, "01012345678", 82),  # 010-0XXX/1XXX
    ("010-0123-4567", InvalidReason.UNASSIGNED_PREFIX, "01001234567", 82),
    ("+82 10-1234-5678", InvalidReason.UNASSIGNED_PREFIX, "01012345678", 82),
    ("011-234-5678", InvalidReason.UNASSIGNED_PREFIX, "0112345678", 82),  # retired 2G
    ("011-9234-5678", InvalidReason.UNASSIGNED_PREFIX, "01192345678", 82),
    ("016-234-5678", InvalidReason.UNASSIGNED_PREFIX, "0162345678", 82),
    ("017-234-5678", InvalidReason.UNASSIGNED_PREFIX, "0172345678", 82),
    ("018-234-5678", InvalidReason.UNASSIGNED_PREFIX, "0182345678", 82),
    ("019-234-5678", InvalidReason.UNASSIGNED_PREFIX, "0192345678", 82),
    ("012-345-6789", InvalidReason.UNASSIGNED_PREFIX, "0123456789", 82),
    ("015-345-6789", InvalidReason.UNASSIGNED_PREFIX, "0153456789", 82),
    ("020-2345-6789", InvalidReason.UNASSIGNED_PREFIX, "02023456789", 82),
    ("030-234-5678", InvalidReason.UNASSIGNED_PREFIX, "0302345678", 82),
    ("034-234-5678", InvalidReason.UNASSIGNED_PREFIX, "0342345678", 82),
    ("045-234-5678", InvalidReason.UNASSIGNED_PREFIX, "0452345678", 82),
    ("056-234-5678", InvalidReason.UNASSIGNED_PREFIX, "0562345678", 82),
    ("069-234-5678", InvalidReason.UNASSIGNED_PREFIX, "0692345678", 82),
    ("071-2345-6789", InvalidReason.UNASSIGNED_PREFIX, "07123456789", 82),
    ("081-234-5678", InvalidReason.UNASSIGNED_PREFIX, "0812345678", 82),
    ("090-2345-6789", InvalidReason.UNASSIGNED_PREFIX, "09023456789", 82),
    ("099-234-5678", InvalidReason.UNASSIGNED_PREFIX, "0992345678", 82),
    ("050-1234-5678", InvalidReason.UNASSIGNED_PREFIX, "05012345678", 82),
    ("0501-123-4567", InvalidReason.UNASSIGNED_PREFIX, "05011234567", 82),
    ("0509-1234-5678", InvalidReason.UNASSIGNED_PREFIX, "050912345678", 82),
    ("02-0234-5678", InvalidReason.UNASSIGNED_PREFIX, "0202345678", 82),  # exchange 0XX
    ("031-012-3456", InvalidReason.UNASSIGNED_PREFIX, "0310123456", 82),
    ("010-1234-5678", InvalidReason.UNASSIGNED_PREFIX, "01012345678", 82),  # MSIT-reserved
    ("060-123-4567", InvalidReason.UNASSIGNED_PREFIX, "0601234567", 82),
    ("1234-5678", InvalidReason.UNASSIGNED_PREFIX, "12345678", 82),
    ("1700-1234", InvalidReason.UNASSIGNED_PREFIX, "17001234", 82),
    ("1900-1234", InvalidReason.UNASSIGNED_PREFIX, "19001234", 82),
    ("2345-6789", InvalidReason.UNASSIGNED_PREFIX, "23456789", 82),  # no area code
    ("003-123-4567", InvalidReason.UNASSIGNED_PREFIX, "0031234567", 82),
    ("004 1234 5678", InvalidReason.UNASSIGNED_PREFIX, "00412345678", 82),
    ("8212345678", InvalidReason.UNASSIGNED_PREFIX, "012345678", 82),
    # invalid_foreign
    ("+1 555 555 5555", InvalidReason.INVALID_FOREIGN, "+15555555555", 1),
    ("+999 123", InvalidReason.INVALID_FOREIGN, "+999123", None),
    ("+0082 10 2345 6789", InvalidReason.INVALID_FOREIGN, "+00821023456789", None),
    ("001 1 555", InvalidReason.INVALID_FOREIGN, "+1555", 1),
    ("0012", InvalidReason.INVALID_FOREIGN, "+2", None),
]


def _id(raw: str) -> str:
    return ascii(raw)[:40]


@pytest.mark.parametrize(("raw", "kind", "digits"), VALID, ids=[_id(v[0]) for v in VALID])
def test_valid_numbers(raw: str, kind: NumberKind, digits: str) -> None:
    info = parse_number(raw)
    assert (info.kind, info.digits, info.valid, info.reason) == (kind, digits, True, None)
    assert info.raw == raw


@pytest.mark.parametrize(
    ("raw", "reason", "digits", "country_code"), INVALID, ids=[_id(v[0]) for v in INVALID]
)
def test_invalid_numbers(
    raw: str, reason: InvalidReason, digits: str, country_code: int | None
) -> None:
    info = parse_number(raw)
    assert (info.kind, info.valid, info.reason) == (NumberKind.INVALID, False, reason)
    assert (info.digits, info.country_code) == (digits, country_code)
    assert info.raw == raw
    assert info.e164 is None


def test_tables_cover_every_kind_and_reason() -> None:
    assert {kind for _, kind, _ in VALID} == set(NumberKind) - {NumberKind.INVALID}
    assert {reason for _, reason, _, _ in INVALID} == set(InvalidReason)


def test_reason_compares_as_plain_string() -> None:
    assert parse_number("abc").reason == "non_digit"
    assert parse_number("010-1234-5678").reason == "unassigned_prefix"


@pytest.mark.parametrize(
    ("raw", "e164", "country_code", "domestic"),
    [
        ("010-2345-6789", "+821023456789", 82, True),
        ("02-234-5678", "+8222345678", 82, True),
        ("1588-1234", "+8215881234", 82, True),
        ("0507-1234-5678", "+8250712345678", 82, True),
        ("112", None, 82, True),  # short codes are not reachable from abroad
        ("+1 415 555 0100", "+14155550100", 1, False),
        ("+44 20 7946 0958", "+442079460958", 44, False),
        ("011-234-5678", None, 82, True),  # invalid, but still a Korean-format number
        ("+1 555 555 5555", None, 1, False),
        ("abc", None, None, False),
        ("", None, None, False),
    ],
)
def test_e164_and_country(
    raw: str, e164: str | None, country_code: int | None, domestic: bool
) -> None:
    info = parse_number(raw)
    assert info.e164 == e164
    assert info.country_code == country_code
    assert info.is_domestic is domestic


def test_describe_kind() -> None:
    assert describe_kind(NumberKind.MOBILE) == "휴대전화 (mobile)"
    descriptions = {describe_kind(kind) for kind in NumberKind}
    assert len(descriptions) == len(NumberKind)  # one distinct line per kind
    for kind in NumberKind:
        text = describe_kind(kind)
        assert any("\uac00" <= ch <= "\ud7a3" for ch in text), text  # has Hangul
        assert "(" in text, text  # English in parentheses
        assert text.endswith(")"), text


def test_number_info_is_frozen() -> None:
    info = parse_number("010-2345-6789")
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.digits = "0"  # type: ignore[misc]


def test_results_are_cached_but_oversized_input_is_not() -> None:
    assert parse_number("010-2345-6789") is parse_number("010-2345-6789")
    big = "9" * (MAX_INPUT_CHARS + 1)
    assert parse_number(big) is not parse_number(big)
    assert parse_number("9" * 10_000_000).reason == "too_long"  # rejected without scanning


def test_exactly_max_input_chars_is_still_parsed() -> None:
    raw = "010-2345-6789".ljust(MAX_INPUT_CHARS)
    assert len(raw) == MAX_INPUT_CHARS
    assert parse_number(raw).digits == "01023456789"


def test_tables_are_consistent() -> None:
    prefixes = [rule.prefix for rule in KR_NUMBER_PLAN]
    assert len(prefixes) == len(set(prefixes))
    for rule in KR_NUMBER_PLAN:
        assert rule.prefix.isdigit()
        assert rule.lengths
        assert rule.kind not in (NumberKind.FOREIGN, NumberKind.INVALID, NumberKind.SPECIAL)
    assert all(code.isdigit() and 3 <= len(code) <= 4 for code in KR_SPECIAL_CODES)
    assert all(
        p[:2] in {"15", "16", "18"} and len(p) == 4 for p in KR_KNOWN_REPRESENTATIVE_PREFIXES
    )
    assert KR_INTERNATIONAL_PREFIXES[0] == "00"
    assert {"112", "119", "114", "118", "1301", "1332"} <= KR_SPECIAL_CODES


def test_known_representative_blocks_agree_with_phonenumbers() -> None:
    for prefix in sorted(PHONENUMBERS_UAN):
        number = phonenumbers.parse(f"+82{prefix}1234", None)
        assert phonenumbers.is_valid_number(number), prefix
        assert parse_number(f"{prefix}-1234").kind is NumberKind.REPRESENTATIVE


# --- property tests ---------------------------------------------------------------------------


@st.composite
def plan_numbers(draw: st.DrawFn) -> tuple[PlanRule, str]:
    """A valid domestic number drawn from the plan tables, with its rule."""
    rule = draw(st.sampled_from(KR_NUMBER_PLAN))
    length = draw(st.sampled_from(rule.lengths))
    first = draw(st.sampled_from(rule.first_digits or "0123456789"))
    size = length - len(rule.prefix) - 1
    rest = draw(st.text("0123456789", min_size=size, max_size=size))
    return rule, rule.prefix + first + rest


def _groups(rule: PlanRule, digits: str) -> list[str]:
    # "010|2345|6789", "02|234|5678", "0505|123|4567", "1588|1234"
    head = len(rule.prefix) if digits.startswith("0") else len(digits) - 4
    return [part for part in (digits[:head], digits[head:-4], digits[-4:]) if part]


def _national(digits: str) -> str:
    return digits[1:] if digits.startswith("0") else digits


Formatter = Callable[[PlanRule, str], str]

FORMATS: list[Formatter] = [
    lambda r, d: d,
    lambda r, d: "-".join(_groups(r, d)),
    lambda r, d: " ".join(_groups(r, d)),
    lambda r, d: ".".join(_groups(r, d)),
    lambda r, d: f"({_groups(r, d)[0]}) " + "-".join(_groups(r, d)[1:]),
    lambda r, d: f"  {'-'.join(_groups(r, d))}\t",
    lambda r, d: "+82" + _national(d),
    lambda r, d: "+82 " + " ".join(_groups(r, _national(d))),
    lambda r, d: "+82-" + "-".join(_groups(r, _national(d))),
    lambda r, d: "+82 0" + _national(d),  # lenient trunk 0
    lambda r, d: "+82 (0)" + _national(d),
    lambda r, d: "82" + _national(d),
    lambda r, d: "0082-" + "-".join(_groups(r, _national(d))),
    lambda r, d: "001 82 " + _national(d),
    lambda r, d: "00700-82-" + _national(d),
]


@given(plan_numbers(), st.sampled_from(FORMATS))
@example((KR_NUMBER_PLAN[0], "01023456789"), FORMATS[8])
def test_any_valid_domestic_number_round_trips(drawn: tuple[PlanRule, str], fmt: Formatter) -> None:
    rule, digits = drawn
    assert parse_number(digits).kind is rule.kind  # sanity: the generator makes valid numbers
    written = fmt(rule, digits)
    info = parse_number(written)
    assert (info.digits, info.kind, info.valid) == (digits, rule.kind, True), written
    assert info.e164 == "+82" + _national(digits)


@given(plan_numbers())
def test_plan_agrees_with_phonenumbers_except_documented_extensions(
    drawn: tuple[PlanRule, str],
) -> None:
    rule, digits = drawn
    info = parse_number(digits)
    assert info.e164 is not None
    # Where our plan is deliberately broader than phonenumbers' KR metadata:
    longer_form = rule.kind in (NumberKind.TOLL_FREE, NumberKind.PREMIUM) and len(digits) == 11
    other_block = rule.kind is NumberKind.REPRESENTATIVE and digits[:4] not in PHONENUMBERS_UAN
    # phonenumbers also withholds 010-5970..5999; no public source says why, so we accept them.
    withheld_mobile = rule.kind is NumberKind.MOBILE and digits[3:6] in {"597", "598", "599"}
    if not (longer_form or other_block or withheld_mobile):
        assert phonenumbers.is_valid_number(phonenumbers.parse(info.e164, None)), digits


@given(st.text(max_size=80))
@example("+")
@example("+82")
@example("00")
@example("\ud800")  # lone surrogate
def test_never_raises_and_invariants_hold(raw: str) -> None:
    _check_invariants(raw, parse_number(raw))


@given(st.text("0123456789+-(). ", max_size=24))
def test_never_raises_on_number_like_text(raw: str) -> None:
    _check_invariants(raw, parse_number(raw))


def _check_invariants(raw: str, info: NumberInfo) -> None:
    assert info.raw == raw
    assert info.valid is (info.kind is not NumberKind.INVALID)
    assert (info.reason is None) is info.valid
    if info.reason is not None:
        assert info.reason in set(InvalidReason)
        assert info.e164 is None
    if not info.valid:
        return
    # Canonical form: plain digits (E.164 with "+" for foreign), and it parses to itself.
    body = info.digits.removeprefix("+") if info.kind is NumberKind.FOREIGN else info.digits
    assert body.isascii()
    assert body.isdigit()
    again = parse_number(info.digits)
    assert (again.digits, again.kind) == (info.digits, info.kind)
    assert info.is_domestic is (info.kind is not NumberKind.FOREIGN)
    if info.kind is not NumberKind.SPECIAL:
        assert info.e164 is not None
        assert info.e164.startswith("+")
