"""`spamgate serve` runs the SMPP listener next to HTTP: a real process, smpplib as the reseller."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from gate_support import Esme

from net_support import serve_with_login, stop
from spamgate.smpp import CommandStatus, encode_text
from spamgate.smpp.spool import SpoolForwarder

smpplib_client = pytest.importorskip("smpplib.client")


def test_serve_accepts_smpp_spools_and_exports_metrics(tmp_path: Path) -> None:
    served = serve_with_login(tmp_path, "pw")
    try:
        client = smpplib_client.Client("127.0.0.1", served.smpp_port, allow_unknown_opt_params=True)
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
        metrics_url = f"http://127.0.0.1:{served.http_port}/metrics"
        with urllib.request.urlopen(metrics_url, timeout=5) as page:
            metrics = page.read().decode()
        assert 'spamgate_smpp_messages_total{action="deliver"' in metrics
        assert (tmp_path / "var" / "spool" / "smpp.wal").stat().st_size > 0
    finally:
        stop(served.proc)
    assert b"Traceback" not in served.log.read_bytes()


def test_serve_answers_queue_full_while_its_spool_is_at_capacity(tmp_path: Path) -> None:
    """No carrier link, so nothing leaves the spool: with room for two unforwarded messages the
    third is refused ESME_RMSGQFUL (retry later), not accepted, and the first two stay."""
    served = serve_with_login(tmp_path, "pw", smpp="spool_capacity = 2")
    try:
        esme = Esme(served.smpp_port)
        assert esme.bind("reseller", "pw") == CommandStatus.ESME_ROK
        statuses = [
            esme.submit(f"안녕하세요 {i}번 회의 안건입니다").command_status for i in range(3)
        ]
        assert statuses == [CommandStatus.ESME_ROK] * 2 + [CommandStatus.ESME_RMSGQFUL]
        esme.close()
    finally:
        stop(served.proc)
    spool = SpoolForwarder(tmp_path / "var" / "spool" / "smpp.wal")
    assert len(spool.pending()) == 2  # the refused one was never spooled
    spool.close()
    assert b"Traceback" not in served.log.read_bytes()
