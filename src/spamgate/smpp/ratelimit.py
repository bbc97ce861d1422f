"""Speed reduction and quotas at the gateway: send-rate buckets per reseller and per account.

Rates (messages a second; ``[smpp.rates]`` of the policy):

* each reseller (bound ``system_id``) has ``reseller`` a second;
* each account has the rate of its trust tier (``tiers``: ``new``/``standard``/``trusted``);
* a runtime override replaces (``per_second``) or scales (``factor``, a sanction such as 0.1)
  either; ``per_second = 0`` stops the sender. Overrides are changed while the gateway runs
  (:meth:`RateTable.set`, ``spamgate smpp rate set``) and apply from the next message: the table
  lives in memory and is saved to ``<data-dir>/smpp-rates.json``, which a running gateway
  re-reads within a second when another process (the CLI) changed it.

A submit_multi counts once per recipient. A message over a limit is answered ESME_RTHROTTLED
with a ``RATE_LIMITED`` symbol naming the bucket and its rate; the account's bucket is asked
first, so a message the account's bucket refuses costs the reseller's nothing.

Counting uses the ``limits`` library with its **fixed-window** strategy over 1-second windows:
it is the cheapest (one counter per bucket and second: a dict entry in memory, one INCRBY with
EXPIRE on Redis); its known flaw — up to twice the rate across a window edge — is bounded and
lasts one second. The moving window keeps one timestamp per message (rate × buckets entries)
and the sliding-window counter reads two counters per hit; both are selectable (``strategy``).
Messages judged together are counted per bucket at once (fixed window: one increment by n,
and the first ones that fit are admitted, in order), so the cost is one storage call per bucket
per batch, not per message. ``storage = "memory://"`` (default) keeps counters in the process;
``"redis://127.0.0.1:6379"`` shares them between gateway nodes (one budget for all). If Redis
fails, messages are let through (logged, counted): a throttle asks for a retry, it must not stop
the gateway, and every message is still judged.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final, Literal

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from limits.storage import storage_from_string

__all__ = [
    "RATES_FILE",
    "BucketKind",
    "RateOverride",
    "RateRefusal",
    "RateRequest",
    "RateTable",
    "SendLimiter",
    "open_storage",
]

log = logging.getLogger(__name__)

RATES_FILE: Final = "smpp-rates.json"
BucketKind = Literal["reseller", "account"]
_KINDS: Final[tuple[BucketKind, ...]] = ("reseller", "account")
_STRATEGIES: Final[dict[str, type[RateLimiter]]] = {
    "fixed-window": FixedWindowRateLimiter,
    "moving-window": MovingWindowRateLimiter,
    "sliding-window-counter": SlidingWindowCounterRateLimiter,
}
_RELOAD_EVERY: Final = 1.0  # seconds between looks at the overrides file


@dataclass(frozen=True, slots=True)
class RateOverride:
    """A runtime change of one bucket's rate: an absolute rate, or a factor on the base."""

    per_second: int | None = None
    factor: float | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if (self.per_second is None) == (self.factor is None):
            raise ValueError("give either per_second or factor")
        if self.per_second is not None and not 0 <= self.per_second <= 1_000_000:
            raise ValueError("per_second must be 0..1000000")
        if self.factor is not None and not (math.isfinite(self.factor) and 0 <= self.factor <= 100):
            raise ValueError("factor must be 0..100")

    def apply(self, base: int) -> int:
        if self.per_second is not None:
            return self.per_second
        assert self.factor is not None
        scaled = base * self.factor
        return 0 if scaled <= 0 else max(1, int(scaled))


@dataclass(frozen=True, slots=True)
class RateRequest:
    """One message to count: who sends it, and how many recipients it has."""

    system_id: str
    account: str | None = None
    tier: str | None = None
    cost: int = 1


