"""Send-rate buckets per reseller and account: policy rates, runtime overrides, memory and Redis
storage, and the ESME_RTHROTTLED answer over SMPP."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gate_support import Esme, Gateway, start_gateway
from prometheus_client import generate_latest
from typer.testing import CliRunner

from conftest import in_ci
from spamgate.cli import app
from spamgate.registry.service import Registry
from spamgate.smpp import CommandStatus
from spamgate.smpp.ratelimit import (
    RATES_FILE,
    RateOverride,
    RateRequest,
    RateTable,
    SendLimiter,
    open_storage,
)

S = CommandStatus
REDIS = "redis://127.0.0.1:6379"


def _table(**kw: object) -> RateTable:
    return RateTable(reseller=100, tiers={"new": 3, "trusted": 50}, **kw)  # type: ignore[arg-type]


def test_rates_come_from_tier_reseller_default_and_overrides() -> None:
    table = _table()
    assert table.rate("account", "1", "trusted") == (50, "tier trusted")
    assert table.rate("account", "1", None) == (3, "tier new")
    assert table.rate("account", "1", "unknown-tier") == (3, "tier new")
    assert table.rate("reseller", "r1") == (100, "reseller default")
    table.set("reseller", "r1", RateOverride(factor=0.1, reason="sanction 2026-11"))
    assert table.rate("reseller", "r1") == (10, "override: sanction 2026-11")
    table.set("reseller", "r1", RateOverride(factor=0.001))
    assert table.rate("reseller", "r1")[0] == 1  # a factor never rounds a rate down to a stop
    table.set("account", "1", RateOverride(per_second=0, reason="stop"))
    assert table.rate("account", "1", "trusted")[0] == 0
    table.set("account", "1", None)
    assert table.rate("account", "1", "trusted")[0] == 50


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"per_second": 1, "factor": 0.5}, {"per_second": -1}, {"factor": float("nan")}],
)
def test_bad_overrides_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        RateOverride(**kwargs)  # type: ignore[arg-type]


def test_limiter_admits_in_order_and_names_the_bucket() -> None:
    async def run() -> None:
        limiter = SendLimiter(_table())
        requests = [RateRequest("r1", "7", "new") for _ in range(5)]
        out = await limiter.admit(requests)
        assert [r is None for r in out] == [True, True, True, False, False]
        refusal = out[3]
        assert refusal is not None
        assert (refusal.kind, refusal.key, refusal.per_second) == ("account", "7", 3)
        assert "account 7: 3/s (tier new)" in refusal.evidence
        # Refused by its account, a message costs its reseller nothing: 97 left of 100.
        out = await limiter.admit([RateRequest("r1") for _ in range(98)])
        assert sum(r is not None for r in out) == 1
        assert out[-1] is not None
        assert out[-1].kind == "reseller"

    asyncio.run(run())


@pytest.mark.parametrize("strategy", ["moving-window", "sliding-window-counter"])
def test_other_strategies_count_the_same(strategy: str) -> None:
    async def run() -> None:
        limiter = SendLimiter(_table(), strategy=strategy)
        out = await limiter.admit([RateRequest("r1", "7", "new") for _ in range(5)])
        assert sum(r is None for r in out) == 3

    asyncio.run(run())


def test_unknown_storage_and_strategy_are_refused() -> None:
    with pytest.raises(ValueError, match="storage"):
        open_storage("memcached://127.0.0.1")
    with pytest.raises(ValueError, match="strategy"):
        SendLimiter(_table(), strategy="leaky")


def test_storage_failure_lets_messages_through_and_is_counted() -> None:
    errors: list[int] = []

    async def run() -> None:
        limiter = SendLimiter(
            _table(),
            storage=open_storage("redis://127.0.0.1:1"),  # nothing listens on port 1
            on_storage_error=lambda: errors.append(1),
        )
        out = await limiter.admit([RateRequest("r1", "7", "new") for _ in range(5)])
        assert out == [None] * 5
        await limiter.close()

    asyncio.run(run())
    assert errors


def test_overrides_file_written_by_the_cli_is_picked_up(tmp_path: Path) -> None:
    now = [0.0]
    table = _table(path=tmp_path / RATES_FILE, clock=lambda: now[0])
    assert table.rate("reseller", "acme")[0] == 100
    result = CliRunner().invoke(
        app,
        [
            "smpp",
            "rate",
            "set",
            "reseller",
            "acme",
            "--per-second",
            "5",
            "--reason",
            "제재",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "reseller acme: 5/s (override: 제재)" in result.output
    table.maybe_reload()  # within the same second: not looked at yet
    assert table.rate("reseller", "acme")[0] == 100
    now[0] = 1.5
    table.maybe_reload()
    assert table.rate("reseller", "acme") == (5, "override: 제재")
    shown = CliRunner().invoke(app, ["smpp", "rate", "show", "--data-dir", str(tmp_path)])
    assert "reseller acme: 5/s" in shown.output
    bad = CliRunner().invoke(
        app, ["smpp", "rate", "set", "nobody", "x", "--factor", "2", "--data-dir", str(tmp_path)]
    )
    assert bad.exit_code == 2
    cleared = CliRunner().invoke(
        app, ["smpp", "rate", "clear", "reseller", "acme", "--data-dir", str(tmp_path)]
    )
    assert "reseller acme: 1000/s" in cleared.output  # the shipped policy's default


def test_a_corrupt_overrides_file_keeps_the_current_table(tmp_path: Path) -> None:
    path = tmp_path / RATES_FILE
    now = [0.0]
    table = _table(path=path, clock=lambda: now[0])
    table.set("account", "9", RateOverride(per_second=1))
    path.write_text("{not json", "utf-8")
    now[0] = 5.0
    table.maybe_reload()
    assert table.rate("account", "9")[0] == 1


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if in_ci():
            pytest.fail(f"Redis is required in CI: {exc}")
        pytest.skip(f"Redis unavailable: {exc}")


def test_two_limiters_sharing_redis_see_one_budget() -> None:
    _redis_or_skip()
    key = f"test-{secrets.token_hex(4)}"

    async def run() -> None:
        table = _table()
        one = SendLimiter(table, storage=open_storage(REDIS))
        two = SendLimiter(table, storage=open_storage(REDIS))
        first = await one.admit([RateRequest("r", key, "new") for _ in range(2)])
        second = await two.admit([RateRequest("r", key, "new") for _ in range(2)])
        assert first == [None, None]
        assert second[0] is None
        assert second[1] is not None
        assert second[1].kind == "account"
        await one.close()
        await two.close()

    asyncio.run(run())


# --- over SMPP ----------------------------------------------------------------------------------


@pytest.fixture
def gateway(sqlite_registry: Registry) -> Iterator[Gateway]:
    gw = start_gateway(sqlite_registry, rates=RateTable(reseller=1000, tiers={"new": 2}))
    yield gw
    gw.thread.__exit__()


def test_over_the_rate_is_throttled_then_ok_after_the_window(gateway: Gateway) -> None:
    esme = Esme(gateway.port)
    try:
        assert esme.bind(gateway.system_id) == S.ESME_ROK
        started = time.monotonic()
        statuses = [esme.submit(tlvs=[gateway.proof()]).command_status for _ in range(3)]
        assert statuses == [S.ESME_ROK, S.ESME_ROK, S.ESME_RTHROTTLED]
        time.sleep(max(0.0, 1.05 - (time.monotonic() - started)))
        assert esme.submit(tlvs=[gateway.proof()]).command_status == S.ESME_ROK
        # Changed at run time: the very next message sees the new rate.
        assert gateway.limiter is not None
        account = str(gateway.chain.account)
        gateway.limiter.table.set("account", account, RateOverride(per_second=0, reason="stop"))
        assert esme.submit(tlvs=[gateway.proof()]).command_status == S.ESME_RTHROTTLED
        gateway.limiter.table.set("account", account, RateOverride(per_second=100))
        assert esme.submit(tlvs=[gateway.proof()]).command_status == S.ESME_ROK
    finally:
        esme.close()
    text = generate_latest(gateway.metrics.registry).decode()
    assert (
        f'spamgate_smpp_throttled_total{{bucket="account",system_id="{gateway.system_id}"}} 2.0'
        in text
    )
    assert 'action="throttle"' in text
