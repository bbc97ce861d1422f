"""Benchmark: reseller → ``spamgate serve --upstream`` → ``spamgate sim smsc``, receipts back.

Three processes on one machine: the sim SMSC, the gateway (full pipeline with the shipped
models, spool fsync before every submit_sm_resp, the drainer forwarding to the sim over one
carrier link, receipts relayed back), and this process as the reseller (``smpp.sim.run_load``
on transceiver binds asking for receipts, plus one more transceiver bind that takes receipts
between the phases).

1. warm-up: 2,000 messages;
2. sustained: ``--messages`` submit_sm as fast as the windows allow (2 binds × window 200):
   the reseller's submit_sm/s, and the end-to-end rate until the gateway has forwarded every
   message to the sim (``spamgate_upstream_messages_total{outcome="forwarded"}``) and relayed
   every receipt back (``…receipts_total{outcome="relayed"}``);
3. paced: 2,000 msg/s for 10 s: p50/p99 of submit_sm → submit_sm_resp with the upstream leg busy.

Targets (issue 6): ≥ 5,000 submit_sm/s sustained, p99 ≤ 20 ms at 2,000/s, RSS ≤ 400 MB.
``SPAMGATE_BENCH_JUDGE_WORKERS=N`` judges in N worker processes (``[smpp] judge_workers``; the
CPU line then shows them as ``workers``, and the peak RSS adds theirs).
Writes ``bench/results/smpp_upstream.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_smpp import (
    PACED_RATE,
    PASSWORD,
    TARGET_MSG_PER_S,
    TARGET_P99_MS,
    TARGET_RSS_MB,
    MemorySampler,
    _free_port,
    _peak_rss_mb,
    _summary,
    _texts,
    _wait_port,
    bench_load,
)
from spamgate.benchmarks import write_result
from spamgate.config import SmppConfig
from spamgate.domain.message import KST
from spamgate.smpp.auth import hash_password
from spamgate.smpp.esme import BindAnswered, DeliverReceived, EsmeConfig, EsmeSession
from spamgate.smpp.sim import LoadResult


def _sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.compile(rf"^{re.escape(name)}\{{{re.escape(wanted)}\}} ([0-9.e+]+)$", re.M)
    match = pattern.search(text)
    return float(match.group(1)) if match else 0.0


def _metrics_page(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
        return str(page.read().decode())


def _progress(text: str) -> tuple[float, float, float]:
    """From one /metrics page: the messages the drainer is done with (forwarded, or answered
    with a receipt instead: a carrier refusal, too old — counting only "forwarded" never
    reached the accepted count), and the carrier receipts received and relayed (one per
    upstream part: a labelled long message goes up in several parts)."""
    settled = sum(
        _sample(text, "spamgate_upstream_messages_total", outcome=outcome)
        for outcome in ("forwarded", "rejected", "expired", "duplicate_suppressed")
    )
    received = _sample(text, "spamgate_upstream_receipts_total", outcome="received")
    return settled, received, _sample(text, "spamgate_upstream_receipts_total", outcome="relayed")


_BUCKET_RE = re.compile(r'^spamgate_smpp_submit_seconds_bucket\{le="([^"]+)"\} ([0-9.e+]+)$', re.M)


def _latency_buckets(text: str) -> dict[float, float]:
    """The gateway's own submit latency histogram (whole message in -> submit_sm_resp
    written): upper bound in seconds -> cumulative count."""
    return {float(le): float(count) for le, count in _BUCKET_RE.findall(text)}


def _gateway_quantiles(
    before: dict[float, float], after: dict[float, float]
) -> dict[str, float | None]:
    """p50/p99 in ms of the phase, as the upper bound of the histogram bucket that holds them
    (None: beyond the last finite bucket). Measured inside the gateway, so the load
    generator's own delays in reading answers are not in it."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1] if counts else 0.0
    out: dict[str, float | None] = {}
    for name, q in (("p50_le_ms", 0.5), ("p99_le_ms", 0.99)):
        bound = next((b for b, c in zip(bounds, counts, strict=True) if c >= q * total), None)
        out[name] = None if bound is None or bound == float("inf") else bound * 1000
    return out


