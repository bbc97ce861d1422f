"""Benchmark: burst detection (issue 4, item 6).

Targets: burst tracking adds <= 20 µs per message; a 1,000-message campaign hidden in 100,000
normal messages is flagged within its first 200 messages.

Normal traffic: ``--messages`` texts drawn (seeded) from every shared ``*.train.csv`` with a text
column, to random recipients over 30 minutes; each content template comes from one sender (a
65,536-number pool), as lawful bulk mail does, and chat-length texts from anyone. The campaign:
one smishing template with a different name, link and callback number in every message, sent
from 300 sender numbers (snowshoe), interleaved over 10 minutes in the middle. The tracker runs
with the shipped policy's thresholds; the time measured per message is content key + window
update (normalisation is shared with the other checks and not counted), in CPU time: the
stream is replayed five times with a fresh tracker, and each 1,000-message chunk keeps its
fastest round.
With ``SPAMGATE_REDIS_URL`` set, the first 20,000 messages also go through the shared Redis
windows in batches of 64 (one round trip each; keys under a throw-away prefix, expiring), and
that cost per message is reported too.
Writes ``bench/results/bursts.json``.
"""

from __future__ import annotations

import csv
import platform
import random
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from spamgate.benchmarks import write_result
from spamgate.checks.bursts import BurstOptions
from spamgate.config import Settings, load_policy
from spamgate.domain.message import KST
from spamgate.model.bursts import BurstTracker, Observation, content_key
from spamgate.text import normalize

CAMPAIGN = 1000
CHUNK = 1000
ROUNDS = 5
TEMPLATE = (
    "[CJ대한통운] {name} 고객님 택배가 주소 불일치로 반송 예정입니다.\n"
    "주소 수정: http://{host}.top/{path}\n문의 010-{a:04d}-{b:04d}"
)


