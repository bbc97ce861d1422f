"""Prometheus metrics of the upstream leg: carrier links, submits, receipts, spool depth.

Labels carry only configured link names and fixed result words, so the label set stays small.
"""

from __future__ import annotations

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
