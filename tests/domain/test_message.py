"""Message validation: every bad field is a clear InputError naming the field."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamgate.domain.message import KST, Message, Route, parse_message, parse_route, parse_time
from spamgate.errors import InputError


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   \n "}, "text"),
        ({"text": None}, "text"),
        ({"text": "a" * 2001}, "text"),
        ({"text": "hi\x00there"}, "text"),
        ({"text": "bad \udcff surrogate"}, "text"),
        ({"text": "ok", "route": "satellite"}, "route"),
        ({"text": "ok", "at": "yesterday noon"}, "at"),
        ({"text": "ok", "at": "2026-13-45T99:00"}, "at"),
        ({"text": "ok", "sender": "1" * 65}, "sender"),
        ({"text": "ok", "account": "a\x00b"}, "account"),
    ],
)
def test_bad_fields_raise_input_error_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    text = kwargs.pop("text")
    with pytest.raises(InputError) as info:
        parse_message(text, **kwargs)
    assert info.value.field == field
    assert info.value.reason


def test_max_chars_is_configurable() -> None:
    assert parse_message("a" * 3000, max_chars=5000).text == "a" * 3000


def test_time_is_korea_time() -> None:
    utc = parse_time("2026-11-26T12:30:00+00:00")
    assert utc.tzinfo is not None and utc.utcoffset() == timedelta(hours=9)
    assert utc.hour == 21
    assert parse_time("2026-11-26T22:30:00").hour == 22  # naive = Korea time
    assert parse_time(None, now=datetime(2026, 1, 1, tzinfo=UTC)).hour == 9


def test_route_parsing() -> None:
    assert parse_route(None) is Route.DOMESTIC
    assert parse_route(" International ") is Route.INTERNATIONAL


def test_message_requires_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        Message(text="x", submitted_at=datetime(2026, 1, 1))


def test_message_is_built_with_cleaned_fields() -> None:
    msg = parse_message("안녕하세요", sender=" 010-1234-5678 ", account="", route="domestic")
    assert msg.sender == "010-1234-5678"
    assert msg.account is None
    assert msg.submitted_at.tzinfo is not None
    assert msg.submitted_at.astimezone(KST).utcoffset() == timedelta(hours=9)


@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=30)))
def test_parse_message_only_raises_input_error(text: str, route: str | None) -> None:
    with contextlib.suppress(InputError):
        parse_message(text, route=route, at=None)
