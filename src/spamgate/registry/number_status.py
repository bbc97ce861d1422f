"""Invalid-number registry: the allocation status of every Korean number we have data for.

Messages to unallocated, suspended or terminated numbers are blocked (issue 5, item 4). Carriers
publish a snapshot of their number database; we keep it as a compact table, saved to and
memory-mapped from a file, and answer lookups on the hot path.

Representation (the decisions worth knowing):

* **The 010 range is an array of 2-bit codes.** 01000000000-01099999999 is 10^8 numbers; number
  ``010`` + ``NNNNNNNN`` is slot ``int(NNNNNNNN)``, four slots a byte (slot ``i`` lives in byte
  ``i >> 2`` at bits ``2 * (i & 3)``), 25,000,000 bytes in all. The codes are the
  :class:`NumberStatus` values: 0 unallocated, 1 allocated, 2 suspended, 3 terminated.
* **"Unknown" costs no bit: the table says whether it is full.** Four statuses plus "no data" do
  not fit in 2 bits, so code 0 means *unallocated* in a table built from a **full** snapshot (a
  full snapshot is the whole truth about the 010 range: a number it does not list is
  unallocated) and *no data* in a **partial** table (deltas applied to no full snapshot).
  A partial table remembers 010 numbers explicitly listed as unallocated in the overflow map, so
  nothing a file said is lost. :meth:`NumberStatusTable.lookup` returns ``None`` for "no data".
* **Other ranges live in a dict** keyed by canonical digits (:func:`parse_number`'s ``digits``):
  geographic, 070, 050X, 15XX, foreign numbers in E.164. A full snapshot replaces the whole map;
  numbers outside 010 that it does not list have no data (the range cannot be enumerated).
* **010 exchanges the plan never assigns are in the array** (it is indexed by the whole range):
  010-0XXX and 010-1XXX today (:data:`RESERVED_010_EXCHANGE_DIGITS`, read from the plan table in
  :mod:`spamgate.domain.numbers`). A carrier's full dump may list them, but only as
  ``unallocated``: any other status for them is a bad line, since a number the plan rules out is
  never "allocated". Lookups of them answer from the array like any 010 number.
* **Tables are immutable once built.** :class:`NumberStatusRegistry` holds one and replaces it by
  a single reference assignment, so a lookup sees the old table or the new one, never a mix.

Snapshot file, format version 1 (all integers little-endian)::

    offset  size  field
         0     8  magic b"\\x89SGN\\r\\n\\x1a\\n" (PNG-style: catches text-mode and 7-bit transfers)
         8     2  format version (u16) = 1
        10     2  flags (u16): bit 0 = built from a full snapshot; other bits must be 0
        12     4  header size (u32) = 4096: the array starts page-aligned, ready to mmap
        16     8  created, microseconds since the Unix epoch, UTC (i64)
        24     8  numbers in the 010 array (u64) = 100,000,000
        32     8  array bytes (u64) = 25,000,000
        40     8  overflow section bytes (u64)
        48    32  count of 010 slots holding code 0, 1, 2, 3 (4 x u64)
        80     8  overflow entries (u64)
        88    32  SHA-256 of bytes 0-87 of the header, then the array, then the overflow section
       120  3976  zero
      4096    25M the 010 array
   4096+25M     n  overflow section: UTF-8 JSON object {"canonical digits": "status", ...},
                   keys sorted (JSON, never pickle: a snapshot is data, not code)

:meth:`NumberStatusTable.save` writes a temporary file next to the target, fsyncs it and
``os.replace``\\ s it into place, so readers see the old file or the new one. A file that is
truncated, has the wrong magic, version, sizes or flags, or whose SHA-256 does not match is
refused with :class:`SnapshotError`.

CSV import (:func:`import_csv`): a header ``number,status`` and then one ``number,status`` row a
line; statuses are case-insensitive; numbers may be written any way :func:`parse_number` reads.
Lines of the canonical shape ``010NNNNNNNN,status`` are parsed in bulk with numpy vector
operations (about 10^8 lines in well under a minute); every other line goes through the csv
module and :func:`parse_number`, one by one. Blank lines are skipped. A number listed twice in one
file is a bad line (which of two statuses would be meant?). If any line is bad nothing is
applied: :class:`StatusFileError` lists the first :data:`MAX_REPORTED_BAD_LINES` bad lines with
their line numbers (the header is line 1), and scanning stops once that many are found.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import logging
import mmap
import os
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, Final

import numpy as np
from numpy.typing import NDArray

from spamgate.domain.numbers import (
    KR_NUMBER_PLAN,
    InvalidReason,
    NumberInfo,
    NumberKind,
    parse_number,
)
from spamgate.errors import InputError, SpamgateError

__all__ = [
    "FORMAT_VERSION",
    "MAX_REPORTED_BAD_LINES",
    "MOBILE_ARRAY_BYTES",
    "MOBILE_NUMBERS",
    "RESERVED_010_EXCHANGE_DIGITS",
    "BadLine",
    "ImportResult",
    "NumberStatus",
    "NumberStatusError",
    "NumberStatusRegistry",
    "NumberStatusTable",
    "SnapshotError",
    "StatusCounts",
    "StatusFileError",
    "StatusLookup",
    "import_csv",
    "import_into",
    "load_from",
    "snapshot_path",
]

log = logging.getLogger(__name__)

#: Numbers in the 010 range, and the bytes of its 2-bit array.
MOBILE_NUMBERS: Final = 100_000_000
MOBILE_ARRAY_BYTES: Final = MOBILE_NUMBERS // 4


def _reserved_010_digits() -> frozenset[str]:
    for rule in KR_NUMBER_PLAN:
        if rule.prefix == "010":
            return frozenset("0123456789") - frozenset(rule.first_digits or "0123456789")
    return frozenset()


#: First exchange digits the number plan never assigns after 010 (today 0 and 1: 010-0XXX and
#: 010-1XXX), read from :data:`KR_NUMBER_PLAN` so the registry and the parser never disagree.
RESERVED_010_EXCHANGE_DIGITS: Final[frozenset[str]] = _reserved_010_digits()
# Indexed by slot // 10^7 (the exchange's first digit).
_RESERVED_BY_DIGIT: Final = np.array(
    [str(d) in RESERVED_010_EXCHANGE_DIGITS for d in range(10)], dtype=np.bool_
)

FORMAT_VERSION: Final = 1
_MAGIC: Final = b"\x89SGN\r\n\x1a\n"
_HEADER_SIZE: Final = 4096
_FLAG_FULL: Final = 1
# magic, version, flags, header size, created, numbers, array bytes, overflow bytes,
# four code counts, overflow entries. The SHA-256 digest follows these 88 bytes.
_HEADER: Final = struct.Struct("<8sHHIqQQQ4QQ")
_DIGEST_SIZE: Final = 32
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

#: How many bad lines an import error lists; scanning stops once this many are found.
MAX_REPORTED_BAD_LINES: Final = 20
# Bulk parsing works on blocks of this size: small enough that numpy's temporaries stay in
# cache-friendly, reused memory (measured faster than 16-64 MiB blocks), large enough to amortise
# the per-block overhead.
_BLOCK_BYTES: Final = 4 << 20
# No honest line is anywhere near this long; longer ones are bad lines and are not buffered.
_MAX_LINE_BYTES: Final = 4096
_EXCERPT: Final = 40


class NumberStatus(IntEnum):
    """A number's allocation status. The value is its 2-bit code in the 010 array."""

    #: True for unallocated, suspended and terminated: a message to it must not be sent.
    #: A plain attribute of each member (set below), not a property: the registry check reads
    #: it for every message, and a property costs a Python call.
    blocks_delivery: bool

    #: Not assigned to any subscriber (also: every 010 number a full snapshot does not list).
    UNALLOCATED = 0
    #: In service.
    ALLOCATED = 1
    #: Temporarily out of service (e.g. unpaid, reported lost, suspended for spam).
    SUSPENDED = 2
    #: The subscription ended; the number awaits reassignment.
    TERMINATED = 3

    @property
    def label(self) -> str:
        """The lower-case name used in CSV files and JSON: ``"allocated"``."""
        return self.name.lower()

    @classmethod
    def from_label(cls, text: str) -> NumberStatus | None:
        """``"Allocated"`` -> ALLOCATED (case and surrounding space ignored); None if unknown."""
        return _STATUS_BY_LABEL.get(text.strip().lower())


