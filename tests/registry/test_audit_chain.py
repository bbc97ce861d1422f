"""The audit log: every change recorded, hash-chained, tampering detected (both backends)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from registry_support import Chain
from spamgate.cli import app
from spamgate.registry.audit import GENESIS, canonical_json, chain_hash
from spamgate.registry.models import AuditEntry
from spamgate.registry.service import Registry


def _drop_guards(registry: Registry) -> None:
    """What an attacker with database access would do first."""
    with registry.db.engine.begin() as conn:
        if registry.db.backend == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))


def test_every_change_is_recorded_and_chained(registry: Registry, chain: Chain) -> None:
    with registry.db.session() as session:
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
    actions = [r.action for r in rows]
    assert actions[:3] == ["operator.create"] * 3
    assert "certification.approve" in actions and "sender_number.create" in actions
    assert actions.count("token.create") == 5
    prev = GENESIS
    for seq, row in enumerate(rows, start=1):
        assert row.seq == seq and row.prev_hash == prev
        assert row.hash == chain_hash(prev, row.payload)
        prev = row.hash
    account_row = next(r for r in rows if r.action == "account.create")
    assert json.loads(account_row.payload)["data"]["business_number"] == "1248100998"
    # no secret ever reaches the log
    everything = " ".join(r.payload for r in rows)
    assert chain.send_secret not in everything
    assert all(token.split("_", 2)[2] not in everything for token in chain.tokens.values())
    report = registry.verify_audit()
    assert report.ok and report.rows == len(rows) and report.head == prev


def test_the_database_refuses_edits(registry: Registry, chain: Chain) -> None:
    with pytest.raises(Exception, match="append-only"), registry.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1"))
    with pytest.raises(Exception, match="append-only"), registry.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    assert registry.verify_audit().ok


def test_tampering_is_detected(registry: Registry, chain: Chain) -> None:
    _drop_guards(registry)
    with registry.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2"))
    report = registry.verify_audit()
    assert not report.ok
    assert [p.seq for p in report.problems] == [2]
    assert "actor" in str(report.problems[0])
    # a forger who rewrites the payload and its hash breaks the link to the next row
    with registry.db.engine.begin() as conn:
        row = conn.execute(text("SELECT payload, prev_hash FROM audit_log WHERE seq = 2")).one()
        payload = json.loads(row.payload)
        payload["actor"] = "nobody"
        forged = canonical_json(payload)
        conn.execute(
            text("UPDATE audit_log SET payload = :p, hash = :h WHERE seq = 2"),
            {"p": forged, "h": chain_hash(row.prev_hash, forged)},
        )
    report = registry.verify_audit()
    assert [p.seq for p in report.problems] == [3]
    assert "prev_hash" in str(report.problems[0])


def test_removed_rows_are_detected(registry: Registry, chain: Chain) -> None:
    _drop_guards(registry)
    with registry.db.engine.begin() as conn:
        last = conn.execute(text("SELECT max(seq) FROM audit_log")).scalar_one()
        conn.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": last})
    report = registry.verify_audit()
    assert not report.ok and "removed from the end" in str(report.problems[0])
    with registry.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 5"))
    problems = " ".join(str(p) for p in registry.verify_audit().problems)
    assert "sequence jumps from 4 to 6" in problems


def test_cli_audit_verify(registry: Registry, chain: Chain, tmp_path: Path) -> None:
    env: dict[str, str] = {}
    if registry.db.backend == "sqlite":
        data_dir = Path(str(registry.db.engine.url.database)).parent
    else:
        data_dir, env = tmp_path, {"SPAMGATE_DATABASE_URL": registry.db.url}
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--data-dir", str(data_dir)], env=env)
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    _drop_guards(registry)
    with registry.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET action = 'x' WHERE seq = 3"))
    bad = runner.invoke(app, ["audit", "verify", "--data-dir", str(data_dir)], env=env)
    assert bad.exit_code == 1
    assert "TAMPERED" in bad.output and "seq 3" in bad.output
