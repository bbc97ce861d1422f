"""Benchmark: the whole check pipeline over messages drawn from the shared data sets.

Target (foundation issue): >= 20,000 messages/s on one core for the rule pipeline of that issue,
peak RSS <= 200 MB, over 100,000 messages. A second row runs the whole pipeline with the shipped
models, fed through ``judge_many`` in chunks. A third part judges hostile texts (2,000
characters built to be costly: unique international host labels, dozens of unique links, runs of
numbers or dots), each one new so no cache helps, one at a time with the models: a sender must not
be able to slow the gateway a hundredfold with them. Writes ``bench/results/pipeline.json``.
"""

from __future__ import annotations

import csv
import platform
import random
import resource
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from spamgate.benchmarks import write_result
from spamgate.config import load_policy
from spamgate.domain.message import KST
from spamgate.pipeline import MessageFields, Pipeline

TARGET_MSG_PER_S = 20_000
TARGET_RSS_MB = 200


def load_corpus(data: Path) -> list[MessageFields]:
    """Every text row of every ``*.train.csv`` with a ``text`` column (envelopes where given)."""
    corpus: list[MessageFields] = []
    for path in sorted(data.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "text" not in reader.fieldnames:
                continue
            for row in reader:
                corpus.append(
                    MessageFields(
                        text=row["text"],
                        sender=row.get("sender") or None,
                        route=row.get("route") or None,
                        at=row.get("at") or None,
                    )
                )
    return corpus


def _rss_mb() -> float:
    # ru_maxrss is in KiB on Linux: the peak, not the current size.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _per_message(pipeline: Pipeline, sample: list[MessageFields]) -> dict[str, Any]:
    """Judge one message at a time (the rules-only hot path), timing each."""
    latencies = [0] * len(sample)
    actions: dict[str, int] = {}
    clock = time.perf_counter_ns
    start = clock()
    for i, fields in enumerate(sample):
        t0 = clock()
        verdict = pipeline.judge_fields(fields)
        latencies[i] = clock() - t0
        actions[verdict.action.value] = actions.get(verdict.action.value, 0) + 1
    return _summary(sample, (clock() - start) / 1e9, latencies, actions)


def _batched(pipeline: Pipeline, sample: list[MessageFields], chunk: int) -> dict[str, Any]:
    """Judge in chunks through ``judge_many`` (how scan and the gateway feed the models); each
    message's latency is its chunk's time divided by the chunk size."""
    latencies: list[int] = []
    actions: dict[str, int] = {}
    clock = time.perf_counter_ns
    start = clock()
    for i in range(0, len(sample), chunk):
        part = sample[i : i + chunk]
        t0 = clock()
        verdicts = pipeline.judge_many(part)
        latencies.extend([(clock() - t0) // len(part)] * len(part))
        for verdict in verdicts:
            actions[verdict.action.value] = actions.get(verdict.action.value, 0) + 1
    return _summary(sample, (clock() - start) / 1e9, latencies, actions)


_SYLLABLES = [chr(c) for c in range(0xAC00, 0xAC00 + 2000)]


def _syllables(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(n))


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


#: Families of costly texts; each call builds a new one (capped at 2,000 characters).
HOSTILE: dict[str, Any] = {
    "ordinary Korean (reference)": lambda r: " ".join(
        f"고객님 {_syllables(r, 4)} 주문하신 상품이 발송되었습니다." for _ in range(60)
    ),
    "long IDN labels": lambda r: " ".join(f"{_syllables(r, 55)}.com" for _ in range(40)),
    "many-label IDN hosts": lambda r: " ".join(
        ".".join(_syllables(r, 10) for _ in range(8)) + ".한국" for _ in range(25)
    ),
    "80 unique links": lambda r: " ".join(f"{_letters(r, 20)}.com" for _ in range(80)),
    "unique URLs with paths": lambda r: " ".join(
        f"http://{_letters(r, 12)}-{_letters(r, 6)}.xyz/{_letters(r, 20)}" for _ in range(50)
    ),
    "phone numbers": lambda r: " ".join(
        f"010-{r.randrange(10_000):04d}-{r.randrange(10_000):04d}" for _ in range(150)
    ),
    "dotted letters": lambda r: ".".join(r.choice("abc가나다") for _ in range(1000)),
    "jamo and look-alikes": lambda r: "".join(r.choice("ㄷㅐㅊㅜㄹ대출H0l") for _ in range(2000)),
}


def _hostile(pipeline: Pipeline, per_family: int) -> dict[str, dict[str, float]]:
    """Each family judged one new text at a time: median and worst milliseconds."""
    rng = random.Random(20261126)
    out: dict[str, dict[str, float]] = {}
    for name, build in HOSTILE.items():
        times = []
        for _ in range(per_family):
            fields = MessageFields(text=build(rng)[:2000], sender="0212345678")
            t0 = time.perf_counter()
            pipeline.judge_many([fields])
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out[name] = {"median_ms": round(times[len(times) // 2], 2), "max_ms": round(times[-1], 2)}
    return out


def _summary(
    sample: list[MessageFields], elapsed: float, latencies: list[int], actions: dict[str, int]
) -> dict[str, Any]:
    latencies.sort()
    return {
        "messages": len(sample),
        "seconds": round(elapsed, 3),
        "msg_per_s": round(len(sample) / elapsed),
        "p50_us": round(latencies[len(latencies) // 2] / 1000, 1),
        "p99_us": round(latencies[int(len(latencies) * 0.99)] / 1000, 1),
        "actions": actions,
    }


def run(
    *,
    console: Console,
    messages: int,
    data: Path,
    out: Path,
    config: Path | None,
    chunk: int = 256,
    **_: Any,
) -> dict[str, Any]:
    corpus = load_corpus(data)
    if not corpus:
        raise SystemExit(f"no text CSVs under {data}")
    rng = random.Random(20261126)
    sample = [rng.choice(corpus) for _ in range(messages)]
    fixed_now = datetime(2026, 11, 26, 14, 0, tzinfo=KST)
    policy = load_policy(config)
    # The foundation's rule pipeline (no models), judged message by message: the target.
    rules = Pipeline(policy, clock=lambda: fixed_now, model=None, url_model=None)
    # The whole pipeline with the shipped models, fed in chunks as scan and the gateway do.
    full = Pipeline(policy, clock=lambda: fixed_now)
    for pipeline in (rules, full):  # warm caches and regexes like a running gateway
        pipeline.judge_many(sample[:500])
    rows = {
        "rules_per_message": _per_message(rules, sample),
        f"full_batched_{chunk}": _batched(full, sample, chunk),
    }
    hostile = _hostile(full, 30)
    rss = _rss_mb()
    head = rows["rules_per_message"]
    result: dict[str, Any] = {
        "benchmark": "pipeline",
        "when": datetime.now(KST).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpu": platform.processor()},
        "corpus_rows": len(corpus),
        "model": full.model_id,
        "runs": rows,
        "peak_rss_mb": round(rss, 1),
        "hostile_texts_full_pipeline": hostile,
        # Kept at the top level for scripts that read the first version of this file.
        "messages": head["messages"],
        "msg_per_s": head["msg_per_s"],
        "actions": head["actions"],
        "targets": {"msg_per_s": TARGET_MSG_PER_S, "peak_rss_mb": TARGET_RSS_MB},
        "meets_targets": head["msg_per_s"] >= TARGET_MSG_PER_S and rss <= TARGET_RSS_MB,
    }
    table = Table(title="spamgate bench pipeline (one process, one core)")
    for column in ("run", "messages", "msg/s", "p50 µs", "p99 µs"):
        table.add_column(column, justify="right")
    for name, row in rows.items():
        table.add_row(
            name,
            f"{row['messages']:,}",
            f"{row['msg_per_s']:,}",
            f"{row['p50_us']:.1f}",
            f"{row['p99_us']:.1f}",
        )
    console.print(table)
    costly = Table(title="hostile 2,000-character texts, whole pipeline, one at a time")
    for column in ("family", "median ms", "worst ms"):
        costly.add_column(column, justify="right")
    for name, row in hostile.items():
        costly.add_row(name, f"{row['median_ms']:.2f}", f"{row['max_ms']:.2f}")
    console.print(costly)
    verdict = "yes" if result["meets_targets"] else "NO"
    console.print(
        f"peak RSS {rss:.1f} MB (both pipelines loaded); target ≥ {TARGET_MSG_PER_S:,} msg/s "
        f"rules-only and ≤ {TARGET_RSS_MB} MB: {verdict}"
    )
    for name, row in rows.items():
        console.print(
            f"{name} actions: " + ", ".join(f"{k} {v}" for k, v in sorted(row["actions"].items()))
        )
    target = write_result(out, "pipeline", result)
    console.print(f"wrote {target}")
    return result
