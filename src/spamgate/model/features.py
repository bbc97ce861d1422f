"""Hashed n-gram features, computed for a whole batch at once with numpy.

The layout is scikit-learn's ``HashingVectorizer`` family — character n-grams inside word
boundaries (``char_wb``) plus word unigrams and bigrams, hashed into a fixed number of columns —
but extracted by array arithmetic over the concatenated batch instead of a Python loop per
message. scikit-learn's char_wb analyzer costs about 130 µs a message here; this costs a few µs,
which is what makes batch scoring at gateway rates possible.

How a batch is hashed (``FeatureLayout`` names every choice, and its hash goes into the model):

* Each text is whitespace-collapsed and the batch is joined as ``" t0 t1 … "``: one space pads
  every word on both sides, as in char_wb.
* A character n-gram (``char_min``..``char_max``) is any substring with no space inside it (a
  space may only be its first or last character), so it never spans words or messages. A
  lone space is not a feature.
* A word token is a maximal run of word characters (``str.isalnum`` or ``_``, BMP only) of
  length ≥ ``min_token_len``; word n-grams are runs of 1..``word_max`` consecutive tokens.
* Substrings are hashed with a polynomial prefix hash modulo 2**64 (any substring's hash in O(1)
  from prefix sums), salted by block and length, mixed with the splitmix64 finaliser, and folded
  into ``n_features`` columns.
* The content layout adds a third block: character n-grams (``compact_min``..``compact_max``) of
  the text with everything but letters and digits removed, so spacing and symbols inserted into
  words (``w o n``, ``대.출``) cannot hide them.
* With ``url_tokens``, each link in a Korean text is first replaced by its registered domain and,
  where the kind of link is telling, a token for it (:mod:`spamgate.model.url_tokens`): a path's
  random n-grams say nothing.
* Value of a feature: its count divided by the square root of the number of n-grams of its block
  (char, word or compact) in the message. This is linear in the occurrences, so a score is a
  ``bincount`` of coefficients — no sparse matrix is needed on the hot path.

Every n-gram keeps its (start, length) in the joined batch, so :func:`ngram_strings` can name the
n-grams behind a column for explanations — the same code path, so names always match columns.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from spamgate.model.url_tokens import VERSION as URL_TOKENS_VERSION
from spamgate.model.url_tokens import with_url_tokens

__all__ = [
    "CONTENT_LAYOUT",
    "LANGUAGES",
    "URL_LAYOUT",
    "FeatureLayout",
    "Ngrams",
    "extract",
    "language_of",
    "ngram_strings",
    "to_matrix",
]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

_P = np.uint64(0x100000001B3)  # odd, so invertible modulo 2**64
_P_INV = np.uint64(pow(0x100000001B3, -1, 2**64))
_SALT_CHAR = np.uint64(0x9E3779B97F4A7C15)
_SALT_WORD = np.uint64(0xC2B2AE3D27D4EB4F)
_SALT_BIGRAM = np.uint64(0x165667B19E3779F9)
_SALT_COMPACT = np.uint64(0x27D4EB2F165667C5)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_SPACE = 32


@dataclass(frozen=True, slots=True)
class FeatureLayout:
    """Every choice that decides which column an n-gram lands in. Part of the model contract."""

    scheme: str
    n_features: int
    char_min: int
    char_max: int
    word_max: int
    min_token_len: int
    text: str
    n_numeric: int = 0
    compact_min: int = 0
    compact_max: int = 0
    compact_scale: float = 1.0
    #: Links in Korean texts are replaced by site + kind tokens first: the ``VERSION`` of
    #: :mod:`spamgate.model.url_tokens`, or "" for links as written.
    url_tokens: str = ""

    def __post_init__(self) -> None:
        nf = self.n_features
        if nf < 2 or nf & (nf - 1):
            raise ValueError("n_features must be a power of two")
        if not 1 <= self.char_min <= self.char_max <= 8 or not 0 <= self.word_max <= 3:
            raise ValueError("unsupported n-gram ranges")
        if self.compact_max and not 1 <= self.compact_min <= self.compact_max <= 8:
            raise ValueError("unsupported compact n-gram range")
        if self.url_tokens not in ("", URL_TOKENS_VERSION):
            raise ValueError(f"unknown url_tokens scheme {self.url_tokens!r}")

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        if not self.url_tokens:  # layouts from before the field keep their hash
            del out["url_tokens"]
        return out

    @property
    def layout_hash(self) -> str:
        """SHA-256 (hex, 16 chars) of the canonical JSON of the layout."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    @property
    def width(self) -> int:
        """Columns of the feature matrix: hashed n-grams, then the numeric features."""
        return self.n_features + self.n_numeric


