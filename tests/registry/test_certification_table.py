"""The certification lifecycle table (pure): every move, every refusal, expiry by date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from spamgate.errors import Conflict
from spamgate.registry.certification import (
    TRANSITIONS,
    CertAction,
    allowed_actions,
    default_valid_until,
    effective,
    next_state,
)
from spamgate.registry.models import CertState

A, S = CertAction, CertState
STATES: list[CertState | None] = [None, *CertState]


def test_the_happy_path() -> None:
    state: CertState | None = None
    for action, expected in [
        (A.APPLY, S.APPLIED),
        (A.REVIEW, S.DOCUMENTS_REVIEWED),
        (A.INSPECT, S.ONSITE_REVIEWED),
        (A.APPROVE, S.CERTIFIED),
        (A.RENEW, S.CERTIFIED),
        (A.SUSPEND, S.SUSPENDED),
        (A.REINSTATE, S.CERTIFIED),
        (A.CANCEL, S.CANCELLED),
    ]:
        state = next_state(state, action)
        assert state is expected


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", list(CertAction))
def test_everything_not_in_the_table_is_refused_with_the_allowed_actions(
    state: CertState | None, action: CertAction
) -> None:
    if (state, action) in TRANSITIONS:
        assert next_state(state, action) is TRANSITIONS[(state, action)]
        return
    with pytest.raises(Conflict) as info:
        next_state(state, action)
    message = str(info.value)
    assert f"cannot {action}" in message
    for allowed in allowed_actions(state):
        assert allowed.value in message


def test_cannot_skip_steps_or_approve_twice() -> None:
    with pytest.raises(Conflict, match="allowed actions: review, reject"):
        next_state(S.APPLIED, A.APPROVE)
    with pytest.raises(Conflict, match="no certification yet"):
        next_state(None, A.APPROVE)
    with pytest.raises(Conflict, match="final"):
        next_state(S.CANCELLED, A.APPLY)
    with pytest.raises(Conflict, match="apply again"):
        next_state(S.EXPIRED, A.RENEW)


def test_expiry_is_read_from_the_end_date() -> None:
    end = date(2027, 11, 30)
    assert effective(S.CERTIFIED, end, end) is S.CERTIFIED  # valid through its last day
    assert effective(S.CERTIFIED, end, end + timedelta(days=1)) is S.EXPIRED
    assert effective(S.SUSPENDED, end, end + timedelta(days=1)) is S.EXPIRED
    assert effective(S.APPLIED, None, end) is S.APPLIED
    assert effective(None, None, end) is None


def test_default_end_dates() -> None:
    today = date(2026, 11, 26)
    assert default_valid_until(today) == date(2027, 11, 26)
    # a renewal adds a year to the current end date, not to today
    assert default_valid_until(today, date(2027, 1, 31)) == date(2028, 1, 31)
    assert default_valid_until(today, date(2026, 1, 1)) == date(2027, 11, 26)
