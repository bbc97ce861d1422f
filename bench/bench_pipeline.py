"""Benchmark: the whole check pipeline over messages drawn from the shared data sets.

Target (foundation issue): >= 20,000 messages/s on one core, peak RSS <= 200 MB, over 100,000
messages. Prints a table and writes JSON to ``bench/results/pipeline.json``.
"""

from __future__ import annotations

import csv
import json
import platform
import random
import resource
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

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


def run(
    *, console: Console, messages: int, data: Path, out: Path, config: Path | None, **_: Any
) -> dict[str, Any]:
    corpus = load_corpus(data)
    if not corpus:
        raise SystemExit(f"no text CSVs under {data}")
    rng = random.Random(20261126)
    sample = [rng.choice(corpus) for _ in range(messages)]
    fixed_now = datetime(2026, 11, 26, 14, 0, tzinfo=KST)
    # A fixed clock: rows without 'at' are judged at the same (daytime) moment on every run.
    pipeline = Pipeline(load_policy(config), clock=lambda: fixed_now)
    for fields in sample[:500]:  # warm caches and regexes like a running gateway
        pipeline.judge_fields(fields)
    latencies = [0] * len(sample)
    actions: dict[str, int] = {}
    clock = time.perf_counter_ns
    start = clock()
    for i, fields in enumerate(sample):
        t0 = clock()
        verdict = pipeline.judge_fields(fields)
        latencies[i] = clock() - t0
        actions[verdict.action.value] = actions.get(verdict.action.value, 0) + 1
    elapsed = (clock() - start) / 1e9
    latencies.sort()
    rate = len(sample) / elapsed
    p50 = latencies[len(latencies) // 2] / 1000
    p99 = latencies[int(len(latencies) * 0.99)] / 1000
    rss = _rss_mb()
    result: dict[str, Any] = {
        "benchmark": "pipeline",
        "when": datetime.now(KST).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpu": platform.processor()},
        "messages": len(sample),
        "corpus_rows": len(corpus),
        "seconds": round(elapsed, 3),
        "msg_per_s": round(rate),
        "p50_us": round(p50, 1),
        "p99_us": round(p99, 1),
        "peak_rss_mb": round(rss, 1),
        "actions": actions,
        "targets": {"msg_per_s": TARGET_MSG_PER_S, "peak_rss_mb": TARGET_RSS_MB},
        "meets_targets": rate >= TARGET_MSG_PER_S and rss <= TARGET_RSS_MB,
    }
    table = Table(title="spamgate bench pipeline (one process, one core)")
    for column in ("messages", "msg/s", "p50 µs", "p99 µs", "peak RSS MB", "target met"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{len(sample):,}",
        f"{rate:,.0f}",
        f"{p50:.1f}",
        f"{p99:.1f}",
        f"{rss:.1f}",
        "yes" if result["meets_targets"] else "NO",
    )
    console.print(table)
    console.print("actions: " + ", ".join(f"{k} {v}" for k, v in sorted(actions.items())))
    out.mkdir(parents=True, exist_ok=True)
    target = out / "pipeline.json"
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"wrote {target}")
    return result
