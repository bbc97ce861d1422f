"""Prometheus metrics of the upstream leg: carrier links, submits, receipts, spool depth.

Labels carry only configured link names and fixed result words, so the label set stays small.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["UpstreamMetrics"]


class UpstreamMetrics:
    """Registered on the app's registry next to ``SmppMetrics``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.link_up = Gauge(
            "spamgate_upstream_link_up", "1 while the carrier link is bound", ["link"], registry=r
        )
        self.reconnects = Counter(
            "spamgate_upstream_connects",
            "Connection attempts to a carrier SMSC, by result",
            ["link", "result"],
            registry=r,
        )
        self.submits = Counter(
            "spamgate_upstream_submits",
            "Message parts submitted upstream, by link and result (ok, retry, failed, link_down)",
            ["link", "result"],
            registry=r,
        )
        self.submit_latency = Histogram(
            "spamgate_upstream_submit_seconds",
            "submit_sm to submit_sm_resp from the carrier",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0, 5.0),
            registry=r,
        )
        self.messages = Counter(
            "spamgate_upstream_messages",
            "Spooled messages finished, by outcome (forwarded, rejected, expired, duplicate)",
            ["outcome"],
            registry=r,
        )
        self.receipts = Counter(
            "spamgate_upstream_receipts",
            "Delivery receipts, by outcome (received, relayed, kept: stored to retry, malformed,"
            " expired, refused)",
            ["outcome"],
            registry=r,
        )
        self.receipts_pending = Gauge(
            "spamgate_upstream_receipts_pending",
            "Receipts kept until the reseller can take them",
            registry=r,
        )
        self.spool_depth = Gauge(
            "spamgate_smpp_spool_depth", "Accepted messages not yet forwarded upstream", registry=r
        )
        self.in_flight = Gauge(
            "spamgate_upstream_in_flight", "Messages being submitted upstream now", registry=r
        )
        # Labelled children by (metric, labels): labels() validates and locks on every call,
        # and these counters move several times per message.
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def _child(self, metric: Counter, labels: tuple[str, ...]) -> Any:
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def message(self, outcome: str, amount: float = 1) -> None:
        """Count spooled messages finished with ``outcome``."""
        self._child(self.messages, (outcome,)).inc(amount)

    def submit(self, link: str, result: str) -> None:
        """Count a part submitted on ``link`` with ``result``."""
        self._child(self.submits, (link, result)).inc()

    def receipt(self, outcome: str) -> None:
        """Count a delivery receipt with ``outcome``."""
        self._child(self.receipts, (outcome,)).inc()
