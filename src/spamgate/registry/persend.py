"""Per-send authentication (발송 건별 인증): every submission proves it comes from the account.

A login or an API key proves who connected; a per-send proof binds *each message* to the
account's secret, so a stolen session cannot be used to blast other texts, numbers or times.

Format, version 1. The client builds this UTF-8 string, seven lines joined by ``\\n`` (LF),
with no trailing newline::

    spamgate-send-v1
    <account>            the account id, as sent in the message's "account" field
    <sender>             the sender number exactly as sent (surrounding spaces removed; "" if none)
    <recipient>          the recipient number exactly as sent (likewise; "" if none)
    <sha256(text)>       lowercase hex SHA-256 of the message text's UTF-8 bytes, as sent
    <timestamp>          Unix time in seconds, decimal (e.g. 1795669200)
    <nonce>              16-64 characters of A-Z a-z 0-9 _ -, never reused by the account

and sends ``auth = {"timestamp": <int>, "nonce": "<nonce>", "signature": "<hex>"}`` where the
signature is the lowercase hex HMAC-SHA256 of that string keyed with the account's secret (the
64-character string the registry returned when the account was created, as UTF-8 bytes).
:func:`sign` does exactly this; clients in other languages need only HMAC-SHA256 and SHA-256.

The registry refuses a proof when:

* the timestamp is more than ``max_skew`` seconds (default 300) from the registry's clock
  (``stale``): a captured message cannot be replayed later;
* the account already used the nonce within that window (``replayed``). Nonces are remembered
  for the skew window in a bounded in-memory cache (:class:`NonceCache`; a shared Redis cache
  for several gateway nodes can implement :class:`NonceStore`). When the cache is full the oldest
  entry is dropped and proofs at or before its timestamp are refused: memory stays bounded and a
  replay is never accepted;
* a signed field holds a line break, or nonce/signature are not in the format (``malformed``);
* the HMAC does not match (``bad_signature``).

The nonce is remembered only once the signature has verified, so nobody without the secret can
use up an account's nonces.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Final, Protocol

from spamgate.checks.registry_view import SendAuth
from spamgate.domain.message import Message

__all__ = [
    "DEFAULT_MAX_SKEW",
    "VERSION_TAG",
    "HmacKey",
    "NonceCache",
    "NonceStore",
    "PerSendVerifier",
    "canonical_string",
    "make_proof",
    "new_nonce",
    "sign",
]

VERSION_TAG: Final = "spamgate-send-v1"
DEFAULT_MAX_SKEW: Final = 300
_NONCE_RE: Final = re.compile(r"[A-Za-z0-9_-]{16,64}")
_nonce_ok: Final = _NONCE_RE.fullmatch
# Module-level names for the per-message check: a global load, not a global and an attribute.
_sha256: Final = hashlib.sha256
_compare_digest: Final = hmac.compare_digest
_fromhex: Final = bytes.fromhex


def canonical_string(
    *,
    account: str,
    sender: str | None,
    recipient: str | None,
    text: str,
    timestamp: int,
    nonce: str,
) -> str:
    """The string a per-send signature covers (see the module docstring)."""
    text_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return "\n".join(
        (
            VERSION_TAG,
            account.strip(),
            (sender or "").strip(),
            (recipient or "").strip(),
            text_hash,
            str(timestamp),
            nonce,
        )
    )


def sign(
    secret: str,
    *,
    account: str,
    sender: str | None,
    recipient: str | None,
    text: str,
    timestamp: int,
    nonce: str,
) -> str:
    """The lowercase hex HMAC-SHA256 of :func:`canonical_string` under ``secret``."""
    message = canonical_string(
        account=account,
        sender=sender,
        recipient=recipient,
        text=text,
        timestamp=timestamp,
        nonce=nonce,
    )
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def new_nonce() -> str:
    """A random 22-character nonce."""
    return secrets.token_urlsafe(16)


def make_proof(
    secret: str,
    *,
    account: str,
    text: str,
    timestamp: int,
    sender: str | None = None,
    recipient: str | None = None,
    nonce: str | None = None,
) -> dict[str, int | str]:
    """A ready ``auth`` object for a message (a fresh nonce unless one is given)."""
    nonce = nonce or new_nonce()
    signature = sign(
        secret,
        account=account,
        sender=sender,
        recipient=recipient,
        text=text,
        timestamp=timestamp,
        nonce=nonce,
    )
    return {"timestamp": timestamp, "nonce": nonce, "signature": signature}


_IPAD: Final = bytes(x ^ 0x36 for x in range(256))
_OPAD: Final = bytes(x ^ 0x5C for x in range(256))
_BLOCK: Final = 64


class HmacKey:
    """An HMAC-SHA256 key with its two pads hashed once (RFC 2104), so each message costs two
    hash-state copies instead of a full HMAC set-up: about twice as fast. Never shows the key."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: str | bytes) -> None:
        raw = key.encode("utf-8") if isinstance(key, str) else key
        if len(raw) > _BLOCK:
            raw = hashlib.sha256(raw).digest()
        raw = raw.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(raw.translate(_IPAD))
        self._outer = hashlib.sha256(raw.translate(_OPAD))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def __repr__(self) -> str:
        return "HmacKey(<secret>)"