#: The content model's layout: char_wb 1-5 + word 1-2 over ``normalize(text).text``.
CONTENT_LAYOUT = FeatureLayout(
    scheme="spamgate-ngram-hash/1",
    n_features=2**19,
    char_min=1,
    char_max=5,
    word_max=2,
    min_token_len=2,
    text="spamgate.text.normalize(text).text",
    compact_min=3,
    compact_max=5,
    compact_scale=6.0,
    url_tokens=URL_TOKENS_VERSION,
)

#: The URL model's layout: char 2-5 over the scheme-less lower-cased URL, no words, + numerics.
URL_LAYOUT = FeatureLayout(
    scheme="spamgate-ngram-hash/1",
    n_features=2**18,
    char_min=2,
    char_max=5,
    word_max=0,
    min_token_len=2,
    text="spamgate.model.url.url_text(url)",
    n_numeric=12,
)


#: Language groups that may get their own thresholds (``TrainOptions.language_thresholds``):
#: Korean SMS ham (delivery notices, card alerts, lawful ads) scores higher than English ham.
LANGUAGES = ("ko", "other")
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
_LETTER = re.compile(r"[^\W\d_]")
_has_hangul = re.compile(r"[\uac00-\ud7a3]").search
_URLISH = re.compile(r"\S*(?:://|www\.)\S*|\S+\.[a-z]{2,}/\S*", re.IGNORECASE)


def language_of(text: str) -> str:
    """``ko`` when at least a tenth of the letters are Hangul, else ``other`` (cheap: two scans).

    Links are left out and a tenth suffices: a short Korean lure with a long Latin link, or with
    an English brand name, is still Korean."""
    text = _URLISH.sub(" ", text)
    letters = len(_LETTER.findall(text))
    return "ko" if letters and len(_HANGUL.findall(text)) * 10 >= letters else "other"


@dataclass(frozen=True, slots=True)
class Ngrams:
    """The n-grams of a batch: one entry per occurrence.

    ``doc`` is the message index, ``col`` the hashed column, ``value`` the feature value of one
    occurrence (1/sqrt(block size)), ``start``/``length`` locate it in ``joined`` (word bigrams
    span both tokens and the characters between them).
    """

    doc: I64
    col: I64
    value: F64
    start: I64
    length: I64
    joined: str
    n_docs: int


@lru_cache(maxsize=1)
def _word_table() -> npt.NDArray[np.bool_]:
    """``True`` for BMP code points that are word characters (``\\w`` in ``re``)."""
    table = np.zeros(0x10000, dtype=np.bool_)
    for cp in range(0x10000):
        ch = chr(cp)
        if ch.isalnum() or ch == "_":
            table[cp] = True
    return table


_CHAR_SALTS = np.array([(int(_SALT_CHAR) * n) % 2**64 for n in range(9)], dtype=np.uint64)
_COMPACT_SALTS = np.array(
    [(int(_SALT_COMPACT) * (n + 11)) % 2**64 for n in range(9)], dtype=np.uint64
)
_NON_WORD = re.compile(r"[\W_]+")
_tables: dict[str, U64] = {}


