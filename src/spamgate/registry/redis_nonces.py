"""Per-send nonces shared through Redis, so a proof spent on one gateway node is spent on all.

A :class:`~spamgate.registry.persend.NonceStore` for several ``spamgate serve`` processes: each
nonce is one key, written with ``SET key 1 NX EX ttl`` — the first writer wins, every later one
(on any node) learns the nonce was used. A batch of nonces goes in one pipeline, one round trip.

The key lives as long as its proof could still be accepted: until ``timestamp + window`` (the
verifier refuses a proof more than ``window`` seconds from its clock), so a proof dated ahead of
the clock cannot be replayed once a shorter expiry has passed. Keys carry the account id and the
nonce only (``<prefix>:nonce:<account>\\x00<nonce>``), never a message.

When Redis cannot be reached no nonce can be vouched for, so the proofs are refused (the
``NonceStore`` contract: a replay is never accepted); the error is logged at most once a minute.
Selected by the ``redis_url`` setting (``SPAMGATE_REDIS_URL``); the in-memory
:class:`~spamgate.registry.persend.NonceCache` stays the default.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Final

from spamgate.registry.persend import DEFAULT_MAX_SKEW

__all__ = ["RedisNonceStore"]

log = logging.getLogger(__name__)

_WARN_EVERY: Final = 60.0


class RedisNonceStore:
    """A :class:`~spamgate.registry.persend.NonceStore` on a (synchronous) redis-py client."""

    def __init__(
        self, client: Any, *, prefix: str = "spamgate", window: int = DEFAULT_MAX_SKEW
    ) -> None:
        if window < 1:
            raise ValueError("window must be positive")
        self.client = client
        self.window = window
        self._prefix = f"{prefix}:nonce:"
        self._warned_at = -_WARN_EVERY

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisNonceStore:
        """A store on the Redis at ``url`` (``redis://127.0.0.1:6379/0``); short timeouts, so an
        outage costs a refused proof, not a stalled gateway."""
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        return cls(client, **options)

    def _ttl(self, timestamp: int, now: int) -> int:
        return max(1, timestamp + self.window - now + 1)

    def add(self, key: str, timestamp: int, now: int) -> bool:
        from redis.exceptions import RedisError

        try:
            created = self.client.set(
                self._prefix + key, b"1", nx=True, ex=self._ttl(timestamp, now)
            )
        except RedisError as exc:
            self._warn(exc)
            return False
        return bool(created)

    def add_many(self, items: Sequence[tuple[str, int]], now: int) -> list[bool]:
        if not items:
            return []
        from redis.exceptions import RedisError

        pipe = self.client.pipeline(transaction=False)
        for key, timestamp in items:
            pipe.set(self._prefix + key, b"1", nx=True, ex=self._ttl(timestamp, now))
        try:
            answers = pipe.execute()
        except RedisError as exc:
            self._warn(exc)
            return [False] * len(items)
        return [bool(answer) for answer in answers]

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY:
            self._warned_at = now
            log.error(
                "Redis nonce store unreachable (%s): per-send proofs are refused until it is back",
                type(exc).__name__,
            )
