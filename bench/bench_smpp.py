"""Benchmark: the SMPP gateway end to end on loopback (``spamgate bench smpp``).

A real ``spamgate serve`` process (full pipeline with the shipped models, the write-ahead spool
with fsync before every submit_sm_resp) is driven by our load generator (``smpp.sim.run_load``)
with texts drawn from the shared data sets, in UCS-2:

1. warm-up: 2,000 messages;
2. sustained: ``--messages`` submit_sm as fast as the windows allow (2 binds × window 200);
3. paced: 2,000 msg/s for 10 s (or fewer messages if ``--messages`` is smaller): p50/p99 of
   submit_sm → submit_sm_resp.

The gateway's RSS (peak, from /proc VmHWM) is read at the end. Targets (issue 6): ≥ 5,000 msg/s
sustained, p99 ≤ 20 ms at 2,000 msg/s, RSS ≤ 400 MB. Here accepted messages stop in the spool:
this is the gateway without its carrier leg. The issue's whole chain (gateway → ``sim smsc``,
receipts back) is ``spamgate bench smpp_upstream``.
The gateway judges at the current Korea time: after 21:00 KST the night-ad rule refuses more
ads, so runs on either side of it differ in their mix (the JSON records the time).
Writes ``bench/results/smpp.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from spamgate.benchmarks import write_result
from spamgate.domain.message import KST
from spamgate.smpp.auth import hash_password
from spamgate.smpp.sim import LoadResult, run_load

TARGET_MSG_PER_S = 5_000
TARGET_P99_MS = 20.0
TARGET_RSS_MB = 400
PACED_RATE = 2_000
PASSWORD = "bench123"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _texts(data: Path, limit: int = 20_000) -> list[str]:
    texts: list[str] = []
    for path in sorted(data.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "text" not in reader.fieldnames:
                continue
            texts += [row["text"] for row in reader if row.get("text")]
    rng = random.Random(20261126)
    rng.shuffle(texts)
    return texts[:limit]


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the gateway exited during start-up; see its log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the gateway did not start listening in time")


async def bench_load(
    port: int,
    texts: list[str],
    count: int,
    rate: float,
    connections: int,
    window: int,
    *,
    registered_delivery: int = 0,
) -> LoadResult:
    """``run_load`` as the SMPP benchmarks drive it: the ``bench`` login, the shared texts."""
    return await run_load(
        "127.0.0.1",
        port,
        rate=rate,
        count=count,
        system_id="bench",
        password=PASSWORD,
        texts=texts,
        window=window,
        connections=connections,
        registered_delivery=registered_delivery,
        timeout=300,
    )


class MemorySampler:
    """Samples the gateway's memory in a thread while the load runs.

    Summed RSS counts the shared libraries (numpy, scipy, libpython …) once per process, though a
    gateway and its judge workers map the same pages. ``peak_mb`` is the peak of the processes'
    unique memory (USS) summed, plus the largest shared part (RSS − USS) once.
    """

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def _sample(self) -> float:
        root = psutil.Process(self.pid)
        unique = shared = 0
        for proc in (root, *root.children(recursive=True)):
            try:
                info = proc.memory_full_info()
            except psutil.Error:
                continue
            unique += info.uss
            shared = max(shared, info.rss - info.uss)
        return (unique + shared) / 2**20

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(psutil.Error):
                self.peak_mb = max(self.peak_mb, self._sample())

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _peak_rss_mb(pid: int) -> float:
    """Peak RSS (VmHWM) of the gateway and its judge worker processes, summed."""
    total = 0.0
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    for proc in procs:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            total += proc.memory_info().rss / 2**20
    return total


def _summary(result: LoadResult) -> dict[str, Any]:
    return {
        "sent": result.sent,
        "answered": result.answered,
        "seconds": round(result.seconds, 3),
        "msg_per_s": round(result.rate, 1),
        "p50_ms": round(result.percentile(50), 3),
        "p99_ms": round(result.percentile(99), 3),
        "max_ms": round(max(result.latencies_ms, default=0.0), 3),
        "statuses": {f"0x{k:08x}": v for k, v in sorted(result.statuses.items())},
        "errors": result.errors,
    }


def run(
    *, console: Console, messages: int, data: Path, out: Path, config: Path | None, **_: Any
) -> dict[str, Any]:
    texts = _texts(data)
    if not texts:
        raise SystemExit(f"no text CSVs under {data}")
    workers = int(os.environ.get("SPAMGATE_BENCH_JUDGE_WORKERS", "0"))
    sustained_count = max(messages, 1_000)
    paced_count = min(sustained_count, PACED_RATE * 10)
    with tempfile.TemporaryDirectory(prefix="spamgate-bench-smpp-") as tmp:
        workdir = Path(tmp)
        conf = workdir / "bench.toml"
        hashed = hash_password(PASSWORD, time_cost=1, memory_kib=1024, parallelism=1)
        extra = config.read_text("utf-8") + "\n" if config is not None else ""
        conf.write_text(
            extra + f"[smpp]\nwindow = 1000\njudge_workers = {workers}\n\n"
            # the bench login's bucket is not what is measured: lift it above the load
            "[smpp.rates]\nreseller = 1000000\n\n"
            f'[smpp.accounts.bench]\npassword_hash = "{hashed}"\n',
            "utf-8",
        )
        smpp_port, http_port = _free_port(), _free_port()
        log = (workdir / "serve.log").open("wb")
        exe = Path(sys.executable).with_name("spamgate")
        proc = subprocess.Popen(
            [
                str(exe),
                "serve",
                "--smpp-port",
                str(smpp_port),
                "--http-port",
                str(http_port),
                "--data-dir",
                str(workdir / "var"),
                "--config",
                str(conf),
                "--log-level",
                "WARNING",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_port(smpp_port, proc)

            def load(count: int, rate: float, connections: int, window: int) -> LoadResult:
                return asyncio.run(bench_load(smpp_port, texts, count, rate, connections, window))

            console.print("warming up (2,000 messages)…")
            load(2_000, 0, 1, 100)
            with MemorySampler(proc.pid) as memory:
                console.print(f"sustained: {sustained_count:,} messages, 2 binds × window 200…")
                sustained = load(sustained_count, 0, 2, 200)
                console.print(f"paced: {paced_count:,} messages at {PACED_RATE:,}/s…")
                paced = load(paced_count, PACED_RATE, 1, 1000)
            rss = _peak_rss_mb(proc.pid)
            spool = workdir / "var" / "spool" / "smpp.wal"
            spool_mb = spool.stat().st_size / 2**20 if spool.exists() else 0.0
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
        serve_log = (workdir / "serve.log").read_text("utf-8", "replace")
    crashed = "Traceback" in serve_log
    p99 = paced.percentile(99)
    met = {
        "msg_per_s": sustained.rate >= TARGET_MSG_PER_S,
        "p99_ms_at_2000": p99 <= TARGET_P99_MS,
        "rss_mb": rss <= TARGET_RSS_MB,
    }
    result: dict[str, Any] = {
        "benchmark": "smpp",
        "when": datetime.now(KST).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_avg_1m": round(os.getloadavg()[0], 2),
        },
        "path": "load generator -> spamgate serve (full pipeline, spool fsync) ; no upstream",
        "texts": len(texts),
        "sustained": _summary(sustained),
        "paced_2000": _summary(paced),
        "judge_workers": workers,
        "gateway_peak_rss_mb": round(rss, 1),
        "gateway_peak_memory_shared_once_mb": round(memory.peak_mb, 1),
        "spool_mb": round(spool_mb, 1),
        "gateway_errors_in_log": crashed,
        "targets": {
            "msg_per_s": TARGET_MSG_PER_S,
            "p99_ms_at_2000": TARGET_P99_MS,
            "rss_mb": TARGET_RSS_MB,
        },
        "met": met,
        "meets_targets": all(met.values()),
    }
    table = Table(title="spamgate bench smpp (loopback, one machine)")
    for column in ("phase", "messages", "msg/s", "p50 ms", "p99 ms", "max ms", "answers"):
        table.add_column(column, justify="right")
    for name, phase in (("sustained", sustained), (f"{PACED_RATE}/s", paced)):
        summary = _summary(phase)
        table.add_row(
            name,
            f"{phase.answered:,}",
            f"{phase.rate:,.0f}",
            f"{summary['p50_ms']:.2f}",
            f"{summary['p99_ms']:.2f}",
            f"{summary['max_ms']:.2f}",
            ", ".join(f"{k[-3:]}:{v}" for k, v in summary["statuses"].items()),
        )
    console.print(table)
    console.print(
        f"gateway peak RSS {rss:.0f} MB summed, {memory.peak_mb:.0f} MB counting shared pages "
        f"once ({workers} judge worker(s)); "
        f"targets: ≥ {TARGET_MSG_PER_S:,}/s "
        f"({'met' if met['msg_per_s'] else 'NOT met'}), p99 ≤ {TARGET_P99_MS:g} ms at "
        f"{PACED_RATE:,}/s ({'met' if met['p99_ms_at_2000'] else 'NOT met'}), RSS ≤ "
        f"{TARGET_RSS_MB} MB ({'met' if met['rss_mb'] else 'NOT met'})"
    )
    if crashed:
        console.print("[red]the gateway logged a traceback[/]")
    target = write_result(out, "smpp", result)
    console.print(f"wrote {target}")
    return result