def _mix(h: U64) -> U64:
    """splitmix64's finaliser: spreads a 64-bit hash over all bits (array ops wrap mod 2**64)."""
    h = h ^ (h >> np.uint64(30))
    h = h * _M1
    h = h ^ (h >> np.uint64(27))
    h = h * _M2
    return h ^ (h >> np.uint64(31))


def _fold(h: U64, n_features: int) -> I64:
    return (h >> np.uint64(20)).astype(np.int64) & (n_features - 1)


def _power_tables(n: int) -> tuple[U64, U64]:
    """P**i and P**-i modulo 2**64 for i < n, grown by doubling and shared by every call."""
    pw = _tables.get("pw")
    if pw is None or pw.shape[0] < n:
        size = max(1024, 1 << (n - 1).bit_length())
        ones = np.full(size, _P, dtype=np.uint64)
        ones[0] = 1
        pw = np.cumprod(ones, dtype=np.uint64)
        ones = np.full(size, _P_INV, dtype=np.uint64)
        ones[0] = 1
        inv = np.cumprod(ones, dtype=np.uint64)
        _tables["inv"] = inv
        _tables["pw"] = pw
    return _tables["pw"], _tables["inv"]


def _make_spans(length: int, low: int, high: int) -> tuple[I64, I64, I64]:
    # Same order as before (all starts for n = low, then n = low + 1, ...), built from slices
    # of one range instead of a tiled and filtered one.
    starts = _range(length)
    counts = [max(length - n + 1, 0) for n in range(low, high + 1)]
    a = np.concatenate([starts[:c] for c in counts])
    n = np.repeat(np.arange(low, high + 1, dtype=np.int64), counts)
    return a, n, a + n


# Only short lengths are cached: the arrays for length L take about 120·L bytes per (low, high),
# so caching every length up to 4,096 held hundreds of MB in a gateway. Up to 256 (97 % of the
# shared corpus's texts) the cache holds at most about 6 MB; up to 512 it grew to 25 MB in a
# judging process, from small batches of every joined length. A longer text (or batch) pays about
# 10 µs to build its spans.
_CACHED_LENGTH = 256


@lru_cache(maxsize=2048)
def _spans_cached(length: int, low: int, high: int) -> tuple[I64, I64, I64]:
    out = _make_spans(length, low, high)
    for arr in out:
        arr.flags.writeable = False
    return out


_ranges: dict[str, I64] = {}


def _range(length: int) -> I64:
    """``arange(length)`` as a view of one shared, growing range."""
    base = _ranges.get("range")
    if base is None or base.shape[0] < length:
        base = np.arange(max(4096, 1 << max(length - 1, 1).bit_length()), dtype=np.int64)
        base.flags.writeable = False
        _ranges["range"] = base
    return base[:length]


def _spans(length: int, low: int, high: int) -> tuple[I64, I64, I64]:
    """Every (start, n, end) with ``low <= n <= high`` inside ``length`` (cached for short texts:
    the per-message path pays for these arrays once per length, not once per message)."""
    if length <= _CACHED_LENGTH:
        return _spans_cached(length, low, high)
    return _make_spans(length, low, high)


def _block_values(doc: I64, n_docs: int) -> F64:
    counts = np.bincount(doc, minlength=n_docs).astype(np.float64)
    counts[counts == 0] = 1.0
    out: F64 = (1.0 / np.sqrt(counts))[doc]
    return out


_EMPTY_I = np.zeros(0, dtype=np.int64)


def _char_block(
    docs: list[I64],
    cols: list[I64],
    vals: list[F64],
    starts: list[I64],
    lengths: list[I64],
    a: I64,
    n: I64,
    h: U64,
    doc_pos: I64,
    n_docs: int,
    nf: int,
) -> None:
    d = doc_pos[a]
    docs.append(d)
    cols.append(_fold(_mix(h), nf))
    vals.append(_block_values(d, n_docs))
    starts.append(a)
    lengths.append(n)


