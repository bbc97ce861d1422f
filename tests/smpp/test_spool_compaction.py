"""The spool's listener, records read back as items, and compaction racing appends."""

from __future__ import annotations

import asyncio
import json
import struct
import zlib
from pathlib import Path

import pytest

from spamgate.domain.verdict import Action, SymbolResult, Verdict
from spamgate.smpp import SubmitSm, Tlv, encode_text
from spamgate.smpp.forward import ForwardItem
from spamgate.smpp.spool import SpoolForwarder, item_from_record


def _item(message_id: str, text: str = "안녕하세요") -> ForwardItem:
    pdu = SubmitSm(
        source_addr="0212345678",
        destination_addr="01098765432",
        data_coding=8,
        registered_delivery=1,
        short_message=encode_text(text, 8),
    )
    verdict = Verdict(
        action=Action.LABEL,
        score=5.0,
        symbols=(SymbolResult("AD_PREFIX_MISSING", 5.0, "ad without (광고)", "x", "ad_law"),),
    )
    return ForwardItem(
        message_id=message_id,
        part_ids=(message_id,),
        system_id="reseller",
        account="acct",
        pdus=(pdu,),
        text=text,
        data_coding=8,
        verdict=verdict,
        label="[스팸의심]",
        tlvs=(Tlv(0x1400, b"\x01"),),
        received_at=1_700_000_000.5,
    )


def _broken_listener(items: object) -> None:
    raise RuntimeError("listener bug")


def test_records_read_back_as_the_same_items_and_listeners_hear_new_ones(tmp_path: Path) -> None:
    heard: list[str] = []

    async def run() -> SpoolForwarder:
        spool = SpoolForwarder(tmp_path / "s.wal")
        spool.add_listener(lambda items: heard.extend(i.message_id for i in items))
        spool.add_listener(_broken_listener)  # a broken listener does not fail the forward
        await spool.forward([_item("a"), _item("b")])
        await spool.ack(["a", "a", "unknown"])
        return spool

    spool = asyncio.run(run())
    assert heard == ["a", "b"]
    (record,) = spool.pending()
    assert item_from_record(record) == _item("b")
    with pytest.raises(ValueError, match="incomplete"):
        item_from_record({"t": "msg", "id": "x"})
    with pytest.raises(ValueError, match="cannot be decoded"):
        item_from_record({**record, "pdus": ["00zz"]})
    spool.close()


def test_compaction_keeps_pending_and_racing_appends(tmp_path: Path) -> None:
    path = tmp_path / "spool" / "s.wal"

    async def run() -> tuple[int, int, list[str]]:
        spool = SpoolForwarder(path)
        await asyncio.gather(*(spool.forward([_item(f"m{i}")]) for i in range(300)))
        await spool.ack([f"m{i}" for i in range(300) if i % 10])
        before = spool.size
        assert spool.should_compact(min_size=1, max_live_share=0.5)
        # Appends and acks race the rewrite; none may be lost or misplaced.
        racing = asyncio.gather(
            *(spool.forward([_item(f"r{i}")]) for i in range(50)), spool.ack(["m0"])
        )
        compacted, _ = await asyncio.gather(spool.compact(), racing)
        assert compacted
        await spool.forward([_item("after")])
        ids = [r["id"] for r in spool.pending()]
        spool.close()
        return before, spool.size, ids

    before, after, ids = asyncio.run(run())
    expected = {f"m{i}" for i in range(10, 300, 10)} | {f"r{i}" for i in range(50)} | {"after"}
    assert set(ids) == expected and len(ids) == len(expected)
    assert after < before / 2
    # The file on disk agrees: a restart sees exactly the same pending set.
    reopened = SpoolForwarder(path)
    assert {r["id"] for r in reopened.pending()} == expected
    assert reopened.size == after
    reopened.close()
    assert not (path.parent / "s.wal.compact").exists()


def test_compaction_is_skipped_while_small_or_mostly_live(tmp_path: Path) -> None:
    async def run() -> bool:
        spool = SpoolForwarder(tmp_path / "s.wal")
        await spool.forward([_item("a"), _item("b")])
        small = await spool.maybe_compact(min_size=10**9)
        live = await spool.maybe_compact(min_size=1, max_live_share=0.5)
        spool.close()
        return small or live

    assert asyncio.run(run()) is False


def test_a_corrupt_record_in_the_middle_cuts_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "s.wal"
    body = json.dumps({"t": "msg", "id": "x"}).encode()
    path.write_bytes(struct.pack(">II", len(body), zlib.crc32(body) ^ 1) + body)
    spool = SpoolForwarder(path)
    assert len(spool) == 0 and spool.size == 0
    spool.close()
