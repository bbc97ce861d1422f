"""Prometheus metrics, one registry per app so several apps (tests) never collide."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from spamgate.domain.verdict import Verdict

__all__ = ["Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.verdicts = Counter(
            "spamgate_verdicts", "Verdicts by action", ["action"], registry=self.registry
        )
        self.symbols = Counter(
            "spamgate_symbols", "Symbols that fired", ["symbol"], registry=self.registry
        )
        self.latency = Histogram(
            "spamgate_check_seconds",
            "Time to judge one message",
            buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05),
            registry=self.registry,
        )

    def observe(self, verdict: Verdict, seconds: float) -> None:
        self.verdicts.labels(verdict.action.value).inc()
        for symbol in verdict.symbols:
            self.symbols.labels(symbol.name).inc()
        self.latency.observe(seconds)
