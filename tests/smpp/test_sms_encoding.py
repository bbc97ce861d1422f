"""Text codecs by data_coding, coding choice, and splitting long texts (spamgate.smpp.encoding)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamgate.smpp import (
    MAX_SINGLE_OCTETS,
    Alphabet,
    CommandStatus,
    DataCoding,
    EncodingError,
    alphabet_of,
    choose_coding,
    chunk_user_data,
    decode_text,
    encode_text,
    is_gsm_text,
    join_parts,
    parse_udh,
    part_capacity,
    split_text,
    split_user_data,
)

KOREAN = "(광고) 스팸게이트 봄맞이 할인! 지금 확인하세요. 무료수신거부 080-123-4567"
# In KS X 1001 (EUC-KR): 가, 한. Only in CP949's UHC extension: 똠, 힣, 쀍, 햏.
UHC_ONLY = "똠힣쀍햏"


# --- GSM 03.38 -------------------------------------------------------------------------------


def test_gsm_basic_and_extension() -> None:
    text = "Hello @£$¥ ΔΦΓ {x} [y] ~ ^ | \\ €5 \f"
    data = encode_text(text, 0)
    assert data.startswith(b"Hello \x00\x01\x02\x03 \x10\x12\x13 ")
    assert b"\x1b(x\x1b)" in data
    assert b"\x1b<y\x1b>" in data
    assert b"\x1be5" in data
    assert data.endswith(b"\x1b\x0a")
    assert decode_text(data, 0) == text


def test_gsm_septets_not_ascii() -> None:
    assert encode_text("@", 0) == b"\x00"
    assert encode_text("¤", 0) == b"\x24"
    assert decode_text(b"\x24\x40\x60", 0) == "¤¡¿"
    with pytest.raises(EncodingError) as info:
        encode_text("$`", 0)  # backquote has no GSM code
    assert info.value.command_status == CommandStatus.ESME_RINVDCS


def test_gsm_lenient_escapes() -> None:
    assert decode_text(b"a\x1b", 0) == "a "  # ESC at the end
    assert decode_text(b"\x1b\x1b(", 0) == " {"  # ESC ESC is shown as a space
    assert decode_text(b"\x1bA", 0) == "A"  # unknown extension code: main table character


def test_gsm_rejects_octets_above_0x7f() -> None:
    with pytest.raises(EncodingError) as info:
        decode_text(b"ok\x80", 0)
    assert info.value.command_status == CommandStatus.ESME_RINVDCS
    assert info.value.data_coding == 0


def test_gsm_detection_and_choice() -> None:
    assert is_gsm_text("Price: 10€ {today}")
    assert not is_gsm_text("Price: 10$`")
    assert choose_coding("Hello [world]") == DataCoding.GSM7
    assert choose_coding(KOREAN) == DataCoding.UCS2
    assert choose_coding("emoji 😀") == DataCoding.UCS2


gsm_chars = st.sampled_from(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCXYZÄÖÑÜ§¿axyzäöñüà"
    "\f^{}\\[~]|€"
)


@given(st.text(gsm_chars))
def test_gsm_round_trip(text: str) -> None:
    assert decode_text(encode_text(text, 0), 0) == text


@given(st.binary(), st.integers(0, 0xFF))
def test_decode_raises_only_encoding_error(data: bytes, dcs: int) -> None:
    statuses = set()
    try:
        decode_text(data, dcs)
    except EncodingError as err:
        statuses.add(err.command_status)
    assert statuses <= {CommandStatus.ESME_RINVDCS}


@given(st.text(), st.integers(0, 0xFF))
def test_encode_raises_only_encoding_error(text: str, dcs: int) -> None:
    try:
        data = encode_text(text, dcs)
    except EncodingError:
        return
    assert decode_text(data, dcs) == text


# --- other codings ---------------------------------------------------------------------------


def test_ascii_and_latin1() -> None:
    assert encode_text("abc", 1) == b"abc"
    with pytest.raises(EncodingError):
        decode_text(b"caf\xe9", 1)
    with pytest.raises(EncodingError):
        encode_text("café", 1)
    assert decode_text(b"caf\xe9", 3) == "café"
    assert encode_text("café", 3) == b"caf\xe9"


def test_ucs2_korean_and_surrogates() -> None:
    data = encode_text(KOREAN, 8)
    assert data[:4] == b"\x00(\xad\x11"  # "(광" big-endian
    assert decode_text(data, 8) == KOREAN
    emoji = encode_text("😀", 8)
    assert emoji == b"\xd8\x3d\xde\x00"  # a surrogate pair, tolerated
    assert decode_text(emoji, 8) == "😀"
    with pytest.raises(EncodingError):
        decode_text(b"\xac", 8)  # odd length
    with pytest.raises(EncodingError):
        decode_text(b"\xd8\x3d\x00A", 8)  # unpaired high surrogate
    with pytest.raises(EncodingError):
        encode_text("\ud83d", 8)


def test_ksc5601_reads_cp949_and_writes_euc_kr_where_it_can() -> None:
    assert encode_text("가한", 0x0E) == "가한".encode("euc-kr") == b"\xb0\xa1\xc7\xd1"
    # Outside KS X 1001: CP949's two-octet UHC codes, not euc_kr's 8-octet jamo sequences.
    assert encode_text("똠", 0x0E) == b"\x8c\x63"
    assert encode_text("힣", 0x0E) == b"\xc6\x52"
    # What Python's euc_kr codec would have written: an 8-octet KS X 1001 make-up sequence,
    # which CP949 (and handsets) read back as four loose jamo.
    assert len("똠".encode("euc-kr")) == 8
    assert "똠".encode("euc-kr").decode("cp949") != "똠"
    text = KOREAN + UHC_ONLY
    assert decode_text(encode_text(text, 0x0E), 0x0E) == text
    with pytest.raises(EncodingError):
        decode_text(b"\xb0", 0x0E)  # lone lead octet
    with pytest.raises(EncodingError):
        encode_text("😀", 0x0E)


@pytest.mark.parametrize("dcs", [2, 4, 0xF4, 0x14])
def test_binary_codings_have_no_text(dcs: int) -> None:
    assert alphabet_of(dcs) is Alphabet.BINARY
    with pytest.raises(EncodingError):
        decode_text(b"\x01\x02", dcs)
    with pytest.raises(EncodingError):
        encode_text("x", dcs)


@pytest.mark.parametrize("dcs", [5, 6, 7, 9, 0x0A, 0x0D, 0x0F, 0x1C, 0x20, 0x3F, 0x80, 0xBF])
def test_unsupported_data_coding(dcs: int) -> None:
    with pytest.raises(EncodingError) as info:
        decode_text(b"abc", dcs)
    assert info.value.command_status == CommandStatus.ESME_RINVDCS
    assert info.value.data_coding == dcs


@pytest.mark.parametrize(
    ("dcs", "alphabet"),
    [(0x10, Alphabet.GSM7), (0x18, Alphabet.UCS2), (0xF0, Alphabet.GSM7), (0xC0, Alphabet.GSM7)],
)
def test_message_class_groups(dcs: int, alphabet: Alphabet) -> None:
    assert alphabet_of(dcs) is alphabet


# --- splitting -------------------------------------------------------------------------------


def reassemble(parts: list[bytes], dcs: int) -> str:
    pieces = []
    for part in parts:
        header, payload = parse_udh(part)
        assert header.concat is not None
        pieces.append((header.concat, payload))
    return decode_text(join_parts(reversed(pieces)), dcs)


def test_capacities() -> None:
    assert MAX_SINGLE_OCTETS == 140
    assert part_capacity(0) == 160
    assert part_capacity(0, udh_octets=6) == 153
    assert part_capacity(0, udh_octets=7) == 152
    assert part_capacity(8) == 140
    assert part_capacity(8, udh_octets=6) == 134
    assert part_capacity(0x0E, max_single_octets=90) == 90


def test_short_text_is_one_part_without_udh() -> None:
    assert split_text("짧은 문자", 8, ref=1) == [encode_text("짧은 문자", 8)]
    assert split_text("x" * 160, 0, ref=1) == [b"x" * 160]
    assert len(split_text("x" * 161, 0, ref=1)) == 2


@pytest.mark.parametrize("dcs", [8, 0x0E])
@pytest.mark.parametrize("ref16", [False, True])
def test_long_korean_split_and_reassembled(dcs: int, ref16: bool) -> None:
    text = (KOREAN + UHC_ONLY + " abc ") * 12
    parts = split_text(text, dcs, ref=0x1234 if ref16 else 0x34, ref16=ref16)
    assert len(parts) > 1
    udh = 7 if ref16 else 6
    for seq, part in enumerate(parts, start=1):
        assert len(part) <= 140
        assert part[:udh] == (
            bytes((6, 8, 4, 0x12, 0x34, len(parts), seq))
            if ref16
            else bytes((5, 0, 3, 0x34, len(parts), seq))
        )
        # every part decodes on its own: no character was cut in half
        decode_text(part[udh:], dcs)
    assert reassemble(parts, dcs) == text


def test_ucs2_split_keeps_surrogate_pairs() -> None:
    text = "a" + "😀" * 100  # the pair would straddle octet 134 without care
    parts = split_text(text, 8, ref=9)
    for part in parts:
        decode_text(part[6:], 8)
    assert reassemble(parts, 8) == text


def test_gsm_split_keeps_escape_sequences() -> None:
    text = "x" * 152 + "€" * 20
    parts = split_text(text, 0, ref=1)
    assert parts[0][-1] != 0x1B
    assert len(parts[0]) == 6 + 152  # the € would not fit whole: 152 septets, not 153
    assert reassemble(parts, 0) == text


def test_ksc_split_never_cuts_a_character() -> None:
    # '힣' is C6 52: its trail octet looks like ASCII 'R', so only a scan from a known
    # boundary can tell where characters start.
    text = "R" + "힣" * 200
    parts = split_text(text, 0x0E, ref=3)
    for part in parts:
        assert decode_text(part[6:], 0x0E)
    assert reassemble(parts, 0x0E) == text


def test_too_many_parts() -> None:
    with pytest.raises(EncodingError) as info:
        split_text("가" * 67 * 256, 8, ref=1)
    assert info.value.command_status == CommandStatus.ESME_RINVMSGLEN


def test_binary_split_and_chunk() -> None:
    data = bytes(range(256)) * 2
    parts = split_user_data(data, 4, ref=200)
    assert b"".join(p[6:] for p in parts) == data
    assert chunk_user_data(b"", 8, 10) == [b""]
    with pytest.raises(ValueError, match="max_octets"):
        chunk_user_data(b"abc", 0, 1)


korean_text = st.text(
    st.one_of(
        st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),  # every Hangul syllable
        st.sampled_from(" .,!?0123456789abcXYZ"),
    ),
    max_size=800,
)


@given(korean_text, st.sampled_from([8, 0x0E]), st.booleans(), st.integers(0, 255))
def test_split_reassemble_property(text: str, dcs: int, ref16: bool, ref: int) -> None:
    parts = split_text(text, dcs, ref=ref, ref16=ref16)
    if len(parts) == 1:
        assert decode_text(parts[0], dcs) == text
    else:
        assert reassemble(parts, dcs) == text
        assert all(len(p) <= 140 for p in parts)
