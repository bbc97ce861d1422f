"""`spamgate serve` runs the SMPP listener next to HTTP: a real process, smpplib as the reseller."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from net_support import free_port
from spamgate.smpp import encode_text
from spamgate.smpp.auth import hash_password

smpplib_client = pytest.importorskip("smpplib.client")


def test_serve_accepts_smpp_spools_and_exports_metrics(tmp_path: Path) -> None:
    hashed = hash_password("pw", time_cost=1, memory_kib=8, parallelism=1)
    config = tmp_path / "spamgate.toml"
    config.write_text(f'[smpp.accounts.reseller]\npassword_hash = "{hashed}"\n', "utf-8")
    http_port, smpp_port = free_port(), free_port()
    exe = Path(sys.executable).with_name("spamgate")
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(exe), "serve", "--http-port", str(http_port), "--smpp-port", str(smpp_port),
         "--data-dir", str(tmp_path / "var"), "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "SPAMGATE_LOG_LEVEL": "WARNING"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        client = smpplib_client.Client("127.0.0.1", smpp_port, allow_unknown_opt_params=True)
        while True:
            try:
                client.connect()
                break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        client.bind_transmitter(system_id="reseller", password="pw")
        client.send_message(
            source_addr="0212345678",
            destination_addr="01098765432",
            data_coding=8,
            short_message=encode_text("안녕하세요 내일 회의는 3시입니다", 8),
        )
        resp = client.read_pdu()
        assert resp.status == 0
        client.unbind()
        client.disconnect()
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5) as page:
            metrics = page.read().decode()
        assert 'spamgate_smpp_messages_total{action="deliver"' in metrics
        assert (tmp_path / "var" / "spool" / "smpp.wal").stat().st_size > 0
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
    assert b"Traceback" not in (tmp_path / "serve.log").read_bytes()
