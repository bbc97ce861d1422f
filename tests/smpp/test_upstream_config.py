"""Wiring: --upstream parsing, [[smpp.upstreams]] and [smpp.routing] validation, the carrier
import command."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from spamgate.cli import app
from spamgate.config import SmppConfig
from spamgate.errors import ConfigError
from spamgate.smpp.routing import CarrierTable
from spamgate.smpp.spool import SpoolForwarder
from spamgate.smpp.upstream_service import build_upstream, carrier_table_path, parse_upstream


class _NoDeliverer:
    def deliver(self, system_id: str, pdu: object) -> object:
        raise LookupError(system_id)

    async def wait_for_room(self, system_id: str, timeout: float) -> bool:
        return False


def test_parse_upstream() -> None:
    plain = parse_upstream("127.0.0.1:2776", 1)
    assert (plain.name, plain.host, plain.port, plain.system_id) == (
        "upstream1",
        "127.0.0.1",
        2776,
        "spamgate",
    )
    named = parse_upstream("relay01@[::1]:2775", 2, "pw")
    assert (named.host, named.system_id, named.password) == ("::1", "relay01", "pw")
    for bad in ("nohost", "host:0", "host:99999", "a@b@c:1", ""):
        with pytest.raises(ConfigError, match="HOST:PORT"):
            parse_upstream(bad, 1)


def test_build_upstream_without_links_is_none_and_bad_routing_is_refused(tmp_path: Path) -> None:
    spool = SpoolForwarder(tmp_path / "s.wal")
    kw = {"data_dir": tmp_path, "spool": spool, "deliverer": _NoDeliverer()}
    assert build_upstream(SmppConfig(), [], **kw) is None  # type: ignore[arg-type]
    service = build_upstream(SmppConfig(), ["127.0.0.1:2776"], **kw)  # type: ignore[arg-type]
    assert service is not None and list(service.links) == ["upstream1"]
    routed = SmppConfig.model_validate(
        {
            "upstreams": [{"name": "skt", "port": 1, "carrier": "SKT"}],
            "routing": {"prefixes": {"010": "KT"}},
        }
    )
    with pytest.raises(ConfigError, match="no route"):
        build_upstream(routed, [], **kw)  # type: ignore[arg-type]
    twice = SmppConfig.model_validate(
        {"upstreams": [{"name": "a", "port": 1}, {"name": "a", "port": 2}]}
    )
    with pytest.raises(ConfigError, match="unique"):
        build_upstream(twice, [], **kw)  # type: ignore[arg-type]
    missing = SmppConfig.model_validate(
        {"upstreams": [{"name": "a", "port": 1}], "routing": {"carrier_table": "/nope.npz"}}
    )
    with pytest.raises(ConfigError, match="does not exist"):
        build_upstream(missing, [], **kw)  # type: ignore[arg-type]
    spool.close()


def test_numbers_import_carriers_command(tmp_path: Path) -> None:
    csv_path = tmp_path / "ported.csv"
    csv_path.write_text("number,carrier\n01011112222,KT\nbad,SKT\n", "utf-8")
    runner = CliRunner()
    out = runner.invoke(
        app, ["numbers", "import-carriers", str(csv_path), "--data-dir", str(tmp_path)]
    )
    assert out.exit_code == 0, out.output
    assert "imported 1 numbers" in out.output and "row 3" in out.output
    assert CarrierTable.load(carrier_table_path(tmp_path)).carrier_of("010-1111-2222") == "KT"
    empty = tmp_path / "empty.csv"
    empty.write_text("number,carrier\nbad,SKT\n", "utf-8")
    out = runner.invoke(
        app, ["numbers", "import-carriers", str(empty), "--data-dir", str(tmp_path)]
    )
    assert out.exit_code == 2
    out = runner.invoke(
        app, ["numbers", "import-carriers", str(tmp_path / "none.csv"), "--data-dir", str(tmp_path)]
    )
    assert out.exit_code == 2


def test_serve_without_upstream_warns_that_messages_are_held(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio
    from types import SimpleNamespace

    from spamgate.config import Settings
    from spamgate.smpp.service import _start_upstream

    spool = SpoolForwarder(tmp_path / "s.wal")
    smpp = SimpleNamespace(
        forwarder=spool, pipeline=SimpleNamespace(policy=SimpleNamespace(smpp=SmppConfig()))
    )
    settings = Settings(data_dir=tmp_path)
    with caplog.at_level("WARNING"):
        assert asyncio.run(_start_upstream(smpp, settings, None)) is None  # type: ignore[arg-type]
    assert "not forwarded" in caplog.text and "스풀" in caplog.text
    spool.close()