for _status in NumberStatus:
    _status.blocks_delivery = _status is not NumberStatus.ALLOCATED
del _status
_STATUSES: Final = tuple(NumberStatus)  # index = code
_STATUS_BY_LABEL: Final = {status.label: status for status in NumberStatus}
_ALLOWED: Final = ", ".join(status.label for status in NumberStatus)


class NumberStatusError(SpamgateError):
    """Base of number-status errors."""


class SnapshotError(NumberStatusError):
    """A snapshot file cannot be used (missing, truncated, corrupt, tampered, wrong version)."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        super().__init__(f"number-status snapshot {os.fspath(path)}: {problem}")
        self.path = Path(path)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class BadLine:
    """One bad line of a status file; ``line`` counts from 1, the header being line 1."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class StatusFileError(NumberStatusError, InputError):
    """A status CSV was refused and nothing was applied.

    ``bad_lines`` holds the first bad lines in file order (at most
    :data:`MAX_REPORTED_BAD_LINES`); ``complete`` is False when scanning stopped early, so more bad
    lines may follow. A file-level problem (empty, no header) has one entry for line 1, or none.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        summary: str,
        bad_lines: Sequence[BadLine] = (),
        *,
        complete: bool = True,
    ) -> None:
        lines = "".join(f"\n  {bad}" for bad in bad_lines)
        super().__init__(f"{os.fspath(path)}: {summary}{lines}")
        self.path = Path(path)
        self.summary = summary
        self.bad_lines = tuple(bad_lines)
        self.complete = complete


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """How many numbers a table knows, per status. ``mobile_no_data`` is 0 for a full table."""

    mobile: Mapping[str, int]
    mobile_no_data: int
    other: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mobile": dict(self.mobile),
            "mobile_no_data": self.mobile_no_data,
            "other": dict(self.other),
        }


@dataclass(frozen=True, slots=True)
class StatusLookup:
    """A lookup explained: how the number was read and what the table says about it."""

    number: str
    digits: str
    kind: NumberKind
    valid: bool
    status: NumberStatus | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "digits": self.digits,
            "kind": self.kind.value,
            "valid": self.valid,
            "status": None if self.status is None else self.status.label,
        }


def _mobile_slot(info: NumberInfo) -> int | None:
    """The 010 array slot of a parsed number, or None when it is not a 010 number.

    Reserved exchanges (010-0XXX, 010-1XXX) come back from :func:`parse_number` as invalid with
    ``unassigned_prefix`` but still have a slot; text with junk in it ("non_digit") never does.
    """
    digits = info.digits
    if len(digits) != 11 or not digits.startswith("010"):
        return None
    if info.valid or info.reason == InvalidReason.UNASSIGNED_PREFIX:
        return int(digits[3:])
    return None


class NumberStatusTable:
    """One immutable snapshot: the 010 array plus the overflow map, and whether it is full.

    The table owns ``codes`` (it must not be changed afterwards); tables loaded from a file keep
    it memory-mapped read-only, so the array costs page cache, not private memory, and the
    mapping lives as long as the table (no explicit close: a lookup in another thread may still
    be reading an old table after a swap).
    """

    __slots__ = ("_codes", "_counts", "_created", "_full", "_overflow", "_view")

    def __init__(
        self,
        codes: NDArray[np.uint8],
        overflow: Mapping[str, NumberStatus],
        *,
        full: bool,
        created: datetime,
    ) -> None:
        if codes.dtype != np.uint8 or codes.shape != (MOBILE_ARRAY_BYTES,):
            raise ValueError(f"codes must be uint8[{MOBILE_ARRAY_BYTES}]")
        if created.tzinfo is None:
            raise ValueError("created must be timezone-aware")
        if codes.flags.writeable:
            codes = codes.view()
            codes.flags.writeable = False
        self._codes = codes
        # memoryview indexing returns a plain int several times faster than numpy scalar indexing.
        self._view = codes.data
        self._overflow = dict(overflow)
        self._full = full
        self._created = created
        self._counts: StatusCounts | None = None

    @classmethod
    def empty(cls, *, created: datetime | None = None) -> NumberStatusTable:
        """A partial table with no data: every lookup answers None."""
        # np.zeros maps zero pages lazily: an empty table costs no resident memory.
        codes = np.zeros(MOBILE_ARRAY_BYTES, dtype=np.uint8)
        return cls(codes, {}, full=False, created=created or datetime.now(UTC))

    @property
    def full(self) -> bool:
        """True when built from a full snapshot: unlisted 010 numbers are then unallocated."""
        return self._full

    @property
    def created(self) -> datetime:
        return self._created

    @property
    def codes(self) -> NDArray[np.uint8]:
        """The read-only 2-bit array over the 010 range (see the module docstring)."""
        return self._codes

    @property
    def overflow(self) -> Mapping[str, NumberStatus]:
        """Statuses outside the array: other ranges, and (partial tables) unallocated 010s."""
        return MappingProxyType(self._overflow)

    # -- lookups ---------------------------------------------------------------------------

    def lookup(self, number: str) -> NumberStatus | None:
        """The status of ``number`` (any spelling :func:`parse_number` reads), None if no data.

        Canonical 010 digits (``"01023456789"``) take a fast path that never parses; other
        spellings are parsed (parse_number caches). Malformed numbers have no data.
        """
        if len(number) == 11 and number.startswith("010") and number.isascii() and number.isdigit():
            slot = int(number[3:])
            code = (self._view[slot >> 2] >> ((slot & 3) << 1)) & 3
            if code or self._full:
                return _STATUSES[code]
            return self._overflow.get(number)
        return self._lookup_parsed(number)

    def _lookup_parsed(self, number: str) -> NumberStatus | None:
        status = self._overflow.get(number)
        if status is not None:  # already canonical digits of another range
            return status
        info = parse_number(number)
        slot = _mobile_slot(info)
        if slot is not None:
            code = (self._view[slot >> 2] >> ((slot & 3) << 1)) & 3
            if code or self._full:
                return _STATUSES[code]
            return self._overflow.get(info.digits)
        if not info.valid:
            return None
        return self._overflow.get(info.digits)

    def lookup_many(self, numbers: Sequence[str]) -> list[NumberStatus | None]:
        """:meth:`lookup` for each number, in order; canonical 010 digits are read in bulk."""
        count = len(numbers)
        if count == 0:
            return []
        lengths = np.fromiter(map(len, numbers), dtype=np.int64, count=count)
        # One byte per character ('?' for anything non-ASCII), so character offsets into the
        # joined string are byte offsets into the encoded one; '?' fails the digit test.
        joined = "".join(numbers).encode("ascii", "replace")
        codes = np.full(count, -1, dtype=np.int8)  # -1: decide one by one
        candidates = np.flatnonzero(lengths == 11)
        if candidates.size:
            starts = (np.cumsum(lengths) - lengths)[candidates]
            slots, ok = _parse_mobile_slots(joined, starts)
            positions = candidates[ok]
            slots = slots[ok]
            codes[positions] = (self._codes[slots >> 2] >> ((slots & 3) << 1).astype(np.uint8)) & 3
        if not self._full:
            codes[codes == 0] = -1  # "unallocated or no data": ask the overflow map
        # Index -1 picks the trailing None, which the loop below replaces.
        table = (*_STATUSES, None)
        result: list[NumberStatus | None] = list(map(table.__getitem__, codes.tolist()))
        for position in np.flatnonzero(codes < 0).tolist():
            result[position] = self.lookup(numbers[position])
        return result

    def explain(self, number: str) -> StatusLookup:
        """How ``number`` was read (canonical digits, kind, validity) and its status."""
        info = parse_number(number)
        return StatusLookup(number, info.digits, info.kind, info.valid, self.lookup(number))

    def counts(self) -> StatusCounts:
        """Numbers per status in the 010 array and in the overflow map (computed once)."""
        if self._counts is None:
            self._counts = self._compute_counts(_count_codes(self._codes))
        return self._counts

    def _compute_counts(self, code_counts: Sequence[int]) -> StatusCounts:
        mobile = {status.label: code_counts[status] for status in NumberStatus}
        other = {status.label: 0 for status in NumberStatus}
        explicit_unallocated = 0
        for digits, status in self._overflow.items():
            if len(digits) == 11 and digits.startswith("010"):
                explicit_unallocated += 1
            else:
                other[status.label] += 1
        no_data = 0
        if not self._full:
            no_data = code_counts[0] - explicit_unallocated
            mobile[NumberStatus.UNALLOCATED.label] = explicit_unallocated
        return StatusCounts(mobile, no_data, other)

    # -- files -----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the snapshot file atomically (temp file, fsync, ``os.replace``, fsync dir)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        overflow = json.dumps(
            {digits: self._overflow[digits].label for digits in sorted(self._overflow)},
            separators=(",", ":"),
        ).encode("utf-8")
        code_counts = _count_codes(self._codes)
        created_us = (self._created - _EPOCH) // timedelta(microseconds=1)
        fixed = _HEADER.pack(
            _MAGIC,
            FORMAT_VERSION,
            _FLAG_FULL if self._full else 0,
            _HEADER_SIZE,
            created_us,
            MOBILE_NUMBERS,
            MOBILE_ARRAY_BYTES,
            len(overflow),
            *code_counts,
            len(self._overflow),
        )
        digest = hashlib.sha256(fixed)
        digest.update(self._view)
        digest.update(overflow)
        header = (fixed + digest.digest()).ljust(_HEADER_SIZE, b"\0")
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                # mkstemp makes it 0600; a snapshot is not secret and other processes read it.
                os.fchmod(fh.fileno(), _existing_mode(target, default=0o644))
                fh.write(header)
                fh.write(self._view)
                fh.write(overflow)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(target.parent)
        log.info(
            "saved number-status snapshot %s (full=%s, %d overflow entries)",
            target,
            self._full,
            len(self._overflow),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, verify: bool = True) -> NumberStatusTable:
        """Memory-map a snapshot file read-only; refuse it with :class:`SnapshotError` if bad.

        ``verify`` checks the SHA-256 (reads the whole file once, about 25 MB; it also brings
        the array into the page cache, where lookups need it anyway).
        """
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size < _HEADER_SIZE:
                    raise SnapshotError(
                        path,
                        f"truncated: {size} bytes, shorter than the {_HEADER_SIZE}-byte header",
                    )
                mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as exc:
            raise SnapshotError(path, f"cannot read: {exc.strerror or exc}") from None
        header = mapped[:_HEADER_SIZE]
        fields = _HEADER.unpack_from(header)
        magic, version, flags, header_size, created_us = fields[:5]
        numbers, array_bytes, overflow_bytes = fields[5:8]
        code_counts, overflow_entries = fields[8:12], fields[12]
        if magic != _MAGIC:
            raise SnapshotError(path, "not a number-status snapshot (bad magic)")
        if version != FORMAT_VERSION:
            raise SnapshotError(
                path, f"format version {version}; this spamgate reads version {FORMAT_VERSION}"
            )
        if flags & ~_FLAG_FULL:
            raise SnapshotError(path, f"unknown flags {flags:#x} (written by a newer spamgate?)")
        if (header_size, numbers, array_bytes) != (
            _HEADER_SIZE,
            MOBILE_NUMBERS,
            MOBILE_ARRAY_BYTES,
        ):
            raise SnapshotError(path, "corrupt header (unexpected sizes)")
        if any(header[_HEADER.size + _DIGEST_SIZE :]):
            raise SnapshotError(path, "corrupt header (reserved bytes are not zero)")
        expected = _HEADER_SIZE + array_bytes + overflow_bytes
        if size < expected:
            raise SnapshotError(path, f"truncated: {size} bytes, the header promises {expected}")
        if size > expected:
            raise SnapshotError(path, f"corrupt: {size - expected} unexpected trailing bytes")
        if verify:
            digest = hashlib.sha256(header[: _HEADER.size])
            with memoryview(mapped) as payload:
                digest.update(payload[_HEADER_SIZE:])
            stored = header[_HEADER.size : _HEADER.size + _DIGEST_SIZE]
            if digest.digest() != stored:
                raise SnapshotError(path, "SHA-256 mismatch: the file is corrupt or was altered")
        overflow = _decode_overflow(path, mapped[_HEADER_SIZE + array_bytes :])
        if len(overflow) != overflow_entries:
            raise SnapshotError(path, "corrupt: overflow entry count does not match the header")
        codes = np.frombuffer(mapped, dtype=np.uint8, count=array_bytes, offset=_HEADER_SIZE)
        created = _EPOCH + timedelta(microseconds=created_us)
        table = cls(codes, overflow, full=bool(flags & _FLAG_FULL), created=created)
        table._counts = table._compute_counts(code_counts)
        return table


def _decode_overflow(path: str | os.PathLike[str], raw: bytes) -> dict[str, NumberStatus]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(path, f"corrupt overflow section ({exc})") from None
    if not isinstance(data, dict):
        raise SnapshotError(path, "corrupt overflow section (not a JSON object)")
    overflow: dict[str, NumberStatus] = {}
    for digits, label in data.items():
        status = _STATUS_BY_LABEL.get(label) if isinstance(label, str) else None
        if status is None or not digits or len(digits) > 20:
            raise SnapshotError(path, f"corrupt overflow entry {str(digits)[:_EXCERPT]!r}")
        overflow[digits] = status
    return overflow


def _existing_mode(path: Path, *, default: int) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return default


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every platform lets a directory be opened.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# How many 2-bit fields of each code a byte value holds: counting the 010 array is then one
# histogram of its 25 MB of bytes.
_CODES_PER_BYTE: Final = np.array(
    [
        [sum(((value >> (2 * k)) & 3) == code for k in range(4)) for code in range(4)]
        for value in range(256)
    ],
    dtype=np.int64,
)


def _count_codes(codes: NDArray[np.uint8]) -> tuple[int, int, int, int]:
    histogram = np.zeros(256, dtype=np.int64)
    step = 1 << 22  # bincount widens to intp: count in slices to keep its temporary small
    for start in range(0, codes.size, step):
        histogram += np.bincount(codes[start : start + step], minlength=256)
    totals = histogram @ _CODES_PER_BYTE
    return int(totals[0]), int(totals[1]), int(totals[2]), int(totals[3])


# -- bulk parsing --------------------------------------------------------------------------

_U64 = np.uint64
_ASCII_ZEROS: Final = _U64(0x3030303030303030)
_HIGH_NIBBLES: Final = _U64(0xF0F0F0F0F0F0F0F0)
_PLUS_SIX: Final = _U64(0x0606060606060606)
_LOWER: Final = _U64(0x2020202020202020)
_PREFIX_010: Final = np.uint32(0x303130)  # "010" read little-endian from the first 3 bytes
_LOW_3_BYTES: Final = np.uint32(0x00FFFFFF)
_COMMA: Final = 0x2C
_LF: Final = 0x0A
_CR: Final = 0x0D


def _le64(text: bytes) -> np.uint64:
    return _U64(int.from_bytes(text, "little"))


# Per status: line length (010NNNNNNNN + "," + name), and its first and last 8 letters as u64.
# Every name has 9-11 letters, so those two words cover it.
_FAST_SHAPES: Final = tuple(
    (
        status,
        12 + len(status.label),
        _le64(status.label[:8].encode()),
        _le64(status.label[-8:].encode()),
    )
    for status in NumberStatus
)
_FAST_MIN_LEN: Final = min(shape[1] for shape in _FAST_SHAPES)
_FAST_MAX_LEN: Final = max(shape[1] for shape in _FAST_SHAPES)


def _words(data: bytes, width: int) -> NDArray[Any]:
    """An unaligned view of ``data``: element ``i`` is the little-endian word at byte ``i``."""
    dtype = np.dtype(f"<u{width}")
    return np.ndarray((len(data) - width + 1,), dtype=dtype, buffer=data, strides=(1,))


def _eight_digits(words: NDArray[np.uint64]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Parse 8 ASCII digits packed little-endian in each u64 (SWAR); also says which were digits.

    Digits: every byte's high nibble is 3 and adding 6 to its low nibble does not carry.
    """
    ok = (words & _HIGH_NIBBLES) == _ASCII_ZEROS
    ok &= ((words + _PLUS_SIX) & _HIGH_NIBBLES) == _ASCII_ZEROS
    v = words - _ASCII_ZEROS
    v = (v * _U64(10)) + (v >> _U64(8))
    v = (
        ((v & _U64(0x000000FF000000FF)) * _U64(100 + (1_000_000 << 32)))
        + (((v >> _U64(16)) & _U64(0x000000FF000000FF)) * _U64(1 + (10_000 << 32)))
    ) >> _U64(32)
    return v.astype(np.int64), ok


