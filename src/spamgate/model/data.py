"""Reading labelled CSVs, de-duplicating them and splitting them the way SOURCES.md does.

Split rule (the same for every data set, so a message held out in one is held out in all):

* ``dedup_key``: HTML-unescape, NFKC, casefold, whitespace collapsed to one space. Exact
  duplicates on it are merged (across all files given): majority label, ties to the more
  severe label (smishing > spam > ham).
* ``group_key``: ``dedup_key`` with everything but letters and digits removed and every run of
  digits replaced by ``0``; ``bucket = int(sha1(group_key)) % 100``.
* bucket < 20: held out (never trained on, never used here); 20 <= bucket < 35: validation
  (thresholds and calibration are picked there); the rest: training.

The Korean synthetic set carries a ``category`` column. Its four ``ad_*`` spam categories break
the advertising law only through the envelope or the time (SOURCES.md): a text-only model must not
learn them, so those rows are left out; its ``smishing_*`` spam categories become the finer label
``smishing``. Errors name the file and the 1-based data row, never the text.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spamgate.errors import InputError

__all__ = [
    "LABELS",
    "LAW_ONLY_CATEGORIES",
    "NON_SMS_HAM_SOURCES",
    "DataFile",
    "Example",
    "bucket_of",
    "dedup_key",
    "group_key",
    "load_examples",
    "read_csv",
    "split_of",
]

#: Text labels, from mildest to most severe (ties in a merge go to the more severe).
LABELS = ("ham", "spam", "smishing")
_SEVERITY = {label: i for i, label in enumerate(LABELS)}
URL_LABELS = ("legitimate", "phishing")

#: Synthetic-set categories that only the law checks (envelope, time) can decide.
LAW_ONLY_CATEGORIES = frozenset({"ad_no_prefix", "ad_prefix_variant", "ad_no_optout", "ad_night"})

#: Data sets whose ``ham`` is not SMS traffic (kim2024's normal class is online comments and
#: chat): kept for training, but left out when thresholds are set on ham false positives.
NON_SMS_HAM_SOURCES = ("kor_phishing_kim2024",)

_WS = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
MAX_FILE_BYTES = 512 * 1024 * 1024


def dedup_key(text: str) -> str:
    """HTML-unescape, NFKC, casefold, collapse whitespace (SOURCES.md)."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", html.unescape(text)).casefold()).strip()


def group_key(text: str) -> str:
    """``dedup_key`` with only letters and digits left and digit runs replaced by ``0``."""
    kept = "".join(ch for ch in dedup_key(text) if ch.isalpha() or ch.isdigit())
    return _DIGITS.sub("0", kept)


def bucket_of(key: str) -> int:
    """``int(sha1(key)) % 100`` — the split bucket of a group key (or a URL's domain)."""
    return int(hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest(), 16) % 100


def split_of(bucket: int) -> str:
    """``holdout`` (< 20), ``validation`` (20..34) or ``train``."""
    if bucket < 20:
        return "holdout"
    return "validation" if bucket < 35 else "train"


@dataclass(frozen=True, slots=True)
class DataFile:
    """A training file as the model metadata records it."""

    name: str
    sha256: str
    rows: int

    def to_dict(self) -> dict[str, object]:
        return {"file": self.name, "sha256": self.sha256, "rows": self.rows}


@dataclass(slots=True)
class Example:
    """One de-duplicated text with its merged label, the files it came from and its split."""

    text: str
    label: str
    sources: set[str] = field(default_factory=set)
    category: str | None = None
    bucket: int = 0

    @property
    def split(self) -> str:
        return split_of(self.bucket)

    @property
    def is_spam(self) -> bool:
        return self.label != "ham"


def _decode(path: Path) -> tuple[str, str]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{path.name}: file too large ({size:,} bytes)")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(f"is a directory, not a CSV file: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path.name} is not UTF-8 (bad byte at offset {exc.start}, line {line}); "
            "re-save it as UTF-8"
        ) from None
    return text, hashlib.sha256(raw).hexdigest()


def read_csv(
    path: Path, *, column: str = "text", labels: Sequence[str] = LABELS
) -> tuple[list[dict[str, str]], DataFile]:
    """The rows of a ``label,<column>`` CSV (extra columns kept), checked; and its record.

    Raises :class:`InputError` for a missing file, non-UTF-8 bytes, a missing column, an
    unknown label or an empty text, naming the file and data row.
    """
    text, digest = _decode(path)
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise InputError(f"{path.name}: cannot parse the header: {exc}") from None
    for needed in ("label", column):
        if needed not in header:
            raise InputError(
                f"{path.name}: no '{needed}' column (expected a 'label,{column}' header; "
                f"found: {', '.join(header)[:200] or 'nothing'})"
            )
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    allowed = set(labels)
    try:
        for index, row in enumerate(reader, start=1):
            if None in row or any(v is None for v in row.values()):
                raise InputError(
                    f"{path.name}: row {index}: the number of fields differs from the header "
                    "(quote texts that contain commas)",
                    row=index,
                )
            label = (row.get("label") or "").strip().lower()
            if label not in allowed:
                raise InputError(
                    f"{path.name}: row {index}: unknown label {label[:20]!r} "
                    f"(expected one of {', '.join(labels)})",
                    row=index,
                )
            value = (row.get(column) or "").strip()
            if not value:
                raise InputError(f"{path.name}: row {index}: empty {column}", row=index)
            rows.append({**row, "label": label, column: value})
    except csv.Error as exc:
        raise InputError(f"{path.name}: malformed CSV near row {len(rows) + 1}: {exc}") from None
    if not rows:
        raise InputError(f"{path.name}: no data rows")
    return rows, DataFile(path.name, digest, len(rows))


def _source_name(path: Path) -> str:
    name = path.name
    for suffix in (".train.csv", ".csv"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def load_examples(paths: Iterable[Path]) -> tuple[list[Example], list[DataFile], Counter[str]]:
    """Read, merge and split every file; returns examples, file records and what was dropped.

    Raises :class:`InputError` if no usable rows remain or only one class (ham vs spam) is left.
    """
    merged: dict[str, tuple[Counter[str], Example]] = {}
    files: list[DataFile] = []
    dropped: Counter[str] = Counter()
    for path in paths:
        rows, record = read_csv(path)
        files.append(record)
        source = _source_name(path)
        for row in rows:
            label = row["label"]
            category = row.get("category") or None
            if category in LAW_ONLY_CATEGORIES:
                dropped["law_only_category"] += 1
                continue
            if label == "spam" and category is not None and category.startswith("smishing"):
                label = "smishing"
            key = dedup_key(row["text"])
            found = merged.get(key)
            if found is None:
                example = Example(row["text"], label, {source}, category)
                merged[key] = (Counter({label: 1}), example)
            else:
                found[0][label] += 1
                found[1].sources.add(source)
                dropped["duplicate"] += 1
    examples: list[Example] = []
    for key, (votes, example) in merged.items():
        top = max(votes.values())
        example.label = max((lb for lb, n in votes.items() if n == top), key=_SEVERITY.__getitem__)
        example.bucket = bucket_of(group_key(key))
        examples.append(example)
    if not examples:
        raise InputError("no usable training rows")
    classes = {e.is_spam for e in examples}
    if len(classes) < 2:
        only = "spam/smishing" if True in classes else "ham"
        names = ", ".join(f.name for f in files)
        raise InputError(
            f"the training data ({names}) has only one class ({only}): a classifier needs "
            "both ham and spam or smishing rows"
        )
    return examples, files, dropped
