"""Per-send proofs (pure): the documented format, skew, replay, a bounded nonce cache."""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import datetime

from spamgate.checks.registry_view import SendAuth
from spamgate.domain.message import KST, Message, SendProof
from spamgate.registry.persend import (
    NonceCache,
    PerSendVerifier,
    canonical_string,
    make_proof,
    sign,
)

SECRET = "a" * 64
NOW = 1_795_669_200


def _message(proof: dict[str, object] | None, **over: object) -> Message:
    fields: dict[str, object] = {
        "text": "안녕하세요",
        "submitted_at": datetime(2026, 11, 26, 14, tzinfo=KST),
        "sender": "0212345678",
        "recipient": "01023456789",
        "account": "7",
    }
    fields.update(over)
    auth = None if proof is None else SendProof(**proof)  # type: ignore[arg-type]
    return Message(auth=auth, **fields)  # type: ignore[arg-type]


def _proof(**over: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "account": "7",
        "text": "안녕하세요",
        "timestamp": NOW,
        "sender": "0212345678",
        "recipient": "01023456789",
    }
    fields.update(over)
    proof: dict[str, object] = dict(make_proof(SECRET, **fields))  # type: ignore[arg-type]
    return proof


def test_the_documented_format() -> None:
    text_hash = hashlib.sha256("안녕하세요".encode()).hexdigest()
    expected = (
        f"spamgate-send-v1\n7\n0212345678\n01023456789\n{text_hash}\n{NOW}\nnonce-1234567890ab"
    )
    got = canonical_string(
        account="7",
        sender=" 0212345678 ",
        recipient="01023456789",
        text="안녕하세요",
        timestamp=NOW,
        nonce="nonce-1234567890ab",
    )
    assert got == expected
    signature = hmac.new(SECRET.encode(), expected.encode(), hashlib.sha256).hexdigest()
    assert (
        sign(
            SECRET,
            account="7",
            sender="0212345678",
            recipient="01023456789",
            text="안녕하세요",
            timestamp=NOW,
            nonce="nonce-1234567890ab",
        )
        == signature
    )


def test_outcomes() -> None:
    verifier = PerSendVerifier(max_skew=300)
    good = _proof()
    assert verifier.verify(_message(good), SECRET, NOW) is SendAuth.OK
    assert verifier.verify(_message(good), SECRET, NOW) is SendAuth.REPLAYED
    # the same nonce under another account is another key
    other = _proof(account="8", nonce=good["nonce"])
    assert verifier.verify(_message(other, account="8"), SECRET, NOW) is SendAuth.OK
    assert verifier.verify(_message(None), SECRET, NOW) is SendAuth.MISSING
    assert verifier.verify(_message(_proof()), None, NOW) is SendAuth.UNKNOWN_ACCOUNT
    assert verifier.verify(_message(_proof(timestamp=NOW - 301)), SECRET, NOW) is SendAuth.STALE
    assert verifier.verify(_message(_proof()), "b" * 64, NOW) is SendAuth.BAD_SIGNATURE
    assert (
        verifier.verify(_message(_proof(), text="바뀐 문구"), SECRET, NOW) is SendAuth.BAD_SIGNATURE
    )
    upper = _proof()
    upper["signature"] = str(upper["signature"]).upper()
    assert verifier.verify(_message(upper), SECRET, NOW) is SendAuth.OK
    for bad in ({"nonce": "x" * 15}, {"nonce": "x" * 65}, {"nonce": "bad nonce 123456"}):
        assert verifier.verify(_message({**_proof(), **bad}), SECRET, NOW) is SendAuth.MALFORMED
    # a line break in a signed field could move text between fields: refused
    assert (
        verifier.verify(_message(_proof(sender="02\n1"), sender="02\n1"), SECRET, NOW)
        is SendAuth.MALFORMED
    )


def test_a_bad_signature_does_not_use_up_the_nonce() -> None:
    verifier = PerSendVerifier()
    good = _proof()
    forged = {**good, "signature": "0" * 64}
    assert verifier.verify(_message(forged), SECRET, NOW) is SendAuth.BAD_SIGNATURE
    assert verifier.verify(_message(good), SECRET, NOW) is SendAuth.OK


def test_nonce_cache_expires_and_stays_bounded_without_accepting_replays() -> None:
    cache = NonceCache(capacity=3, window=300)
    assert cache.add("a", NOW, NOW) and cache.add("b", NOW + 1, NOW)
    assert not cache.add("a", NOW, NOW)
    assert cache.add("c", NOW + 2, NOW) and cache.add("d", NOW + 3, NOW)
    assert len(cache) == 3 and cache.floor == NOW  # "a" was dropped: its time is the floor
    assert not cache.add("a", NOW, NOW)  # so "a" cannot come back
    assert not cache.add("e", NOW - 5, NOW)
    assert cache.add("e", NOW + 4, NOW)
    # 300 s on, everything has expired
    assert cache.add("z", NOW + 400, NOW + 400) and len(cache) == 1


def test_nonce_cache_is_thread_safe() -> None:
    cache = NonceCache(capacity=100_000)
    accepted: list[int] = []

    def worker() -> None:
        accepted.append(sum(cache.add(f"n{i}", NOW, NOW) for i in range(2000)))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(accepted) == 2000