@dataclass(frozen=True, slots=True)
class RateRefusal:
    """Why a message was throttled: the bucket and its rate at that moment."""

    kind: BucketKind
    key: str
    per_second: int
    why: str  # "tier new", "override: <reason>", "reseller default"

    @property
    def evidence(self) -> str:
        return f"{self.kind} {self.key[:32]}: {self.per_second}/s ({self.why[:60]})"


class RateTable:
    """Base rates from the policy plus runtime overrides (thread-safe enough: whole-dict swaps)."""

    def __init__(
        self,
        *,
        reseller: int,
        tiers: Mapping[str, int],
        default_tier: str = "new",
        path: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reseller = reseller
        self.tiers = dict(tiers)
        self.default_tier = default_tier
        self.path = path
        self._clock = clock
        self._overrides: dict[BucketKind, dict[str, RateOverride]] = {k: {} for k in _KINDS}
        self._stamp: tuple[int, int] | None = None
        self._looked_at = -math.inf
        if path is not None:
            self._load()
            self._looked_at = clock()

    def rate(self, kind: BucketKind, key: str, tier: str | None = None) -> tuple[int, str]:
        """The rate (messages a second) of a bucket now, and where it comes from."""
        if kind == "reseller":
            base, why = self.reseller, "reseller default"
        else:
            tier = tier if tier in self.tiers else self.default_tier
            base, why = self.tiers.get(tier, self.reseller), f"tier {tier}"
        override = self._overrides[kind].get(key)
        if override is None:
            return base, why
        return override.apply(base), f"override: {override.reason or 'runtime'}"

    def overrides(self) -> dict[BucketKind, dict[str, RateOverride]]:
        return {kind: dict(table) for kind, table in self._overrides.items()}

    def set(self, kind: BucketKind, key: str, override: RateOverride | None) -> None:
        """Change (or with None, clear) a bucket's override; saved when the table has a file."""
        if kind not in _KINDS:
            raise ValueError(f"bucket kind must be one of {_KINDS}")
        table = dict(self._overrides[kind])
        if override is None:
            table.pop(key, None)
        else:
            table[key] = override
        self._overrides = {**self._overrides, kind: table}
        if self.path is not None:
            self._save()

    def maybe_reload(self) -> None:
        """Re-read the overrides file if another process changed it (at most once a second)."""
        now = self._clock()
        if self.path is None or now - self._looked_at < _RELOAD_EVERY:
            return
        self._looked_at = now
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return
        if (stat.st_mtime_ns, stat.st_size) != self._stamp:
            self._load()

    def _load(self) -> None:
        assert self.path is not None
        try:
            stat = os.stat(self.path)
            raw = json.loads(self.path.read_text("utf-8"))
            loaded: dict[BucketKind, dict[str, RateOverride]] = {k: {} for k in _KINDS}
            for kind in _KINDS:
                for key, value in dict(raw.get(kind, {})).items():
                    loaded[kind][str(key)] = RateOverride(**value)
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.error(
                "send-rate overrides in %s not loaded, keeping the current ones: %s", self.path, exc
            )
            return
        self._overrides = loaded
        self._stamp = (stat.st_mtime_ns, stat.st_size)
        log.info(
            "send-rate overrides loaded: %d reseller, %d account",
            len(loaded["reseller"]),
            len(loaded["account"]),
        )

    def _save(self) -> None:
        assert self.path is not None
        data: dict[str, Any] = {
            kind: {key: asdict(value) for key, value in table.items()}
            for kind, table in self._overrides.items()
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
        os.replace(tmp, self.path)
        stat = os.stat(self.path)
        self._stamp = (stat.st_mtime_ns, stat.st_size)


def open_storage(uri: str) -> Storage:
    """A ``limits`` async storage: ``memory://`` or ``redis://host:port[/db]`` (redis-py)."""
    if uri == "memory://":
        return MemoryStorage()
    if uri.startswith(("redis://", "rediss://")):
        storage = storage_from_string(
            f"async+{uri}", implementation="redispy", key_prefix="spamgate-rate"
        )
        assert isinstance(storage, Storage)
        return storage
    raise ValueError(f"rate-limit storage must be memory:// or redis://..., not {uri[:40]!r}")


class SendLimiter:
    """Counts messages against the buckets of :class:`RateTable` (see the module docstring)."""

    def __init__(
        self,
        table: RateTable,
        *,
        storage: Storage | None = None,
        strategy: str = "fixed-window",
        on_storage_error: Callable[[], None] | None = None,
    ) -> None:
        if strategy not in _STRATEGIES:
            raise ValueError(f"strategy must be one of {sorted(_STRATEGIES)}")
        self.table = table
        self.storage = storage if storage is not None else MemoryStorage()
        self._limiter = _STRATEGIES[strategy](self.storage)
        self._fixed = strategy == "fixed-window"
        self._items: dict[int, RateLimitItem] = {}
        self._on_storage_error = on_storage_error
        self._last_error_log = -math.inf

    def _item(self, rate: int) -> RateLimitItem:
        item = self._items.get(rate)
        if item is None:
            item = self._items[rate] = RateLimitItemPerSecond(rate)
        return item

    async def admit(self, requests: Sequence[RateRequest]) -> list[RateRefusal | None]:
        """For each request: None (admitted and counted) or why it is throttled."""
        self.table.maybe_reload()
        out: list[RateRefusal | None] = [None] * len(requests)
        accounts: dict[str, list[int]] = {}
        for i, request in enumerate(requests):
            if request.account is not None:
                accounts.setdefault(request.account, []).append(i)
        for account, slots in accounts.items():
            tier = requests[slots[0]].tier
            await self._bucket("account", account, tier, slots, requests, out)
        resellers: dict[str, list[int]] = {}
        for i, request in enumerate(requests):
            if out[i] is None:
                resellers.setdefault(request.system_id, []).append(i)
        for system_id, slots in resellers.items():
            await self._bucket("reseller", system_id, None, slots, requests, out)
        return out

    async def _bucket(
        self,
        kind: BucketKind,
        key: str,
        tier: str | None,
        slots: list[int],
        requests: Sequence[RateRequest],
        out: list[RateRefusal | None],
    ) -> None:
        rate, why = self.table.rate(kind, key, tier)
        if rate <= 0:
            for i in slots:
                out[i] = RateRefusal(kind, key, 0, why)
            return
        item = self._item(rate)
        try:
            total = sum(requests[i].cost for i in slots)
            if self._fixed:
                # One INCRBY for the whole batch; the first ``rate - before`` fit, in order.
                # (Counting the refused ones too is harmless: the window ends all the same.)
                count = await self.storage.incr(
                    item.key_for(kind, key), item.get_expiry(), amount=total
                )
                room = rate - (count - total)
                if room >= total:
                    return
                for i in slots:
                    room -= requests[i].cost
                    if room < 0:
                        out[i] = RateRefusal(kind, key, rate, why)
                return
            if total <= rate and await self._limiter.hit(item, kind, key, cost=total):
                return  # the whole batch fits (these strategies count nothing when refusing)
            for i in slots:
                if not await self._limiter.hit(item, kind, key, cost=requests[i].cost):
                    out[i] = RateRefusal(kind, key, rate, why)
        except Exception as exc:  # storage down: let through, say so (rate-limited log)
            if self._on_storage_error is not None:
                self._on_storage_error()
            now = time.monotonic()
            if now - self._last_error_log > 10:
                self._last_error_log = now
                log.error("rate-limit storage failed, letting messages through: %s", exc)

    async def reset(self) -> None:
        """Forget every counter (tests and benchmarks)."""
        await self.storage.reset()

    async def close(self) -> None:
        """Close the storage's connections (Redis); memory storage has none."""
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        closer = getattr(client, "aclose", None)
        if closer is not None:
            await closer()