def _parse_mobile_slots(
    data: bytes, starts: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """For 11-byte fields at ``starts``: 010 array slots, and which fields were 010 + 8 digits."""
    prefix_ok = (_words(data, 4)[starts] & _LOW_3_BYTES) == _PREFIX_010
    slots, digits_ok = _eight_digits(_words(data, 8)[starts + 3])
    return slots, prefix_ok & digits_ok


@dataclass(slots=True)
class _Block:
    """What one block of whole lines holds, before any cross-block checks."""

    # 010 entries: array slot, code, line number.
    slots: NDArray[np.int64]
    codes: NDArray[np.uint8]
    lines: NDArray[np.int64]
    # Other ranges: canonical digits, status, line number.
    others: list[tuple[str, NumberStatus, int]] = field(default_factory=list)
    bad: list[BadLine] = field(default_factory=list)


def _scan_block(data: bytes, first_line: int) -> _Block:
    """Parse ``data`` (whole lines, each ending in LF); line ``i`` of it is ``first_line + i``."""
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == _LF)
    starts = np.empty_like(newlines)
    starts[0] = 0
    starts[1:] = newlines[:-1] + 1
    ends = newlines - ((buf[newlines - 1] == _CR) & (newlines > starts))  # drop a CR before LF
    lengths = ends - starts
    fast = np.flatnonzero((lengths >= _FAST_MIN_LEN) & (lengths <= _FAST_MAX_LEN))
    slots = np.empty(0, dtype=np.int64)
    codes = np.empty(0, dtype=np.uint8)
    if fast.size:
        s, e, n = starts[fast], ends[fast], lengths[fast]
        slots, ok = _parse_mobile_slots(data, s)
        ok &= buf[s + 11] == _COMMA
        words = _words(data, 8)
        head = words[s + 12] | _LOWER  # lower-casing is exact here: only letters can match
        tail = words[e - 8] | _LOWER
        codes = np.zeros(fast.size, dtype=np.uint8)
        matched = np.zeros(fast.size, dtype=np.bool_)
        for status, length, first8, last8 in _FAST_SHAPES:
            hit = (n == length) & (head == first8) & (tail == last8)
            codes[hit] = status.value
            matched |= hit
        ok &= matched
        fast, slots, codes = fast[ok], slots[ok], codes[ok]
    block = _Block(slots, codes, fast + first_line)
    if fast.size == len(newlines):
        return block
    slow_mask = np.ones(len(newlines), dtype=np.bool_)
    slow_mask[fast] = False
    extra_slots: list[int] = []
    extra_codes: list[int] = []
    extra_lines: list[int] = []
    for i in np.flatnonzero(slow_mask).tolist():
        line = first_line + i
        outcome = _parse_line(data[starts[i] : ends[i]])
        if outcome is None:
            continue
        if isinstance(outcome, str):
            block.bad.append(BadLine(line, outcome))
        elif isinstance(outcome[0], int):
            extra_slots.append(outcome[0])
            extra_codes.append(outcome[1])
            extra_lines.append(line)
        else:
            block.others.append((outcome[0], outcome[1], line))
    if extra_slots:
        block.slots = np.concatenate((block.slots, np.array(extra_slots, dtype=np.int64)))
        block.codes = np.concatenate((block.codes, np.array(extra_codes, dtype=np.uint8)))
        block.lines = np.concatenate((block.lines, np.array(extra_lines, dtype=np.int64)))
    return block