class _ReceiptSink(asyncio.Protocol):
    """A transceiver bind that answers every receipt OK and counts them."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.session = EsmeSession(self.loop.time(), EsmeConfig(enquire_link_interval=None))
        self.transport: asyncio.Transport | None = None
        self.bound: asyncio.Future[int] = self.loop.create_future()
        self.receipts = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.session.bind(self.loop.time(), system_id="bench", password=PASSWORD))

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        for event in self.session.receive_data(data, self.loop.time()):
            if isinstance(event, BindAnswered) and not self.bound.done():
                self.bound.set_result(event.status)
            elif isinstance(event, DeliverReceived):
                self.receipts += 1
                self.transport.write(self.session.answer_deliver(event.pdu, 0))
        self.transport.write(self.session.data_to_send())


def _cpu_seconds(procs: dict[str, psutil.Process]) -> dict[str, float]:
    """CPU seconds (user + system) so far of each process, this one as ``load``, and the
    gateway's judge worker processes (``[smpp] judge_workers``) as ``workers``."""
    seconds = {name: sum(proc.cpu_times()[:2]) for name, proc in procs.items()}
    workers = 0.0
    for child in procs["gateway"].children(recursive=True):
        with contextlib.suppress(psutil.Error):
            workers += sum(child.cpu_times()[:2])
    seconds["workers"] = workers
    own = os.times()
    seconds["load"] = own.user + own.system
    return seconds


Phase = tuple[LoadResult, float, float, dict[str, float], dict[str, float | None]]


async def _phase(
    procs: dict[str, psutil.Process],
    smpp_port: int,
    http_port: int,
    texts: list[str],
    count: int,
    rate: float,
    connections: int,
    window: int,
) -> Phase:
    """One load phase: the result, the seconds until all was forwarded / relayed, the CPU
    microseconds per accepted message of each process (until every receipt was relayed), and
    the gateway's own latency quantiles."""
    page0 = await asyncio.to_thread(_metrics_page, http_port)
    forwarded0, received0, relayed0 = _progress(page0)
    cpu0 = _cpu_seconds(procs)
    start = time.perf_counter()
    result = await bench_load(
        smpp_port, texts, count, rate, connections, window, registered_delivery=1
    )
    # Every submit has its answer now: the histogram holds the whole phase.
    inside = _gateway_quantiles(
        _latency_buckets(page0),
        _latency_buckets(await asyncio.to_thread(_metrics_page, http_port)),
    )
    accepted = result.statuses.get(0, 0)
    forwarded_at = relayed_at = float("nan")
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        page = await asyncio.to_thread(_metrics_page, http_port)
        forwarded, received, relayed = _progress(page)
        now = time.perf_counter() - start
        if forwarded - forwarded0 >= accepted and forwarded_at != forwarded_at:
            forwarded_at = now
        # Every message forwarded, and every receipt the carrier sent for them relayed (the
        # sim sends each receipt right behind its submit_sm_resp).
        if forwarded_at == forwarded_at and relayed - relayed0 >= max(received - received0, 1):
            relayed_at = now
            break
        await asyncio.sleep(0.05)
    cpu1 = _cpu_seconds(procs)
    per = 1e6 / max(accepted, 1)
    cpu = {name: round((cpu1[name] - cpu0[name]) * per, 1) for name in cpu0}
    return result, forwarded_at, relayed_at, cpu, inside


