"""Burst and sweep windows shared through Redis: several gateway processes, one view.

The same semantics as the in-memory :class:`~spamgate.model.bursts.BurstTracker` — two tumbling
generations of ``window`` seconds, a message sees the current and the previous one, this message
included — with Redis data types in place of the in-process sketches:

* per content key and generation: a message counter (``INCR``) and two HyperLogLogs
  (``PFADD``/``PFCOUNT``) of the senders and recipients; ``PFCOUNT`` over both generations'
  logs counts the distinct numbers of the whole window (a union, not a sum);
* per sending account (or sender number) and generation: a sorted set of recipient numbers
  (score = the number, at most ``max_recipients``) and a hash with the sequential and invalid
  counts; a new generation starts from the previous one's recipients, as in memory.

Every key expires ``2 * window`` (plus a minute) after it is created — it is read only during
its own generation and the next — so memory is bounded by the traffic of two windows. Key
names carry hashes only: the content key (already a hash) and a BLAKE2b of the account or
sender, never a text or a sender number. (Recipient numbers are kept as sorted-set members:
sweeps are about which numbers sit next to each other.)

A batch costs one round trip: one server-side script call per 256 messages (atomic, so
concurrent gateways never interleave inside one message's update), pipelined. Each
message is counted in the generation of its own time (the in-memory tracker counts a late
message in its current generation instead; only out-of-order input sees the difference).

When Redis cannot be reached the batch is counted in this process's own in-memory windows
(logged, at most once a minute), so a Redis outage weakens ``BULK_BURST`` to what one process
sees but never stops the gateway or loses a message.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Sequence
from typing import Any

from spamgate.model.bursts import (
    BurstState,
    BurstTracker,
    Observation,
    Seen,
    SweepState,
    recipient_number,
)

__all__ = ["RedisBurstTracker"]

log = logging.getLogger(__name__)

# One call per batch. ARGV: prefix, ttl, max recipients, sequence gap, then seven fields per
# message: epoch, content key (hex, '' = none), sender, recipient, who (hash, '' = no sweep),
# recipient number, recipient invalid (0/1). Returns six integers per message: messages,
# senders, recipients, sweep recipients (-1: none), sequential, invalid. Key names are built
# here from the prefix (a standalone Redis; Redis Cluster would need them declared).
_SCRIPT = """
local p, ttl = ARGV[1], tonumber(ARGV[2])
local max, gap = tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for i = 5, #ARGV, 7 do
  local epoch = tonumber(ARGV[i])
  local content, sender, recipient = ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local who, member, invalid = ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local messages, senders, recipients = 1, 1, 1
  if content ~= '' then
    local cur = p .. ':burst:' .. epoch .. ':' .. content
    local prev = p .. ':burst:' .. (epoch - 1) .. ':' .. content
    messages = redis.call('INCR', cur .. ':m')
    -- PFADD without an element still creates the log, so all three keys exist from the
    -- first message on and get their expiry once
    if sender ~= '' then redis.call('PFADD', cur .. ':s', sender)
    else redis.call('PFADD', cur .. ':s') end
    if recipient ~= '' then redis.call('PFADD', cur .. ':r', recipient)
    else redis.call('PFADD', cur .. ':r') end
    if messages == 1 then
      redis.call('EXPIRE', cur .. ':m', ttl)
      redis.call('EXPIRE', cur .. ':s', ttl)
      redis.call('EXPIRE', cur .. ':r', ttl)
    end
    messages = messages + tonumber(redis.call('GET', prev .. ':m') or '0')
    senders = redis.call('PFCOUNT', cur .. ':s', prev .. ':s')
    recipients = redis.call('PFCOUNT', cur .. ':r', prev .. ':r')
  end
  local swept, adjacent, bad = -1, 0, 0
  if who ~= '' then
    local cur = p .. ':sweep:' .. epoch .. ':' .. who
    local prev = p .. ':sweep:' .. (epoch - 1) .. ':' .. who
    local z, zp, h, hp = cur .. ':z', prev .. ':z', cur .. ':h', prev .. ':h'
    local card = 0
    if redis.call('EXISTS', h) == 0 then
      -- a new generation starts from the previous one's recipients
      if redis.call('EXISTS', zp) == 1 then
        redis.call('ZUNIONSTORE', z, 1, zp)
        redis.call('EXPIRE', z, ttl)
        card = redis.call('ZCARD', z)
        if card > max then
          redis.call('ZREMRANGEBYRANK', z, 0, card - max - 1)
          card = max
        end
        local was = redis.call('HMGET', hp, 'a', 'i')
        adjacent = math.min(tonumber(was[1] or '0'), card)
        bad = math.min(tonumber(was[2] or '0'), card)
      end
      redis.call('HSET', h, 'a', adjacent, 'i', bad)
      redis.call('EXPIRE', h, ttl)
    else
      local now = redis.call('HMGET', h, 'a', 'i')
      adjacent, bad = tonumber(now[1]), tonumber(now[2])
      card = redis.call('ZCARD', z)
    end
    if card < max and not redis.call('ZSCORE', z, member) then
      local number = tonumber(member)
      local near = redis.call('ZCOUNT', z, number - gap, number + gap)
      redis.call('ZADD', z, number, member)
      if card == 0 then redis.call('EXPIRE', z, ttl) end
      card = card + 1
      if near > 0 then adjacent = redis.call('HINCRBY', h, 'a', 1) end
      if invalid == '1' then bad = redis.call('HINCRBY', h, 'i', 1) end
    end
    swept = card
  end
  local at = #out
  out[at + 1], out[at + 2], out[at + 3] = messages, senders, recipients
  out[at + 4], out[at + 5], out[at + 6] = swept, adjacent, bad