def _excerpt(text: str) -> str:
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def _parse_line(raw: bytes) -> tuple[int | str, NumberStatus] | str | None:
    """One line the bulk path did not take: (010 slot or other digits, status), a reason, or None.

    None means a blank line (skipped). Never raises.
    """
    if len(raw) > _MAX_LINE_BYTES:
        return f"line longer than {_MAX_LINE_BYTES} bytes"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 (byte {exc.start + 1} of the line)"
    if not text.strip():
        return None
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as exc:
        return f"malformed CSV ({exc})"
    row = rows[0] if rows else []
    if len(row) != 2:
        return f"expected 2 fields (number,status), found {len(row)}"
    number, label = row[0].strip(), row[1].strip()
    info = parse_number(number)
    slot = _mobile_slot(info)
    if slot is None and not info.valid:
        return f"invalid number {_excerpt(number)!r} ({info.reason})"
    status = _STATUS_BY_LABEL.get(label.lower())
    if status is None:
        return f"unknown status {_excerpt(label)!r} (expected one of: {_ALLOWED})"
    if slot is not None:
        return slot, status
    return info.digits, status


# -- import --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportResult:
    """A successful import: the new table (not yet saved or swapped in) and what was read."""

    table: NumberStatusTable
    #: Data rows read (blank lines excluded): in the 010 range, and in other ranges.
    rows: int
    mobile_rows: int
    other_rows: int
    #: Whether the file was imported as a full snapshot (``table.full`` is also True for a delta
    #: over a full table).
    full: bool


