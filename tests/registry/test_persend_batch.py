"""Per-send proofs checked a batch at a time: the same outcomes, one nonce-store call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from spamgate.checks.registry_view import SendAuth
from spamgate.domain.message import KST, Message, SendProof
from spamgate.registry.persend import HmacKey, NonceCache, PerSendVerifier, make_proof

SECRET = "s" * 64
NOW = 1_795_669_200
AT = datetime(2026, 11, 26, 14, tzinfo=KST)


def _message(
    nonce: str,
    *,
    text: str = "안녕하세요",
    account: str | None = "7",
    timestamp: int = NOW,
    signature: str | None = None,
    with_proof: bool = True,
    sender: str = "0212345678",
) -> Message:
    proof = make_proof(
        SECRET, account=account or "", text=text, timestamp=timestamp, sender=sender, nonce=nonce
    )
    auth = SendProof(
        timestamp=timestamp, nonce=nonce, signature=signature or str(proof["signature"])
    )
    return Message(
        text=text,
        submitted_at=AT,
        sender=sender,
        account=account,
        auth=auth if with_proof else None,
    )


class CountingCache(NonceCache):
    """The in-memory store, counting how often it is asked."""

    def __init__(self) -> None:
        super().__init__(window=300)
        self.calls = 0

    def add(self, key: str, timestamp: int, now: int) -> bool:
        self.calls += 1
        return super().add(key, timestamp, now)

    def add_many(self, items: Sequence[tuple[str, int]], now: int) -> list[bool]:
        self.calls += 1
        return [super(CountingCache, self).add(key, ts, now) for key, ts in items]


def _batch() -> list[tuple[Message, HmacKey | str | None]]:
    good = _message("good-nonce-0000001")
    return [
        (good, SECRET),
        (_message("good-nonce-0000002"), HmacKey(SECRET)),
        (good, SECRET),  # the same proof again in one batch: a replay
        (_message("forged-nonce-00001", signature="0" * 64), SECRET),
        (_message("stale-nonce-000001", timestamp=NOW - 301), SECRET),
        (_message("short"), SECRET),
        (_message("unknown-account-01"), None),
        (_message("no-proof-00000001", with_proof=False), SECRET),
        (_surrogate(), SECRET),
    ]


def _surrogate() -> Message:
    """A text no client can have signed (a lone surrogate cannot be encoded): refused, no crash."""
    signed = _message("surrogate-nonce-1")
    return Message(text="a\ud800b", submitted_at=AT, account="7", auth=signed.auth)


EXPECTED = [
    SendAuth.OK,
    SendAuth.OK,
    SendAuth.REPLAYED,
    SendAuth.BAD_SIGNATURE,
    SendAuth.STALE,
    SendAuth.MALFORMED,
    SendAuth.UNKNOWN_ACCOUNT,
    SendAuth.MISSING,
    SendAuth.MALFORMED,
]


def test_verify_many_gives_what_verify_gives_one_by_one() -> None:
    one_by_one = PerSendVerifier(nonces=NonceCache(window=300))
    assert [one_by_one.verify(m, s, NOW) for m, s in _batch()] == EXPECTED
    cache = CountingCache()
    batched = PerSendVerifier(nonces=cache)
    assert batched.verify_many(_batch(), NOW) == EXPECTED
    assert cache.calls == 1  # the whole batch in one call to the store
    # Every nonce that verified is spent; a forged proof did not spend its nonce.
    assert batched.verify_many(_batch()[:2], NOW) == [SendAuth.REPLAYED] * 2
    honest = _message("forged-nonce-00001")
    assert batched.verify_many([(honest, SECRET)], NOW) == [SendAuth.OK]
    assert batched.verify_many([], NOW) == []
    assert cache.calls == 3  # an empty batch asks nothing
