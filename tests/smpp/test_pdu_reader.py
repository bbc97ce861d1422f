"""PduReader and decode on malformed input, one case at a time."""

from __future__ import annotations

import struct

import pytest

from spamgate.smpp import (
    MAX_PDU_SIZE,
    NEED_DATA,
    BindPdu,
    CommandId,
    CommandStatus,
    EnquireLink,
    GenericNack,
    Pdu,
    PduError,
    PduReader,
    SubmitSm,
    SubmitSmResp,
    Tag,
    Tlv,
    decode,
    encode,
    error_response,
)

S = CommandStatus


def frame(command_id: int, body: bytes, *, seq: int = 7, status: int = 0) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, status, seq) + body


def submit_body(*, short_message: bytes = b"hi", sm_length: int | None = None) -> bytes:
    n = len(short_message) if sm_length is None else sm_length
    return (
        b"\0"
        + b"\x01\x01123\0"
        + b"\x01\x01456\0"
        + b"\x00\x00\x00"
        + b"\0\0"
        + b"\x00\x00\x00\x00"
        + bytes((n,))
        + short_message
    )


def read_all(reader: PduReader) -> list[Pdu]:
    return list(reader)


def test_reader_waits_for_whole_pdu() -> None:
    wire = encode(SubmitSm(sequence_number=1, destination_addr="01012345678", short_message=b"x"))
    reader = PduReader()
    for i in range(len(wire) - 1):
        reader.feed(wire[i : i + 1])
        assert reader.next_pdu() is NEED_DATA
    reader.feed(wire[-1:])
    pdu = reader.next_pdu()
    assert isinstance(pdu, SubmitSm)
    assert reader.next_pdu() is NEED_DATA
    assert reader.buffered == 0


def test_reader_many_pdus_in_one_chunk() -> None:
    pdus = [EnquireLink(sequence_number=i) for i in range(1, 200)]
    reader = PduReader()
    reader.feed(b"".join(encode(p) for p in pdus) + b"\x00\x00")
    assert read_all(reader) == pdus
    assert reader.buffered == 2


def test_reader_accepts_memoryview_and_bytearray() -> None:
    wire = encode(EnquireLink(sequence_number=1))
    reader = PduReader()
    reader.feed(memoryview(wire)[:5])
    reader.feed(bytearray(wire[5:]))
    assert reader.next_pdu() == EnquireLink(sequence_number=1)


# --- framing lost: fatal --------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 15])
def test_command_length_below_header_is_fatal(length: int) -> None:
    reader = PduReader()
    reader.feed(struct.pack(">IIII", length, 0x15, 0, 42))
    with pytest.raises(PduError) as info:
        reader.next_pdu()
    err = info.value
    assert err.fatal
    assert err.command_status == S.ESME_RINVCMDLEN
    assert err.sequence_number == 42
    assert reader.broken
    # the reader stays broken: the caller must close the connection
    reader.feed(encode(EnquireLink(sequence_number=1)))
    with pytest.raises(PduError):
        reader.next_pdu()
    assert error_response(err) == GenericNack(sequence_number=42, command_status=2)


def test_oversized_command_length_is_fatal_before_the_body_arrives() -> None:
    reader = PduReader(max_pdu_size=1024)
    reader.feed(struct.pack(">I", 1025))  # only 4 octets: no need to wait for 1 KiB
    with pytest.raises(PduError) as info:
        reader.next_pdu()
    assert info.value.fatal
    assert info.value.command_status == S.ESME_RINVCMDLEN
    assert info.value.sequence_number is None


def test_lying_command_length_beyond_default_cap() -> None:
    reader = PduReader()
    reader.feed(struct.pack(">IIII", 0xFFFFFFFF, 4, 0, 5) + b"junk")
    with pytest.raises(PduError) as info:
        reader.next_pdu()
    assert info.value.fatal
    assert info.value.sequence_number == 5
    assert info.value.command_id == 4
    assert reader.max_pdu_size == MAX_PDU_SIZE


def test_max_size_frame_is_accepted() -> None:
    payload = b"p" * 1000
    pdu = SubmitSm(sequence_number=1, tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, payload),))
    wire = encode(pdu)
    reader = PduReader(max_pdu_size=len(wire))
    reader.feed(wire)
    assert reader.next_pdu() == pdu


def test_decode_frame_of_wrong_size_is_fatal() -> None:
    wire = encode(EnquireLink(sequence_number=3))
    with pytest.raises(PduError) as info:
        decode(wire + b"\0")
    assert info.value.fatal
    assert info.value.sequence_number == 3
    with pytest.raises(PduError) as info:
        decode(wire[:10])
    assert info.value.fatal


def test_reader_rejects_silly_cap() -> None:
    with pytest.raises(ValueError, match="max_pdu_size"):
        PduReader(max_pdu_size=8)


# --- frame intact: non-fatal, the next PDU is still read ----------------------------------------