class _Importer:
    """Builds a new table from a base and a stream of blocks; the base is never modified."""

    def __init__(self, base: NumberStatusTable | None, full: bool) -> None:
        self.full = full or (base is not None and base.full)
        if base is None or full:
            self.codes = np.zeros(MOBILE_ARRAY_BYTES, dtype=np.uint8)
            self.overflow: dict[str, NumberStatus] = {}
        else:
            self.codes = base.codes.copy()
            self.overflow = dict(base.overflow)
        self.seen = np.zeros(MOBILE_NUMBERS // 8, dtype=np.uint8)  # 010 slots listed so far
        self.other_lines: dict[str, int] = {}  # other digits -> line first listed
        self.bad: list[BadLine] = []
        self.bad_count = 0
        self.mobile_rows = 0
        self.other_rows = 0

    def add(self, block: _Block) -> None:
        bad = block.bad
        slots, codes, lines = block.slots, block.codes, block.lines
        reserved = _RESERVED_BY_DIGIT[slots // 10_000_000] & (codes != NumberStatus.UNALLOCATED)
        if reserved.any():
            for line, slot, code in zip(
                lines[reserved].tolist(),
                slots[reserved].tolist(),
                codes[reserved].tolist(),
                strict=True,
            ):
                bad.append(
                    BadLine(
                        line,
                        f"010-{slot // 10_000_000}XXX exchanges are never assigned; "
                        f"'{_STATUSES[code].label}' is impossible (only 'unallocated')",
                    )
                )
            keep = ~reserved
            slots, codes, lines = slots[keep], codes[keep], lines[keep]
        if slots.size > 1 and not bool(np.all(slots[1:] > slots[:-1])):
            order = np.lexsort((lines, slots))  # by slot, then line: a repeat is the later line
            slots, codes, lines = slots[order], codes[order], lines[order]
        repeat = np.zeros(slots.size, dtype=np.bool_)
        repeat[1:] = slots[1:] == slots[:-1]
        repeat |= ((self.seen[slots >> 3] >> (slots & 7).astype(np.uint8)) & 1).astype(np.bool_)
        if repeat.any():
            for line, slot in zip(lines[repeat].tolist(), slots[repeat].tolist(), strict=True):
                bad.append(BadLine(line, f"010{slot:08d} is listed more than once"))
            keep = ~repeat
            slots, codes, lines = slots[keep], codes[keep], lines[keep]
        _set_bits(self.seen, slots)
        others: list[tuple[str, NumberStatus]] = []
        for digits, status, line in block.others:
            first = self.other_lines.setdefault(digits, line)
            if first != line:
                bad.append(
                    BadLine(line, f"{digits} is listed more than once (first on line {first})")
                )
            else:
                others.append((digits, status))
        if bad:
            bad.sort(key=lambda b: b.line)
            self.bad.extend(bad[: MAX_REPORTED_BAD_LINES - len(self.bad)])
            self.bad_count += len(bad)
        self.mobile_rows += int(slots.size)
        self.other_rows += len(others)
        if self.bad_count:
            return  # the import will be refused: applying more is wasted work
        _apply_codes(self.codes, slots, codes)
        if not self.full:
            # A partial table cannot tell "unallocated" from "no data" in the array.
            unallocated = slots[codes == NumberStatus.UNALLOCATED]
            for slot in unallocated.tolist():
                self.overflow[f"010{slot:08d}"] = NumberStatus.UNALLOCATED
        self.overflow.update(others)

    def finish(self, created: datetime) -> NumberStatusTable:
        if not self.full:
            # Drop 010 numbers remembered as unallocated that this import has since allocated.
            view = self.codes.data
            for digits in [d for d in self.overflow if len(d) == 11 and d.startswith("010")]:
                slot = int(digits[3:])
                if (view[slot >> 2] >> ((slot & 3) << 1)) & 3:
                    del self.overflow[digits]
        return NumberStatusTable(self.codes, self.overflow, full=self.full, created=created)


def _group_by_byte(
    positions: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For sorted byte positions: the distinct ones and where each run starts."""
    firsts = np.flatnonzero(positions[1:] != positions[:-1]) + 1
    run_starts = np.concatenate((np.zeros(1, dtype=np.int64), firsts))
    return positions[run_starts], run_starts


def _set_bits(bitmap: NDArray[np.uint8], slots: NDArray[np.int64]) -> None:
    """Set bit ``slot`` for each of the sorted, distinct ``slots``."""
    if not slots.size:
        return
    # Several slots share a byte: OR their bits per byte first (a plain fancy-index |= would
    # keep only the last one's).
    unique, run_starts = _group_by_byte(slots >> 3)
    bits = np.left_shift(np.uint8(1), (slots & 7).astype(np.uint8))
    bitmap[unique] |= np.bitwise_or.reduceat(bits, run_starts)


def _apply_codes(
    array: NDArray[np.uint8], slots: NDArray[np.int64], codes: NDArray[np.uint8]
) -> None:
    """Write 2-bit ``codes`` at the sorted, distinct ``slots`` of the 010 array."""
    if not slots.size:
        return
    unique, run_starts = _group_by_byte(slots >> 2)
    shifts = ((slots & 3) << 1).astype(np.uint8)
    values = np.bitwise_or.reduceat(np.left_shift(codes, shifts), run_starts)
    masks = np.bitwise_or.reduceat(np.left_shift(np.uint8(3), shifts), run_starts)
    array[unique] = (array[unique] & ~masks) | values


def _read_header(fh: IO[bytes], path: str | os.PathLike[str]) -> None:
    """Read and check the header line (a UTF-8 BOM and spaces around the names are fine)."""
    raw = fh.readline(_MAX_LINE_BYTES + 1)
    if not raw.strip(b" \t\r\n\xef\xbb\xbf"):
        raise StatusFileError(path, "empty file: expected a header line 'number,status'")
    try:
        text = raw.decode("utf-8-sig")
        fields = [f.strip().lower() for f in next(csv.reader([text.rstrip("\r\n")]), [])]
    except (UnicodeDecodeError, csv.Error):
        fields = []
    if fields != ["number", "status"]:
        shown = raw[:_EXCERPT].decode("utf-8", "replace").rstrip("\r\n")
        header_bad = BadLine(1, f"expected the header 'number,status', found {shown!r}")
        raise StatusFileError(path, "missing or wrong header", [header_bad])


def _blocks(fh: IO[bytes], first_line: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (block of whole lines ending in LF, its first line number, bytes read so far)."""
    carry = b""
    line = first_line
    done = 0
    while True:
        chunk = fh.read(_BLOCK_BYTES)
        done += len(chunk)
        if not chunk:
            if carry:
                yield carry + b"\n", line, done
            return
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0 and len(data) > _MAX_LINE_BYTES:
            # A runaway line: report it (as an over-long line) without buffering all of it.
            yield data[: _MAX_LINE_BYTES + 1] + b"\n", line, done
            line += 1
            carry = b""
            for rest in iter(lambda: fh.read(_BLOCK_BYTES), b""):
                done += len(rest)
                newline = rest.find(b"\n")
                if newline >= 0:
                    carry = rest[newline + 1 :]
                    break
            continue
        carry = data[cut:]
        if cut:
            block = data[:cut]
            yield block, line, done
            line += block.count(b"\n")


def import_csv(
    path: str | os.PathLike[str],
    *,
    base: NumberStatusTable | None = None,
    full: bool,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Build a new table from a ``number,status`` CSV (see the module docstring).

    ``full=True``: the file is the whole truth; the 010 array starts all unallocated and the
    overflow map empty (``base`` must be None). ``full=False``: a delta applied over ``base``
    (or over an empty partial table); the result is full if the base was. ``base`` itself is
    never modified. ``progress(bytes_read, total_bytes)`` is called after each block.

    Raises :class:`StatusFileError` (nothing applied) for bad lines, an empty file, a missing
    header or a full snapshot without rows; :class:`NumberStatusError` if the file is unreadable.
    """
    if full and base is not None:
        raise ValueError("a full snapshot replaces everything; it takes no base")
    importer = _Importer(base, full)
    try:
        with open(path, "rb") as fh:
            total = os.fstat(fh.fileno()).st_size
            _read_header(fh, path)
            complete = True
            blocks = _blocks(fh, 2)
            for data, first_line, done in blocks:
                importer.add(_scan_block(data, first_line))
                if progress is not None:
                    progress(done, total)
                if len(importer.bad) >= MAX_REPORTED_BAD_LINES:
                    complete = next(blocks, None) is None  # was that the end of the file?
                    break
    except OSError as exc:
        raise NumberStatusError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from None
    if importer.bad_count:
        count = f"at least {importer.bad_count}" if not complete else str(importer.bad_count)
        shown = (
            f"; the first {len(importer.bad)} follow"
            if importer.bad_count > len(importer.bad)
            else ""
        )
        stopped = " (scanning stopped there)" if not complete else ""
        raise StatusFileError(
            path,
            f"{count} bad line(s), nothing imported{shown}{stopped}",
            importer.bad,
            complete=complete,
        )
    rows = importer.mobile_rows + importer.other_rows
    if full and rows == 0:
        raise StatusFileError(
            path, "a full snapshot without rows would mark every 010 number unallocated; refused"
        )
    table = importer.finish(now or datetime.now(UTC))
    log.info("imported %d rows from %s (full=%s)", rows, path, table.full)
    return ImportResult(table, rows, importer.mobile_rows, importer.other_rows, full)


# -- the live holder and the data directory ------------------------------------------------


class NumberStatusRegistry:
    """Holds the live table. Lookups are lock-free; swaps replace one reference atomically.

    A lookup reads ``self._table`` once and works on that immutable table, so it sees the old
    snapshot or the new one, never half of each. Writers (swap, reload) serialise on a lock.
    """

    def __init__(self, table: NumberStatusTable | None = None) -> None:
        self._table = table if table is not None else NumberStatusTable.empty()
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> NumberStatusRegistry:
        return cls(NumberStatusTable.load(path))

    @property
    def table(self) -> NumberStatusTable:
        return self._table

    def lookup(self, number: str) -> NumberStatus | None:
        """See :meth:`NumberStatusTable.lookup`."""
        return self._table.lookup(number)

    def lookup_many(self, numbers: Sequence[str]) -> list[NumberStatus | None]:
        """See :meth:`NumberStatusTable.lookup_many`; the whole batch sees one snapshot."""
        return self._table.lookup_many(numbers)

    def swap(self, table: NumberStatusTable) -> NumberStatusTable:
        """Make ``table`` live; returns the previous one (left mapped for in-flight lookups)."""
        with self._lock:
            previous = self._table
            self._table = table
        return previous

    def reload(self, path: str | os.PathLike[str]) -> NumberStatusTable:
        """Load and verify ``path``, then swap it in; on any error the live table stays."""
        with self._lock:
            table = NumberStatusTable.load(path)
            self._table = table
        return table


def snapshot_path(data_dir: str | os.PathLike[str]) -> Path:
    """Where the live snapshot lives: ``<data-dir>/numbers/status.bin``."""
    return Path(data_dir) / "numbers" / "status.bin"


def load_from(data_dir: str | os.PathLike[str]) -> NumberStatusTable | None:
    """The data directory's snapshot, or None if none was imported yet."""
    path = snapshot_path(data_dir)
    if not path.exists():
        return None
    return NumberStatusTable.load(path)


def import_into(
    data_dir: str | os.PathLike[str],
    csv_path: str | os.PathLike[str],
    *,
    delta: bool,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import ``csv_path`` (full, or a delta over the current snapshot) and save it atomically."""
    base = load_from(data_dir) if delta else None
    result = import_csv(csv_path, base=base, full=not delta, now=now, progress=progress)
    result.table.save(snapshot_path(data_dir))
    return result