class NonceStore(Protocol):
    """Remembers nonces for the skew window: :class:`NonceCache` in this process, or
    :class:`~spamgate.registry.redis_nonces.RedisNonceStore` shared by several gateway nodes."""

    def add(self, key: str, timestamp: int, now: int) -> bool:
        """Record ``key`` (seen with ``timestamp``); False if it was seen, or cannot be vouched
        for, within the window."""
        ...

    def add_many(self, items: Sequence[tuple[str, int]], now: int) -> list[bool]:
        """:meth:`add` for each ``(key, timestamp)``, in order (a repeated key: only its first
        is new). A shared store answers a batch in one round trip."""
        ...


class NonceCache:
    """A bounded in-memory :class:`NonceStore` (thread-safe).

    Entries leave after ``window`` seconds (a proof that old is refused as stale anyway). When
    more than ``capacity`` are live, the oldest is dropped and its timestamp becomes a floor:
    proofs at or before it are refused, because their nonce may have been forgotten.
    """

    def __init__(self, *, capacity: int = 1_000_000, window: int = DEFAULT_MAX_SKEW) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.window = window
        self._seen: set[str] = set()
        # Oldest first, side by side (two deques rather than one of pairs: no tuple per nonce).
        self._keys: deque[str] = deque()
        self._stamps: deque[int] = deque()
        self._floor = -1
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    @property
    def floor(self) -> int:
        """Proofs with a timestamp at or below this are refused (-1: none yet)."""
        return self._floor

    def add(self, key: str, timestamp: int, now: int) -> bool:
        # acquire/release rather than `with`: half the cost, and this runs for every message.
        self._lock.acquire()
        try:
            keys, stamps = self._keys, self._stamps
            cutoff = now - self.window
            seen = self._seen
            while stamps and stamps[0] < cutoff:
                stamps.popleft()
                seen.discard(keys.popleft())
            if timestamp <= self._floor:
                return False
            size = len(seen)
            seen.add(key)
            if len(seen) == size:  # already there: one hash lookup instead of two
                return False
            keys.append(key)
            stamps.append(timestamp)
            if size >= self.capacity:
                seen.discard(keys.popleft())
                self._floor = max(self._floor, stamps.popleft())
            return True
        finally:
            self._lock.release()

    def add_many(self, items: Sequence[tuple[str, int]], now: int) -> list[bool]:
        return [self.add(key, timestamp, now) for key, timestamp in items]


