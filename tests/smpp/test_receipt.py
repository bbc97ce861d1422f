"""Delivery-receipt text (spamgate.smpp.receipt)."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamgate.smpp import MessageState, Receipt, ReceiptError, format_receipt, parse_receipt


def test_format_appendix_b_shape() -> None:
    receipt = Receipt(
        message_id="0a1b2c3d",
        sub=1,
        dlvrd=1,
        submit_date=datetime(2026, 11, 26, 14, 0),
        done_date=datetime(2026, 11, 26, 14, 1, 30),
        stat="DELIVRD",
        err="000",
        text="(광고) 봄맞이 특가 안내입니다 지금 바로 확인하세요",
    )
    assert format_receipt(receipt) == (
        "id:0a1b2c3d sub:001 dlvrd:001 submit date:2611261400 done date:2611261401"
        " stat:DELIVRD err:000 text:(광고) 봄맞이 특가 안내입니다 지금"
    )


def test_parse_typical_smsc_receipt() -> None:
    receipt = parse_receipt(
        "id:1234567890 sub:001 dlvrd:000 submit date:2611261400 done date:261126140512"
        " stat:UNDELIV err:034 Text:Hello: stat:DELIVRD"
    )
    assert receipt.message_id == "1234567890"
    assert receipt.dlvrd == 0
    assert receipt.submit_date == datetime(2026, 11, 26, 14, 0)
    assert receipt.done_date == datetime(2026, 11, 26, 14, 5, 12)
    assert receipt.stat == "UNDELIV"
    assert receipt.message_state is MessageState.UNDELIVERABLE
    assert not receipt.delivered
    assert receipt.err == "034"
    assert receipt.text == "Hello: stat:DELIVRD"  # the text cannot fake a field


def test_parse_minimal_and_reordered() -> None:
    receipt = parse_receipt("stat:delivrd ID:abc")
    assert receipt.message_id == "abc"
    assert receipt.delivered
    assert receipt.submit_date is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sub:001 stat:DELIVRD",
        "id: sub:001",
        "id:1 sub:one",
        "id:1 submit date:26112614",
        "id:1 done date:2613321400",
    ],
)
def test_parse_errors(text: str) -> None:
    with pytest.raises(ReceiptError):
        parse_receipt(text)


token = st.text(st.sampled_from("0123456789abcdefABCDEF-"), min_size=1, max_size=20)
minutes = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


@given(
    st.builds(
        Receipt,
        message_id=token,
        sub=st.integers(0, 999),
        dlvrd=st.integers(0, 999),
        submit_date=st.none() | minutes,
        done_date=st.none() | minutes,
        stat=st.sampled_from(["DELIVRD", "EXPIRED", "UNDELIV", "REJECTD", "ACCEPTD", "ENROUTE"]),
        err=st.text(st.sampled_from("0123456789"), min_size=3, max_size=3),
        text=st.text(max_size=20),
    )
)
def test_format_parse_round_trip(receipt: Receipt) -> None:
    assert parse_receipt(format_receipt(receipt)) == receipt
