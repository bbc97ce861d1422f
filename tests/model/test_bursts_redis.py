"""Burst windows shared through the real Redis at 127.0.0.1:6379 (skipped without it, outside
CI): several pipelines see one burst, the semantics equal the in-memory tracker's, a batch is
one round trip, and a Redis outage never stops judging."""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from conftest import in_ci
from spamgate.config import Settings, load_policy
from spamgate.domain.message import KST
from spamgate.model.bursts import BurstTracker, Observation
from spamgate.model.bursts_redis import RedisBurstTracker
from spamgate.pipeline import MessageFields, Pipeline

REDIS_URL = "redis://127.0.0.1:6379/0"
T0 = datetime(2026, 11, 26, 14, 0, tzinfo=KST)
TEMPLATE = "[택배] {name}님 주소 불일치로 반송 예정. 주소 수정 http://{host}.top/{n} 문의 {phone}"


@pytest.fixture
def prefix() -> Iterator[str]:
    """A unique key prefix on the local Redis; its keys are deleted afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1.0)
    try:
        client.ping()
    except redis.RedisError as exc:
        if in_ci():
            pytest.fail(f"Redis is required in CI: {exc}")
        pytest.skip(f"Redis at 127.0.0.1:6379 unreachable: {exc}")
    name = f"sgtest-{secrets.token_hex(6)}"
    yield name
    keys = list(client.scan_iter(f"{name}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def _pipeline(prefix: str) -> Pipeline:
    pipeline = Pipeline(load_policy(), clock=lambda: T0, model=None, url_model=None)
    tracker = pipeline.start_burst_tracking(redis_url=REDIS_URL, redis_prefix=prefix)
    assert isinstance(tracker, RedisBurstTracker)
    return pipeline


def _message(i: int) -> MessageFields:
    text = TEMPLATE.format(
        name=["김*수", "이*진"][i % 2], host=f"x{i}", n=i, phone=f"010-{1000 + i}-{2000 + i}"
    )
    return MessageFields(
        text,
        sender=f"010{12340000 + i:08d}",
        recipient=f"010{55550000 + i * 7919:08d}",
        at=(T0 + timedelta(seconds=20 * i)).isoformat(),
    )


def test_two_pipelines_sharing_redis_see_one_burst(prefix: str) -> None:
    gateway_a, gateway_b = _pipeline(prefix), _pipeline(prefix)
    fired = []
    for i in range(10):  # alternating gateways, one new sender each time
        gateway = gateway_a if i % 2 == 0 else gateway_b
        fired.append("BULK_BURST" in gateway.judge_fields(_message(i)).symbol_names())
    assert fired.index(True) == 7  # the 8th distinct sender across both (min_senders = 8)
    # alone, each gateway saw only 5 senders: its own windows would not have fired
    local = Pipeline(load_policy(), clock=lambda: T0, model=None, url_model=None)
    local.start_burst_tracking()
    assert not any(
        "BULK_BURST" in local.judge_fields(_message(i)).symbol_names() for i in range(0, 10, 2)
    )


def test_from_config_uses_the_redis_setting(prefix: str) -> None:
    settings = Settings(redis_url=REDIS_URL, redis_prefix=prefix, model="none", url_model="none")
    pipeline = Pipeline.from_config(None, settings=settings)
    assert isinstance(pipeline.bursts, RedisBurstTracker) and pipeline.bursts.prefix == prefix
    assert pipeline.content_model is None and pipeline.url_model is None


def _stream(seed: int, n: int) -> list[Observation]:
    rng = random.Random(seed)
    keys = [bytes([k]) * 8 for k in range(4)] + [None]
    out = []
    for i in range(n):
        account = rng.choice([None, "ACME", "SHOP-2"])
        out.append(
            Observation(
                rng.choice(keys),
                at=T0 + timedelta(seconds=i * 7),  # 3 windows of 600 s, so generations rotate
                sender=rng.choice([None, *(f"0101111{k:04d}" for k in range(12))]),
                recipient=rng.choice([None, f"0104567{rng.randrange(300):04d}", "01-2x"]),
                account=account,
                recipient_invalid=rng.random() < 0.2,
            )
        )
    return out


def test_same_semantics_as_the_in_memory_windows(prefix: str) -> None:
    stream = _stream(7, 300)
    shared = RedisBurstTracker.from_url(REDIS_URL, prefix=prefix, max_recipients=40)
    local = BurstTracker(max_recipients=40)
    got: list[Any] = []
    for lo in range(0, len(stream), 37):  # uneven batches
        got += shared.observe_many(stream[lo : lo + 37])
    assert got == local.observe_many(stream)
    assert any(s.senders >= 8 for s, _ in got) and any(w and w.invalid for _, w in got)


def test_a_batch_is_one_round_trip(prefix: str) -> None:
    tracker = RedisBurstTracker.from_url(REDIS_URL, prefix=prefix)
    tracker.observe_many(_stream(1, 3))  # loads the script
    executed = []
    real = tracker.client.pipeline

    def counting(*args: Any, **kwargs: Any) -> Any:
        pipe = real(*args, **kwargs)
        execute = pipe.execute

        def counted(*a: Any, **k: Any) -> Any:
            executed.append(len(pipe.command_stack))
            return execute(*a, **k)

        pipe.execute = counted
        return pipe

    tracker.client.pipeline = counting
    stream = _stream(2, 600)
    got = tracker.observe_many(stream)  # three script calls of at most 256 messages
    assert executed == [3]
    assert got == BurstTracker().observe_many(_stream(1, 3) + stream)[3:]


def test_redis_outage_falls_back_to_this_process(caplog: pytest.LogCaptureFixture) -> None:
    tracker = RedisBurstTracker.from_url("redis://127.0.0.1:1/0", prefix="unreachable")
    stream = _stream(3, 50)
    with caplog.at_level(logging.WARNING):
        got = tracker.observe_many(stream)
    assert got == BurstTracker().observe_many(stream)
    assert "Redis" in caplog.text
    pipeline = Pipeline(load_policy(), clock=lambda: T0, model=None, url_model=None)
    pipeline.start_burst_tracking(redis_url="redis://127.0.0.1:1/0")
    verdict = pipeline.judge_fields(_message(0))
    assert verdict.action != "error"
