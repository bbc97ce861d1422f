"""Benchmark: content-model scoring throughput on one core (issue 4: >= 20,000 msg/s batched).

Messages are drawn (seeded) from every ``*.train.csv`` with a ``text`` column. Measured, pinned
to one CPU:

* ``batch_normalized``: ``predict_proba_normalized`` on texts already normalised (what the
  pipeline does: it normalises once for all checks), in batches of 1,024 — the target figure;
* ``batch_raw``: ``predict_proba`` on raw texts (normalisation included);
* ``single``: one message per call (what ``Pipeline.judge`` pays per message);
* ``pipeline_batched``: the whole pipeline through ``judge_many`` in batches of 1,024.

Also the artifact's size and load time. Writes ``bench/results/model_scoring.json``.
"""

from __future__ import annotations

import csv
import os
import platform
import random
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from spamgate.benchmarks import write_result
from spamgate.config import load_policy
from spamgate.domain.message import KST
from spamgate.model.scoring import ContentModel, default_model_path
from spamgate.pipeline import MessageFields, Pipeline
from spamgate.text import normalize

TARGET_MSG_PER_S = 20_000
BATCH = 1024


def _texts(data: Path) -> list[str]:
    texts: list[str] = []
    for path in sorted(data.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "text" not in reader.fieldnames:
                continue
            texts.extend(row["text"] for row in reader)
    return texts


def _pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"cpu {cpu}"
    return "not pinned"


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def run(*, console: Console, messages: int, data: Path, out: Path, **_: Any) -> dict[str, Any]:
    pinned = _pin_one_core()
    corpus = _texts(data)
    if not corpus:
        raise SystemExit(f"no text CSVs under {data}")
    rng = random.Random(20261126)
    sample = [rng.choice(corpus) for _ in range(messages)]
    normalized = [normalize(t).text for t in sample]

    start = time.perf_counter()
    model = ContentModel.load(default_model_path())
    load_s = time.perf_counter() - start
    size = sum(p.stat().st_size for p in default_model_path().iterdir() if p.is_file())

    model.predict_proba_normalized(normalized[:BATCH])  # warm caches
    clock = time.perf_counter
    t0 = clock()
    for lo in range(0, len(normalized), BATCH):
        model.predict_proba_normalized(normalized[lo : lo + BATCH])
    batch_norm = _rate(len(normalized), clock() - t0)

    t0 = clock()
    for lo in range(0, len(sample), BATCH):
        model.predict_proba(sample[lo : lo + BATCH])
    batch_raw = _rate(len(sample), clock() - t0)

    singles = normalized[: min(5000, len(normalized))]
    t0 = clock()
    for text in singles:
        model.predict_proba_normalized([text])
    single_us = (clock() - t0) / len(singles) * 1e6

    fixed_now = datetime(2026, 11, 26, 14, 0, tzinfo=KST)
    pipeline = Pipeline(load_policy(), clock=lambda: fixed_now)
    fields = [MessageFields(text=t) for t in sample[: min(20_000, len(sample))]]
    pipeline.judge_many(fields[:BATCH])
    t0 = clock()
    for lo in range(0, len(fields), BATCH):
        pipeline.judge_many(fields[lo : lo + BATCH])
    pipeline_rate = _rate(len(fields), clock() - t0)

    result: dict[str, Any] = {
        "benchmark": "model_scoring",
        "when": datetime.now(KST).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpu": platform.processor()},
        "pinned": pinned,
        "model": model.model_id,
        "messages": len(sample),
        "batch": BATCH,
        "batch_normalized_msg_per_s": round(batch_norm),
        "batch_raw_msg_per_s": round(batch_raw),
        "single_call_us": round(single_us, 1),
        "pipeline_judge_many_msg_per_s": round(pipeline_rate),
        "pipeline_messages": len(fields),
        "artifact_bytes": size,
        "load_seconds": round(load_s, 3),
        "targets": {"batch_normalized_msg_per_s": TARGET_MSG_PER_S, "load_seconds": 1.0},
        "meets_targets": batch_norm >= TARGET_MSG_PER_S and load_s < 1.0,
    }
    table = Table(title=f"spamgate bench model_scoring ({model.model_id}, one core)")
    for column in (
        "messages",
        "batched msg/s",
        "batched+normalise msg/s",
        "single call µs",
        "pipeline judge_many msg/s",
        "load s",
        "size MB",
        "target met",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        f"{len(sample):,}",
        f"{batch_norm:,.0f}",
        f"{batch_raw:,.0f}",
        f"{single_us:.0f}",
        f"{pipeline_rate:,.0f}",
        f"{load_s:.3f}",
        f"{size / 1e6:.2f}",
        "yes" if result["meets_targets"] else "NO",
    )
    console.print(table)
    target = write_result(out, "model_scoring", result)
    console.print(f"wrote {target}")
    return result