end
return out
"""
_SHA = hashlib.sha1(_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1
_WARN_EVERY = 60.0
_CHUNK = 256  # messages per script call


def _who_hash(who: str) -> str:
    return hashlib.blake2b(who.encode("utf-8"), digest_size=8).hexdigest()


class RedisBurstTracker:
    """:class:`~spamgate.model.bursts.BurstWindows` kept in Redis and shared by every process
    that uses the same Redis and ``prefix``."""

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "spamgate",
        window: float = 600.0,
        max_recipients: int = 512,
        sequence_gap: int = 16,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.window = window
        self.max_recipients = max_recipients
        self.sequence_gap = sequence_gap
        self.ttl = math.ceil(2 * window) + 60
        #: Counts batches while Redis is unreachable (this process's view only).
        self.fallback = BurstTracker(
            window=window, max_recipients=max_recipients, sequence_gap=sequence_gap
        )
        self._warned = -math.inf

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisBurstTracker:
        """A tracker on the Redis at ``url`` (``redis://host:port/db``); connects lazily."""
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        return cls(client, **options)

    def _args(self, batch: Sequence[Observation]) -> list[str | int]:
        args: list[str | int] = [self.prefix, self.ttl, self.max_recipients, self.sequence_gap]
        window = self.window
        for o in batch:
            who = o.account or o.sender
            sweep = bool(who) and o.recipient is not None
            args += (
                int(o.at.timestamp() // window),
                o.key.hex() if o.key is not None else "",
                o.sender or "",
                o.recipient or "",
                _who_hash(who) if sweep and who else "",
                recipient_number(o.recipient) if sweep and o.recipient is not None else -1,
                int(o.recipient_invalid),
            )
        return args

    def _send(self, chunks: list[list[str | int]]) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        for args in chunks:
            pipe.evalsha(_SHA, 0, *args)
        results: list[Any] = pipe.execute(raise_on_error=False)
        return results

    def observe_many(self, batch: Sequence[Observation]) -> list[Seen]:
        """Count the batch in Redis in one round trip (see the module docstring)."""
        if not batch:
            return []
        from redis.exceptions import NoScriptError, RedisError

        # One script call per chunk keeps Redis responsive during a 10,000-message batch.
        chunks = [self._args(batch[lo : lo + _CHUNK]) for lo in range(0, len(batch), _CHUNK)]
        try:
            results = self._send(chunks)
            missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
            if missing:  # first use, or Redis restarted: those chunks did not run; again
                self.client.script_load(_SCRIPT)
                for i, again in zip(missing, self._send([chunks[i] for i in missing]), strict=True):
                    results[i] = again
        except RedisError as exc:
            self._warn(exc)
            return self.fallback.observe_many(batch)
        out: list[Seen] = []
        for n, flat in enumerate(results):
            part = batch[n * _CHUNK : (n + 1) * _CHUNK]
            if isinstance(flat, Exception):
                self._warn(flat)
                out += self.fallback.observe_many(part)
                continue
            for i, o in enumerate(part):
                messages, senders, recipients, swept, sequential, invalid = flat[6 * i : 6 * i + 6]
                who = o.account or o.sender
                sweep = SweepState(who, swept, sequential, invalid) if who and swept >= 0 else None
                out.append((BurstState(messages, senders, recipients), sweep))
        return out

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned >= _WARN_EVERY:
            self._warned = now
            log.warning(
                "burst windows: Redis unavailable, counting in this process only "
                "(Redis 연결 실패, 이 프로세스에서만 집계): %s",
                exc,
            )
