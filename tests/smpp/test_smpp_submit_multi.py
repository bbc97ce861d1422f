"""submit_multi judged per destination, and the refused requests: query/cancel/replace, outbind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gate_support import RECIPIENT, Esme, Gateway, start_gateway
from prometheus_client import generate_latest

from spamgate.registry.service import Registry
from spamgate.smpp import (
    CancelSm,
    CommandId,
    CommandStatus,
    DistributionList,
    Outbind,
    QuerySm,
    ReplaceSm,
    SmeAddress,
    SubmitMulti,
    SubmitMultiResp,
    encode_text,
)
from spamgate.smpp.proof import find_proof
from spamgate.smpp.ratelimit import RateTable
from spamgate.smpp.vendor import VendorStatus

S = CommandStatus
SECOND = "01023456789"


@pytest.fixture
def gateway(sqlite_registry: Registry) -> Iterator[Gateway]:
    gw = start_gateway(sqlite_registry, rates=RateTable(reseller=1000, tiers={"new": 50}))
    yield gw
    gw.thread.__exit__()


@pytest.fixture
def esme(gateway: Gateway) -> Iterator[Esme]:
    client = Esme(gateway.port)
    assert client.bind(gateway.system_id) == S.ESME_ROK
    yield client
    client.close()


def _multi(gateway: Gateway, esme: Esme, dests: list[str | DistributionList]) -> SubmitMultiResp:
    smes = [d for d in dests if isinstance(d, str)]
    resp = esme.submit_multi(dests, tlvs=[gateway.proof(recipients=smes)])
    assert isinstance(resp, SubmitMultiResp)
    return resp


def test_mixed_destinations_forward_only_the_allowed(gateway: Gateway, esme: Esme) -> None:
    resp = _multi(gateway, esme, [RECIPIENT, "not-a-number", SECOND, DistributionList("friends")])
    assert resp.command_status == S.ESME_ROK
    assert resp.message_id
    failed = {u.destination_addr: u.error_status_code for u in resp.unsuccess_smes}
    assert failed == {"not-a-number": S.ESME_RINVDSTADR, "friends": S.ESME_RINVDLNAME}
    (item,) = gateway.sink.items
    (pdu,) = item.pdus
    assert isinstance(pdu, SubmitMulti)
    assert [d.destination_addr for d in pdu.dest_addresses] == [RECIPIENT, SECOND]  # type: ignore[union-attr]
    assert find_proof(pdu) is None
    assert item.message_id == resp.message_id
    text = generate_latest(gateway.metrics.registry).decode()
    sid = gateway.system_id
    assert (
        f'spamgate_smpp_messages_total{{action="deliver",status="0x00000000",system_id="{sid}"}} 2.0'
        in text
    )
    for status in (S.ESME_RINVDSTADR, S.ESME_RINVDLNAME):
        line = f'{{action="error",status="0x{status:08x}",system_id="{sid}"}} 1.0'
        assert f"spamgate_smpp_messages_total{line}" in text


def test_every_destination_refused(gateway: Gateway, esme: Esme) -> None:
    resp = _multi(gateway, esme, ["bad-one", DistributionList("all")])
    assert resp.command_status == S.ESME_RINVDSTADR  # the first destination's error
    assert [u.destination_addr for u in resp.unsuccess_smes] == ["bad-one", "all"]
    assert not gateway.sink.items


def test_one_proof_covers_all_destinations(gateway: Gateway, esme: Esme) -> None:
    # Signed for one recipient, sent to two: refused as a whole, nothing forwarded.
    resp = esme.submit_multi([RECIPIENT, SECOND], tlvs=[gateway.proof(recipients=[RECIPIENT])])
    assert resp.command_status == VendorStatus.SG_RAUTHFAIL
    assert not gateway.sink.items


def test_each_destination_counts_against_the_rate(sqlite_registry: Registry) -> None:
    gw = start_gateway(sqlite_registry, rates=RateTable(reseller=1000, tiers={"new": 2}))
    esme = Esme(gw.port)
    try:
        assert esme.bind(gw.system_id) == S.ESME_ROK
        resp = _multi(gw, esme, [RECIPIENT, SECOND, "01034567890"])
        assert resp.command_status == S.ESME_ROK
        assert [(u.destination_addr, u.error_status_code) for u in resp.unsuccess_smes] == [
            ("01034567890", S.ESME_RTHROTTLED)
        ]
    finally:
        esme.close()
        gw.thread.__exit__()


def test_query_cancel_replace_are_refused_and_outbind_is_nacked(esme: Esme) -> None:
    assert esme.request(QuerySm(sequence_number=11, message_id="g1")).command_status == (
        S.ESME_RQUERYFAIL
    )
    cancel = CancelSm(sequence_number=12, message_id="g1", destination_addr=RECIPIENT)
    assert esme.request(cancel).command_status == S.ESME_RCANCELFAIL
    replace = ReplaceSm(sequence_number=13, message_id="g1", short_message=encode_text("x", 8))
    assert esme.request(replace).command_status == S.ESME_RREPLACEFAIL
    nack = esme.request(Outbind(sequence_number=14, system_id="smsc", password="pw"))
    assert nack.command_id == CommandId.GENERIC_NACK
    assert nack.command_status == S.ESME_RINVCMDID
    assert esme.submit_multi([SmeAddress(destination_addr=RECIPIENT)]).command_status == (
        VendorStatus.SG_RAUTHFAIL  # still bound and answering after the refusals
    )