class _Deferred:
    """A stand-in nonce store for :meth:`PerSendVerifier.verify_many`: notes each nonce that
    reached the store and says "new", so the batch can be sent to the real store at once."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[tuple[str, int]] = []

    def add(self, key: str, timestamp: int, now: int) -> bool:
        self.items.append((key, timestamp))
        return True


_OK: Final = SendAuth.OK


class PerSendVerifier:
    """Checks per-send proofs: format, clock skew, HMAC, then the nonce (in that order)."""

    def __init__(self, *, max_skew: int = DEFAULT_MAX_SKEW, nonces: NonceStore | None = None):
        self.max_skew = max_skew
        # `is None`, not `or`: an empty NonceCache is falsy (it has a length).
        self.nonces: NonceStore = NonceCache(window=max_skew) if nonces is None else nonces

    def verify(
        self, message: Message, secret: HmacKey | str | bytes | None, now: float
    ) -> SendAuth:
        """The outcome for ``message`` (which names an account) given the account's secret
        (None when the registry does not know the account) at Unix time ``now``.

        The hot path: one SHA-256, one HMAC and one nonce-store probe, a few microseconds.
        """
        return self._verify(None, int(now), self.nonces, message, secret)

    def verify_many(
        self,
        batch: Sequence[tuple[Message, HmacKey | str | bytes | None]],
        now: float,
    ) -> list[SendAuth]:
        """:meth:`verify` for each ``(message, secret)``, in order, with one nonce-store call
        for the whole batch (one round trip to a shared store). A nonce repeated within the
        batch is accepted once, for its first message."""
        now_s = int(now)
        deferred = _Deferred()
        verify = self._verify
        outcomes = [verify(None, now_s, deferred, message, secret) for message, secret in batch]
        if deferred.items:
            # Exactly the OK outcomes reached the deferred store, in order.
            passed = [index for index, outcome in enumerate(outcomes) if outcome is _OK]
            fresh = self.nonces.add_many(deferred.items, now_s)
            for index, new in zip(passed, fresh, strict=True):
                if not new:
                    outcomes[index] = SendAuth.REPLAYED
        return outcomes

    def _verify(
        self,
        secret_of: Callable[[str], HmacKey | None] | None,
        now_s: int,
        nonces: NonceStore | _Deferred | None,
        message: Message,
        secret: HmacKey | str | bytes | None = None,
    ) -> SendAuth:
        """The check itself. ``secret_of`` (account id -> key; None: ``secret`` is the key),
        ``nonces`` (None: :attr:`nonces` as it is now) and the order of the arguments let a
        view bind all but ``message`` once (functools.partial), so a message costs one Python
        frame here and no more."""
        account = message.account
        if account is None:
            return SendAuth.UNKNOWN_ACCOUNT
        if secret_of is not None:
            secret = secret_of(account)
        if secret is None:
            return SendAuth.UNKNOWN_ACCOUNT
        proof = message.auth
        if proof is None:
            return SendAuth.MISSING
        # parse_message strips sender and recipient already; a Message built elsewhere must do
        # the same. A line break in any signed field would shift the signed lines.
        sender = message.sender or ""
        recipient = message.recipient or ""
        nonce = proof.nonce
        signature = proof.signature
        if (
            len(signature) != 64
            or _nonce_ok(nonce) is None
            or "\n" in account
            or "\r" in account
            or "\n" in sender
            or "\r" in sender
            or "\n" in recipient
            or "\r" in recipient
        ):
            return SendAuth.MALFORMED
        try:
            claimed = _fromhex(signature)
        except ValueError:
            return SendAuth.MALFORMED
        timestamp = proof.timestamp
        if abs(now_s - timestamp) > self.max_skew:
            return SendAuth.STALE
        key = secret if type(secret) is HmacKey else HmacKey(secret)  # type: ignore[arg-type]
        try:
            # canonical_string() and HmacKey.digest(), inlined: this runs for every message.
            text_hash = _sha256(message.text.encode()).hexdigest()
            signed = (
                f"{VERSION_TAG}\n{account}\n{sender}\n{recipient}\n{text_hash}\n"
                f"{timestamp}\n{nonce}".encode()
            )
        except UnicodeEncodeError:  # a lone surrogate: no client can have signed it
            return SendAuth.MALFORMED
        inner = key._inner.copy()
        inner.update(signed)
        outer = key._outer.copy()
        outer.update(inner.digest())
        if not _compare_digest(outer.digest(), claimed):
            return SendAuth.BAD_SIGNATURE
        if nonces is None:
            nonces = self.nonces
        if not nonces.add(f"{account}\x00{nonce}", timestamp, now_s):
            return SendAuth.REPLAYED
        return _OK
