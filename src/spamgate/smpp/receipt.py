"""Delivery-receipt text: the de-facto format of SMPP 3.4 Appendix B.

    id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD
    err:E text:...

``format_receipt`` writes exactly that shape (sub/dlvrd/err zero-padded to 3 digits, at most the
first 20 characters of the text). ``parse_receipt`` reads what SMSCs actually send: keys in any
case, fields in any order or missing (only ``id`` is required), dates with or without seconds,
``text`` taken as everything after ``text:`` so a message text cannot fake other fields. Dates are
naive (the SMSC's local time, which the spec does not pin down) and two-digit years are 20YY.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from spamgate.smpp.errors import ReceiptError
from spamgate.smpp.pdu import MessageState

__all__ = ["STAT_BY_STATE", "Receipt", "format_receipt", "parse_receipt"]

#: message_state -> the 7-letter stat word of receipts.
STAT_BY_STATE: Final[dict[MessageState, str]] = {
    MessageState.ENROUTE: "ENROUTE",
    MessageState.DELIVERED: "DELIVRD",
    MessageState.EXPIRED: "EXPIRED",
    MessageState.DELETED: "DELETED",
    MessageState.UNDELIVERABLE: "UNDELIV",
    MessageState.ACCEPTED: "ACCEPTD",
    MessageState.UNKNOWN: "UNKNOWN",
    MessageState.REJECTED: "REJECTD",
}
_STATE_BY_STAT: Final[dict[str, MessageState]] = {v: k for k, v in STAT_BY_STATE.items()}

_TEXT_LIMIT: Final = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """One delivery receipt. ``err`` is kept as text: its values are network specific."""

    message_id: str
    sub: int = 1
    dlvrd: int = 0
    submit_date: datetime | None = None
    done_date: datetime | None = None
    stat: str = "DELIVRD"
    err: str = "000"
    text: str = ""

    @property
    def message_state(self) -> MessageState | None:
        """The message_state the stat word stands for, None for a word we do not know."""
        return _STATE_BY_STAT.get(self.stat.upper())

    @property
    def delivered(self) -> bool:
        """True for stat DELIVRD."""
        return self.message_state is MessageState.DELIVERED


def _date(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%y%m%d%H%M")


def format_receipt(receipt: Receipt) -> str:
    """The receipt text in the Appendix B shape (dates to the minute, text cut to 20 chars)."""
    return (
        f"id:{receipt.message_id} sub:{receipt.sub:03d} dlvrd:{receipt.dlvrd:03d}"
        f" submit date:{_date(receipt.submit_date)} done date:{_date(receipt.done_date)}"
        f" stat:{receipt.stat} err:{receipt.err} text:{receipt.text[:_TEXT_LIMIT]}"
    )


_KEYS: Final = re.compile(r"(?i)(?<![\w])(id|sub|dlvrd|submit date|done date|stat|err):")
_TEXT_KEY: Final = re.compile(r"(?i)(?<![\w])text:")
_DATE: Final = re.compile(r"[0-9]{10}(?:[0-9]{2})?")


def _parse_date(key: str, value: str) -> datetime | None:
    if not value:
        return None
    if _DATE.fullmatch(value) is None:
        raise ReceiptError(f"{key} {value!r} is not YYMMDDhhmm[ss]")
    parts = [int(value[i : i + 2]) for i in range(0, len(value), 2)]
    try:
        # Two-digit years are 20YY: strptime's %y would put 69..99 in the 1900s.
        return datetime(
            2000 + parts[0],
            parts[1],
            parts[2],
            parts[3],
            parts[4],
            parts[5] if len(parts) > 5 else 0,
        )
    except ValueError:
        raise ReceiptError(f"{key} {value!r} is not a valid date") from None


def _parse_count(key: str, value: str) -> int:
    if not value.isdigit() or not value.isascii():
        raise ReceiptError(f"{key} {value!r} is not a number")
    return int(value)


def parse_receipt(text: str) -> Receipt:
    """Read a receipt text; raises ``ReceiptError`` when it has no ``id:`` or a field is garbled."""
    text_key = _TEXT_KEY.search(text)
    head = text if text_key is None else text[: text_key.start()]
    body = "" if text_key is None else text[text_key.end() :]
    values: dict[str, str] = {}
    matches = list(_KEYS.finditer(head))
    for i, match in enumerate(matches):
        stop = matches[i + 1].start() if i + 1 < len(matches) else len(head)
        values.setdefault(match.group(1).lower(), head[match.end() : stop].strip())
    message_id = values.get("id")
    if not message_id:
        raise ReceiptError("receipt has no id")
    return Receipt(
        message_id=message_id,
        sub=_parse_count("sub", values["sub"]) if "sub" in values else 1,
        dlvrd=_parse_count("dlvrd", values["dlvrd"]) if "dlvrd" in values else 0,
        submit_date=_parse_date("submit date", values.get("submit date", "")),
        done_date=_parse_date("done date", values.get("done date", "")),
        stat=values.get("stat", "UNKNOWN").upper(),
        err=values.get("err", ""),
        text=body,
    )