def extract(texts: Sequence[str], layout: FeatureLayout) -> Ngrams:
    """All n-gram occurrences of ``texts`` under ``layout`` (texts already normalised)."""
    if layout.url_tokens:
        # Korean: any Hangul syllable (language_of's share of letters costs ten times more);
        # with_url_tokens itself skips, cheaply, the texts that cannot hold a link
        texts = [with_url_tokens(t) if _has_hangul(t) else t for t in texts]
    grams = _extract(
        texts,
        layout.char_min,
        layout.char_max,
        layout.word_max,
        layout.min_token_len,
        layout.n_features,
        _CHAR_SALTS,
    )
    if not layout.compact_max or not grams.n_docs:
        return grams
    # The compact view: letters and digits only, so "w o n", "w.o.n" and "won" share n-grams.
    compact = _extract(
        [_NON_WORD.sub("", t) for t in texts],
        layout.compact_min,
        layout.compact_max,
        0,
        0,
        layout.n_features,
        _COMPACT_SALTS,
    )
    offset = len(grams.joined) + 1
    return Ngrams(
        doc=np.concatenate([grams.doc, compact.doc]),
        col=np.concatenate([grams.col, compact.col]),
        value=np.concatenate([grams.value, compact.value * layout.compact_scale]),
        start=np.concatenate([grams.start, compact.start + offset]),
        length=np.concatenate([grams.length, compact.length]),
        joined=grams.joined + "\n" + compact.joined,
        n_docs=grams.n_docs,
    )


