"""Benchmark: the invalid-number registry over a synthetic full 010 snapshot.

Targets (issue 5): a full snapshot of 10^8 numbers imports in <= 60 s, the loaded table takes
<= 32 MB resident, lookups run at >= 1,000,000/s in batches and >= 300,000/s one by one.

Steps: write a synthetic ``number,status`` CSV of every 010 number (about 2.3 GB, generated with
numpy, in a temporary directory that is always deleted), time :func:`import_csv` and ``save``,
load the snapshot in a fresh process to measure the resident memory the table adds, then time
lookups of ``--messages`` random numbers (in batches, and one by one). Set
``SPAMGATE_BENCH_NUMBERS_SCALE`` (a fraction, e.g. ``0.01``) to list only every 1/scale-th number
for a quick check; a full-snapshot import still builds the whole table.

Prints a table and writes ``bench/results/numbers.json``.
"""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from spamgate.benchmarks import write_result
from spamgate.domain.message import KST
from spamgate.errors import InputError
from spamgate.registry.number_status import (
    MOBILE_NUMBERS,
    RESERVED_010_EXCHANGE_DIGITS,
    NumberStatus,
    NumberStatusRegistry,
    NumberStatusTable,
    import_csv,
)

TARGET_IMPORT_S = 60.0
TARGET_TABLE_RSS_MB = 32.0
TARGET_BATCHED_PER_S = 1_000_000
TARGET_SINGLE_PER_S = 300_000
BATCH_SIZE = 10_000
# Status mix of assignable numbers; exchanges the plan never assigns are always unallocated.
MIX = {
    NumberStatus.ALLOCATED: 0.75,
    NumberStatus.UNALLOCATED: 0.15,
    NumberStatus.SUSPENDED: 0.05,
    NumberStatus.TERMINATED: 0.05,
}
# Indexed by a slot's first exchange digit (slot // 10^7).
RESERVED = np.array([str(d) in RESERVED_010_EXCHANGE_DIGITS for d in range(10)], dtype=np.bool_)
ASSIGNABLE_DIGITS = [d for d in range(10) if not RESERVED[d]]
SEED = 20261126
_ROWS_PER_BLOCK = 1_000_000
_BYTES_PER_ROW = 23  # a little over the mean line length; used for the disk-space check

# Four ASCII digits for every value 0-9999: a number's 8 digits are two table lookups.
_DIGITS4 = np.array([list(f"{i:04d}".encode()) for i in range(10_000)], dtype=np.uint8)


def _status_rows() -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Per status code: ``status + LF`` padded to 12 bytes, and its length."""
    rows = np.zeros((4, 12), dtype=np.uint8)
    lengths = np.zeros(4, dtype=np.int64)
    for status in NumberStatus:
        tail = status.label.encode() + b"\n"
        rows[status.value, : len(tail)] = np.frombuffer(tail, dtype=np.uint8)
        lengths[status.value] = len(tail)
    return rows, lengths


def _draw_codes(rng: np.random.Generator, slots: NDArray[np.int64]) -> NDArray[np.uint8]:
    edges = np.cumsum([MIX[s] for s in MIX])
    picks = np.searchsorted(edges, rng.random(slots.size) * edges[-1], side="right")
    table = np.array([s.value for s in MIX], dtype=np.uint8)
    codes: NDArray[np.uint8] = table[np.minimum(picks, len(MIX) - 1)]
    codes[RESERVED[slots // 10_000_000]] = NumberStatus.UNALLOCATED.value
    return codes


def generate_csv(
    path: Path, *, step: int, probe: NDArray[np.int64]
) -> tuple[int, dict[int, NumberStatus]]:
    """Write every ``step``-th 010 number with a random status; returns (rows, probe statuses)."""
    rng = np.random.default_rng(SEED)
    status_rows, status_lengths = _status_rows()
    width = 12 + status_rows.shape[1]
    expected: dict[int, NumberStatus] = {}
    rows = 0
    with path.open("wb") as fh:
        fh.write(b"number,status\n")
        for lo in range(0, MOBILE_NUMBERS, _ROWS_PER_BLOCK * step):
            slots = np.arange(lo, min(MOBILE_NUMBERS, lo + _ROWS_PER_BLOCK * step), step)
            codes = _draw_codes(rng, slots)
            lines = np.empty((slots.size, width), dtype=np.uint8)
            lines[:, 0:3] = np.frombuffer(b"010", dtype=np.uint8)
            lines[:, 3:7] = _DIGITS4[slots // 10_000]
            lines[:, 7:11] = _DIGITS4[slots % 10_000]
            lines[:, 11] = ord(",")
            lines[:, 12:] = status_rows[codes]
            keep = np.arange(width) < (12 + status_lengths[codes])[:, None]
            fh.write(lines[keep].tobytes())
            rows += slots.size
            inside = probe[(probe >= slots[0]) & (probe <= slots[-1])]
            listed = inside[(inside - lo) % step == 0]
            for slot, code in zip(
                listed.tolist(), codes[(listed - lo) // step].tolist(), strict=True
            ):
                expected[slot] = NumberStatus(code)
    return rows, expected


_RSS_PROBE = """
import json, sys, time, psutil
proc = psutil.Process()
from spamgate.registry.number_status import NumberStatusTable
numbers = sys.argv[2:]
rss0 = proc.memory_info().rss
t0 = time.perf_counter()
table = NumberStatusTable.load(sys.argv[1])
load_s = time.perf_counter() - t0
rss1 = proc.memory_info().rss
table.lookup_many(numbers)
for n in numbers:
    table.lookup(n)