def run(
    *, console: Console, messages: int, data: Path, out: Path, config: Path | None, **_: Any
) -> dict[str, Any]:
    texts = _texts(data)
    if not texts:
        raise SystemExit(f"no text CSVs under {data}")
    sustained_count = max(messages, 1_000)
    paced_count = min(sustained_count, PACED_RATE * 10)
    exe = Path(sys.executable).with_name("spamgate")
    # As in bench smpp: judge in that many worker processes (0: on the gateway's event loop).
    workers = int(os.environ.get("SPAMGATE_BENCH_JUDGE_WORKERS", "0"))
    with tempfile.TemporaryDirectory(prefix="spamgate-bench-upstream-") as tmp:
        workdir = Path(tmp)
        conf = workdir / "bench.toml"
        hashed = hash_password(PASSWORD, time_cost=1, memory_kib=1024, parallelism=1)
        extra = config.read_text("utf-8") + "\n" if config is not None else ""
        rates = "[smpp.rates]\nreseller = 1000000\n\n" if "rates" in SmppConfig.model_fields else ""
        conf.write_text(
            extra
            + f"[smpp]\nwindow = 1000\njudge_workers = {workers}\n\n"
            + rates
            + "[smpp.accounts.bench]\n"
            f'password_hash = "{hashed}"\n',
            "utf-8",
        )
        smpp_port, http_port, sim_port = _free_port(), _free_port(), _free_port()
        log = (workdir / "procs.log").open("wb")
        sim = subprocess.Popen(
            [str(exe), "sim", "smsc", "--port", str(sim_port)], stdout=log, stderr=log
        )
        gateway = subprocess.Popen(
            [str(exe), "serve", "--smpp-port", str(smpp_port), "--http-port", str(http_port),
             "--data-dir", str(workdir / "var"), "--config", str(conf), "--log-level",
             "WARNING", "--upstream", f"127.0.0.1:{sim_port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_port(sim_port, sim)
            _wait_port(smpp_port, gateway)

            procs = {"gateway": psutil.Process(gateway.pid), "smsc": psutil.Process(sim.pid)}
            memory = MemorySampler(gateway.pid)

            async def phases() -> dict[str, Phase]:
                loop = asyncio.get_running_loop()
                _, sink = await loop.create_connection(_ReceiptSink, "127.0.0.1", smpp_port)
                if await asyncio.wait_for(sink.bound, 10):
                    raise SystemExit("the receipt bind was refused")
                console.print("warming up (2,000 messages)…")
                ports = (smpp_port, http_port)
                warm = await _phase(procs, *ports, texts, 2_000, 0, 1, 100)
                with memory:
                    console.print(f"sustained: {sustained_count:,} messages, 2 binds × window 200…")
                    sustained = await _phase(procs, *ports, texts, sustained_count, 0, 2, 200)
                    console.print(f"paced: {paced_count:,} messages at {PACED_RATE:,}/s…")
                    paced = await _phase(procs, *ports, texts, paced_count, PACED_RATE, 1, 1000)
                assert sink.transport is not None
                sink.transport.close()
                return {"warm": warm, "sustained": sustained, "paced": paced}

            results = asyncio.run(phases())
            rss = _peak_rss_mb(gateway.pid)
        finally:
            for proc in (gateway, sim):
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            log.close()
        crashed = "Traceback" in (workdir / "procs.log").read_text("utf-8", "replace")
    sustained, s_fwd, s_rel, s_cpu, s_inside = results["sustained"]
    paced, p_fwd, p_rel, p_cpu, p_inside = results["paced"]
    e2e_rate = sustained.statuses.get(0, 0) / s_fwd if s_fwd == s_fwd and s_fwd > 0 else 0.0
    p99 = paced.percentile(99)
    met = {
        "msg_per_s": sustained.rate >= TARGET_MSG_PER_S,
        "e2e_forwarded_per_s": e2e_rate >= TARGET_MSG_PER_S,
        "p99_ms_at_2000": p99 <= TARGET_P99_MS,
        "rss_mb": rss <= TARGET_RSS_MB,
    }
    result: dict[str, Any] = {
        "benchmark": "smpp_upstream",
        "when": datetime.now(KST).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_avg_1m": round(os.getloadavg()[0], 2),
        },
        "path": "load generator -> spamgate serve (pipeline, spool) -> drainer -> sim smsc;"
        " receipts back",
        "sustained": {
            **_summary(sustained),
            "all_forwarded_after_s": round(s_fwd, 3),
            "all_receipts_after_s": round(s_rel, 3),
            "e2e_forwarded_per_s": round(e2e_rate, 1),
            "cpu_us_per_message": s_cpu,
            "gateway_side_latency": s_inside,
        },
        "paced_2000": {
            **_summary(paced),
            "all_forwarded_after_s": round(p_fwd, 3),
            "all_receipts_after_s": round(p_rel, 3),
            "cpu_us_per_message": p_cpu,
            "gateway_side_latency": p_inside,
        },
        "judge_workers": workers,
        "gateway_peak_rss_mb": round(rss, 1),
        "gateway_peak_memory_shared_once_mb": round(memory.peak_mb, 1),
        "gateway_errors_in_log": crashed,
        "targets": {
            "msg_per_s": TARGET_MSG_PER_S,
            "p99_ms_at_2000": TARGET_P99_MS,
            "rss_mb": TARGET_RSS_MB,
        },
        "met": met,
        "meets_targets": all(met.values()),
    }
    table = Table(title="spamgate bench smpp_upstream (loopback, one machine)")
    for column in (
        "phase",
        "messages",
        "submit/s",
        "p50 ms",
        "p99 ms",
        "all fwd s",
        "all receipts s",
        "answers",
    ):
        table.add_column(column, justify="right")
    for name, (phase, fwd, rel, _cpu, _inside) in (
        ("sustained", results["sustained"]),
        (f"{PACED_RATE}/s", results["paced"]),
    ):
        summary = _summary(phase)
        table.add_row(
            name,
            f"{phase.answered:,}",
            f"{phase.rate:,.0f}",
            f"{summary['p50_ms']:.2f}",
            f"{summary['p99_ms']:.2f}",
            f"{fwd:.2f}",
            f"{rel:.2f}",
            ", ".join(f"{k[-3:]}:{v}" for k, v in summary["statuses"].items()),
        )
    console.print(table)
    console.print(
        f"end to end (accepted → forwarded to the SMSC): {e2e_rate:,.0f}/s; gateway peak RSS "
        f"{rss:.0f} MB summed, {memory.peak_mb:.0f} MB counting shared pages once ({workers} "
        f"judge worker(s)); targets: ≥ {TARGET_MSG_PER_S:,}/s submitted "
        f"({'met' if met['msg_per_s'] else 'NOT met'}) and end to end "
        f"({'met' if met['e2e_forwarded_per_s'] else 'NOT met'}), p99 ≤ {TARGET_P99_MS:g} ms at "
        f"{PACED_RATE:,}/s ({'met' if met['p99_ms_at_2000'] else 'NOT met'})"
    )
    console.print(
        "CPU µs per accepted message, sustained (until every receipt was relayed): "
        + ", ".join(f"{name} {us:,.0f}" for name, us in s_cpu.items())
        + f"; sum {sum(s_cpu.values()):,.0f} (this machine: {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f})"
    )
    for name, inside in (("sustained", s_inside), (f"{PACED_RATE:,}/s", p_inside)):
        console.print(
            f"{name}, inside the gateway (message in -> submit_sm_resp written, histogram "
            "bucket bounds): "
            + ", ".join(
                f"{key[:3]} ≤ {value:g} ms" if value is not None else f"{key[:3]} > 5 s"
                for key, value in inside.items()
            )
        )
    if crashed:
        console.print("[red]a process logged a traceback[/]")
    target = write_result(out, "smpp_upstream", result)
    console.print(f"wrote {target}")
    return result
