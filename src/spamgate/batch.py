"""Batch scanning of CSV files: one verdict per row, in input order, never stopping the batch.

A bad row (ragged, not UTF-8, NUL bytes, bad field values) yields an ``error`` verdict with a
reason; only a file that cannot be read at all, or has no ``text`` column, stops the scan with an
:class:`InputError`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spamgate.domain.verdict import Verdict
from spamgate.errors import InputError
from spamgate.pipeline import MessageFields, Pipeline

__all__ = ["COLUMNS", "CsvRow", "count_rows", "read_rows", "scan_rows"]

COLUMNS = ("text", "sender", "recipient", "route", "at", "account")

# Stand-ins for bytes the csv module cannot carry: a NUL byte, and undecodable bytes (which the
# surrogateescape handler turns into lone surrogates). U+FFFE is a noncharacter: no text has it.
_NUL_MARK = "\ufffe"


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data record: its 0-based index and either fields or the reason it is unusable."""

    row: int
    fields: MessageFields | None
    error: str | None = None


def _open_text(path: Path) -> io.TextIOWrapper:
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(f"is a directory, not a CSV file: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _lines(handle: io.TextIOWrapper) -> Iterator[str]:
    for line in handle:
        yield line.replace("\x00", _NUL_MARK) if "\x00" in line else line


def _row_problem(values: list[str], width: int) -> str | None:
    if len(values) != width:
        return f"ragged row: {len(values)} fields where the header has {width}"
    for value in values:
        if _NUL_MARK in value:
            return "row contains a NUL byte"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "row is not valid UTF-8"
    return None


def read_rows(path: Path) -> Iterator[CsvRow]:
    """Yield every data record of ``path``; raise :class:`InputError` if the file is unusable."""
    with _open_text(path) as handle:
        reader = csv.reader(_lines(handle), strict=False)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(f"{path} is empty: expected a header with a 'text' column") from None
        except (UnicodeError, csv.Error) as exc:
            raise InputError(f"cannot parse the header of {path}: {exc}") from None
        names = [h.strip().lower() for h in header]
        if "text" not in names:
            raise InputError(
                f"{path} has no 'text' column (columns: {', '.join(names)[:200] or 'none'})"
            )
        index = {name: names.index(name) for name in COLUMNS if name in names}
        row = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a field larger than the csv module's limit
                yield CsvRow(row, None, f"unparseable CSV record: {exc}")
                row += 1
                continue
            if not values or values == [""]:
                continue  # blank line: not a record
            problem = _row_problem(values, len(names))
            if problem is not None:
                yield CsvRow(row, None, problem)
            else:
                get: dict[str, Any] = {
                    name: (values[i] if values[i] != "" else None) for name, i in index.items()
                }
                yield CsvRow(row, MessageFields(**get))
            row += 1


def count_rows(path: Path) -> int:
    """Number of data records (for progress); 0 if the file cannot be parsed."""
    try:
        return sum(1 for _ in read_rows(path))
    except InputError:
        return 0


#: Rows judged together: the content model scores a batch in one call, which is what makes it
#: fast; small enough that progress stays smooth and memory flat.
CHUNK_ROWS = 512


def scan_rows(
    pipeline: Pipeline, path: Path, *, chunk: int = CHUNK_ROWS
) -> Iterator[tuple[int, Verdict]]:
    """(row, verdict) for every record of ``path``, in input order, judged in chunks."""
    pending: list[CsvRow] = []
    for record in read_rows(path):
        pending.append(record)
        if len(pending) >= chunk:
            yield from _judge_chunk(pipeline, pending)
            pending = []
    yield from _judge_chunk(pipeline, pending)


def _judge_chunk(pipeline: Pipeline, records: list[CsvRow]) -> Iterator[tuple[int, Verdict]]:
    verdicts = iter(pipeline.judge_many([r.fields for r in records if r.fields is not None]))
    for record in records:
        if record.fields is None:
            verdict = Verdict.error(record.error or "unusable row", policy=pipeline.policy.name)
        else:
            verdict = next(verdicts)
        yield record.row, verdict
