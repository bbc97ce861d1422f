"""The append-only audit log: every registry change, hash-chained so tampering shows.

Each change adds one row in the same transaction as the change itself. The row's ``payload`` is
canonical JSON (sorted keys, no spaces, UTF-8) of ``{seq, at, actor, action, entity, entity_id,
data}``; its ``hash`` is::

    sha256(prev_hash + "\\n" + payload), hex            (prev_hash of the first row: 64 zeros)

so a row cannot be edited, removed or slipped in without breaking every hash after it.
``seq`` is gapless (assigned under a lock on the single ``registry_state`` row, which also holds
the chain's head), so removing rows shows even where hashes were recomputed after them only if
the head is rewritten too; publish or copy :attr:`AuditReport.head` elsewhere to anchor it.
The database also refuses UPDATE and DELETE on the table (triggers), so tampering takes
deliberate work that :func:`verify` then finds.

``data`` holds what changed, never a secret: no tokens, password hashes or per-send secrets.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from spamgate.registry.models import AuditEntry, RegistryState

__all__ = [
    "GENESIS",
    "AuditProblem",
    "AuditReport",
    "canonical_json",
    "chain_hash",
    "lock_state",
    "record",
    "verify",
]

GENESIS: Final = "0" * 64
#: Problems listed by :func:`verify` before it stops listing (it still counts rows).
MAX_PROBLEMS: Final = 20


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON-serialisable in the audit log: {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text: one spelling for one value."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    )


def chain_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


def lock_state(session: Session) -> RegistryState:
    """The registry state row, locked for this transaction (``FOR UPDATE`` on PostgreSQL;
    SQLite transactions here begin IMMEDIATE and so already hold the write lock)."""
    return session.execute(
        select(RegistryState).where(RegistryState.id == 1).with_for_update()
    ).scalar_one()


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | str | None,
    data: Mapping[str, Any],
    changes_view: bool = True,
) -> AuditEntry:
    """Append one audit row for a change made in ``session`` (flushed, not committed).

    ``changes_view`` bumps the registry version that caches watch (False for changes the
    message checks never read, such as API tokens).
    """
    at = at.astimezone(UTC)
    state = lock_state(session)
    seq = state.audit_seq + 1
    entity_key = None if entity_id is None else str(entity_id)
    payload = canonical_json(
        {
            "seq": seq,
            "at": at.isoformat(),
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_key,
            "data": dict(data),
        }
    )
    digest = chain_hash(state.audit_head, payload)
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_key,
        payload=payload,
        prev_hash=state.audit_head,
        hash=digest,
    )
    session.add(entry)
    state.audit_seq = seq
    state.audit_head = digest
    if changes_view:
        state.version += 1
    session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """One place where the chain does not hold."""

    seq: int | None
    reason: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.reason}" if self.seq is not None else self.reason


@dataclass(slots=True)
class AuditReport:
    rows: int = 0
    head: str = GENESIS
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_row(row: AuditEntry, expected_prev: str, expected_seq: int) -> list[str]:
    reasons: list[str] = []
    if row.seq != expected_seq:
        reasons.append(f"sequence jumps from {expected_seq - 1} to {row.seq} (rows removed?)")
    if row.prev_hash != expected_prev:
        reasons.append("prev_hash does not match the previous row's hash")
    if chain_hash(row.prev_hash, row.payload) != row.hash:
        reasons.append("hash does not match the row's payload (row edited)")
    try:
        payload = json.loads(row.payload)
    except ValueError:
        return [*reasons, "payload is not JSON"]
    if not isinstance(payload, dict):
        return [*reasons, "payload is not a JSON object"]
    columns = {
        "seq": row.seq,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "entity": row.entity,
        "entity_id": row.entity_id,
    }
    changed = sorted(key for key, value in columns.items() if payload.get(key) != value)
    if changed:
        reasons.append(f"column(s) {', '.join(changed)} differ from the hashed payload")
    return reasons


def verify(session: Session, *, batch: int = 1000) -> AuditReport:
    """Walk the whole chain in order and report every break found (up to MAX_PROBLEMS)."""
    report = AuditReport()
    expected_prev = GENESIS
    expected_seq = 1
    last_seq = 0
    rows = session.execute(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    ).scalars()
    for row in rows:
        report.rows += 1
        for reason in _check_row(row, expected_prev, expected_seq):
            if len(report.problems) < MAX_PROBLEMS:
                report.problems.append(AuditProblem(row.seq, reason))
        expected_prev = row.hash
        expected_seq = row.seq + 1
        last_seq = row.seq
        session.expunge(row)
    report.head = expected_prev
    state = session.get(RegistryState, 1)
    if state is None:
        report.problems.append(AuditProblem(None, "registry_state row is missing"))
    else:
        if state.audit_seq != last_seq:
            report.problems.append(
                AuditProblem(
                    None,
                    f"the head says {state.audit_seq} rows were written, the log ends at "
                    f"{last_seq} (rows removed from the end?)",
                )
            )
        if state.audit_head != expected_prev:
            report.problems.append(
                AuditProblem(None, "the recorded head hash differs from the last row's hash")
            )
    return report