BAD_FRAMES: list[tuple[str, bytes, int]] = [
    ("unknown command id", frame(0x00000099, b""), S.ESME_RINVCMDID),
    ("unknown response id", frame(0x80000099, b"abc"), S.ESME_RINVCMDID),
    ("header-only PDU with a body", frame(0x15, b"\0"), S.ESME_RINVCMDLEN),
    ("truncated submit_sm", frame(4, submit_body()[:9]), S.ESME_RINVCMDLEN),
    ("empty submit_sm body", frame(4, b""), S.ESME_RINVCMDLEN),
    ("submit_sm ends before sm_length", frame(4, submit_body()[:-3]), S.ESME_RINVCMDLEN),
    ("C-string without NUL at end of body", frame(0x80000004, b"abc"), S.ESME_RINVCMDLEN),
    (
        "system_id over 15 characters",
        frame(2, b"x" * 16 + b"\0pw\0\0\x34\x00\x00\0"),
        S.ESME_RINVSYSID,
    ),
    (
        "password over 8 characters",
        frame(2, b"sys\0" + b"p" * 9 + b"\0\0\x34\x00\x00\0"),
        S.ESME_RINVPASWD,
    ),
    (
        "source_addr without NUL in 21 octets",
        frame(4, b"\0\x01\x01" + b"1" * 40 + b"\0" * 20),
        S.ESME_RINVSRCADR,
    ),
    ("message_id over 64 characters", frame(0x80000004, b"m" * 65 + b"\0"), S.ESME_RINVMSGID),
    ("sm_length beyond the body", frame(4, submit_body(sm_length=200)), S.ESME_RINVMSGLEN),
    (
        "sm_length 255",
        frame(4, submit_body(short_message=b"x" * 255, sm_length=255)),
        S.ESME_RINVMSGLEN,
    ),
    ("trailing octets after bind", frame(9, b"s\0p\0\0\x34\x00\x00\0!"), S.ESME_RINVCMDLEN),
    ("TLV header cut short", frame(4, submit_body() + b"\x02\x04\x00"), S.ESME_RINVOPTPARSTREAM),
    (
        "TLV length past the end",
        frame(4, submit_body() + b"\x04\x24\x00\x10abc"),
        S.ESME_RINVOPTPARSTREAM,
    ),
    (
        "known TLV of wrong size",
        frame(4, submit_body() + b"\x02\x0c\x00\x01\x07"),
        S.ESME_RINVPARLEN,
    ),
    (
        "schedule_delivery_time of 5 characters",
        frame(
            4, submit_body().replace(b"\0\0\x00\x00\x00\x00\x02", b"12345\0\0\x00\x00\x00\x00\x02")
        ),
        S.ESME_RINVSCHED,
    ),
    ("submit_multi with 0 destinations", frame(0x21, b"\0\x00\x00\0\x00"), S.ESME_RINVNUMDESTS),
    ("submit_multi with dest_flag 3", frame(0x21, b"\0\x00\x00\0\x01\x03"), S.ESME_RINVDESTFLAG),
    ("bind resp body truncated", frame(0x80000002, b"smsc"), S.ESME_RINVCMDLEN),
]


@pytest.mark.parametrize(("why", "bad", "status"), BAD_FRAMES, ids=[c[0] for c in BAD_FRAMES])
def test_malformed_frame_is_skipped(why: str, bad: bytes, status: int) -> None:
    good = EnquireLink(sequence_number=8)
    reader = PduReader()
    reader.feed(bad + encode(good))
    with pytest.raises(PduError) as info:
        reader.next_pdu()
    err = info.value
    assert err.command_status == status, why
    assert not err.fatal
    assert err.sequence_number == 7
    assert err.command_id == struct.unpack(">I", bad[4:8])[0]
    assert reader.next_pdu() == good
    assert not reader.broken
    # decode() on the lone frame says the same
    with pytest.raises(PduError) as again:
        decode(bad)
    assert again.value.command_status == status


def test_malformed_submit_gets_submit_sm_resp() -> None:
    reader = PduReader()
    reader.feed(frame(4, submit_body(sm_length=99), seq=77))
    with pytest.raises(PduError) as info:
        reader.next_pdu()
    answer = error_response(info.value)
    assert answer == SubmitSmResp(sequence_number=77, command_status=S.ESME_RINVMSGLEN)


def test_malformed_bind_gets_bind_resp() -> None:
    bad = frame(CommandId.BIND_TRANSCEIVER, b"x" * 20 + b"\0", seq=2)
    with pytest.raises(PduError) as info:
        decode(bad)
    answer = error_response(info.value)
    assert answer.command_id is CommandId.BIND_TRANSCEIVER_RESP
    assert answer.command_status == S.ESME_RINVSYSID
    assert answer.sequence_number == 2


def test_c_string_scan_stays_inside_frame() -> None:
    # The next frame starts with NUL octets; a reader that scanned past command_length would
    # find them and accept an unterminated system_id.
    bad = frame(0x80000002, b"smsc")
    reader = PduReader()
    reader.feed(bad + b"\0\0\0\x10\0\0\0\x15\0\0\0\0\0\0\0\x01")
    with pytest.raises(PduError):
        reader.next_pdu()
    assert reader.next_pdu() == EnquireLink(sequence_number=1)


def test_bind_decodes_after_errors() -> None:
    bind = BindPdu(command_id=CommandId.BIND_TRANSMITTER, sequence_number=3, system_id="a")
    reader = PduReader()
    reader.feed(frame(0x99, b"") + frame(0x98, b"") + encode(bind))
    errors = 0
    got: list[Pdu] = []
    while True:
        try:
            pdu = reader.next_pdu()
        except PduError:
            errors += 1
            continue
        if pdu is NEED_DATA:
            break
        got.append(pdu)
    assert errors == 2
    assert got == [bind]
