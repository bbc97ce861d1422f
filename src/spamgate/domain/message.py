"""The message being judged, and Korea time.

A :class:`Message` is built once at the edge (CLI row, HTTP body, SMPP submit) from untrusted
input by :func:`parse_message`, which turns every kind of bad input into an :class:`InputError`
naming the field. Everything downstream can then trust it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from spamgate.errors import InputError

__all__ = [
    "KST",
    "DataCoding",
    "Message",
    "Route",
    "SendProof",
    "parse_message",
    "parse_route",
    "parse_send_proof",
    "parse_time",
]

#: Every rule in spamgate runs on Korea time.
KST = ZoneInfo("Asia/Seoul")


class Route(StrEnum):
    """Where the message entered the Korean network."""

    DOMESTIC = "domestic"
    INTERNATIONAL = "international"


class DataCoding(StrEnum):
    """How the text travelled (SMPP data_coding, by name); ``unicode`` for HTTP/CLI input."""

    UNICODE = "unicode"
    GSM7 = "gsm7"
    ASCII = "ascii"
    LATIN1 = "latin1"
    UCS2 = "ucs2"
    KSC5601 = "ksc5601"


@dataclass(frozen=True, slots=True)
class SendProof:
    """A per-send proof: an HMAC over the message with the account's secret, a Unix timestamp
    and a one-time nonce (format: :mod:`spamgate.registry.persend`). Only its shape is checked
    here; the registry checks the rest."""

    timestamp: int
    nonce: str
    signature: str


@dataclass(frozen=True, slots=True)
class Message:
    """One short message as submitted. ``submitted_at`` is always aware, in Asia/Seoul."""

    text: str
    submitted_at: datetime
    sender: str | None = None
    recipient: str | None = None
    route: Route = Route.DOMESTIC
    account: str | None = None
    data_coding: DataCoding = DataCoding.UNICODE
    parts: int = 1
    auth: SendProof | None = None

    def __post_init__(self) -> None:
        if self.submitted_at.tzinfo is None:
            raise ValueError("submitted_at must be timezone-aware")


def parse_route(value: str | None) -> Route:
    """``domestic`` (default when absent) or ``international``; anything else is an error."""
    if value is None or value.strip() == "":
        return Route.DOMESTIC
    try:
        return Route(value.strip().lower())
    except ValueError:
        raise InputError(
            f"unknown route {value[:40]!r}: expected 'domestic' or 'international'",
            field="route",
        ) from None


def parse_time(value: str | datetime | None, *, now: datetime | None = None) -> datetime:
    """ISO-8601 time in Korea time; a naive time is taken as Korea time, absent means now."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return (now or datetime.now(KST)).astimezone(KST)
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(
                f"unparseable time {value[:40]!r}: "
                "expected ISO-8601, e.g. 2026-11-26T09:30:00+09:00",
                field="at",
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=KST)
    return moment.astimezone(KST)


_PROOF_FIELD_MAX = 256
_PROOF_FIELDS = frozenset({"timestamp", "nonce", "signature"})


def parse_send_proof(value: SendProof | Mapping[str, Any] | None) -> SendProof | None:
    """A :class:`SendProof` from ``{"timestamp", "nonce", "signature"}``; InputError if it is
    not even shaped like one (a wrong signature is the registry's business, not an error)."""
    if value is None or isinstance(value, SendProof):
        return value
    if not isinstance(value, Mapping):
        raise InputError("auth must be an object {timestamp, nonce, signature}", field="auth")
    # Every submission carries one: test without building sets unless something is wrong.
    if not _PROOF_FIELDS.issuperset(value):
        unknown = sorted(set(value) - _PROOF_FIELDS)
        raise InputError(f"auth has unknown fields: {', '.join(map(str, unknown))}", field="auth")
    timestamp = value.get("timestamp")
    if type(timestamp) is not int:  # the usual case first: a plain int
        if isinstance(timestamp, str) and timestamp.isascii() and timestamp.isdigit():
            timestamp = int(timestamp)
        if not isinstance(timestamp, int) or isinstance(timestamp, bool):
            raise InputError("auth.timestamp must be Unix seconds (an integer)", field="auth")
    if timestamp < 0:
        raise InputError("auth.timestamp must be Unix seconds (an integer)", field="auth")
    nonce = value.get("nonce")
    if not isinstance(nonce, str) or not nonce or len(nonce) > _PROOF_FIELD_MAX:
        raise InputError("auth.nonce must be a non-empty string", field="auth")
    signature = value.get("signature")
    if not isinstance(signature, str) or not signature or len(signature) > _PROOF_FIELD_MAX:
        raise InputError("auth.signature must be a non-empty string", field="auth")
    return SendProof(timestamp, nonce, signature)


def _clean_optional(value: str | None, name: str, limit: int = 64) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if value == "":
        return None
    if len(value) > limit:
        raise InputError(f"{name} is longer than {limit} characters", field=name)
    if "\x00" in value:
        raise InputError(f"{name} contains a NUL character", field=name)
    return value


def parse_message(
    text: str | None,
    *,
    sender: str | None = None,
    recipient: str | None = None,
    route: str | None = None,
    at: str | datetime | None = None,
    account: str | None = None,
    max_chars: int = 2000,
    now: datetime | None = None,
    auth: SendProof | Mapping[str, Any] | None = None,
) -> Message:
    """Validate raw fields into a :class:`Message`, or raise :class:`InputError`."""
    if text is None or not text or text.isspace():  # (no stripped copy of the text)
        raise InputError("empty text: nothing to judge", field="text")
    if "\x00" in text:
        raise InputError("text contains a NUL character", field="text")
    if len(text) > max_chars:
        raise InputError(
            f"text has {len(text)} characters, over the maximum of {max_chars}", field="text"
        )
    try:
        text.encode("utf-8")  # C-speed way to find lone surrogates (mis-decoded input)
    except UnicodeEncodeError:
        raise InputError("text is not valid Unicode (lone surrogate)", field="text") from None
    # Validated in this order (the first bad field is the one reported), then built with
    # positional arguments in field order: cheaper than keywords, and this runs per message.
    sender = _clean_optional(sender, "sender")
    recipient = _clean_optional(recipient, "recipient")
    parsed_route = parse_route(route)
    submitted_at = parse_time(at, now=now)
    account = _clean_optional(account, "account", limit=128)
    proof = parse_send_proof(auth)
    return Message(
        text, submitted_at, sender, recipient, parsed_route, account, DataCoding.UNICODE, 1, proof
    )
