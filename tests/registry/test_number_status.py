"""The invalid-number registry: import, snapshot files, lookups, atomic swaps and the CLI."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from spamgate.cli import app
from spamgate.errors import InputError
from spamgate.registry import number_status
from spamgate.registry.number_status import (
    MAX_REPORTED_BAD_LINES,
    NumberStatus,
    NumberStatusRegistry,
    NumberStatusTable,
    SnapshotError,
    StatusFileError,
    import_csv,
    import_into,
    snapshot_path,
)

A, U, S, T = (
    NumberStatus.ALLOCATED,
    NumberStatus.UNALLOCATED,
    NumberStatus.SUSPENDED,
    NumberStatus.TERMINATED,
)
WHEN = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)

SAMPLE = """number,status
01023456789,allocated
01023456790,suspended
01023456791,terminated
01023456792,unallocated
010-3456-7890,Allocated
+82 10 4567 8901,SUSPENDED
"01056789012", terminated
01012345678,unallocated
02-2345-6789,allocated
0312345678,suspended
070-1234-5678,terminated
0504-123-4567,allocated
1588-1234,suspended
+1 415 555 0100,allocated
"""


def write(tmp_path: Path, text: str | bytes, name: str = "status.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def full_table(tmp_path: Path, text: str = SAMPLE) -> NumberStatusTable:
    return import_csv(write(tmp_path, text, "full.csv"), full=True, now=WHEN).table


@pytest.fixture
def table(tmp_path: Path) -> NumberStatusTable:
    return full_table(tmp_path)


# -- lookups -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "status"),
    [
        ("01023456789", A),
        ("01023456790", S),
        ("01023456791", T),
        ("01023456792", U),
        ("010-2345-6789", A),
        ("+82 10-2345-6790", S),
        ("821023456791", T),
        ("01034567890", A),
        ("01045678901", S),
        ("01056789012", T),
        # A full snapshot is the whole truth: an unlisted 010 number is unallocated.
        ("01099999999", U),
        ("010-2000-0000", U),
        # 010-1XXX is never assigned; it still has a slot, listed here as unallocated.
        ("01012345678", U),
        ("010-1234-5678", U),
    ],
)
def test_lookup_010_statuses(table: NumberStatusTable, number: str, status: NumberStatus) -> None:
    assert table.lookup(number) is status


@pytest.mark.parametrize(
    ("number", "status"),
    [
        ("0223456789", A),
        ("(02) 2345-6789", A),
        ("031-234-5678", S),
        ("031-987-6543", None),  # unlisted outside 010: no data, even in a full snapshot
        ("0692345678", None),  # 069 is unassigned: malformed, so never listed and no data
        ("07012345678", T),
        ("050412345 67", A),
        ("15881234", S),
        ("+14155550100", A),
        ("001-1-415-555-0100", A),
        ("+14155550101", None),
        ("", None),
        ("abc", None),
        ("010-2345-678x", None),  # junk never borrows a 010 slot
        ("０１０２３４５６７８９", None),  # full-width digits are not digits to parse_number
    ],
)
def test_lookup_other_ranges(
    table: NumberStatusTable, number: str, status: NumberStatus | None
) -> None:
    assert table.lookup(number) is status


def test_sample_with_a_malformed_geographic_number_is_refused(tmp_path: Path) -> None:
    # 069 is not assigned in the number plan; SAMPLE's line 11 becomes such a number.
    with pytest.raises(StatusFileError) as caught:
        import_csv(write(tmp_path, SAMPLE.replace("0312345678", "0692345678")), full=True)
    assert [b.line for b in caught.value.bad_lines] == [11]


def test_lookup_many_matches_lookup(table: NumberStatusTable) -> None:
    numbers = [
        "01023456789",
        "01023456790",
        "01099999999",
        "0223456789",
        "abc",
        "0102345678",
        "010234567890",
        "01O23456789",
        "010２3456789",
        "01012345678",
        "+14155550100",
        "",
    ]
    assert table.lookup_many(numbers) == [table.lookup(n) for n in numbers]
    assert table.lookup_many([]) == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.from_regex(r"\A010[0-9]{8}\Z"),
            st.from_regex(r"\A0[0-9]{10}\Z"),
            st.text(min_size=11, max_size=11),
            st.text(max_size=14),
        ),
        max_size=30,
    )
)
def test_lookup_many_matches_lookup_on_any_text(numbers: list[str]) -> None:
    assert SHARED_TABLE.lookup_many(numbers) == [SHARED_TABLE.lookup(n) for n in numbers]


def _shared_table() -> NumberStatusTable:
    # Hypothesis tests cannot take function-scoped fixtures; build one table up front.
    statuses = [A, S, T, U] * 50
    lines = ["number,status"] + [
        f"010{20_000_000 + i * 7919:08d},{s.label}" for i, s in enumerate(statuses)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        return full_table(Path(tmp), "\n".join(lines) + "\n")


SHARED_TABLE = _shared_table()


def test_explain_says_how_the_number_was_read(table: NumberStatusTable) -> None:
    answer = table.explain("+82 10-2345-6789")
    assert answer.to_dict() == {
        "number": "+82 10-2345-6789",
        "digits": "01023456789",
        "kind": "mobile",
        "valid": True,
        "status": "allocated",
    }
    assert table.explain("nope").to_dict()["status"] is None


def test_status_labels_and_blocking() -> None:
    assert [s.label for s in NumberStatus] == [
        "unallocated",
        "allocated",
        "suspended",
        "terminated",
    ]
    assert [s.blocks_delivery for s in NumberStatus] == [True, False, True, True]
    assert NumberStatus.from_label(" Terminated ") is T
    assert NumberStatus.from_label("gone") is None


def test_counts(table: NumberStatusTable) -> None:
    counts = table.counts()
    assert counts.mobile == {
        "unallocated": 100_000_000 - 6,
        "allocated": 2,
        "suspended": 2,
        "terminated": 2,
    }
    assert counts.mobile_no_data == 0
    assert counts.other == {"unallocated": 0, "allocated": 3, "suspended": 2, "terminated": 1}


def test_empty_table_knows_nothing() -> None:
    empty = NumberStatusTable.empty()
    assert not empty.full
    assert empty.lookup("01023456789") is None
    assert empty.lookup_many(["01023456789", "0223456789"]) == [None, None]


# -- snapshot files ------------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path: Path, table: NumberStatusTable) -> None:
    path = tmp_path / "snap" / "status.bin"
    table.save(path)
    loaded = NumberStatusTable.load(path)
    assert loaded.full
    assert loaded.created == WHEN
    assert dict(loaded.overflow) == dict(table.overflow)
    assert loaded.counts() == table.counts()
    assert bytes(loaded.codes) == bytes(table.codes)
    numbers = [
        "01023456789",
        "01023456790",
        "01023456791",
        "01099999999",
        "0223456789",
        "15881234",
        "+14155550100",
        "0311112222",
    ]
    assert loaded.lookup_many(numbers) == table.lookup_many(numbers)
    assert [p.name for p in path.parent.iterdir()] == ["status.bin"]  # no temp file left
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o640)
    table.save(path)  # replacing keeps the operator's permissions
    assert path.stat().st_mode & 0o777 == 0o640


def test_loaded_table_is_read_only(tmp_path: Path, table: NumberStatusTable) -> None:
    table.save(tmp_path / "s.bin")
    loaded = NumberStatusTable.load(tmp_path / "s.bin")
    with pytest.raises(ValueError, match="read-only"):
        loaded.codes[0] = 1
    with pytest.raises(ValueError, match="read-only"):
        table.codes[0] = 1


def test_partial_table_round_trip_keeps_explicit_unallocated(tmp_path: Path) -> None:
    delta = write(tmp_path, "number,status\n01023456789,unallocated\n01023456790,allocated\n")
    table = import_csv(delta, full=False).table
    table.save(tmp_path / "p.bin")
    loaded = NumberStatusTable.load(tmp_path / "p.bin")
    assert not loaded.full
    assert loaded.lookup_many(["01023456789", "01023456790", "01023456791"]) == [U, A, None]


@pytest.fixture
def snapshot(tmp_path: Path, table: NumberStatusTable) -> Path:
    path = tmp_path / "status.bin"
    table.save(path)
    return path


def _patch(path: Path, offset: int, data: bytes) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset : offset + len(data)] = data
    path.write_bytes(bytes(raw))


def _flip(path: Path, offset: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0xFF
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[:100]), "truncated"),
        (lambda p: p.write_bytes(p.read_bytes()[:-1]), "truncated"),
        (lambda p: p.write_bytes(p.read_bytes()[: 4096 + 1000]), "truncated"),
        (lambda p: p.write_bytes(p.read_bytes() + b"x"), "trailing"),
        (lambda p: p.write_bytes(b""), "truncated"),
        (lambda p: _patch(p, 0, b"PK\x03\x04"), "bad magic"),
        (lambda p: _patch(p, 8, b"\x02\x00"), "format version 2"),
        (lambda p: _patch(p, 10, b"\x02\x00"), "unknown flags"),
        (lambda p: _patch(p, 24, b"\x01"), "unexpected sizes"),
        (lambda p: _patch(p, 4095, b"\x01"), "reserved bytes"),
        # Tampering that keeps every size right is caught by the SHA-256.
        (lambda p: _flip(p, 4096 + 5_000_000), "SHA-256"),
        (lambda p: _patch(p, 10, b"\x00"), "SHA-256"),  # full -> partial
        (lambda p: _flip(p, 16), "SHA-256"),  # the creation time
        (lambda p: _flip(p, 48), "SHA-256"),  # a count
        (lambda p: _flip(p, 90), "SHA-256"),  # the digest itself
        (lambda p: _flip(p, p.stat().st_size - 3), "SHA-256"),  # overflow section
    ],
)
def test_damaged_snapshot_is_refused(
    snapshot: Path, damage: Callable[[Path], object], message: str
) -> None:
    damage(snapshot)
    with pytest.raises(SnapshotError, match=message):
        NumberStatusTable.load(snapshot)


def test_missing_snapshot_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="cannot read"):
        NumberStatusTable.load(tmp_path / "nope.bin")


def test_verify_false_skips_only_the_digest(snapshot: Path) -> None:
    _flip(snapshot, 4096 + 5_000_000)
    assert NumberStatusTable.load(snapshot, verify=False).full
    snapshot.write_bytes(snapshot.read_bytes()[:-1])
    with pytest.raises(SnapshotError, match="truncated"):
        NumberStatusTable.load(snapshot, verify=False)


def test_corrupt_overflow_json_is_refused_even_unverified(snapshot: Path) -> None:
    size = snapshot.stat().st_size
    _patch(snapshot, size - 1, b"]")  # the closing brace of the JSON object
    with pytest.raises(SnapshotError, match="overflow"):
        NumberStatusTable.load(snapshot, verify=False)


# -- full and delta ------------------------------------------------------------------------------


def test_delta_over_full_changes_only_listed_numbers(tmp_path: Path) -> None:
    base = full_table(tmp_path)
    delta = write(
        tmp_path,
        "number,status\n01023456789,terminated\n01099999999,allocated\n0223456789,suspended\n",
        "delta.csv",
    )
    result = import_csv(delta, base=base, full=False)
    new = result.table
    assert new.full
    assert (result.rows, result.mobile_rows, result.other_rows) == (3, 2, 1)
    assert new.lookup_many(["01023456789", "01099999999", "0223456789", "01023456790"]) == [
        T,
        A,
        S,
        S,
    ]
    # The base table is untouched.
    assert base.lookup_many(["01023456789", "01099999999", "0223456789"]) == [A, U, A]


def test_delta_without_base_is_partial(tmp_path: Path) -> None:
    first = write(tmp_path, "number,status\n01023456789,unallocated\n01023456790,suspended\n", "a")
    table = import_csv(first, full=False).table
    assert not table.full
    assert table.lookup_many(["01023456789", "01023456790", "01023456791"]) == [U, S, None]
    assert table.counts().mobile_no_data == 100_000_000 - 2
    second = write(tmp_path, "number,status\n01023456789,allocated\n01023456791,unallocated\n", "b")
    table = import_csv(second, base=table, full=False).table
    assert table.lookup_many(["01023456789", "01023456790", "01023456791"]) == [A, S, U]
    assert "01023456789" not in table.overflow  # no stale "unallocated" memory
    assert table.counts().mobile == {
        "unallocated": 1,
        "allocated": 1,
        "suspended": 1,
        "terminated": 0,
    }


def test_full_snapshot_replaces_everything(tmp_path: Path) -> None:
    full_table(tmp_path)  # a previous snapshot; a full import never reads it
    table = full_table(tmp_path, "number,status\n01023456790,allocated\n")
    assert table.lookup_many(["01023456789", "01023456790", "0223456789"]) == [U, A, None]


def test_full_snapshot_takes_no_base(tmp_path: Path, table: NumberStatusTable) -> None:
    with pytest.raises(ValueError, match="no base"):
        import_csv(write(tmp_path, SAMPLE), base=table, full=True)


def test_full_snapshot_without_rows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StatusFileError, match="without rows"):
        import_csv(write(tmp_path, "number,status\n\n"), full=True)
    # ... while an empty delta is a harmless no-op.
    assert import_csv(write(tmp_path, "number,status\n"), full=False).rows == 0


def test_import_into_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    import_into(data_dir, write(tmp_path, SAMPLE), delta=False)
    delta = write(tmp_path, "number,status\n01023456789,suspended\n", "d.csv")
    import_into(data_dir, delta, delta=True)
    table = NumberStatusTable.load(snapshot_path(data_dir))
    assert table.full
    assert table.lookup_many(["01023456789", "01023456790"]) == [S, S]


def test_accepted_spellings(tmp_path: Path) -> None:
    text = (
        "\ufeffNumber , Status\r\n"
        "01023456789,ALLOCATED\r\n"
        "\r\n"
        '"010-2345-6790","Suspended"\r\n'
        " 01023456791 , terminated \r\n"
        "01023456792,unallocated"  # no final newline
    )
    table = import_csv(write(tmp_path, text), full=False).table
    assert table.lookup_many(["01023456789", "01023456790", "01023456791", "01023456792"]) == [
        A,
        S,
        T,
        U,
    ]


def test_many_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiny blocks: lines straddle block boundaries; line numbers and duplicates span blocks.
    monkeypatch.setattr(number_status, "_BLOCK_BYTES", 50)
    lines = [
        f"010{20_000_000 + i * 37:08d},{'allocated' if i % 3 else 'Terminated'}" for i in range(200)
    ]
    path = write(tmp_path, "number,status\n" + "\n".join(lines) + "\n")
    table = import_csv(path, full=True).table
    assert table.lookup(f"010{20_000_000:08d}") is T
    assert table.lookup(f"010{20_000_000 + 37:08d}") is A
    assert table.counts().mobile["allocated"] == 133
    with pytest.raises(StatusFileError) as caught:
        import_csv(
            write(tmp_path, "number,status\n" + "\n".join(lines + lines[5:6]) + "\n"), full=True
        )
    assert [(b.line, b.reason) for b in caught.value.bad_lines] == [
        (202, f"010{20_000_000 + 5 * 37:08d} is listed more than once")
    ]


def test_unsorted_file_matches_sorted(tmp_path: Path) -> None:
    rows = [
        (f"010{30_000_000 + i * 101:08d}", ("allocated", "suspended", "terminated")[i % 3])
        for i in range(500)
    ]
    sorted_table = full_table(tmp_path, "number,status\n" + "".join(f"{n},{s}\n" for n, s in rows))
    rows.reverse()
    reversed_table = full_table(
        tmp_path, "number,status\n" + "".join(f"{n},{s}\n" for n, s in rows)
    )
    assert bytes(sorted_table.codes) == bytes(reversed_table.codes)


_MUTATIONS = b"0123456789,; \"'\r\tAaLlDdXx\x00\x80\xc3\xff"


@st.composite
def _status_line(draw: st.DrawFn) -> bytes:
    """A canonical ``010NNNNNNNN,status`` line, often with one byte changed, cut or added."""
    digits = draw(st.from_regex(rb"\A[0-9]{8}\Z"))
    label = draw(st.sampled_from([s.label for s in NumberStatus]))
    label = "".join(c.upper() if draw(st.booleans()) else c for c in label)
    line = bytearray(b"010" + digits + b"," + label.encode())
    action = draw(st.sampled_from(["keep", "replace", "delete", "insert", "cr"]))
    at = draw(st.integers(0, len(line) - 1))
    byte = draw(st.sampled_from(list(_MUTATIONS)))
    if action == "replace":
        line[at] = byte
    elif action == "delete":
        del line[at]
    elif action == "insert":
        line.insert(at, byte)
    elif action == "cr":
        line += b"\r"
    return bytes(line)


@settings(max_examples=150, deadline=None)
@given(st.lists(_status_line(), min_size=1, max_size=25))
def test_bulk_parser_agrees_with_the_line_parser(lines: list[bytes]) -> None:
    # The vectorised path may only take lines the csv/parse_number path reads the same way.
    block = number_status._scan_block(b"".join(line + b"\n" for line in lines), 2)
    got: dict[int, object] = {}
    for slot, code, line in zip(
        block.slots.tolist(), block.codes.tolist(), block.lines.tolist(), strict=True
    ):
        got[line] = (slot, NumberStatus(code))
    for digits, status, line in block.others:
        got[line] = (digits, status)
    for bad in block.bad:
        got[bad.line] = bad.reason
    for i, raw in enumerate(lines):
        assert got.get(i + 2) == number_status._parse_line(raw.removesuffix(b"\r")), raw


# -- bad input: nothing applied, line numbers reported -------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("0102345678,allocated", "invalid number '0102345678' (too_short)"),
        ("01023456789x,allocated", "invalid number '01023456789x' (non_digit)"),
        ("hello,allocated", "invalid number 'hello' (non_digit)"),
        ("0912345678,allocated", "invalid number '0912345678' (unassigned_prefix)"),
        (",allocated", "invalid number '' (empty)"),
        ("01023456789,active", "unknown status 'active'"),
        ("01023456789,", "unknown status ''"),
        ("01023456789,allocated,extra", "expected 2 fields (number,status), found 3"),
        ("01023456789", "expected 2 fields (number,status), found 1"),
        ('"01023456789,allocated', "malformed CSV"),
        ("01012345678,allocated", "010-1XXX exchanges are never assigned"),
        ("01001234567,Suspended", "'suspended' is impossible"),
    ],
)
def test_bad_line_is_reported_and_nothing_applied(tmp_path: Path, line: str, reason: str) -> None:
    data_dir = tmp_path / "var"
    import_into(data_dir, write(tmp_path, SAMPLE, "first.csv"), delta=False)
    before = snapshot_path(data_dir).read_bytes()
    text = f"number,status\n01023456789,suspended\n{line}\n02-2345-6789,terminated\n"
    for delta in (True, False):
        with pytest.raises(StatusFileError) as caught:
            import_into(data_dir, write(tmp_path, text), delta=delta)
        error = caught.value
        assert isinstance(error, InputError)
        assert [b.line for b in error.bad_lines] == [3]
        assert reason in error.bad_lines[0].reason
        assert "line 3: " in str(error)
        assert snapshot_path(data_dir).read_bytes() == before  # nothing applied
    assert sorted(p.name for p in snapshot_path(data_dir).parent.iterdir()) == ["status.bin"]


def test_invalid_utf8_is_reported(tmp_path: Path) -> None:
    raw = b"number,status\n01023456789,allocated\n0102345\xff6790,allocated\n"
    with pytest.raises(StatusFileError) as caught:
        import_csv(write(tmp_path, raw), full=True)
    assert [str(b) for b in caught.value.bad_lines] == [
        "line 3: not valid UTF-8 (byte 8 of the line)"
    ]


def test_duplicates_are_reported(tmp_path: Path) -> None:
    text = (
        "number,status\n"
        "01023456789,allocated\n"
        "0223456789,allocated\n"
        "010-2345-6789,allocated\n"  # same number, another spelling
        "02-2345-6789,suspended\n"
        "01023456789,allocated\n"
    )
    with pytest.raises(StatusFileError) as caught:
        import_csv(write(tmp_path, text), full=True)
    assert [str(b) for b in caught.value.bad_lines] == [
        "line 4: 01023456789 is listed more than once",
        "line 5: 0223456789 is listed more than once (first on line 3)",
        "line 6: 01023456789 is listed more than once",
    ]


@pytest.mark.parametrize("raw", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_empty_file_is_refused(tmp_path: Path, raw: bytes) -> None:
    with pytest.raises(StatusFileError, match="empty file"):
        import_csv(write(tmp_path, raw), full=False)


@pytest.mark.parametrize(
    "first", ["01023456789,allocated", "status,number", "number", "number,status,note", "\xff"]
)
def test_missing_header_is_refused(tmp_path: Path, first: str) -> None:
    with pytest.raises(StatusFileError) as caught:
        import_csv(write(tmp_path, f"{first}\n01023456790,allocated\n"), full=True)
    assert [b.line for b in caught.value.bad_lines] == [1]
    assert "header" in str(caught.value)


def test_only_the_first_bad_lines_are_listed(tmp_path: Path) -> None:
    good = [f"010{20_000_000 + i:08d},allocated" for i in range(100)]
    lines = good[:10] + ["junk"] * 30 + good[10:]
    with pytest.raises(StatusFileError) as caught:
        import_csv(write(tmp_path, "number,status\n" + "\n".join(lines) + "\n"), full=True)
    error = caught.value
    assert len(error.bad_lines) == MAX_REPORTED_BAD_LINES
    assert [b.line for b in error.bad_lines] == list(range(12, 12 + MAX_REPORTED_BAD_LINES))
    assert "30 bad line(s)" in str(error)


def test_scanning_stops_after_enough_bad_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(number_status, "_BLOCK_BYTES", 64)
    lines = ["junk"] * 100 + ["01023456789,allocated"]
    with pytest.raises(StatusFileError) as caught:
        import_csv(write(tmp_path, "number,status\n" + "\n".join(lines) + "\n"), full=True)
    assert not caught.value.complete
    assert "at least" in str(caught.value)
    assert len(caught.value.bad_lines) == MAX_REPORTED_BAD_LINES


def test_overlong_line_is_a_bad_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(number_status, "_BLOCK_BYTES", 1024)
    text = "number,status\n01023456789,allocated\n" + "9" * 100_000 + "\n01023456790,allocated\n"
    with pytest.raises(StatusFileError) as caught:
        import_csv(write(tmp_path, text), full=True)
    assert [b.line for b in caught.value.bad_lines] == [3]
    assert "longer than" in caught.value.bad_lines[0].reason


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(number_status.NumberStatusError, match="cannot read"):
        import_csv(tmp_path / "missing.csv", full=True)


# -- the live registry ---------------------------------------------------------------------------


def _uniform(tmp_path: Path, status: NumberStatus, numbers: list[str], name: str) -> Path:
    path = write(tmp_path, "number,status\n" + "".join(f"{n},{status.label}\n" for n in numbers))
    table = import_csv(path, full=True).table
    target = tmp_path / name
    table.save(target)
    return target


def test_swap_is_atomic_under_concurrent_lookups(tmp_path: Path) -> None:
    numbers = [f"010{20_000_000 + i * 9973:08d}" for i in range(2000)] + ["0223456789"]
    tables = [
        NumberStatusTable.load(_uniform(tmp_path, status, numbers, f"{status.label}.bin"))
        for status in (A, S)
    ]
    registry = NumberStatusRegistry(tables[0])
    stop = threading.Event()
    mixed: list[set[NumberStatus | None]] = []
    seen: set[NumberStatus | None] = set()

    def reader() -> None:
        while not stop.is_set():
            answers = set(registry.lookup_many(numbers))
            seen.update(answers)
            if len(answers) != 1:
                mixed.append(answers)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 0.5
        i = 0
        while time.monotonic() < deadline or len(seen) < 2:
            i += 1
            registry.swap(tables[i % 2])
            assert registry.lookup(numbers[0]) in (A, S)
            time.sleep(0.001)  # let the readers run between swaps
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert mixed == []
    assert seen == {A, S}


def test_reload_swaps_in_a_good_file_and_keeps_the_live_table_on_a_bad_one(
    tmp_path: Path,
) -> None:
    numbers = ["01023456789"]
    registry = NumberStatusRegistry.from_file(_uniform(tmp_path, A, numbers, "a.bin"))
    assert registry.lookup("01023456789") is A
    suspended = _uniform(tmp_path, S, numbers, "s.bin")
    old = registry.table
    assert registry.reload(suspended) is registry.table
    assert registry.lookup("01023456789") is S
    assert old.lookup("01023456789") is A  # a swapped-out table keeps answering
    suspended.write_bytes(suspended.read_bytes()[:-10])
    with pytest.raises(SnapshotError):
        registry.reload(suspended)
    assert registry.lookup("01023456789") is S


def test_default_registry_is_empty() -> None:
    assert NumberStatusRegistry().lookup("01023456789") is None


# -- CLI -----------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


def test_cli_import_and_lookup(tmp_path: Path, data_dir: Path) -> None:
    result = runner.invoke(
        app, ["numbers", "import", str(write(tmp_path, SAMPLE)), "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "imported 14 rows (full snapshot: 8 in 010, 6 other)" in result.stdout
    assert "99,999,994" in result.stdout
    assert snapshot_path(data_dir).is_file()

    result = runner.invoke(
        app,
        [
            "numbers",
            "lookup",
            "010-2345-6789",
            "01023456791",
            "bogus",
            "--json",
            "--data-dir",
            str(data_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(a["number"], a["digits"], a["status"]) for a in answers] == [
        ("010-2345-6789", "01023456789", "allocated"),
        ("01023456791", "01023456791", "terminated"),
        ("bogus", "", None),
    ]

    result = runner.invoke(
        app, ["numbers", "lookup", "0223456789", "0311112222", "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "allocated" in result.stdout
    assert "no data" in result.stdout

    delta = write(tmp_path, "number,status\n010-2345-6789,suspended\n", "delta.csv")
    result = runner.invoke(
        app, ["numbers", "import", str(delta), "--delta", "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "imported 1 rows (delta" in result.stdout
    result = runner.invoke(
        app, ["numbers", "lookup", "01023456789", "--json", "--data-dir", str(data_dir)]
    )
    assert json.loads(result.stdout)["status"] == "suspended"


def test_cli_import_bad_file_exits_2_with_line_numbers(tmp_path: Path, data_dir: Path) -> None:
    bad = write(
        tmp_path, "number,status\n01023456789,allocated\n[bold]x,allocated\n01023456790,gone\n"
    )
    result = runner.invoke(app, ["numbers", "import", str(bad), "--data-dir", str(data_dir)])
    assert result.exit_code == 2
    assert "line 3: invalid number '[bold]x' (non_digit)" in result.stderr
    assert "line 4: unknown status 'gone'" in result.stderr
    assert not snapshot_path(data_dir).exists()


def test_cli_lookup_without_snapshot_exits_2(data_dir: Path) -> None:
    result = runner.invoke(app, ["numbers", "lookup", "01023456789", "--data-dir", str(data_dir)])
    assert result.exit_code == 2
    assert "spamgate numbers import" in result.stderr


def test_cli_lookup_with_corrupt_snapshot_exits_2(tmp_path: Path, data_dir: Path) -> None:
    snapshot_path(data_dir).parent.mkdir(parents=True)
    snapshot_path(data_dir).write_bytes(b"garbage" * 1000)
    result = runner.invoke(app, ["numbers", "lookup", "01023456789", "--data-dir", str(data_dir)])
    assert result.exit_code == 2
    assert "bad magic" in result.stderr