def _extract(
    texts: Sequence[str],
    char_min: int,
    char_max: int,
    word_max: int,
    min_token_len: int,
    nf: int,
    salts: U64,
) -> Ngrams:
    parts = [" ".join(t.split()) for t in texts]
    n_docs = len(parts)
    joined = " " + " ".join(parts) + " "
    if not n_docs:
        return Ngrams(_EMPTY_I, _EMPTY_I, np.zeros(0), _EMPTY_I, _EMPTY_I, joined, 0)
    raw = joined.encode("utf-32-le", errors="surrogatepass")
    cp = np.frombuffer(raw, dtype=np.uint32).astype(np.uint64)
    length = cp.shape[0]
    is_space = cp == _SPACE
    # The message of each position: a message owns its leading space, so every allowed n-gram
    # (no space inside) belongs to the message of its first character.
    if n_docs == 1:
        doc_pos = np.zeros(length, dtype=np.int64)
    else:
        sizes = np.fromiter((len(p) + 1 for p in parts), dtype=np.int64, count=n_docs)
        sizes[-1] += 1
        doc_pos = np.repeat(np.arange(n_docs, dtype=np.int64), sizes)
    pw, inv = _power_tables(length + 1)
    prefix = np.zeros(length + 1, dtype=np.uint64)
    np.cumsum(cp * pw[:length], out=prefix[1:])
    docs: list[I64] = []
    cols: list[I64] = []
    vals: list[F64] = []
    starts: list[I64] = []
    lengths: list[I64] = []

    # character n-grams, one size at a time: for a fixed n every start is a contiguous slice, so
    # hashing and filtering are slice arithmetic and one boolean compress, not gathers
    spaces_before = np.zeros(length + 1, dtype=np.int64)
    np.cumsum(is_space, out=spaces_before[1:])
    if length <= 4096:  # the per-message path: reuse the cached span arrays
        a_all, n_all, end_all = _spans(length, char_min, char_max)
        interior = spaces_before[end_all - 1] - spaces_before[a_all + 1]
        ok = (interior == 0) & ~(is_space[a_all] & is_space[end_all - 1])
        a, n = a_all[ok], n_all[ok]
        if a.size:
            h = (prefix[a + n] - prefix[a]) * inv[a] ^ salts[n]
            _char_block(docs, cols, vals, starts, lengths, a, n, h, doc_pos, n_docs, nf)
    else:
        a_parts: list[I64] = []
        n_parts: list[I64] = []
        h_parts: list[U64] = []
        for size in range(char_min, char_max + 1):
            m = length - size + 1
            if m <= 0:
                break
            # spaces strictly inside (for size 1 this is minus "is a space": 0 = not a space)
            interior = spaces_before[size - 1 : size - 1 + m] - spaces_before[1 : 1 + m]
            ok = (interior == 0) & ~(is_space[:m] & is_space[size - 1 : size - 1 + m])
            hashed = (prefix[size : size + m] - prefix[:m]) * inv[:m]
            h_parts.append(hashed[ok] ^ salts[size])
            picked = np.flatnonzero(ok)
            a_parts.append(picked)
            n_parts.append(np.full(picked.shape[0], size, dtype=np.int64))
        if a_parts:
            a = np.concatenate(a_parts)
            if a.size:
                n = np.concatenate(n_parts)
                h = np.concatenate(h_parts)
                _char_block(docs, cols, vals, starts, lengths, a, n, h, doc_pos, n_docs, nf)

    # word n-grams
    if word_max >= 1:
        table = _word_table()
        is_word = table[np.minimum(cp, 0xFFFF).astype(np.int64)] & (cp < 0x10000)
        edge = np.diff(is_word.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
        t_start = np.flatnonzero(edge == 1)
        t_end = np.flatnonzero(edge == -1)
        keep = (t_end - t_start) >= min_token_len
        t_start, t_end = t_start[keep], t_end[keep]
        if t_start.size:
            t_len = t_end - t_start
            t_doc = doc_pos[t_start]
            th = _mix((prefix[t_end] - prefix[t_start]) * inv[t_start] ^ _SALT_WORD)
            w_doc, w_col, w_start, w_len = [t_doc], [_fold(th, nf)], [t_start], [t_len]
            if word_max >= 2 and t_start.size > 1:
                left = np.flatnonzero(t_doc[:-1] == t_doc[1:])
                bh = _mix(th[left] * _P + th[left + 1] ^ _SALT_BIGRAM)
                w_doc.append(t_doc[left])
                w_col.append(_fold(bh, nf))
                w_start.append(t_start[left])
                w_len.append(t_end[left + 1] - t_start[left])
            d = np.concatenate(w_doc)
            docs.append(d)
            cols.append(np.concatenate(w_col))
            vals.append(_block_values(d, n_docs))
            starts.append(np.concatenate(w_start))
            lengths.append(np.concatenate(w_len))

    if not docs:
        return Ngrams(_EMPTY_I, _EMPTY_I, np.zeros(0), _EMPTY_I, _EMPTY_I, joined, n_docs)
    return Ngrams(
        doc=np.concatenate(docs),
        col=np.concatenate(cols),
        value=np.concatenate(vals),
        start=np.concatenate(starts),
        length=np.concatenate(lengths),
        joined=joined,
        n_docs=n_docs,
    )


def to_matrix(grams: Ngrams, layout: FeatureLayout) -> sp.csr_matrix:
    """The (docs × ``layout.width``) CSR matrix of ``grams`` (duplicates summed), for training."""
    matrix = sp.coo_matrix(
        (grams.value, (grams.doc, grams.col)), shape=(grams.n_docs, layout.width)
    ).tocsr()
    matrix.sum_duplicates()
    return matrix


def ngram_strings(grams: Ngrams, mask: npt.NDArray[np.bool_]) -> list[str]:
    """The text of the n-gram occurrences selected by ``mask`` (spaces shown as ``_``)."""
    out: list[str] = []
    for a, n in zip(grams.start[mask].tolist(), grams.length[mask].tolist(), strict=True):
        out.append(grams.joined[a : a + n].replace(" ", "_"))
    return out
