"""The Korean telephone number plan: parse any written number into a :class:`NumberInfo`.

Pure and allocation-light, because it runs on the hot path (every sender, every recipient and every
number written in a message body). :func:`parse_number` never raises on text: bad input comes back
as ``kind=INVALID`` with a machine-readable ``reason``.

Korean numbers are judged by our own tables below (:data:`KR_NUMBER_PLAN`,
:data:`KR_SPECIAL_CODES`), which follow the MSIT telecommunication number plan
(전기통신번호관리세칙) as summarised in DOMAIN.md "Numbers" and were cross-checked against the KR
metadata shipped with ``phonenumbers``; where the two differ the table says why. Foreign numbers
are judged by ``phonenumbers`` (``is_valid_number``).

Decisions worth knowing:

* ``010`` exchanges ``0000``-``1999`` are never assigned (they would clash with 1XX special codes
  and 0XX prefixes when a 010 subscriber dials another without the prefix), so
  ``010-1234-5678`` is ``unassigned_prefix``. Use ``010-2xxx``-``010-9xxx`` in examples.
* Legacy 2G mobile prefixes ``011/016/017/018/019`` are retired (2G closed in 2021; the last
  transitional use of 01X numbers ended by mid-2024), so they are ``unassigned_prefix``.
* Geographic exchanges never start with 0 or 1 (trunk prefix; 1XX special codes on local
  dialling), so ``02-123-4567`` is ``unassigned_prefix`` too. phonenumbers accepts them.
* ``050X`` personal numbers have 11 or 12 digits; they are the one exception to the 8-11 digit
  rule for domestic numbers.
* ``080`` and ``060`` take 7 or 8 digits after the prefix (phonenumbers knows only 7), and every
  ``15XX/16XX/18XX`` block is accepted; :data:`KR_KNOWN_REPRESENTATIVE_PREFIXES` lists the blocks
  known to be in service for checks that want to weigh an unfamiliar one.
* ``012`` (machine-to-machine / IoT numbers in phonenumbers' data) is not a person's number and
  is treated as unassigned, like ``013``-``015`` (pagers, gone).
* Reasons are checked in this order: too_long (input over MAX_INPUT_CHARS characters), empty,
  non_digit, bad_length (outside the 8-11 window, after known special codes), unassigned_prefix,
  then too_short / too_long for the prefix's own lengths.
* Invalid numbers always have ``kind=INVALID``: ``valid`` is True exactly when ``kind`` is not
  INVALID, so ``kind is NumberKind.MOBILE`` alone means "a valid mobile number".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import phonenumbers

__all__ = [
    "KR_COUNTRY_CODE",
    "KR_INTERNATIONAL_PREFIXES",
    "KR_KNOWN_REPRESENTATIVE_PREFIXES",
    "KR_NUMBER_PLAN",
    "KR_SPECIAL_CODES",
    "MAX_INPUT_CHARS",
    "InvalidReason",
    "NumberInfo",
    "NumberKind",
    "PlanRule",
    "describe_kind",
    "parse_number",
]

KR_COUNTRY_CODE: Final = 82

#: Inputs longer than this are rejected unread ("too_long") and never cached: the longest sane
#: spelling ("+82 (0)10 - 1234 - 5678" and the like) is well under it.
MAX_INPUT_CHARS: Final = 64

_CACHE_SIZE: Final = 65_536
_KR_CC: Final = str(KR_COUNTRY_CODE)


class NumberKind(StrEnum):
    """What a number is, in the Korean plan (or FOREIGN / INVALID)."""

    MOBILE = "mobile"
    GEOGRAPHIC = "geographic"
    REPRESENTATIVE = "representative"
    TOLL_FREE = "toll_free"
    VOIP = "voip"
    PERSONAL = "personal"
    PREMIUM = "premium"
    SPECIAL = "special"
    FOREIGN = "foreign"
    INVALID = "invalid"


class InvalidReason(StrEnum):
    """Why a number is invalid. Members are ``str``: ``info.reason == "bad_length"`` works."""

    #: Nothing but whitespace/separators.
    EMPTY = "empty"
    #: A letter or any character other than digits, a leading ``+`` and separators.
    NON_DIGIT = "non_digit"
    #: Right length for the 8-11 digit window but too short for its prefix (e.g. 010 + 7 digits).
    TOO_SHORT = "too_short"
    #: Too long for its prefix (e.g. 02 + 9 digits), or input over MAX_INPUT_CHARS characters.
    TOO_LONG = "too_long"
    #: A domestic number outside 8-11 digits (12 allowed for 050X) that is no special code.
    BAD_LENGTH = "bad_length"
    #: A prefix or exchange the Korean plan does not assign (012-019, 020, 069, 09X, 010-1XXX...).
    UNASSIGNED_PREFIX = "unassigned_prefix"
    #: A non-Korean number that ``phonenumbers`` does not consider valid.
    INVALID_FOREIGN = "invalid_foreign"


_KIND_DESCRIPTIONS: Final[dict[NumberKind, str]] = {
    NumberKind.MOBILE: "휴대전화 (mobile)",
    NumberKind.GEOGRAPHIC: "지역번호 유선전화 (geographic landline)",
    NumberKind.REPRESENTATIVE: "전국대표번호 (nationwide representative number)",
    NumberKind.TOLL_FREE: "수신자부담 무료전화 (toll-free)",
    NumberKind.VOIP: "인터넷전화 (VoIP)",
    NumberKind.PERSONAL: "개인번호·안심번호 (personal / virtual number)",
    NumberKind.PREMIUM: "유료 정보서비스 (premium rate)",
    NumberKind.SPECIAL: "특수번호 (special service code)",
    NumberKind.FOREIGN: "국외 번호 (foreign number)",
    NumberKind.INVALID: "유효하지 않은 번호 (invalid number)",
}


@dataclass(frozen=True, slots=True)
class PlanRule:
    """One prefix of the Korean plan, in domestic form (with the trunk ``0`` where it has one)."""

    prefix: str
    kind: NumberKind
    #: Allowed total lengths in digits, prefix included.
    lengths: tuple[int, ...]
    #: Allowed first digit after the prefix (exchange / subscriber); "" means any digit.
    first_digits: str = ""


# Exchanges starting 0 or 1 cannot exist where the subscriber can be dialled without the prefix:
# 0 is the trunk prefix and 1 starts the 1XX special codes (112, 119...). That is documented for
# 010 (MSIT) and 060 (phonenumbers agrees); for landlines no published source says so, and
# operators do register 02-1XX-XXXX style senders, so there only the trunk 0 is excluded.
_EXCHANGE: Final = "23456789"
_LANDLINE_EXCHANGE: Final = "123456789"

_AREA_CODES: Final = (
    "031", "032", "033",  # 경기, 인천, 강원
    "041", "042", "043", "044",  # 충남, 대전, 충북, 세종
    "051", "052", "053", "054", "055",  # 부산, 울산, 대구, 경북, 경남
    "061", "062", "063", "064",  # 전남, 광주, 전북, 제주
)  # fmt: skip

#: The Korean plan as data. Looked up by longest matching prefix (4, then 3, then 2 digits);
#: a domestic number no rule matches is "unassigned_prefix".
KR_NUMBER_PLAN: Final[tuple[PlanRule, ...]] = (
    # 010 + 8 digits. MSIT keeps exchanges 0000-1999 unusable, leaving 80M of the 100M numbers
    # assignable; phonenumbers accepts those exchanges, and 010 + 7 digits, too.
    PlanRule("010", NumberKind.MOBILE, (11,), _EXCHANGE),
    # Seoul 02 + 7 or 8 digits; other areas 0XX + 7 or 8 digits.
    PlanRule("02", NumberKind.GEOGRAPHIC, (9, 10), _LANDLINE_EXCHANGE),
    *(PlanRule(code, NumberKind.GEOGRAPHIC, (10, 11), _LANDLINE_EXCHANGE) for code in _AREA_CODES),
    # 080 + 7 or 8 digits (phonenumbers knows only the 7-digit form; 8 accepted per our plan).
    PlanRule("080", NumberKind.TOLL_FREE, (10, 11)),
    # 070 + 8 digits (internet telephony).
    PlanRule("070", NumberKind.VOIP, (11,)),
    # 060 + 7 or 8 digits, first digit 2-9 (phonenumbers: 60[2-9]\d{6}).
    PlanRule("060", NumberKind.PREMIUM, (10, 11), _EXCHANGE),
    # 050X personal / virtual ("safe") numbers, 0502-0508, + 7 or 8 digits (11-12 in all).
    *(PlanRule(f"050{x}", NumberKind.PERSONAL, (11, 12)) for x in "2345678"),
    # Nationwide representative numbers 15XX/16XX/18XX + 4 digits, dialled without a prefix.
    PlanRule("15", NumberKind.REPRESENTATIVE, (8,)),
    PlanRule("16", NumberKind.REPRESENTATIVE, (8,)),
    PlanRule("18", NumberKind.REPRESENTATIVE, (8,)),
)

#: Representative-number blocks known to be in service (phonenumbers' KR "UAN" and short-code
#: data, plus operators' published blocks). Every 15XX/16XX/18XX number is accepted as valid,
#: since no authoritative list of unassigned blocks is public; this set lets a check weigh an
#: unfamiliar block.
KR_KNOWN_REPRESENTATIVE_PREFIXES: Final = frozenset(
    {
        "1522", "1533", "1544", "1566", "1577", "1588", "1599",
        "1600", "1644", "1660", "1661", "1666", "1668", "1670", "1688",
        "1800", "1811", "1833", "1844", "1855", "1866", "1877", "1899",
    }
)  # fmt: skip

#: 3-digit special service codes, dialled without a prefix (phonenumbers' KR short-number data).
_SPECIAL_3: Final = frozenset(
    {
        "100", "101", "105",  # operator service lines
        "110",  # government civil-complaint call centre
        "111", "113",  # national security reports
        "112",  # police
        "114", "115", "116",  # directory enquiry and operator services
        "117",  # school-violence reports
        "118",  # KISA: spam, hacking and personal-data reports
        "119",  # fire and ambulance
        "120",  # local-government call centres (e.g. 다산콜 120)
        "121", "123",  # water / electricity faults
        "125", "127", "128", "129",  # report / counselling lines (smuggling, pollution, welfare)
        "132", "134", "141", "182", "188",
    }
)  # fmt: skip

#: Special service codes: the 3-digit set above plus the 4-digit 13XX public-service block
#: (1301 prosecution, 1330 tourism, 1332 FSS, 1345 immigration, 1350 labour, 1388 youth,
#: 1393 suicide prevention...), accepted as a block because it grows every year.
KR_SPECIAL_CODES: Final = _SPECIAL_3 | frozenset(f"13{n:02d}" for n in range(100))

#: International call prefixes usable from Korea: the bare ITU "00" plus the carriers' own
#: (phonenumbers' KR international_prefix), so "001-1-415-..." and "00700-82-..." both parse.
KR_INTERNATIONAL_PREFIXES: Final[tuple[str, ...]] = (
    "00",
    "00700", "00727", "00755", "00761", "00762", "00766", "00345", "00365", "00391", "0073",
    "001", "002", "005", "006", "008", "009",
)  # fmt: skip

_DOMESTIC_MIN_DIGITS: Final = 8
_DOMESTIC_MAX_DIGITS: Final = 11
# Prefix -> the longest domestic number it may have, where that exceeds the general maximum.
_MAX_DIGITS_EXCEPTIONS: Final[dict[str, int]] = {"050": 12}
# National significant numbers that start with these take no trunk "0" (representative numbers).
_NO_TRUNK_PREFIXES: Final = frozenset({"15", "16", "18"})

_RULES_BY_PREFIX: Final[dict[str, PlanRule]] = {rule.prefix: rule for rule in KR_NUMBER_PLAN}
_PREFIX_LENGTHS: Final = tuple(sorted({len(p) for p in _RULES_BY_PREFIX}, reverse=True))

# Separators people write inside numbers: spaces (incl. no-break and ideographic), hyphens
# (incl. typographic dashes), dots, parentheses. Deleted in one C-level str.translate call.
_SEPARATORS: Final = " \t\u00a0\u3000-\u2010\u2011\u2012\u2013\u2212.()"
_DELETE_SEPARATORS: Final = str.maketrans("", "", _SEPARATORS)
_ASCII_DIGITS: Final = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class NumberInfo:
    """A parsed phone number.

    ``digits`` is canonical: the domestic national form with its leading ``0`` for Korean numbers
    (``"01023456789"``, ``"0223456789"``, ``"15881234"``, ``"112"``), E.164 for foreign ones
    (``"+14155550100"``). For an invalid number it is the best canonical form that could be
    made (Korean international forms are turned into the domestic form, foreign ones keep their
    ``+``), the bare digits when the text had junk in it, and ``""`` for empty or oversized input.
    """

    raw: str
    digits: str
    kind: NumberKind
    valid: bool
    reason: str | None
    country_code: int | None

    @property
    def is_domestic(self) -> bool:
        """True for Korean numbers (country code 82), valid or not."""
        return self.country_code == KR_COUNTRY_CODE

    @property
    def e164(self) -> str | None:
        """``+82...`` / ``+<cc>...`` for valid numbers; None if invalid or a special short code."""
        if not self.valid or self.kind is NumberKind.SPECIAL:
            return None
        if self.kind is NumberKind.FOREIGN:
            return self.digits
        national = self.digits[1:] if self.digits.startswith("0") else self.digits
        return f"+{KR_COUNTRY_CODE}{national}"


def describe_kind(kind: NumberKind) -> str:
    """A one-line Korean + English name for ``kind``, e.g. ``"휴대전화 (mobile)"``."""
    return _KIND_DESCRIPTIONS[kind]


def parse_number(raw: str) -> NumberInfo:
    """Parse a phone number as people and systems write it; never raises on any text.

    Accepts domestic forms (``010-2345-6789``, ``(02) 234-5678``, ``1588-1234``, ``114``),
    Korean international forms (``+82 10-2345-6789``, lenient ``+82 010...``, ``0082...``,
    ``00700 82...``, and a bare ``82...`` digit string, which no domestic number starts with) and
    foreign numbers with ``+`` or an international prefix. Separators: spaces, hyphens, dots,
    parentheses. Results are cached (LRU); oversized input is rejected before the cache.
    """
    if len(raw) > MAX_INPUT_CHARS:
        return _invalid(raw, "", InvalidReason.TOO_LONG, None)
    return _parse_cached(raw)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_cached(raw: str) -> NumberInfo:
    if len(raw) == 11 and raw.startswith("010") and raw.isascii() and raw.isdigit():
        # Canonical mobile digits, the commonest spelling (a new one nearly every message):
        # what _parse_korean decides for them, without the general path's steps.
        if raw[3] in _EXCHANGE:
            return NumberInfo(raw, raw, NumberKind.MOBILE, True, None, KR_COUNTRY_CODE)
        return _invalid(raw, raw, InvalidReason.UNASSIGNED_PREFIX, KR_COUNTRY_CODE)
    cleaned = raw.strip().translate(_DELETE_SEPARATORS)
    plus = cleaned.startswith("+")
    body = cleaned[1:] if plus else cleaned
    if not body:
        return _invalid(raw, "", InvalidReason.EMPTY, None)
    # isascii() first: str.isdigit() alone would accept "²", "٣" or full-width "３".
    if not (body.isascii() and body.isdigit()):
        found = "".join(ch for ch in raw if ch in _ASCII_DIGITS)
        return _invalid(raw, found, InvalidReason.NON_DIGIT, None)
    if plus:
        return _parse_after_prefix(raw, body)
    if body.startswith("00"):
        return _parse_dialled_abroad(raw, body)
    if body.startswith(_KR_CC):
        # "821023456789": international form written without "+" (SMPP TON=international).
        return _parse_korean(raw, _domestic_from_national(body[len(_KR_CC) :]))
    return _parse_korean(raw, body)


def _parse_dialled_abroad(raw: str, body: str) -> NumberInfo:
    """``body`` starts with "00": an international prefix, or else a bad domestic prefix."""
    if body.startswith("00" + _KR_CC):
        # "0082-10-...": the ITU form for Korea. Never re-read as carrier 008 + "+2...".
        return _parse_after_prefix(raw, body[2:])
    # Read it after each matching prefix: bare "00" ("0044 20..."), then the carriers' own
    # ("001 1 415...", "00700 82 10..."). A valid Korean reading wins ("001 82 1500..." is not
    # +1 821-500-...), then the first valid foreign one.
    foreign: NumberInfo | None = None
    via_carrier: NumberInfo | None = None
    for prefix in KR_INTERNATIONAL_PREFIXES:
        if body.startswith(prefix):
            info = _parse_after_prefix(raw, body[len(prefix) :])
            if info.valid and info.is_domestic:
                return info
            if info.valid and foreign is None:
                foreign = info
            if prefix != "00" and via_carrier is None:
                via_carrier = info
    if foreign is not None:
        return foreign
    if via_carrier is not None:
        return via_carrier  # dialled through a carrier's prefix: say what is wrong with it
    # "003...", "004...": no valid international number and no carrier prefix, so judge it as
    # the domestic number it then is (00X prefixes are unassigned domestically).
    return _parse_korean(raw, body)


def _parse_after_prefix(raw: str, rest: str) -> NumberInfo:
    """``rest`` is what follows an international prefix: a country code and a number."""
    if rest.startswith(_KR_CC):
        return _parse_korean(raw, _domestic_from_national(rest[len(_KR_CC) :]))
    return _parse_foreign(raw, rest)


def _domestic_from_national(national: str) -> str:
    """Korean national significant number (after +82) -> domestic form with its trunk 0."""
    if national.startswith("0"):
        national = national[1:]  # "+82 010-...", "+82 (0)2-...": a common mistake, forgiven
    if len(national) == 8 and national[:2] in _NO_TRUNK_PREFIXES:
        return national  # representative numbers have no trunk prefix: +82 1588-1234
    return "0" + national


def _parse_korean(raw: str, digits: str) -> NumberInfo:
    """Judge a domestic-form digit string against the Korean plan tables."""
    n = len(digits)
    if n <= 4 and digits in KR_SPECIAL_CODES:
        return NumberInfo(raw, digits, NumberKind.SPECIAL, True, None, KR_COUNTRY_CODE)
    max_digits = _MAX_DIGITS_EXCEPTIONS.get(digits[:3], _DOMESTIC_MAX_DIGITS)
    if not _DOMESTIC_MIN_DIGITS <= n <= max_digits:
        return _invalid(raw, digits, InvalidReason.BAD_LENGTH, KR_COUNTRY_CODE)
    rule = _find_rule(digits)
    if rule is None:
        return _invalid(raw, digits, InvalidReason.UNASSIGNED_PREFIX, KR_COUNTRY_CODE)
    if rule.first_digits and digits[len(rule.prefix)] not in rule.first_digits:
        return _invalid(raw, digits, InvalidReason.UNASSIGNED_PREFIX, KR_COUNTRY_CODE)
    if n not in rule.lengths:
        reason = InvalidReason.TOO_SHORT if n < min(rule.lengths) else InvalidReason.TOO_LONG
        return _invalid(raw, digits, reason, KR_COUNTRY_CODE)
    return NumberInfo(raw, digits, rule.kind, True, None, KR_COUNTRY_CODE)


def _find_rule(digits: str) -> PlanRule | None:
    for size in _PREFIX_LENGTHS:
        rule = _RULES_BY_PREFIX.get(digits[:size])
        if rule is not None:
            return rule
    return None


def _parse_foreign(raw: str, digits: str) -> NumberInfo:
    """A non-Korean number after its international prefix, judged by phonenumbers."""
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        # No country code could be read ("+999...", "+0...").
        return _invalid(raw, "+" + digits, InvalidReason.INVALID_FOREIGN, None)
    cc = number.country_code
    if not phonenumbers.is_valid_number(number):
        return _invalid(raw, "+" + digits, InvalidReason.INVALID_FOREIGN, cc)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return NumberInfo(raw, e164, NumberKind.FOREIGN, True, None, cc)


def _invalid(raw: str, digits: str, reason: InvalidReason, country_code: int | None) -> NumberInfo:
    return NumberInfo(raw, digits, NumberKind.INVALID, False, reason, country_code)
