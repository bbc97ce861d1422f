"""The persistent id map (survives a reopen, prunes by retention) and receipt id rewriting."""

from __future__ import annotations

import asyncio
from pathlib import Path

from spamgate.smpp import DataSm, DeliverSm, Tag, Tlv, encode
from spamgate.smpp.idmap import IdMap, Mapping
from spamgate.smpp.receipts import receipt_id, rewrite_receipt


def test_mappings_and_acks_survive_a_reopen_and_are_pruned(tmp_path: Path) -> None:
    now = [1_000_000.0]
    path = tmp_path / "spool" / "upstream.db"

    async def first() -> None:
        idmap = IdMap(path, retention=100.0, clock=lambda: now[0])
        await idmap.open()
        await idmap.record([("SKT", "c1", "ours1", "reseller"), ("KT", "c1", "ours2", "b")], ["m1"])
        rid = await idmap.keep_receipt("SKT", "c9", "", "", b"\x00pdu")
        assert rid > 0
        await idmap.close()

    async def second() -> None:
        idmap = IdMap(path, retention=100.0, clock=lambda: now[0])
        await idmap.open()
        assert await idmap.lookup("SKT", "c1") == Mapping("ours1", "reseller")
        assert await idmap.lookup("KT", "c1") == Mapping("ours2", "b")  # namespaces apart
        assert await idmap.lookup("SKT", "nope") is None
        assert idmap.cached("SKT", "c1") is not None  # looked up once: now in memory
        assert await idmap.acked_among(["m1", "m2"]) == {"m1"}
        kept = await idmap.kept_receipts()
        assert [(k.ns, k.carrier_id, k.pdu) for k in kept] == [("SKT", "c9", b"\x00pdu")]
        await idmap.drop_receipts([kept[0].rid])
        assert await idmap.kept_receipts() == []
        now[0] += 101.0
        assert await idmap.prune() == 3  # two mappings and one ack, past the retention
        idmap._cache.clear()
        assert await idmap.lookup("SKT", "c1") is None
        await idmap.close()

    asyncio.run(first())
    asyncio.run(second())


def test_receipt_ids_are_read_and_rewritten_in_text_and_tlv() -> None:
    text = b"id:CARRIER7 sub:001 dlvrd:001 submit date:2611261400 done date:2611261401 stat:DELIVRD err:000 text:id:fake"
    with_tlv = DeliverSm(
        esm_class=4,
        short_message=text,
        tlvs=(Tlv.from_cstr(Tag.RECEIPTED_MESSAGE_ID, "TLV7"), Tlv.from_int(Tag.MESSAGE_STATE, 2)),
    )
    assert receipt_id(with_tlv) == "TLV7"  # the TLV wins over the text
    plain = DeliverSm(esm_class=4, short_message=text)
    assert receipt_id(plain) == "CARRIER7"
    assert receipt_id(DeliverSm(esm_class=4, short_message="stat:DELIVRD 본문".encode())) is None
    out = rewrite_receipt(with_tlv, "ours42")
    assert isinstance(out, DeliverSm)
    assert out.short_message.startswith(b"id:ours42 sub:001")
    assert out.short_message.endswith(b"text:id:fake")  # only the first id: is ours to change
    tlv = out.tlv(Tag.RECEIPTED_MESSAGE_ID)
    assert tlv is not None and tlv.as_cstr() == "ours42"
    state = out.tlv(Tag.MESSAGE_STATE)
    assert state is not None and state.as_int() == 2
    encode(out)  # still a valid PDU
    payload = DataSm(esm_class=4, tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, b"id:X1 stat:UNDELIV err:001"),))
    moved = rewrite_receipt(payload, "ours1")
    assert moved.message == b"id:ours1 stat:UNDELIV err:001"
