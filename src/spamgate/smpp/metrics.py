"""Prometheus metrics of the SMPP gateway, registered on a given registry (the app's).

``system_id`` labels only ever carry logins that bound successfully (configured accounts), so a
peer guessing names cannot blow up the label set; failed binds count under ``system_id="-"``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["SmppMetrics"]


class SmppMetrics:
    """Counters per action and system_id (``messages``: one per destination of a
    submit_multi), throttled and gate-refused counts, the submit latency histogram, binds and
    queues."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "spamgate_smpp_messages",
            "Messages answered, by system_id, verdict action and command_status",
            ["system_id", "action", "status"],
            registry=r,
        )
        self.refused = Counter(
            "spamgate_smpp_refused",
            "PDUs refused before judging (protocol errors, window, reassembly), by reason",
            ["system_id", "reason"],
            registry=r,
        )
        self.binds = Counter(
            "spamgate_smpp_bind_attempts",
            "Bind attempts by result",
            ["system_id", "kind", "result"],
            registry=r,
        )
        self.active_binds = Gauge(
            "spamgate_smpp_active_binds", "Binds currently up", ["kind"], registry=r
        )
        self.connections = Gauge("spamgate_smpp_connections", "Open SMPP connections", registry=r)
        self.latency = Histogram(
            "spamgate_smpp_submit_seconds",
            "From a whole message received to its submit_sm_resp written",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0, 5.0),
            registry=r,
        )
        self.batch_size = Histogram(
            "spamgate_smpp_judge_batch",
            "Messages judged together",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=r,
        )
        self.judge_queue = Gauge(
            "spamgate_smpp_judge_queue", "Messages waiting to be judged", registry=r
        )
        self.throttled = Counter(
            "spamgate_smpp_throttled",
            "Messages (destinations) over a send rate, by system_id and bucket (reseller/account)",
            ["system_id", "bucket"],
            registry=r,
        )
        self.gate_refused = Counter(
            "spamgate_smpp_gate_refused",
            "Messages refused by the gateway's own checks, by system_id and symbol "
            "(RESELLER_NOT_CERTIFIED, PER_SEND_AUTH_FAILED)",
            ["system_id", "symbol"],
            registry=r,
        )
        self.rate_storage_errors = Counter(
            "spamgate_smpp_rate_storage_errors",
            "Rate-limit storage failures (messages were let through)",
            registry=r,
        )