rss2 = proc.memory_info().rss
print(json.dumps({"rss_before": rss0, "rss_loaded": rss1, "rss_after_lookups": rss2,
                  "load_s": load_s}))
"""


def measure_rss(snapshot: Path, numbers: list[str]) -> dict[str, float]:
    """Load the snapshot in a fresh interpreter and report what it adds to resident memory."""
    out = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, str(snapshot), *numbers],
        check=True,
        capture_output=True,
        text=True,
    )
    raw = json.loads(out.stdout)
    mb = 1024 * 1024
    return {
        "process_rss_before_mb": raw["rss_before"] / mb,
        "process_rss_mb": raw["rss_after_lookups"] / mb,
        "table_rss_mb": (raw["rss_after_lookups"] - raw["rss_before"]) / mb,
        "load_s": raw["load_s"],
    }


def _rate(run_once: Callable[[], int], min_seconds: float = 1.0) -> float:
    """Lookups per second of ``run_once`` (returns how many it did), repeated for a while."""
    run_once()  # warm-up: caches, page tables, branch predictors
    done = 0
    start = time.perf_counter()
    while True:
        done += run_once()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def _scale() -> float:
    raw = os.environ.get("SPAMGATE_BENCH_NUMBERS_SCALE", "1")
    try:
        scale = float(raw)
    except ValueError:
        raise InputError(f"SPAMGATE_BENCH_NUMBERS_SCALE={raw!r}: expected a number") from None
    if not 0 < scale <= 1:
        raise InputError("SPAMGATE_BENCH_NUMBERS_SCALE must be in (0, 1]")
    return scale


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(
    *, console: Console, messages: int, data: Path, out: Path, config: Path | None, **_: Any
) -> dict[str, Any]:
    scale = _scale()
    step = max(1, round(1 / scale))
    lookups = max(1, messages)
    rng = random.Random(SEED)
    # Lookups target assignable numbers, as real recipients would be.
    probe_slots = np.array(
        sorted(
            rng.choice(ASSIGNABLE_DIGITS) * 10_000_000 + rng.randrange(10_000_000)
            for _ in range(lookups)
        ),
        dtype=np.int64,
    )
    numbers = [f"010{slot:08d}" for slot in probe_slots.tolist()]
    rng.shuffle(numbers)
    hyphenated = [f"{n[:3]}-{n[3:7]}-{n[7:]}" if i % 10 == 0 else n for i, n in enumerate(numbers)]

    workdir = Path(tempfile.mkdtemp(prefix="spamgate-bench-numbers-"))
    try:
        need = (MOBILE_NUMBERS // step) * _BYTES_PER_ROW + 64 * 1024 * 1024
        free = shutil.disk_usage(workdir).free
        if free < need * 1.1:
            raise InputError(
                f"{workdir}: {free / 1e9:.1f} GB free, the synthetic CSV needs {need / 1e9:.1f} GB"
                " (set TMPDIR or SPAMGATE_BENCH_NUMBERS_SCALE)"
            )
        csv_path = workdir / "status.csv"
        snapshot = workdir / "status.bin"
        console.print(f"generating {MOBILE_NUMBERS // step:,} rows in {csv_path} …")
        t0 = time.perf_counter()
        rows, expected = generate_csv(csv_path, step=step, probe=probe_slots)
        generate_s = time.perf_counter() - t0
        csv_bytes = csv_path.stat().st_size

        console.print("importing …")
        t0 = time.perf_counter()
        result = import_csv(csv_path, full=True)
        import_s = time.perf_counter() - t0
        csv_path.unlink()  # free the disk before anything else can fail
        t0 = time.perf_counter()
        result.table.save(snapshot)
        save_s = time.perf_counter() - t0
        del result

        memory = measure_rss(snapshot, numbers[:2000])
        registry = NumberStatusRegistry(NumberStatusTable.load(snapshot))

        answers = registry.lookup_many(numbers)
        wrong = sum(
            1
            for number, answer in zip(numbers, answers, strict=True)
            if answer is not expected.get(int(number[3:]), NumberStatus.UNALLOCATED)
        )
        if wrong:
            raise InputError(f"{wrong} of {len(numbers)} lookups disagree with the generated CSV")

        batches = [numbers[i : i + BATCH_SIZE] for i in range(0, len(numbers), BATCH_SIZE)]

        def batched() -> int:
            for batch in batches:
                registry.lookup_many(batch)
            return len(numbers)

        def one_by_one(items: list[str]) -> Callable[[], int]:
            def go() -> int:
                lookup = registry.lookup
                for number in items:
                    lookup(number)
                return len(items)

            return go

        batched_rate = _rate(batched)
        single_rate = _rate(one_by_one(numbers))
        mixed_rate = _rate(one_by_one(hyphenated))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    met = {
        "import_s": import_s <= TARGET_IMPORT_S,
        "table_rss_mb": memory["table_rss_mb"] <= TARGET_TABLE_RSS_MB,
        "batched_per_s": batched_rate >= TARGET_BATCHED_PER_S,
        "single_per_s": single_rate >= TARGET_SINGLE_PER_S,
    }
    result_record: dict[str, Any] = {
        "benchmark": "numbers",
        "when": datetime.now(KST).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.processor(),
            "cpus": os.cpu_count(),
            "numpy": np.__version__,
        },
        "scale": scale,
        "csv_rows": rows,
        "csv_mb": round(csv_bytes / 1e6, 1),
        "generate_s": round(generate_s, 2),
        "import_s": round(import_s, 2),
        "import_rows_per_s": round(rows / import_s),
        "save_s": round(save_s, 3),
        "snapshot_load_s": round(memory["load_s"], 3),
        "table_rss_mb": round(memory["table_rss_mb"], 1),
        "process_rss_mb": round(memory["process_rss_mb"], 1),
        "process_rss_before_load_mb": round(memory["process_rss_before_mb"], 1),
        "bench_peak_rss_mb": round(_peak_rss_mb(), 1),
        "lookups": len(numbers),
        "batch_size": BATCH_SIZE,
        "batched_per_s": round(batched_rate),
        "single_per_s": round(single_rate),
        "single_mixed_formats_per_s": round(mixed_rate),
        "targets": {
            "import_s": TARGET_IMPORT_S,
            "table_rss_mb": TARGET_TABLE_RSS_MB,
            "batched_per_s": TARGET_BATCHED_PER_S,
            "single_per_s": TARGET_SINGLE_PER_S,
        },
        "met": met,
        "meets_targets": all(met.values()),
    }
    table = Table(title=f"spamgate bench numbers ({rows:,} rows, scale {scale:g})")
    for column in ("measure", "value", "target", "met"):
        table.add_column(column, justify="right")
    table.add_row("generate CSV", f"{generate_s:.1f} s ({csv_bytes / 1e9:.2f} GB)", "", "")
    table.add_row(
        "import", f"{import_s:.1f} s", f"≤ {TARGET_IMPORT_S:.0f} s", _yes(met["import_s"])
    )
    table.add_row("save snapshot", f"{save_s:.2f} s", "", "")
    table.add_row("load (mmap + SHA-256)", f"{memory['load_s'] * 1000:.0f} ms", "", "")
    table.add_row(
        "RSS added by the table",
        f"{memory['table_rss_mb']:.1f} MB",
        f"≤ {TARGET_TABLE_RSS_MB:.0f} MB",
        _yes(met["table_rss_mb"]),
    )
    table.add_row("RSS of the loading process", f"{memory['process_rss_mb']:.1f} MB", "", "")
    table.add_row(
        f"lookups/s, batches of {BATCH_SIZE:,}",
        f"{batched_rate:,.0f}",
        f"≥ {TARGET_BATCHED_PER_S:,}",
        _yes(met["batched_per_s"]),
    )
    table.add_row(
        "lookups/s, one by one",
        f"{single_rate:,.0f}",
        f"≥ {TARGET_SINGLE_PER_S:,}",
        _yes(met["single_per_s"]),
    )
    table.add_row("one by one, 10% hyphenated", f"{mixed_rate:,.0f}", "", "")
    console.print(table)
    target = write_result(out, "numbers", result_record)
    console.print(f"wrote {target}")
    return result_record


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"