def _corpus(data: Path) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for path in sorted(data.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "text" not in reader.fieldnames:
                continue
            rows += [(row["label"], row["text"]) for row in reader]
    return rows


def run(*, console: Console, messages: int, data: Path, out: Path, **_: Any) -> dict[str, Any]:
    rng = random.Random(20261126)
    corpus = _corpus(data)
    options = BurstOptions.model_validate(load_policy().checks["bursts"].get("options", {}))
    t0 = datetime(2026, 11, 26, 14, 0, tzinfo=KST)
    senders = [f"010{rng.randrange(10**8):08d}" for _n in range(65_536)]
    stream: list[tuple[float, str, str, str, str]] = []  # (minute, kind, text, sender, recipient)
    for _draw in range(messages):
        label, text = rng.choice(corpus)
        # A template (what content_key keeps) has one sender, as lawful bulk mail has: a bank's
        # alerts come from the bank's number. Chat-length texts come from anyone.
        key = content_key(normalize(text).text)
        sender = senders[key[0] << 8 | key[1]] if key is not None else rng.choice(senders)
        stream.append((rng.uniform(0, 30), label, text, sender, f"010{rng.randrange(10**8):08d}"))
    spammers = [f"010{rng.randrange(10**8):08d}" for _n in range(300)]
    names = ["김*수", "이*진", "박*영", "최*호", "정*미"]
    for i in range(CAMPAIGN):
        text = TEMPLATE.format(
            name=rng.choice(names),
            host=f"cj{rng.randrange(10**6)}",
            path=rng.randrange(10**4),
            a=rng.randrange(10**4),
            b=rng.randrange(10**4),
        )
        stream.append(
            (10 + 10 * i / CAMPAIGN, "campaign", text, rng.choice(spammers),
             f"010{rng.randrange(10**8):08d}")
        )  # fmt: skip
    stream.sort(key=lambda item: item[0])
    prepared = [
        (t0 + timedelta(minutes=m), kind, normalize(text).text, s, r)
        for m, kind, text, s, r in stream
    ]

    # Detection: one pass. Cost: the stream again with a fresh tracker each round, in chunks of
    # CHUNK messages timed in CPU time; each chunk keeps its fastest round (on a shared machine
    # that filters out the moments another process had the core).
    window = options.window_minutes * 60
    tracker = BurstTracker(window=window)
    campaign_seen = 0
    first_flag: int | None = None
    flagged: dict[str, int] = {}
    totals: dict[str, int] = {}
    for at, kind, text, sender, recipient in prepared:
        key = content_key(text)
        state, _sweep = tracker.observe(
            key, at=at, sender=sender, recipient=recipient, account=None
        )
        hit = state.senders >= options.min_senders
        totals[kind] = totals.get(kind, 0) + 1
        flagged[kind] = flagged.get(kind, 0) + int(hit)
        if kind == "campaign":
            campaign_seen += 1
            if hit and first_flag is None:
                first_flag = campaign_seen
    best = [float("inf")] * ((len(prepared) + CHUNK - 1) // CHUNK)
    for _round in range(ROUNDS):
        timed = BurstTracker(window=window)
        observe = timed.observe
        for index in range(len(best)):
            part = prepared[index * CHUNK : (index + 1) * CHUNK]
            start = time.process_time()
            for at, _kind, text, sender, recipient in part:
                observe(content_key(text), at=at, sender=sender, recipient=recipient, account=None)
            best[index] = min(best[index], time.process_time() - start)
    per_message_us = sum(best) / len(prepared) * 1e6
    redis_us = _redis_us(prepared[:20_000], options.window_minutes * 60)
    ham_rate = flagged.get("ham", 0) / max(totals.get("ham", 0), 1)
    result: dict[str, Any] = {
        "benchmark": "bursts",
        "when": datetime.now(KST).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpu": platform.processor()},
        "normal_messages": messages,
        "campaign_messages": CAMPAIGN,
        "campaign_senders": len(spammers),
        "min_senders": options.min_senders,
        "window_minutes": options.window_minutes,
        "us_per_message": round(per_message_us, 2),
        "timing": f"CPU time, best of {ROUNDS} rounds per {CHUNK}-message chunk",
        "redis_us_per_message_batch64": redis_us,
        "campaign_flagged_at_message": first_flag,
        "campaign_flagged_share": round(flagged.get("campaign", 0) / CAMPAIGN, 4),
        "flagged_by_label": {k: f"{flagged.get(k, 0)}/{v}" for k, v in sorted(totals.items())},
        "ham_flag_rate": round(ham_rate, 6),
        "targets": {"us_per_message": 20, "campaign_flagged_within": 200},
        "meets_targets": per_message_us <= 20 and first_flag is not None and first_flag <= 200,
    }
    table = Table(title="spamgate bench bursts (one process)")
    for column in ("messages", "µs/msg", "campaign flagged at", "campaign share", "ham flagged"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{len(prepared):,}",
        f"{per_message_us:.2f}",
        str(first_flag),
        f"{result['campaign_flagged_share']:.3f}",
        f"{flagged.get('ham', 0)}/{totals.get('ham', 0)}",
    )
    console.print(table)
    if redis_us is not None:
        console.print(f"shared Redis windows, batches of 64: {redis_us:.1f} µs/msg")
    target = write_result(out, "bursts", result)
    console.print(f"wrote {target}")
    return result


def _redis_us(prepared: list[tuple[datetime, str, str, str, str]], window: float) -> float | None:
    """µs per message through the Redis windows (None without ``SPAMGATE_REDIS_URL``)."""
    url = Settings().redis_url
    if not url:
        return None
    import secrets

    from spamgate.model.bursts_redis import RedisBurstTracker

    tracker = RedisBurstTracker.from_url(
        url, prefix=f"spamgate-bench-{secrets.token_hex(4)}", window=window
    )
    batch = [
        Observation(content_key(text), at=at, sender=s, recipient=r, account=None)
        for at, _kind, text, s, r in prepared
    ]
    start = time.perf_counter_ns()
    for lo in range(0, len(batch), 64):
        tracker.observe_many(batch[lo : lo + 64])
    return round((time.perf_counter_ns() - start) / len(batch) / 1000, 2)
