"""The write-ahead spool, the verdict mapping, the simulators and the `spamgate smpp/sim` commands."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spamgate.cli import app
from spamgate.domain.verdict import Action, SymbolResult, Verdict
from spamgate.smpp import CommandStatus, SubmitSm, encode_text
from spamgate.smpp.auth import StaticAuthenticator, hash_password
from spamgate.smpp.forward import ForwardError, ForwardItem, InMemoryForwarder
from spamgate.smpp.mapping import status_for, verdict_tlvs
from spamgate.smpp.session import BindKind
from spamgate.smpp.sim import SimSmsc, run_load
from spamgate.smpp.spool import SpoolForwarder
from spamgate.smpp.vendor import VendorStatus, VendorTag

S = CommandStatus


def _item(message_id: str, text: str = "안녕하세요") -> ForwardItem:
    pdu = SubmitSm(
        sequence_number=3,
        source_addr="0212345678",
        destination_addr="01098765432",
        data_coding=8,
        short_message=encode_text(text, 8),
    )
    verdict = Verdict(action=Action.DELIVER, score=0.0)
    return ForwardItem(
        message_id=message_id,
        part_ids=(message_id,),
        system_id="reseller",
        account="reseller",
        pdus=(pdu,),
        text=text,
        data_coding=8,
        verdict=verdict,
    )


def test_spool_survives_a_restart_and_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "spool" / "smpp.wal"

    async def write() -> int:
        spool = SpoolForwarder(path)
        # Concurrent batches share group commits.
        await asyncio.gather(*(spool.forward([_item(f"m{i}")]) for i in range(20)))
        await spool.ack(["m3", "m7"])
        syncs = spool.syncs
        spool.close()
        return syncs

    syncs = asyncio.run(write())
    assert syncs < 21  # 20 forwards + 1 ack needed fewer syncs than writes
    with path.open("ab") as fh:
        fh.write(b"\x00\x00\x01\x00garbage")  # a crash in the middle of a record
    spool = SpoolForwarder(path)
    pending = spool.pending()
    assert len(spool) == 18
    assert [r["id"] for r in pending][:3] == ["m0", "m1", "m2"]
    assert pending[0]["text"] == "안녕하세요"
    assert bytes.fromhex(pending[0]["pdus"][0])[4:8] == b"\x00\x00\x00\x04"  # submit_sm
    assert os.path.getsize(path) == spool.size
    spool.close()


def test_spool_write_failure_refuses_with_rsyserr(tmp_path: Path) -> None:
    spool = SpoolForwarder(tmp_path / "s.wal")
    spool.close()  # the descriptor is gone: every write fails

    async def write() -> None:
        await spool.forward([_item("x")])

    with pytest.raises(ForwardError) as err:
        asyncio.run(write())
    assert err.value.command_status == S.ESME_RSYSERR


def test_in_memory_forwarder_is_bounded() -> None:
    async def run() -> None:
        forwarder = InMemoryForwarder(capacity=2)
        await forwarder.forward([_item("a"), _item("b")])
        with pytest.raises(ForwardError):
            await forwarder.forward([_item("c")])
        assert (await forwarder.get()).message_id == "a"
        assert forwarder.get_nowait() is not None
        assert forwarder.get_nowait() is None

    asyncio.run(run())


def _verdict(action: Action, *names: str) -> Verdict:
    symbols = tuple(SymbolResult(name=n, score=5.0, description="") for n in names)
    return Verdict(action=action, score=5.0 * len(names), symbols=symbols)


@pytest.mark.parametrize(
    ("verdict", "status"),
    [
        (_verdict(Action.DELIVER), S.ESME_ROK),
        (_verdict(Action.OVERSEAS_INBOX, "INTERNATIONAL_ORIGIN"), S.ESME_ROK),
        (_verdict(Action.THROTTLE, "X"), S.ESME_RTHROTTLED),
        (_verdict(Action.REJECT, "ILLEGAL_GAMBLING"), VendorStatus.SG_RSPAM),
        (_verdict(Action.REJECT, "ILLEGAL_GAMBLING", "SENDER_INVALID"), S.ESME_RINVSRCADR),
        (_verdict(Action.REJECT, "RECIPIENT_MALFORMED"), S.ESME_RINVDSTADR),
        (Verdict.error("broken"), VendorStatus.SG_RNOTJUDGED),
    ],
)
def test_status_for_verdicts(verdict: Verdict, status: int) -> None:
    assert status_for(verdict) == status


def test_verdict_tlvs_fit_and_name_symbols() -> None:
    many = _verdict(Action.SPAMBOX, *(f"SYMBOL_NUMBER_{i:03d}" for i in range(40)))
    tlvs = {t.tag: t for t in verdict_tlvs(many, "abc")}
    assert tlvs[VendorTag.SPAMGATE_ACTION].as_int() == 2
    assert tlvs[VendorTag.SPAMGATE_SCORE].as_int() == 200_000
    names = tlvs[VendorTag.SPAMGATE_SYMBOLS].as_cstr()
    assert len(names) <= 254 and names.split(",")[0] == "SYMBOL_NUMBER_000"
    assert tlvs[VendorTag.SPAMGATE_MESSAGE_ID].as_cstr() == "abc"
    assert verdict_tlvs(_verdict(Action.DELIVER), "x") == ()


def test_static_authenticator_without_accounts_refuses_everyone() -> None:
    auth = StaticAuthenticator({})
    decision = asyncio.run(auth.authenticate("anyone", "pw", BindKind.TRANSMITTER, "127.0.0.1:9"))
    assert decision.status == S.ESME_RINVPASWD


def test_hash_password_enforces_smpp_limits() -> None:
    with pytest.raises(ValueError, match="1 to 8"):
        hash_password("123456789")
    assert hash_password("pw", time_cost=1, memory_kib=8, parallelism=1).startswith("$argon2id$")


def test_load_generator_against_the_sim_smsc_with_receipts_and_failures() -> None:
    async def run() -> tuple[object, SimSmsc]:
        sim = SimSmsc(fail_rate=0.25, delay_ms=1, seed=4)
        await sim.start("127.0.0.1", 0)
        try:
            result = await run_load(
                "127.0.0.1",
                sim.port,
                rate=0,
                count=200,
                system_id="x",
                password="y",
                registered_delivery=1,
                window=20,
                timeout=20,
            )
        finally:
            await sim.close()
        return result, sim

    result, sim = asyncio.run(run())
    assert getattr(result, "answered", None) == 200
    statuses = getattr(result, "statuses", {})
    assert statuses[0] + statuses[S.ESME_RSUBMITFAIL] == 200
    assert 20 < statuses[S.ESME_RSUBMITFAIL] < 80
    assert sim.stats.accepted == statuses[0]
    assert sim.stats.receipts == statuses[0]


def test_sim_smsc_drops_connections_when_told() -> None:
    async def run() -> int:
        sim = SimSmsc(drop_rate=1.0)
        await sim.start("127.0.0.1", 0)
        try:
            result = await run_load(
                "127.0.0.1", sim.port, rate=0, count=5, system_id="x", password="y", timeout=3
            )
        finally:
            await sim.close()
        return result.answered

    assert asyncio.run(run()) == 0


def test_cli_hash_password_and_sim_esme_against_sim_smsc() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["smpp", "hash-password"], env={"SPAMGATE_SMPP_PASSWORD": "pw1"})
    assert out.exit_code == 0, out.output
    assert out.output.strip().startswith("$argon2id$")
    bad = runner.invoke(app, ["sim", "esme", "--host", "10.0.0.1"])
    assert bad.exit_code == 2
