"""Per-send nonces shared through the Redis at 127.0.0.1:6379: a proof is good on one node only.

Skipped when that Redis is absent, except in CI (``CI=true``), where it must be there.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from registry_support import TEST_ARGON2, build_chain, in_ci
from spamgate.config import Settings, load_policy
from spamgate.pipeline import MessageFields, Pipeline
from spamgate.registry.persend import NonceCache, make_proof
from spamgate.registry.redis_nonces import RedisNonceStore
from spamgate.registry.service import Registry

REDIS_URL = "redis://127.0.0.1:6379/0"
TEXT = "[행복마트] 주문하신 상품이 발송되었습니다"


@pytest.fixture
def redis_client() -> Any:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2.0, socket_connect_timeout=2.0)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        if in_ci():
            pytest.fail(f"Redis at {REDIS_URL} is required in CI: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} unreachable: {exc}")
    return client


@pytest.fixture
def prefix(redis_client: Any) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = f"sgtest-{secrets.token_hex(4)}"
    yield name
    keys = list(redis_client.scan_iter(match=f"{name}:*"))
    if keys:
        redis_client.delete(*keys)


def _node(data_dir: Path, prefix: str) -> Registry:
    """One gateway node: the shared SQLite registry, nonces in the shared Redis."""
    return Registry.open(
        Settings(data_dir=data_dir, redis_url=REDIS_URL, redis_prefix=prefix, **TEST_ARGON2)
    )


def _fields(secret: str, account: int, sender: str, nonce: str) -> MessageFields:
    proof = make_proof(
        secret,
        account=str(account),
        text=TEXT,
        timestamp=int(time.time()),
        sender=sender,
        nonce=nonce,
    )
    return MessageFields(TEXT, sender=sender, account=str(account), auth=proof)


def _pipeline(registry: Registry) -> Pipeline:
    return Pipeline(load_policy(), model=None, url_model=None, registry=registry)


def test_a_proof_replayed_on_another_node_is_refused(tmp_path: Path, prefix: str) -> None:
    node_a, node_b = _node(tmp_path, prefix), _node(tmp_path, prefix)
    try:
        assert isinstance(node_a.cache.verifier.nonces, RedisNonceStore)
        chain = build_chain(node_a)
        fields = _fields(chain.send_secret, chain.account, chain.sender, "n" * 22)
        first = _pipeline(node_a).judge_fields(fields)
        assert first.action == "deliver", first.symbol_names()
        replay = _pipeline(node_b).judge_fields(fields)
        assert replay.action == "reject"
        evidence = {s.name: s.evidence for s in replay.symbols}
        assert evidence["PER_SEND_AUTH_FAILED"] == f"account {chain.account}: replayed"
        # The same on the node that saw it first, and a fresh nonce still passes on node B.
        assert "PER_SEND_AUTH_FAILED" in _pipeline(node_a).judge_fields(fields).symbol_names()
        fresh = _fields(chain.send_secret, chain.account, chain.sender, "m" * 22)
        assert _pipeline(node_b).judge_fields(fresh).action == "deliver"
    finally:
        node_a.close()
        node_b.close()


class _CountingClient:
    """A redis client that counts round trips (single commands and pipeline executions)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.round_trips = 0

    def set(self, *args: Any, **kwargs: Any) -> Any:
        self.round_trips += 1
        return self._client.set(*args, **kwargs)

    def pipeline(self, **kwargs: Any) -> Any:
        pipe = self._client.pipeline(**kwargs)
        execute = pipe.execute

        def counted() -> Any:
            self.round_trips += 1
            return execute()

        pipe.execute = counted
        return pipe


def test_a_batch_costs_one_round_trip(tmp_path: Path, prefix: str, redis_client: Any) -> None:
    counting = _CountingClient(redis_client)
    registry = Registry.open(Settings(data_dir=tmp_path, **TEST_ARGON2))
    registry.cache.verifier.nonces = RedisNonceStore(counting, prefix=prefix)
    try:
        chain = build_chain(registry)
        batch = [
            _fields(chain.send_secret, chain.account, chain.sender, f"nonce{i:02d}" + "x" * 14)
            for i in range(5)
        ]
        batch.append(batch[0])  # the same proof twice in one batch: the second is a replay
        verdicts = _pipeline(registry).judge_many(batch)
        assert counting.round_trips == 1
        assert [v.action for v in verdicts] == ["deliver"] * 5 + ["reject"]
        again = _pipeline(registry).judge_many(batch[:2])
        assert counting.round_trips == 2
        assert all("PER_SEND_AUTH_FAILED" in v.symbol_names() for v in again)
    finally:
        registry.close()


def test_keys_live_as_long_as_their_proof_is_acceptable(prefix: str, redis_client: Any) -> None:
    store = RedisNonceStore(redis_client, prefix=prefix, window=300)
    now = int(time.time())
    assert store.add("7\x00ahead", now + 250, now)  # dated ahead: good until now + 550
    assert store.add_many([("7\x00behind", now - 200), ("7\x00ahead", now)], now) == [True, False]
    ahead = redis_client.ttl(f"{prefix}:nonce:7\x00ahead")
    behind = redis_client.ttl(f"{prefix}:nonce:7\x00behind")
    assert 540 <= ahead <= 551
    assert 90 <= behind <= 101
    assert not store.add("7\x00behind", now - 200, now)


def test_an_unreachable_redis_refuses_proofs_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Port 9 on loopback (discard) has no Redis: connections are refused at once.
    store = RedisNonceStore.from_url("redis://127.0.0.1:9/0", prefix="sgtest")
    now = int(time.time())
    with caplog.at_level(logging.ERROR, logger="spamgate.registry.redis_nonces"):
        assert store.add("1\x00" + "a" * 20, now, now) is False
        assert store.add_many([("1\x00" + "b" * 20, now), ("1\x00" + "c" * 20, now)], now) == [
            False,
            False,
        ]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1  # logged once, not once per proof
    assert "proofs are refused" in errors[0].getMessage()


def test_in_memory_nonces_stay_the_default(tmp_path: Path) -> None:
    registry = Registry.open(Settings(data_dir=tmp_path, redis_url=None, **TEST_ARGON2))
    try:
        assert isinstance(registry.cache.verifier.nonces, NonceCache)
    finally:
        registry.close()
    with pytest.raises(ValueError, match="window"):
        RedisNonceStore(object(), window=0)
