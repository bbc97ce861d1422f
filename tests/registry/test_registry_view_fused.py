"""The view's one-probe lookups agree with the separate ones they stand for: account_state is
(account, certification) on the view's day, sender_flagged is False only for numbers neither
theft-protected nor blocked; and a view's proof check uses the verifier's nonce store as it is
when the message comes, not as it was when the view was made."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from spamgate.checks.registry_view import AccountStanding, SendAuth
from spamgate.domain.message import Message, SendProof
from spamgate.registry.persend import HmacKey, NonceCache, PerSendVerifier, make_proof
from spamgate.registry.view import BlockInfo, BoundView, RegistrySnapshot, certification_on

NOW = datetime(2026, 11, 26, 5, tzinfo=UTC)  # 14:00 KST
END = date(2026, 12, 31)
STATES = (None, "applied", "certified", "suspended", "cancelled", "rejected")
SECRET = "s" * 64


def _snapshot() -> RegistrySnapshot:
    accounts: dict[str, AccountStanding] = {}
    for index, (state, until, reseller, suspended) in enumerate(
        itertools.product(STATES, (None, END), (None, 7), (False, True))
    ):
        key = str(index)
        accounts[key] = AccountStanding(
            key,
            7 if reseller else 1,
            suspended,
            frozenset({f"02{index:07d}"}),
            reseller_id=reseller,
            certification=state if reseller else None,
            certified_until=until if reseller else None,
        )
    return RegistrySnapshot(
        version=1,
        accounts=accounts,
        secrets={key: HmacKey(SECRET) for key in accounts},
        theft_protected=frozenset({"0311111111", "0322222222"}),
        blocked_numbers={
            "0322222222": BlockInfo("both"),
            "0333333333": BlockInfo("old", NOW - timedelta(minutes=1)),
            "0344444444": BlockInfo("live", NOW + timedelta(minutes=1)),
        },
    )


def _view(snapshot: RegistrySnapshot, now: datetime = NOW) -> BoundView:
    return BoundView(snapshot, now=now, numbers=None, verifier=PerSendVerifier())


def test_account_state_agrees_with_account_and_certification_on_every_day() -> None:
    snapshot = _snapshot()
    for now in (NOW, datetime(2026, 12, 31, 14, 59, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)):
        view = _view(snapshot, now)  # 23:59 KST on the end date, then past it
        for account_id in [*snapshot.accounts, "unknown", ""]:
            standing = view.account(account_id)
            expected = None if standing is None else (standing, view.certification(standing))
            assert view.account_state(account_id) == expected
            assert view.account_state(account_id) == expected  # from the memo, the same
        # the memo holds known accounts only, for the day asked
        states = snapshot.account_states(view._today)
        assert set(states) == set(snapshot.accounts)
        assert states.today == view._today
    # past the end date, certified and suspended read as expired (the day moved the memo on)
    past = _view(snapshot, datetime(2027, 1, 1, tzinfo=UTC))
    answers = [past.account_state(account_id) for account_id in snapshot.accounts]
    kinds = {answer[1] for answer in answers if answer is not None and answer[1]}
    assert "expired" in kinds and "certified" in kinds


def test_certification_on_answers_none_without_a_reseller() -> None:
    standing = AccountStanding("1", 1, False, frozenset(), certification="certified")
    assert certification_on(standing, date(2026, 1, 1)) is None


def test_views_of_one_snapshot_and_day_share_the_memo() -> None:
    snapshot = _snapshot()
    first, second = _view(snapshot), _view(snapshot, NOW + timedelta(hours=1))
    assert first.account_state("3") is second.account_state("3")
    later = _view(snapshot, NOW + timedelta(days=1))
    assert later.account_state("3") == first.account_state("3")
    assert snapshot.account_states(later._today).today == later._today


def test_sender_flagged_is_false_only_for_numbers_neither_protected_nor_blocked() -> None:
    snapshot = _snapshot()
    view = _view(snapshot)
    numbers = ["0311111111", "0322222222", "0333333333", "0344444444", "0355555555", "", "x"]
    for number in numbers:
        flagged = view.sender_flagged(number)
        if not flagged:
            assert not view.theft_protected(number) and view.blocked_number(number) is None
        if view.theft_protected(number) or view.blocked_number(number) is not None:
            assert flagged
    assert snapshot.flagged_numbers == snapshot.theft_protected | set(snapshot.blocked_numbers)
    # an expired block is still flagged; blocked_number then says it no longer applies
    assert view.sender_flagged("0333333333") and view.blocked_number("0333333333") is None


def _message(nonce: str) -> Message:
    proof = make_proof(
        SECRET, account="0", text="안녕하세요", timestamp=int(NOW.timestamp()), nonce=nonce
    )
    return Message(
        text="안녕하세요",
        submitted_at=NOW,
        account="0",
        auth=SendProof(int(proof["timestamp"]), str(proof["nonce"]), str(proof["signature"])),
    )


def test_a_view_checks_nonces_in_the_verifiers_current_store() -> None:
    snapshot = _snapshot()
    verifier = PerSendVerifier()
    view = BoundView(snapshot, now=NOW, numbers=None, verifier=verifier)
    message = _message("n" * 16)
    assert view.authenticate(message) is SendAuth.OK
    assert view.authenticate(message) is SendAuth.REPLAYED
    verifier.nonces = NonceCache()  # swapped after the view was made: the view uses it
    assert view.authenticate(message) is SendAuth.OK
    assert len(verifier.nonces) == 1
    offline = BoundView(snapshot, now=NOW, numbers=None, verifier=None)
    assert offline.authenticate(message) is SendAuth.OFFLINE
