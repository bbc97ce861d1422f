"""`spamgate serve` runs the SMPP listener next to HTTP: a real process, smpplib as the reseller."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from net_support import can_connect, free_port, spamgate_process, stop, wait_until
from spamgate.smpp import encode_text
from spamgate.smpp.auth import hash_password

smpplib_client = pytest.importorskip("smpplib.client")


def test_serve_accepts_smpp_spools_and_exports_metrics(tmp_path: Path) -> None:
    hashed = hash_password("pw", time_cost=1, memory_kib=8, parallelism=1)
    config = tmp_path / "spamgate.toml"
    config.write_text(f'[smpp.accounts.reseller]\npassword_hash = "{hashed}"\n', "utf-8")
    http_port, smpp_port = free_port(), free_port()
    log_path = tmp_path / "serve.log"
    log = log_path.open("wb")
    proc = spamgate_process(
        ["serve", "--http-port", str(http_port), "--smpp-port", str(smpp_port),
         "--data-dir", str(tmp_path / "var"), "--config", str(config)],
        log,
    )  # fmt: skip
    try:
        wait_until("spamgate serve", lambda: can_connect(smpp_port), proc, 30, log_path)
        client = smpplib_client.Client("127.0.0.1", smpp_port, allow_unknown_opt_params=True)
        client.connect()
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
        stop(proc)
        log.close()
    assert b"Traceback" not in (tmp_path / "serve.log").read_bytes()


def test_serve_answers_queue_full_while_its_spool_is_at_capacity(tmp_path: Path) -> None:
    """No carrier link, so nothing leaves the spool: with room for two unforwarded messages the
    third is refused ESME_RMSGQFUL (retry later), not accepted, and the first two stay."""
    from gate_support import Esme

    from spamgate.smpp import CommandStatus
    from spamgate.smpp.spool import SpoolForwarder

    hashed = hash_password("pw", time_cost=1, memory_kib=8, parallelism=1)
    config = tmp_path / "spamgate.toml"
    config.write_text(
        f'[smpp]\nspool_capacity = 2\n\n[smpp.accounts.reseller]\npassword_hash = "{hashed}"\n',
        "utf-8",
    )
    http_port, smpp_port = free_port(), free_port()
    log_path = tmp_path / "serve.log"
    log = log_path.open("wb")
    proc = spamgate_process(
        ["serve", "--http-port", str(http_port), "--smpp-port", str(smpp_port),
         "--data-dir", str(tmp_path / "var"), "--config", str(config)],
        log,
    )  # fmt: skip
    try:
        wait_until("spamgate serve", lambda: can_connect(smpp_port), proc, 30, log_path)
        esme = Esme(smpp_port)
        assert esme.bind("reseller", "pw") == CommandStatus.ESME_ROK
        statuses = [
            esme.submit(f"안녕하세요 {i}번 회의 안건입니다").command_status for i in range(3)
        ]
        assert statuses == [CommandStatus.ESME_ROK] * 2 + [CommandStatus.ESME_RMSGQFUL]
        esme.close()
    finally:
        stop(proc)
        log.close()
    spool = SpoolForwarder(tmp_path / "var" / "spool" / "smpp.wal")
    assert len(spool.pending()) == 2  # the refused one was never spooled
    spool.close()
    assert b"Traceback" not in log_path.read_bytes()
