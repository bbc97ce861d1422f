"""`spamgate admin token create`, the demo seeding and `spamgate serve --demo`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from net_support import free_port, spamgate_process, stop, wait_until
from registry_support import TEST_ARGON2
from spamgate.cli import app
from spamgate.config import Settings
from spamgate.registry.demo import DEMO_PASSWORD, DEMO_SYSTEM_ID, seed_demo
from spamgate.registry.service import Registry

ENV = {f"SPAMGATE_{k.upper()}": str(v) for k, v in TEST_ARGON2.items()}


def test_admin_token_create_prints_the_token_alone(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["admin", "token", "create", "--role", "regulator", "--data-dir", str(tmp_path)],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and re.fullmatch(r"sgt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", lines[0])
    registry = Registry.open(Settings(data_dir=tmp_path, **TEST_ARGON2))
    try:
        principal = registry.authenticate(lines[0])
        assert principal.role == "regulator"
        relay = runner.invoke(
            app,
            ["admin", "token", "create", "--role", "relay", "--operator", "1"],
            env={**ENV, "SPAMGATE_DATA_DIR": str(tmp_path)},
        )
        assert relay.exit_code == 2 and relay.stdout == ""  # no operator 1 yet
        bad = runner.invoke(
            app, ["admin", "token", "create", "--role", "king", "--data-dir", str(tmp_path)]
        )
        assert bad.exit_code == 2 and "unknown role" in bad.output
    finally:
        registry.close()


def test_demo_seed_is_idempotent(tmp_path: Path) -> None:
    registry = Registry.open(Settings(data_dir=tmp_path, **TEST_ARGON2))
    try:
        first = seed_demo(registry)
        second = seed_demo(registry)
        assert first.created and not second.created
        assert (first.reseller_id, first.account_id) == (second.reseller_id, second.account_id)
        assert first.send_secret == second.send_secret
        assert first.regulator_token != second.regulator_token
        reseller = registry.verify_smpp_login(DEMO_SYSTEM_ID, DEMO_PASSWORD)
        assert reseller is not None and reseller.id == first.reseller_id
        assert registry.verify_smpp_login(DEMO_SYSTEM_ID, "wrong") is None
        assert registry.verify_smpp_login("nobody", DEMO_PASSWORD) is None
        view = registry.view()
        standing = view.account(str(first.account_id))
        assert standing is not None and standing.senders == frozenset({"0212345678"})
        assert view.certification(standing) == "certified"
    finally:
        registry.close()


def test_serve_demo(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("spamgate")
    env = {**os.environ, **ENV, "SPAMGATE_MODEL": "none", "SPAMGATE_URL_MODEL": "none"}
    env.pop("SPAMGATE_DATABASE_URL", None)
    refused = subprocess.run(
        [str(exe), "serve", "--demo", "--http-host", "0.0.0.0", "--data-dir", str(tmp_path)],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert refused.returncode != 0 and b"loopback only" in refused.stderr
    port, smpp_port = free_port(), free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = spamgate_process(
            ["serve", "--demo", "--http-port", str(port), "--smpp-port", str(smpp_port),
             "--data-dir", str(tmp_path / "var")],
            log,
            env=env,
        )  # fmt: skip
        try:
            printed: dict[str, str] = {}

            def token_printed() -> bool:
                found = re.search(
                    rb"regulator token \(7 days\):\s+(sgt_\S+)", log_path.read_bytes()
                )
                if found:
                    printed["token"] = found.group(1).decode()
                return found is not None

            wait_until("the demo's regulator token", token_printed, proc, 60, log_path)
            token = printed["token"]
            base = f"http://127.0.0.1:{port}"
            operators: dict[str, Any] = {}

            def listed() -> bool:
                request = urllib.request.Request(
                    f"{base}/api/v1/operators", headers={"Authorization": f"Bearer {token}"}
                )
                try:
                    with urllib.request.urlopen(request, timeout=2) as resp:
                        operators.update(json.load(resp))
                    return True
                except OSError:
                    return False

            wait_until("the demo's API", listed, proc, 60, log_path)
            assert [o["kind"] for o in operators["items"]] == ["carrier", "relay", "reseller"]
            assert operators["items"][2]["smpp_system_id"] == "demo"
            # the printed load command works as printed: every message signed, all accepted
            line = re.search(rb"try SMPP load: spamgate (sim esme [^\r\n]+)", log_path.read_bytes())
            assert line is not None
            load = [*line.group(1).decode().split(), "--port", str(smpp_port), "--json"]
            load += ["--count", "20", "--rate", "0"]
            signed = subprocess.run(
                [str(exe), *load], capture_output=True, env=env, timeout=60, check=True
            )
            assert json.loads(signed.stdout)["statuses"] == {"0x00000000": 20}
            # without the proof a registry bind refuses every message (SG_RAUTHFAIL)
            at = load.index("--account")
            unsigned = load[:at] + load[at + 4 :]
            plain = subprocess.run(
                [str(exe), *unsigned], capture_output=True, env=env, timeout=60, check=True
            )
            assert json.loads(plain.stdout)["statuses"] == {"0x00000405": 20}
        finally:
            stop(proc)
    output = log_path.read_text(errors="replace")
    assert "loopback only" in output and "sender 0212345678" in output
    assert "beyond its rate ([smpp.rates])" in output
    assert (tmp_path / "var" / "demo" / "spamgate.db").is_file()
    assert "Traceback" not in output
