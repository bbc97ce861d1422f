"""Campaign fingerprints: one reported spam text blocks every variant of it.

A fingerprint is the MinHash signature of the shingles of a *masked* text:

1. each line on its own: :func:`spamgate.text.normalize` (spacing, symbols, jamo, full-width,
   look-alikes undone);
2. links, e-mail addresses and @handles removed, names before ``님`` removed (``김*수 고객님``);
3. only letters and digits kept, every run of digits replaced by ``0`` (callback numbers,
   amounts, dates and codes no longer matter);
4. shingles: character 5-grams within each line (a shingle never spans two lines), hashed by
   the vectorised n-gram hasher;
5. a 64-permutation MinHash over them, computed for a whole batch in numpy.

So a changed link or callback number, spacing/symbol obfuscation and reordered lines keep a
variant's shingle set (nearly) the same, and its estimated Jaccard similarity high.
Lookups go through datasketch's ``MinHashLSH`` (banded signatures) and every candidate is
verified by its estimated similarity.

The index is persisted as JSON lines under ``<data-dir>/campaigns/campaigns.jsonl``: an id, the
SHA-256 of the text, a short excerpt and the signature — no message body, nothing pickled. A
running pipeline notices appended lines (a ``stat`` per batch), so a campaign added with
``spamgate campaigns add`` takes effect for the next message without a restart.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from spamgate.errors import InputError
from spamgate.model.features import FeatureLayout, extract
from spamgate.text import extract_urls, normalize

__all__ = [
    "CAMPAIGN_LAYOUT",
    "CampaignIndex",
    "CampaignMatch",
    "CampaignRecord",
    "fingerprint_text",
    "signatures",
    "store_path",
]

log = logging.getLogger(__name__)

NUM_PERM = 64
LSH_THRESHOLD = 0.5
SHINGLE = 5
#: Fewer letters than this after masking and a text has no fingerprint: "0 0 0" or "니가" would
#: otherwise match every other near-empty text.
MIN_LETTERS = 8
_CHUNK = 256
_NONE = np.iinfo(np.uint32).max
_U64 = npt.NDArray[np.uint64]

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
_NAME = re.compile(r"[가-힣][*○◯xX]?[가-힣]{0,2}\*?[가-힣]?(?=[\s.·,*]*(?:고객|회원)?님)")
_NON_WORD = re.compile(r"[\W_]+")
# Separators between compatibility jamo ("보 ㅈ ㅏ ㅇ"): closed so the normaliser can recompose.
_JAMO_GAP = re.compile(r"(?<=[\u3131-\u318e])[^\w\n]+(?=[\u3131-\u318e])")
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
    text = _NAME.sub(" ", text)
    text = _NON_WORD.sub("", text)
    return _DIGITS.sub("0", text)


def fingerprint_text(text: str) -> str:
    """The masked compact lines of a raw text, joined by spaces (see the module docstring)."""
    return " ".join(m for m in (_mask_line(line) for line in text.splitlines()) if m)


def _mix(h: _U64) -> _U64:
    h = h ^ (h >> np.uint64(30))
    h = h * _M1
    h = h ^ (h >> np.uint64(27))
    h = h * _M2
    return h ^ (h >> np.uint64(31))


def signatures(texts: Sequence[str]) -> npt.NDArray[np.uint32]:
    """MinHash signatures (``len(texts)`` × 64) of raw texts, in one vectorised pass.

    A text with fewer than :data:`MIN_LETTERS` letters after masking has no fingerprint: its
    row is all ones, which :class:`CampaignIndex` neither registers nor looks up.
    """
    out = np.full((len(texts), NUM_PERM), np.iinfo(np.uint32).max, dtype=np.uint32)
    for lo in range(0, len(texts), _CHUNK):  # bounds the NUM_PERM x shingles temporaries
        out[lo : lo + _CHUNK] = _signatures([fingerprint_text(t) for t in texts[lo : lo + _CHUNK]])
    return out


def _has_content(masked: str) -> bool:
    return sum(ch.isalpha() for ch in masked) >= MIN_LETTERS


def _signatures(masked: list[str]) -> npt.NDArray[np.uint32]:
    out = np.full((len(masked), NUM_PERM), _NONE, dtype=np.uint32)
    masked = [m if _has_content(m) else "" for m in masked]
    grams = extract(masked, CAMPAIGN_LAYOUT)
    if not grams.doc.size:
        return out
    order = np.argsort(grams.doc, kind="stable")
    doc = grams.doc[order]
    hashes = grams.col[order].astype(np.uint64)
    starts = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]])
    permuted = _mix(hashes[None, :] ^ _PERM_SEEDS[:, None]) >> np.uint64(32)  # NUM_PERM x shingles
    minima = np.minimum.reduceat(permuted, starts, axis=1)
    out[doc[starts]] = minima.T.astype(np.uint32)
    return out


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    """A registered campaign as stored: no body, only its hash, an excerpt and the signature."""

    id: str
    sha256: str
    excerpt: str
    added: str
    signature: tuple[int, ...]
    source: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "sha256": self.sha256,
                "excerpt": self.excerpt,
                "added": self.added,
                "source": self.source,
                "signature": list(self.signature),
            },
            ensure_ascii=False,
        )


@dataclass(frozen=True, slots=True)
class CampaignMatch:
    """The best registered campaign for a message and the estimated Jaccard similarity."""

    campaign_id: str
    similarity: float
    excerpt: str


def store_path(data_dir: Path) -> Path:
    return data_dir / "campaigns" / "campaigns.jsonl"


class CampaignIndex:
    """Registered campaigns, searchable by MinHash LSH; optionally backed by a JSONL store."""

    def __init__(self, path: Path | None = None, *, threshold: float = LSH_THRESHOLD) -> None:
        from datasketch import MinHashLSH

        self.path = path
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        # Compact in-memory state: row number -> id/excerpt, and one uint32 signature matrix;
        # the LSH is keyed by row number.
        self._rows: dict[str, int] = {}
        self._ids: list[str] = []
        self._excerpts: list[str] = []
        self._sigs = np.zeros((0, NUM_PERM), dtype=np.uint32)
        self._offset = 0
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()
        if path is not None:
            self.refresh()

    @classmethod
    def open(cls, data_dir: Path) -> CampaignIndex:
        return cls(store_path(data_dir))

    def __len__(self) -> int:
        return len(self._ids)

    # -- persistence ----------------------------------------------------------------------

    def refresh(self) -> int:
        """Load lines appended to the store since the last look; returns how many were new."""
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
            with self.path.open("rb") as fh:
                fh.seek(self._offset)
                for raw in fh:
                    if not raw.endswith(b"\n"):
                        break  # a line still being written: read it next time
                    self._offset += len(raw)
                    record = _parse_record(raw)
                    if record is not None and self._index(record):
                        added += 1
            self._stamp = stamp
        return added

    def _index(self, record: CampaignRecord) -> bool:
        if record.id in self._rows:
            return False

        row = len(self._ids)
        if row == self._sigs.shape[0]:
            grown = np.zeros((max(1024, 2 * row), NUM_PERM), dtype=np.uint32)
            grown[:row] = self._sigs
            self._sigs = grown
        self._sigs[row] = np.array(record.signature, dtype=np.uint32)
        self._rows[record.id] = row
        self._ids.append(record.id)
        self._excerpts.append(record.excerpt)
        self._lsh.insert(row, _lean(self._sigs[row]), check_duplication=False)
        return True

    # -- adding ---------------------------------------------------------------------------

    def add_texts(self, texts: Iterable[str], *, source: str | None = None) -> list[str]:
        """Register each text as a campaign (duplicates skipped); returns the new ids."""
        texts = [t for t in texts if t and t.strip()]
        sigs = signatures(texts)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        new: list[CampaignRecord] = []
        for text, sig in zip(texts, sigs, strict=True):
            if np.all(sig == _NONE):
                continue
            norm = normalize(text).text
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            record = CampaignRecord(
                id="c-" + hashlib.sha256(sig.astype("<u4").tobytes()).hexdigest()[:16],
                sha256=digest,
                excerpt=norm[:40],
                added=now,
                signature=tuple(int(v) for v in sig),
                source=source,
            )
            if record.id not in self._rows and all(r.id != record.id for r in new):
                new.append(record)
        if self.path is not None and new:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                for record in new:
                    fh.write(record.to_json() + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self.refresh()
        else:
            for record in new:
                self._index(record)
        return [r.id for r in new]

    # -- matching -------------------------------------------------------------------------

    def match_many(
        self, texts: Sequence[str], *, min_similarity: float = 0.0
    ) -> list[CampaignMatch | None]:
        """The best campaign (similarity >= ``min_similarity``) for each raw text."""
        if not self._ids or not texts:
            return [None] * len(texts)
        sigs = signatures(texts)
        out: list[CampaignMatch | None] = []
        for sig in sigs:
            best: CampaignMatch | None = None
            rows = [] if np.all(sig == _NONE) else list(self._lsh.query(_lean(sig)))
            if rows:
                similarity = np.mean(self._sigs[rows] == sig, axis=1)
                top = int(np.argmax(similarity))
                if similarity[top] >= min_similarity:
                    row = rows[top]
                    best = CampaignMatch(
                        self._ids[row], float(similarity[top]), self._excerpts[row]
                    )
            out.append(best)
        return out


def _lean(signature: npt.NDArray[np.uint32]) -> Any:
    from datasketch import LeanMinHash

    return LeanMinHash(seed=1, hashvalues=signature.astype(np.uint64), scheme="affine64")


def _parse_record(raw: bytes) -> CampaignRecord | None:
    try:
        data: dict[str, Any] = json.loads(raw.decode("utf-8"))
        signature = tuple(int(v) for v in data["signature"])
        if len(signature) != NUM_PERM:
            raise ValueError("signature length")
        return CampaignRecord(
            id=str(data["id"]),
            sha256=str(data["sha256"]),
            excerpt=str(data.get("excerpt", ""))[:60],
            added=str(data.get("added", "")),
            signature=signature,
            source=data.get("source"),
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        log.error("campaign store: skipped an unreadable line: %s", exc)
        return None


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
