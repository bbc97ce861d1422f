"""Benchmark: what the gateway's own checks cost per message (``spamgate bench smpp_gate``).

In one process, no sockets, so the figure is the checks' own cost:

* ``limits`` — the send-rate buckets (account + reseller) in memory, per message, in batches of
  64 (the server's judge batch; one reseller, 4 accounts — and 64 accounts, the worst case)
  and of 1 (a quiet link), for each ``limits`` strategy; also the Redis storage
  (127.0.0.1:6379) when it answers;
* ``proof`` — parsing the SPAMGATE_SEND_PROOF TLV and verifying it (HMAC, nonce) through the
  registry view, per message.

The gateway target is ≥ 5,000 submit_sm/s on 2 cores, so these must cost a few µs a message.
Writes ``bench/results/smpp_gate.json``.
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from spamgate.benchmarks import write_result
from spamgate.domain.message import KST
from spamgate.registry.auth import SYSTEM
from spamgate.registry.models import OperatorKind
from spamgate.registry.persend import new_nonce
from spamgate.registry.service import Registry
from spamgate.smpp import SubmitSm, encode_text
from spamgate.smpp.auth import BindDecision
from spamgate.smpp.gate import PreverifiedSource, SendGate
from spamgate.smpp.proof import make_proof_tlv
from spamgate.smpp.ratelimit import RateRequest, RateTable, SendLimiter, open_storage
from spamgate.store.db import Database

TARGET_US = 10.0


async def _limits(
    strategy: str, storage_uri: str, count: int, batch: int, accounts: int = 4
) -> float:
    table = RateTable(reseller=10**9, tiers={"new": 10**9})
    limiter = SendLimiter(table, storage=open_storage(storage_uri), strategy=strategy)
    requests = [RateRequest("r1", str(i % accounts), "new") for i in range(batch)]
    rounds = max(1, count // batch)
    started = time.perf_counter()
    for _ in range(rounds):
        await limiter.admit(requests)
    elapsed = time.perf_counter() - started
    await limiter.reset()
    await limiter.close()
    return elapsed / (rounds * batch) * 1e6


def _redis_up() -> bool:
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False
    return True


def _proof_cost(count: int) -> float:
    with tempfile.TemporaryDirectory(prefix="spamgate-bench-gate-") as tmp:
        registry = Registry(Database.open(f"sqlite:///{tmp}/r.db"), data_dir=Path(tmp))
        carrier = registry.create_operator(SYSTEM, name="C", kind=OperatorKind.CARRIER)
        relay = registry.create_operator(
            SYSTEM, name="R", kind=OperatorKind.RELAY, parent_id=carrier.id
        )
        reseller = registry.create_operator(
            SYSTEM, name="S", kind=OperatorKind.RESELLER, parent_id=relay.id
        )
        account = registry.create_account(
            SYSTEM,
            operator_id=reseller.id,
            name="Shop",
            business_number="1248100998",
            identity_evidence={"document": "bench"},
        )
        gate = SendGate(registry=PreverifiedSource(registry))
        decision = BindDecision(status=0, operator_id=reseller.id)
        text = "안녕하세요 고객님, 주문하신 상품이 오늘 출고되었습니다. 감사합니다."
        now = int(time.time())
        pdus = []
        for _ in range(count):
            tlv = make_proof_tlv(
                account.send_secret,
                account=str(account.account.id),
                text=text,
                timestamp=now,
                nonce=new_nonce(),
                sender="0212345678",
                recipients=["01098765432"],
            )
            pdus.append(
                SubmitSm(
                    source_addr="0212345678",
                    destination_addr="01098765432",
                    data_coding=8,
                    short_message=encode_text(text, 8),
                    tlvs=(tlv,),
                )
            )
        gate.check(decision, "s", pdus[0], text)  # warm the registry snapshot
        started = time.perf_counter()
        for pdu in pdus[1:]:
            passed = gate.check(decision, "s", pdu, text)
            assert not hasattr(passed, "action"), passed
        elapsed = time.perf_counter() - started
        registry.close()
    return elapsed / (count - 1) * 1e6


def run(*, console: Console, messages: int, out: Path, **_: Any) -> dict[str, Any]:
    count = max(messages, 10_000)
    rows: list[dict[str, Any]] = []
    for strategy in ("fixed-window", "moving-window", "sliding-window-counter"):
        for batch in (64, 1):
            us = asyncio.run(_limits(strategy, "memory://", count, batch))
            rows.append({"what": f"limits {strategy} memory, batch {batch}", "us_per_msg": us})
    us = asyncio.run(_limits("fixed-window", "memory://", count, 64, accounts=64))
    rows.append({"what": "limits fixed-window memory, batch 64, 64 accounts", "us_per_msg": us})
    if _redis_up():
        us = asyncio.run(_limits("fixed-window", "redis://127.0.0.1:6379", count // 10, 64))
        rows.append({"what": "limits fixed-window redis, batch 64", "us_per_msg": us})
    rows.append({"what": "per-send proof: parse + verify", "us_per_msg": _proof_cost(count // 2)})
    table = Table(title="spamgate bench smpp_gate (µs per message, one core)")
    table.add_column("check")
    table.add_column("µs/msg", justify="right")
    for row in rows:
        row["us_per_msg"] = round(row["us_per_msg"], 2)
        table.add_row(row["what"], f"{row['us_per_msg']:.2f}")
    console.print(table)
    default = rows[0]["us_per_msg"] + rows[-1]["us_per_msg"]
    console.print(
        f"default gate cost (fixed-window memory, batch 64, + proof): {default:.2f} µs/msg "
        f"(target ≤ {TARGET_US:.0f})"
    )
    result: dict[str, Any] = {
        "benchmark": "smpp_gate",
        "when": datetime.now(KST).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_avg_1m": round(os.getloadavg()[0], 2),
        },
        "messages": count,
        "rows": rows,
        "default_gate_us_per_msg": round(default, 2),
        "target_us_per_msg": TARGET_US,
        "met": default <= TARGET_US,
    }
    write_result(out, "smpp_gate", result)
    return result
