"""Benchmark: the whole check pipeline over messages drawn from the shared data sets.

Target (foundation issue): >= 20,000 messages/s on one core for the rule pipeline of that issue,
peak RSS <= 200 MB, over 100,000 messages. A second row runs the whole pipeline with the shipped
models, fed through ``judge_many`` in chunks. Writes ``bench/results/pipeline.json``.
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
