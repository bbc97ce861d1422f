"""Judging in worker processes (``[smpp] judge_workers = N``).

The event loop keeps the sockets, the per-send proofs, the rate buckets, the spool and the
carrier links; N spawned processes judge the batches, so judging runs on other cores than the
loop's. Each worker builds the pipeline ``serve`` builds, from the same settings:

* the policy and the models (``SPAMGATE_CONFIG``, ``SPAMGATE_MODEL``, ...);
* the data dir's campaign index, re-read before every batch, so a campaign added through the API
  counts from the next batch, as on the loop;
* burst tracking: shared through Redis when ``SPAMGATE_REDIS_URL`` is set; otherwise each worker
  counts the messages it judges, so with N > 1 a burst is seen about N times later;
* the registry, opened from the same database (when the loop's pipeline has one).

Per-send proofs stay the loop's job: the gate verifies each once against the one nonce store. A
batch carries the ``(account, nonce)`` pairs the gate verified, and the worker's registry view
answers OK for exactly those (:class:`~spamgate.smpp.gate.PreverifiedSource`, as on the loop). A
batch also carries the registry version the loop sees: a worker whose snapshot is older rebuilds
first, so a change made through this node (a theft-protected number, a block, a suspension)
reaches the workers with the next batch rather than after ``registry_refresh_seconds``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spamgate.config import Settings
from spamgate.domain.verdict import Verdict
from spamgate.errors import InputError
from spamgate.pipeline import MessageFields, Pipeline
from spamgate.smpp.gate import PreverifiedSource

if TYPE_CHECKING:
    from spamgate.registry.service import Registry

__all__ = ["WorkerBatch", "WorkerSpec", "init_worker", "judge_fields", "judge_in_worker", "ping"]


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """What a worker needs to build its pipeline (pickled to each spawned process)."""

    settings: Settings
    #: Open the registry: the loop's pipeline judges with one.
    registry: bool = True


@dataclass(frozen=True, slots=True)
class WorkerBatch:
    """One batch for a worker: the messages, the proofs the gate verified, the loop's registry
    version (None: the loop has no registry)."""

    fields: list[MessageFields]
    verified: list[tuple[str, str]]
    registry_version: int | None = None


def judge_fields(pipeline: Pipeline, batch: Sequence[MessageFields]) -> list[Verdict | InputError]:
    """Parse and judge ``batch`` in order: a verdict, or the ``InputError`` that refused it."""
    results: list[Verdict | InputError | None] = [None] * len(batch)
    messages = []
    slots = []
    for i, fields in enumerate(batch):
        try:
            messages.append(pipeline.parse(fields))
            slots.append(i)
        except InputError as exc:
            results[i] = exc
    if messages:
        for slot, verdict in zip(slots, pipeline.judge_batch(messages), strict=True):
            results[slot] = verdict
    return [r for r in results if r is not None]


class _Worker:
    def __init__(self, spec: WorkerSpec) -> None:
        settings = spec.settings
        self.pipeline = Pipeline.from_config(settings.config, settings.data_dir, settings=settings)
        self.registry: Registry | None = None
        self.source: PreverifiedSource | None = None
        if spec.registry:
            from spamgate.registry.service import Registry

            # The gateway migrated the database before it started the pool (and a worker
            # spared Alembic keeps about 20 MB less).
            self.registry = Registry.open(settings, upgrade=False)
            self.source = PreverifiedSource(self.registry)
            self.pipeline.registry = self.source

    def judge(self, batch: WorkerBatch) -> list[Verdict | InputError]:
        source, registry = self.source, self.registry
        if source is None or registry is None:
            return judge_fields(self.pipeline, batch.fields)
        wanted = batch.registry_version
        if wanted is not None and registry.cache.snapshot().version < wanted:
            registry.cache.invalidate()
        for account, nonce in batch.verified:
            source.remember(account, nonce)
        try:
            return judge_fields(self.pipeline, batch.fields)
        finally:
            for account, nonce in batch.verified:
                source.forget(account, nonce)


_worker: _Worker | None = None


def _exit_with_parent(parent: int) -> None:
    # A gateway killed outright (kill -9, OOM) cannot stop its pool: leave when it is gone.
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def init_worker(spec: WorkerSpec) -> None:
    """In a spawned worker: build the pipeline once and warm it up."""
    global _worker
    threading.Thread(
        target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True
    ).start()
    _worker = _Worker(spec)
    judge_fields(_worker.pipeline, [MessageFields("warm-up", recipient="01098765432")])


def judge_in_worker(batch: WorkerBatch) -> list[Verdict | InputError]:
    assert _worker is not None, "worker not initialised"
    return _worker.judge(batch)


def ping() -> int:
    """A worker's pid (start-up waits for one answer per worker)."""
    return os.getpid()
