"""Campaign fingerprints: one reported spam text blocks every variant of it.

A fingerprint is the MinHash signature of the shingles of a *masked* text:

1. each line on its own: :func:`spamgate.text.normalize` (spacing, symbols, jamo, full-width,
   look-alikes undone; a separator between a jamo and the look-alike letter after it, as in
   ``ㅋ r 지노``, is closed first so the normaliser can recompose the syllable);
2. links, e-mail addresses and @handles removed;
3. only letters and digits kept, then up to three syllables before ``님`` removed (the name in
   ``김*수 고객님``, however it is spaced or starred); every run of digits, and every redaction
   run such as ``xxxx`` that stands for digits, becomes ``0`` (callback numbers, amounts, dates
   and codes no longer matter);
4. shingles: character 5-grams within each line (a shingle never spans two lines), hashed by
   the vectorised n-gram hasher;
5. a 64-permutation MinHash over them, computed for a whole batch in numpy.

So a changed link or callback number, spacing/symbol obfuscation and reordered lines keep a
variant's shingle set (nearly) the same, and its estimated Jaccard similarity high. A text with
too little left after masking (:data:`MIN_INFORMATIVE`: fewer than 24 letter units, a Hangul or
Han character counting two) has no fingerprint: "인증번호 0", "transfer 0 xxxx 0" or "whatsapp
code 0" would otherwise stand for every one-time-code and balance notice there is.

Lookups go through datasketch's ``MinHashLSH`` (its banding: 14 bands of 4 rows for a 0.5
threshold) and every candidate is verified by its estimated similarity against the stored
signature. The LSH keeps its buckets in :class:`BandTable`, a datasketch storage backend of
sorted numpy arrays (band hash → row), instead of datasketch's default dict of Python sets:
about 12 bytes per campaign and band instead of about 330, which is what lets a million
campaigns fit in memory.

The index is persisted as JSON lines under ``<data-dir>/campaigns/campaigns.jsonl``: an id, the
SHA-256 of the text, a short excerpt, who added it and why, and the signature — no message body,
nothing pickled. A removal appends a tombstone line. A running pipeline notices appended lines
(a ``stat`` per batch), so a campaign added with ``spamgate campaigns add`` or the HTTP API takes
effect for the next message without a restart.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from datasketch.storage import OrderedStorage, UnorderedStorage

from spamgate.errors import InputError, ModelError
from spamgate.model.features import FeatureLayout, extract
from spamgate.text import extract_urls, normalize

__all__ = [
    "CAMPAIGN_LAYOUT",
    "MIN_INFORMATIVE",
    "BandTable",
    "CampaignIndex",
    "CampaignMatch",
    "CampaignRecord",
    "fingerprint_text",
    "informative_length",
    "read_campaign_file",
    "signatures",
    "store_path",
]

log = logging.getLogger(__name__)

NUM_PERM = 64
LSH_THRESHOLD = 0.5
SHINGLE = 5
#: Letter units a text needs after masking to get a fingerprint (a Hangul/Han character counts
#: two: one syllable carries about what two Latin letters do).
MIN_INFORMATIVE = 24
_CHUNK = 256
_NONE = np.iinfo(np.uint32).max
_DELETED = np.iinfo(np.uint32).max  # a removed row in a band table
_U64 = npt.NDArray[np.uint64]
_U32 = npt.NDArray[np.uint32]

#: Shingle hashing: character 5-grams of the masked compact text, 32-bit hashes.
CAMPAIGN_LAYOUT = FeatureLayout(
    scheme="spamgate-ngram-hash/1",
    n_features=2**32,
    char_min=SHINGLE,
    char_max=SHINGLE,
    word_max=0,
    min_token_len=2,
    text="spamgate.model.campaigns.fingerprint_text(text)",
)

_SCHEMED = re.compile(r"[a-z][a-z0-9+-]*://\S*|www\.\S*", re.IGNORECASE | re.ASCII)
_HANDLES = re.compile(r"[\w.-]+@[\w-]+\.\S+|@\w+")
# A name before 님 (고객님/회원님), matched on the compact text so that "김*수 님", "김 수님"
# and "김수님" lose the same syllables: up to three Hangul syllables.
_NAME = re.compile(r"[가-힣]{1,3}(?=(?:고객|회원)?님)")
_NON_WORD = re.compile(r"[\W_]+")
# Separators after a compatibility jamo, before another jamo or a Latin look-alike of a vowel
# ("보 ㅈ ㅏ ㅇ", "ㅋ r 지노"): closed so the normaliser can recompose the syllable.
_JAMO_GAP = re.compile(r"(?<=[\u3131-\u318e])[^\w\n]+(?=[\u3131-\u318eA-Za-z])")
# Redaction runs standing for digits ("0xxxxxx0", "****1234"): masked like the digits.
_REDACTED = re.compile(r"(?<![A-Za-z])[xX]{3,}(?![A-Za-z])")
_DIGITS = re.compile(r"\d+")

_rng = np.random.default_rng(20261126)
_PERM_SEEDS: _U64 = _rng.integers(1, 2**63, size=NUM_PERM, dtype=np.uint64)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mask_line(line: str) -> str:
    text = _SCHEMED.sub(" ", normalize(_JAMO_GAP.sub("", line)).text)
    for url in extract_urls(text):  # scheme-less links, judged against the public suffix list
        text = text.replace(url.raw, " ")
    text = _HANDLES.sub(" ", text)
    text = _REDACTED.sub("0", text)
    text = _NAME.sub("", _NON_WORD.sub("", text))
    return _DIGITS.sub("0", text)


def fingerprint_text(text: str) -> str:
    """The masked compact lines of a raw text, joined by spaces (see the module docstring)."""
    return " ".join(m for m in (_mask_line(line) for line in text.splitlines()) if m)


def informative_length(masked: str) -> int:
    """Letter units of a masked text: a Hangul or Han character counts two, other letters one,
    digits (masked to ``0``) nothing."""
    units = 0
    for ch in masked:
        if ch.isalpha():
            units += 2 if ("\uac00" <= ch <= "\ud7a3" or "\u4e00" <= ch <= "\u9fff") else 1
    return units


def _mix(h: _U64) -> _U64:
    h = h ^ (h >> np.uint64(30))
    h = h * _M1
    h = h ^ (h >> np.uint64(27))
    h = h * _M2
    return h ^ (h >> np.uint64(31))


def signatures(texts: Sequence[str]) -> _U32:
    """MinHash signatures (``len(texts)`` × 64) of raw texts, in one vectorised pass.

    A text with too little left after masking (:data:`MIN_INFORMATIVE`) has no fingerprint: its
    row is all ones, which :class:`CampaignIndex` neither registers nor looks up.
    """
    return _fingerprints(texts)[0]


def _fingerprints(texts: Sequence[str]) -> tuple[_U32, npt.NDArray[np.int64]]:
    """Signatures and the number of distinct shingles of each text."""
    out = np.full((len(texts), NUM_PERM), _NONE, dtype=np.uint32)
    counts = np.zeros(len(texts), dtype=np.int64)
    for lo in range(0, len(texts), _CHUNK):  # bounds the NUM_PERM x shingles temporaries
        masked = [fingerprint_text(t) for t in texts[lo : lo + _CHUNK]]
        out[lo : lo + _CHUNK], counts[lo : lo + _CHUNK] = _signatures(masked)
    return out, counts


def _signatures(masked: list[str]) -> tuple[_U32, npt.NDArray[np.int64]]:
    out = np.full((len(masked), NUM_PERM), _NONE, dtype=np.uint32)
    counts = np.zeros(len(masked), dtype=np.int64)
    masked = [m if informative_length(m) >= MIN_INFORMATIVE else "" for m in masked]
    grams = extract(masked, CAMPAIGN_LAYOUT)
    if not grams.doc.size:
        return out, counts
    pairs = np.unique((grams.doc.astype(np.uint64) << np.uint64(32)) | grams.col.astype(np.uint64))
    doc = (pairs >> np.uint64(32)).astype(np.int64)
    hashes = pairs & np.uint64(0xFFFFFFFF)
    starts = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]])
    permuted = _mix(hashes[None, :] ^ _PERM_SEEDS[:, None]) >> np.uint64(32)  # NUM_PERM x shingles
    minima = np.minimum.reduceat(permuted, starts, axis=1)
    out[doc[starts]] = minima.T.astype(np.uint32)
    counts[doc[starts]] = np.diff(np.r_[starts, doc.size])
    return out, counts


# -- LSH storage ------------------------------------------------------------------------------


_MERSENNE_61 = 2**61 - 1


def _band_key(band: bytes) -> int:
    """``MinHashLSH(hashfunc=...)``: a band's bytes (four 32-bit minima) folded into one
    integer below 2**61 (modulo a Mersenne prime: cheap, and the same in every process). Two
    bands that fold alike only add a candidate, which the similarity check then drops."""
    return int.from_bytes(band, "big") % _MERSENNE_61


class BandTable(UnorderedStorage):  # type: ignore[misc]
    """One LSH band's buckets for datasketch: band key → rows, in two sorted numpy arrays.

    Inserts collect in a small dict and are merged into the arrays in bulk; a removed row is
    marked in place. datasketch's own dict storage keeps a Python set per bucket (about 330
    bytes per campaign and band); this keeps 12.
    """

    _MERGE_AT = 16_384

    def __init__(self) -> None:
        self._keys: _U64 = np.zeros(0, dtype=np.uint64)
        self._rows: _U32 = np.zeros(0, dtype=np.uint32)
        # Python-level views of the arrays: bisect on them costs far less than a numpy call
        # per lookup (14 lookups a message).
        self._key_view = self._keys.data
        self._row_view = self._rows.data
        self._pending: dict[int, list[int]] = {}
        self._pending_n = 0

    def _merge(self) -> None:
        if not self._pending:
            return
        keys = np.fromiter(
            (k for k, rows in self._pending.items() for _ in rows), np.uint64, self._pending_n
        )
        rows = np.fromiter(
            (r for rs in self._pending.values() for r in rs), np.uint32, self._pending_n
        )
        order = np.argsort(keys, kind="stable")
        keys, rows = keys[order], rows[order]
        at = np.searchsorted(self._keys, keys, side="right")
        self._keys, self._rows = np.insert(self._keys, at, keys), np.insert(self._rows, at, rows)
        self._key_view, self._row_view = self._keys.data, self._rows.data
        self._pending, self._pending_n = {}, 0

    def get(self, key: int) -> list[int]:
        keys, rows = self._key_view, self._row_view
        lo = bisect.bisect_left(keys, key)
        out: list[int] = []
        while lo < len(keys) and keys[lo] == key:
            row: int = rows[lo]
            if row != _DELETED:
                out.append(row)
            lo += 1
        pending = self._pending.get(key)
        return out + pending if pending else out

    def insert(self, key: int, *vals: int, **_: Any) -> None:
        self._pending.setdefault(key, []).extend(vals)
        self._pending_n += len(vals)
        if self._pending_n >= self._MERGE_AT:
            self._merge()

    def remove_val(self, key: int, val: int, **_: Any) -> None:
        pending = self._pending.get(key)
        if pending is not None and val in pending:
            pending.remove(val)
            self._pending_n -= 1
            if not pending:
                del self._pending[key]
            return
        lo = int(np.searchsorted(self._keys, np.uint64(key), side="left"))
        hi = int(np.searchsorted(self._keys, np.uint64(key), side="right"))
        hits = np.flatnonzero(self._rows[lo:hi] == val)
        if hits.size:
            self._rows[lo + int(hits[0])] = _DELETED

    def remove(self, *keys: int, **_: Any) -> None:
        """datasketch calls this when a bucket looks empty: marked rows are enough."""

    def keys(self) -> Iterator[int]:
        yield from (int(k) for k in np.unique(self._keys))
        yield from self._pending

    def size(self) -> int:
        return int(self._keys.size) + self._pending_n

    def itemcounts(self, **_: Any) -> dict[int, int]:
        return {k: len(self.get(k)) for k in self.keys()}

    def has_key(self, key: int) -> bool:
        return bool(self.get(key))


class _RowKeys(OrderedStorage):  # type: ignore[misc]
    """datasketch's key → band-keys table, kept by :class:`CampaignIndex` itself: the band
    keys of a row are recomputed from its stored signature when it is removed."""

    def __init__(self, index: CampaignIndex) -> None:
        self._index = index

    def get(self, key: int) -> list[int]:
        return self._index._band_keys(key)

    def insert(self, key: int, *vals: int, **_: Any) -> None:
        pass  # nothing to keep: see the class docstring

    def remove(self, *keys: int, **_: Any) -> None:
        pass

    def remove_val(self, key: int, val: int, **_: Any) -> None:
        pass

    def keys(self) -> Iterator[int]:
        yield from (int(r) for r in np.flatnonzero(self._index._alive[: self._index._n]))

    def size(self) -> int:
        return len(self._index)

    def itemcounts(self, **_: Any) -> dict[int, int]:
        return {k: len(self._index._lsh.hashtables) for k in self.keys()}

    def has_key(self, key: int) -> bool:
        return 0 <= key < self._index._n and bool(self._index._alive[key])


# -- records ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    """A registered campaign as stored: no body, only its hash, an excerpt and the signature."""

    id: str
    sha256: str
    excerpt: str
    added: str
    signature: tuple[int, ...]
    source: str | None = None
    name: str | None = None
    reason: str | None = None
    added_by: str | None = None
    shingles: int | None = None

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "id": self.id,
            "sha256": self.sha256,
            "excerpt": self.excerpt,
            "added": self.added,
            "source": self.source,
        }
        for key in ("name", "reason", "added_by", "shingles"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        data["signature"] = list(self.signature)
        return json.dumps(data, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class CampaignMatch:
    """The best registered campaign for a message and the estimated Jaccard similarity."""

    campaign_id: str
    similarity: float
    excerpt: str


@dataclass(frozen=True, slots=True)
class _Tombstone:
    id: str


def store_path(data_dir: Path) -> Path:
    return data_dir / "campaigns" / "campaigns.jsonl"


def _id_of(signature: npt.NDArray[np.uint32]) -> str:
    return "c-" + hashlib.sha256(signature.astype("<u4").tobytes()).hexdigest()[:16]


_Meta = tuple[str | None, str | None, str | None, str | None, str]  # source name reason by added


class CampaignIndex:
    """Registered campaigns, searchable by MinHash LSH; optionally backed by a JSONL store.

    Memory per campaign: its signature (256 bytes), 14 band entries (12 bytes each), a 64-bit
    id, the excerpt's UTF-8 bytes and a few counters; metadata shared by many campaigns (one
    CLI file) is kept once.
    """

    def __init__(self, path: Path | None = None, *, threshold: float = LSH_THRESHOLD) -> None:
        from datasketch import MinHashLSH

        self.path = path
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM, hashfunc=_band_key)
        if not all(hasattr(self._lsh, a) for a in ("hashtables", "keys", "hashranges", "_H")):
            raise ModelError("this datasketch version keeps its LSH storage elsewhere")
        # datasketch's storage_config offers only dict, Redis and Cassandra storage: the compact
        # tables are put in place of the (empty) dict ones right after construction.
        self._lsh.hashtables = [BandTable() for _ in range(self._lsh.b)]
        self._lsh.keys = _RowKeys(self)
        self._by_id = BandTable()  # 64-bit id → row, for duplicates and lookups by id
        self._n = 0
        self._live = 0
        self._sigs = np.zeros((0, NUM_PERM), dtype=np.uint32)
        self._ids = np.zeros(0, dtype=np.uint64)
        self._alive = np.zeros(0, dtype=np.bool_)
        self._shingles = np.zeros(0, dtype=np.uint16)
        self._meta_of = np.zeros(0, dtype=np.uint32)
        self._metas: list[_Meta] = []
        self._meta_ids: dict[_Meta, int] = {}
        self._excerpt_at = np.zeros(1, dtype=np.uint64)
        self._excerpts = bytearray()
        self._offset = 0
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.RLock()
        if path is not None:
            self.refresh()

    @classmethod
    def open(cls, data_dir: Path) -> CampaignIndex:
        return cls(store_path(data_dir))

    def __len__(self) -> int:
        """Campaigns in force."""
        return self._live

    # -- persistence ----------------------------------------------------------------------

    def refresh(self) -> int:
        """Load lines appended to the store since the last look; returns how many were new.
        An unreadable store is logged and the campaigns already loaded stay in force."""
        if self.path is None:
            return 0
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return 0
        stamp = (st.st_size, st.st_mtime_ns)
        if stamp == self._stamp:
            return 0
        with self._lock:
            added = 0
            try:
                with self.path.open("rb") as fh:
                    fh.seek(self._offset)
                    for raw in fh:
                        if not raw.endswith(b"\n"):
                            break  # a line still being written: read it next time
                        self._offset += len(raw)
                        record = _parse_line(raw)
                        if isinstance(record, _Tombstone):
                            self._unindex(record.id)
                        elif record is not None and self._index(record):
                            added += 1
            except OSError as exc:  # keep judging with what is loaded; say so
                log.error(
                    "campaign store %s unreadable, keeping %d campaigns: %s",
                    self.path,
                    self._live,
                    exc,
                )
                return added
            self._stamp = stamp
        return added

    def _grow(self) -> None:
        size = max(1024, 2 * self._n)
        sigs = np.zeros((size, NUM_PERM), dtype=np.uint32)
        sigs[: self._n] = self._sigs[: self._n]
        self._sigs = sigs
        for name in ("_ids", "_alive", "_shingles", "_meta_of"):
            old = getattr(self, name)
            new = np.zeros(size, dtype=old.dtype)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)
        at = np.zeros(size + 1, dtype=np.uint64)
        at[: self._n + 1] = self._excerpt_at[: self._n + 1]
        self._excerpt_at = at

    def _row_of(self, campaign_id: str) -> int | None:
        try:
            value = int(campaign_id.removeprefix("c-"), 16)
        except ValueError:
            return None
        if not 0 <= value < 2**64:
            return None
        rows = self._by_id.get(value)
        return rows[0] if rows else None

    def _index(self, record: CampaignRecord) -> bool:
        from datasketch import LeanMinHash

        if self._row_of(record.id) is not None:
            return False
        signature = np.array(record.signature, dtype=np.uint32)
        lean = LeanMinHash(seed=1, hashvalues=signature.astype(np.uint64), scheme="affine64")
        row = self._n
        if row == self._sigs.shape[0]:
            self._grow()
        self._sigs[row] = signature
        id64 = int(record.id.removeprefix("c-"), 16)
        self._ids[row] = np.uint64(id64)
        self._by_id.insert(id64, row)
        self._alive[row] = True
        self._shingles[row] = min(record.shingles or 0, 65_535)
        meta: _Meta = (record.source, record.name, record.reason, record.added_by, record.added)
        at = self._meta_ids.get(meta)
        if at is None:
            at = self._meta_ids[meta] = len(self._metas)
            self._metas.append(meta)
        self._meta_of[row] = at
        excerpt = record.excerpt.encode("utf-8")
        self._excerpts += excerpt
        self._excerpt_at[row + 1] = self._excerpt_at[row] + len(excerpt)
        self._n += 1
        self._live += 1
        self._lsh.insert(row, lean, check_duplication=False)
        return True

    def _band_keys(self, row: int) -> list[int]:
        data = self._sigs[row].astype(np.uint64)
        return [self._lsh._H(data[lo:hi]) for lo, hi in self._lsh.hashranges]

    def _unindex(self, campaign_id: str) -> bool:
        row = self._row_of(campaign_id)
        if row is None:
            return False
        self._lsh.remove(row)
        self._by_id.remove_val(int(self._ids[row]), row)
        self._alive[row] = False
        self._live -= 1
        return True

    def _append(self, lines: Sequence[str]) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write("".join(line + "\n" for line in lines))
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise ModelError(f"cannot write the campaign store: {exc}", path=self.path) from exc

    # -- adding and removing --------------------------------------------------------------

    def prepare(
        self,
        text: str,
        *,
        source: str | None = None,
        name: str | None = None,
        reason: str | None = None,
        added_by: str | None = None,
    ) -> CampaignRecord:
        """The record ``text`` would be registered as (nothing stored yet); raises
        :class:`InputError` when too little is left after masking to fingerprint it."""
        if not text or not text.strip():
            raise InputError("the campaign text is empty", field="text")
        sigs, counts = _fingerprints([text])
        record = self._records([text], sigs, counts, source, name, reason, added_by)
        if not record:
            raise InputError(
                "too little text left once links, numbers and names are masked to fingerprint "
                "it (마스킹 후 남은 내용이 너무 적습니다)",
                field="text",
            )
        return record[0]

    def _records(
        self,
        texts: Sequence[str],
        sigs: _U32,
        counts: npt.NDArray[np.int64],
        source: str | None,
        name: str | None = None,
        reason: str | None = None,
        added_by: str | None = None,
    ) -> list[CampaignRecord]:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        out: list[CampaignRecord] = []
        for text, sig, count in zip(texts, sigs, counts, strict=True):
            if np.all(sig == _NONE):
                continue
            out.append(
                CampaignRecord(
                    id=_id_of(sig),
                    sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                    excerpt=normalize(text).text[:40],
                    added=now,
                    signature=tuple(int(v) for v in sig),
                    source=source,
                    name=name,
                    reason=reason,
                    added_by=added_by,
                    shingles=int(count),
                )
            )
        return out

    def register(self, records: Sequence[CampaignRecord]) -> list[CampaignRecord]:
        """Store and index ``records`` (those already registered are skipped); returns the
        new ones. Raises :class:`ModelError` if the store cannot be written."""
        with self._lock:
            self.refresh()
            seen: set[str] = set()
            new: list[CampaignRecord] = []
            for record in records:
                if record.id in seen or self.get(record.id) is not None:
                    continue
                seen.add(record.id)
                new.append(record)
            if not new:
                return []
            if self.path is not None:
                self._append([r.to_json() for r in new])
                self.refresh()
            else:
                for record in new:
                    self._index(record)
            return new

    def add_texts(self, texts: Iterable[str], *, source: str | None = None) -> list[str]:
        """Register each text as a campaign (duplicates skipped); returns the new ids."""
        texts = [t for t in texts if t and t.strip()]
        sigs, counts = _fingerprints(texts)
        return [r.id for r in self.register(self._records(texts, sigs, counts, source))]

    def remove(self, campaign_id: str, *, removed_by: str | None = None) -> bool:
        """Withdraw a campaign (a tombstone in the store); ``False`` if there is none."""
        with self._lock:
            self.refresh()
            if self._row_of(campaign_id) is None:
                return False
            if self.path is not None:
                line = {
                    "id": campaign_id,
                    "deleted": datetime.now(UTC).isoformat(timespec="seconds"),
                    "by": removed_by,
                }
                self._append([json.dumps(line, ensure_ascii=False)])
                self.refresh()
            else:
                self._unindex(campaign_id)
            return True

    # -- reading --------------------------------------------------------------------------

    def _record_at(self, row: int) -> CampaignRecord:
        source, name, reason, added_by, added = self._metas[int(self._meta_of[row])]
        lo, hi = int(self._excerpt_at[row]), int(self._excerpt_at[row + 1])
        shingles = int(self._shingles[row])
        return CampaignRecord(
            id=f"c-{int(self._ids[row]):016x}",
            sha256="",
            excerpt=self._excerpts[lo:hi].decode("utf-8", errors="replace"),
            added=added,
            signature=tuple(int(v) for v in self._sigs[row]),
            source=source,
            name=name,
            reason=reason,
            added_by=added_by,
            shingles=shingles or None,
        )

    def get(self, campaign_id: str) -> CampaignRecord | None:
        """A campaign in force, by id (the text's hash is not kept in memory: ``sha256`` is
        empty)."""
        row = self._row_of(campaign_id)
        return None if row is None else self._record_at(row)

    def page(self, *, limit: int = 50, offset: int = 0) -> tuple[int, list[CampaignRecord]]:
        """Campaigns in force in registration order: the total and one page."""
        with self._lock:
            rows = np.flatnonzero(self._alive[: self._n])
            return int(rows.size), [self._record_at(int(r)) for r in rows[offset : offset + limit]]

    # -- matching -------------------------------------------------------------------------

    def match_many(
        self, texts: Sequence[str], *, min_similarity: float = 0.0
    ) -> list[CampaignMatch | None]:
        """The best campaign (similarity >= ``min_similarity``) for each raw text."""
        from datasketch import LeanMinHash

        if not self._live or not texts:
            return [None] * len(texts)
        sigs = signatures(texts)
        out: list[CampaignMatch | None] = []
        with self._lock:
            for sig in sigs:
                best: CampaignMatch | None = None
                if not np.all(sig == _NONE):
                    lean = LeanMinHash(seed=1, hashvalues=sig.astype(np.uint64), scheme="affine64")
                    rows = self._lsh.query(lean)
                    if rows:
                        similarity = np.mean(self._sigs[rows] == sig, axis=1)
                        top = int(np.argmax(similarity))
                        if similarity[top] >= min_similarity:
                            row = int(rows[top])
                            lo, hi = int(self._excerpt_at[row]), int(self._excerpt_at[row + 1])
                            best = CampaignMatch(
                                f"c-{int(self._ids[row]):016x}",
                                float(similarity[top]),
                                self._excerpts[lo:hi].decode("utf-8", errors="replace"),
                            )
                out.append(best)
        return out


def _parse_line(raw: bytes) -> CampaignRecord | _Tombstone | None:
    try:
        data: dict[str, Any] = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not an object")
        if "deleted" in data:
            return _Tombstone(str(data["id"]))
        signature = tuple(int(v) for v in data["signature"])
        if len(signature) != NUM_PERM or not all(0 <= v < 2**32 for v in signature):
            raise ValueError("signature length or range")
        campaign_id = str(data["id"])
        if not re.fullmatch(r"c-[0-9a-f]{16}", campaign_id):
            raise ValueError(f"bad id {campaign_id[:24]!r}")
        shingles = data.get("shingles")
        return CampaignRecord(
            id=campaign_id,
            sha256=str(data["sha256"]),
            excerpt=str(data.get("excerpt", ""))[:60],
            added=str(data.get("added", "")),
            signature=signature,
            source=_opt_str(data.get("source")),
            name=_opt_str(data.get("name")),
            reason=_opt_str(data.get("reason")),
            added_by=_opt_str(data.get("added_by")),
            shingles=int(shingles) if shingles is not None else None,
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        log.error("campaign store: skipped an unreadable line: %s", exc)
        return None


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)[:500]


def read_campaign_file(path: Path) -> list[str]:
    """Campaign texts from ``path``: a CSV's ``text`` column, or a whole text file as one."""
    from spamgate.batch import read_rows

    if path.suffix.lower() == ".csv":
        texts = [r.fields.text for r in read_rows(path) if r.fields is not None and r.fields.text]
        if not texts:
            raise InputError(f"{path.name}: no campaign texts")
        return texts
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    if not text:
        raise InputError(f"{path.name} is empty")
    return [text]
