"""`spamgate check` and `scan` judge with the registry of --data-dir, like the HTTP path."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from registry_support import TEST_ARGON2, Chain, build_chain
from spamgate.checks.registry_checks import RegistryCheck
from spamgate.cli import app
from spamgate.config import Settings, load_policy
from spamgate.errors import ConfigError
from spamgate.pipeline import MessageFields, Pipeline
from spamgate.registry.auth import SYSTEM
from spamgate.registry.judging import has_registry, open_for_judging
from spamgate.registry.models import BlockKind
from spamgate.registry.number_status import import_into
from spamgate.registry.persend import make_proof
from spamgate.registry.service import Registry

TEXT = "[행복마트] 주문하신 상품이 발송되었습니다"
ALLOCATED = "01023456789"
SUSPENDED = "01034567890"
PROTECTED = "0312345678"
BLOCKED = "0319876543"
# Models off (they are not what is tested), no shared services: only the data dir counts.
ENV: dict[str, str | None] = {
    "SPAMGATE_MODEL": "none",
    "SPAMGATE_URL_MODEL": "none",
    "SPAMGATE_DATABASE_URL": None,
    "SPAMGATE_REDIS_URL": None,
    "SPAMGATE_DATA_DIR": None,
    "SPAMGATE_CONFIG": None,
}
REGISTRY_SYMBOLS = {symbol.name for symbol in RegistryCheck.symbols}
runner = CliRunner()


class Seeded:
    """A data dir with a registry (seeded through the service) and a number-status snapshot."""

    def __init__(self, data_dir: Path, registry: Registry) -> None:
        self.data_dir = data_dir
        self.good: Chain = build_chain(registry)
        self.uncertified: Chain = build_chain(registry, certify=False, sender="0223456789")
        self.suspended: Chain = build_chain(registry, sender="0234567890")
        registry.update_account(
            SYSTEM, self.suspended.account, status="suspended", reason="spam reports"
        )
        registry.protect_number(SYSTEM, number=PROTECTED, evidence={"form": "owner request"})
        registry.block(SYSTEM, kind=BlockKind.NUMBER, value=BLOCKED, source="KISA", reason="spam")
        statuses = data_dir / "status.csv"
        statuses.write_text(
            f"number,status\n{ALLOCATED},allocated\n{SUSPENDED},suspended\n", encoding="utf-8"
        )
        import_into(data_dir, statuses, delta=True)


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Seeded]:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    registry = Registry.open(Settings(data_dir=data_dir, **TEST_ARGON2))
    try:
        yield Seeded(data_dir, registry)
    finally:
        registry.close()


def _check(data_dir: Path, **fields: str) -> tuple[int, dict[str, Any]]:
    args = ["check", "--text", TEXT, "--json", "--data-dir", str(data_dir)]
    for name, value in fields.items():
        args += [f"--{name}", value]
    result = runner.invoke(app, args, env=ENV)
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def _names(verdict: dict[str, Any]) -> set[str]:
    return {symbol["name"] for symbol in verdict.get("symbols", [])}


def _cases(s: Seeded) -> list[tuple[dict[str, str], set[str]]]:
    """(message fields, the registry symbols it must get)."""
    good, other = s.good, s.uncertified
    return [
        ({"account": str(good.account), "sender": good.sender, "recipient": ALLOCATED}, set()),
        (
            {"account": str(good.account), "sender": "0245678901", "recipient": ALLOCATED},
            {"SENDER_NOT_REGISTERED"},
        ),
        (
            {"account": str(other.account), "sender": other.sender, "recipient": ALLOCATED},
            {"RESELLER_NOT_CERTIFIED"},
        ),
        (
            {"account": str(s.suspended.account), "sender": s.suspended.sender},
            {"ACCOUNT_SUSPENDED"},
        ),
        ({"sender": PROTECTED, "recipient": ALLOCATED}, {"SENDER_THEFT_PROTECTED"}),
        ({"sender": BLOCKED}, {"SENDER_BLOCKLISTED"}),
        ({"sender": good.sender, "recipient": SUSPENDED}, {"RECIPIENT_INVALID"}),
    ]


def test_check_judges_with_the_registry_without_asking_for_a_proof(seeded: Seeded) -> None:
    for fields, expected in _cases(seeded):
        code, verdict = _check(seeded.data_dir, **fields)
        assert code == 0, fields
        assert _names(verdict) & REGISTRY_SYMBOLS == expected, fields
        assert verdict["action"] == ("reject" if expected else "deliver"), fields


def test_scan_rows_get_the_same_registry_symbols_as_the_http_path(
    seeded: Seeded, tmp_path: Path
) -> None:
    cases = _cases(seeded)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ["text", "sender", "recipient", "account"])
    writer.writeheader()
    for fields, _ in cases:
        writer.writerow({"text": TEXT, **fields})
    writer.writerow({"text": "", "sender": seeded.good.sender})  # a bad row: error, batch goes on
    path = tmp_path / "in.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    result = runner.invoke(app, ["scan", str(path), "--data-dir", str(seeded.data_dir)], env=ENV)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["row"] for row in rows] == list(range(len(cases) + 1))
    assert rows[-1]["action"] == "error"
    # The API's pipeline on the same registry, each message with a valid per-send proof.
    registry = Registry.open(Settings(data_dir=seeded.data_dir, **TEST_ARGON2))
    try:
        http = Pipeline(load_policy(), model=None, url_model=None, registry=registry)
        secrets = {
            str(c.account): c.send_secret
            for c in (seeded.good, seeded.uncertified, seeded.suspended)
        }
        for (fields, expected), row in zip(cases, rows, strict=False):
            proof = None
            if "account" in fields:
                proof = make_proof(
                    secrets[fields["account"]],
                    account=fields["account"],
                    text=TEXT,
                    timestamp=int(time.time()),
                    sender=fields.get("sender"),
                    recipient=fields.get("recipient"),
                )
            verdict = http.judge_fields(MessageFields(TEXT, auth=proof, **fields))
            assert set(verdict.symbol_names()) & REGISTRY_SYMBOLS == expected, fields
            assert _names(row) & REGISTRY_SYMBOLS == expected, fields
            assert row["action"] == verdict.action.value, fields
    finally:
        registry.close()


def test_a_data_dir_without_a_registry_judges_as_before(tmp_path: Path) -> None:
    assert not has_registry(Settings(data_dir=tmp_path, database_url=None))
    code, verdict = _check(tmp_path, account="7", sender=PROTECTED, recipient=SUSPENDED)
    assert code == 0 and not _names(verdict) & REGISTRY_SYMBOLS
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_a_number_status_snapshot_alone_is_used(tmp_path: Path) -> None:
    statuses = tmp_path / "status.csv"
    statuses.write_text(f"number,status\n{SUSPENDED},terminated\n", encoding="utf-8")
    import_into(tmp_path, statuses, delta=True)
    code, verdict = _check(tmp_path, recipient=SUSPENDED)
    assert code == 0
    assert _names(verdict) & REGISTRY_SYMBOLS == {"RECIPIENT_INVALID"}
    assert any(s["evidence"] == f"{SUSPENDED} terminated" for s in verdict["symbols"])


def test_an_unusable_registry_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "spamgate.db").write_bytes(b"this is not a database" * 100)
    result = runner.invoke(app, ["check", "--text", TEXT, "--data-dir", str(tmp_path)], env=ENV)
    assert result.exit_code == 2
    assert "cannot use the registry database" in result.stderr
    assert "Traceback" not in result.output
    with pytest.raises(ConfigError, match="cannot use the registry database"):
        open_for_judging(Settings(data_dir=tmp_path, database_url=None))
