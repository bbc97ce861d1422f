"""Scoring with a content model: batched probabilities and per-message explanations.

A score is ``sigmoid(a * (x · w + b) + c)``: the linear model's margin over the hashed n-gram
features (see :mod:`spamgate.model.features`), then the Platt calibration fitted on the
validation split. The dot product is a ``bincount`` over the batch's n-gram occurrences, which is
much cheaper per call than scikit-learn's ``predict_proba``.

An explanation lists the n-grams whose contributions (coefficient × feature value) pushed the
score up the most; the names come from the same extraction that produced the columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from spamgate.model.artifact import Artifact, ModelError, load_artifact
from spamgate.model.features import CONTENT_LAYOUT, Ngrams, extract, language_of
from spamgate.model.url_tokens import token_label
from spamgate.text import normalize

__all__ = [
    "BATCH",
    "ContentModel",
    "ContentScore",
    "default_model_path",
    "row_thresholds",
    "sigmoid",
]

#: Messages hashed per chunk: large enough to amortise numpy's per-call cost, small enough to
#: stay in cache.
BATCH = 1024


def sigmoid(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out


def default_model_path() -> Path:
    """The model shipped inside the package."""
    return Path(str(resources.files("spamgate.model") / "default"))


def row_thresholds(
    thresholds: dict[str, float], name: str, texts: Sequence[str]
) -> npt.NDArray[np.float64]:
    """Each text's threshold ``name`` (e.g. ``fpr_0.005``): its language's own
    (``ko:fpr_0.005``, picked on that language's validation ham) when there is one."""
    shared = thresholds[name]
    return np.array(
        [thresholds.get(f"{language_of(t)}:{name}", shared) for t in texts], dtype=np.float64
    )


def _per_doc(grams: Ngrams, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each message's sum of ``values`` (one per n-gram occurrence)."""
    return np.asarray(np.bincount(grams.doc, weights=values, minlength=grams.n_docs), np.float64)


@dataclass(frozen=True, slots=True)
class ContentScore:
    """One message's score: calibrated spam probability, finer label, top n-grams."""

    spam_probability: float
    label: str
    top_features: tuple[str, ...] = ()


class ContentModel:
    """A loaded content model. Read-only after construction, so safe to share between threads."""

    def __init__(self, artifact: Artifact) -> None:
        layout = artifact.layout
        arrays = artifact.arrays
        for name in ("coef", "intercept"):
            if name not in arrays:
                raise ModelError(f"weights lack the array {name!r}", path=artifact.path)
        if arrays["coef"].shape != (layout.width,) or arrays["intercept"].shape != (1,):
            raise ModelError("coef/intercept shapes do not fit the layout", path=artifact.path)
        #: the artifact's path, metadata and layout; its float64 arrays are not kept (8 MB a
        #: process): the model holds the float32 copies it scores with
        self.artifact = replace(artifact, arrays={})
        self.layout = layout
        self.meta = artifact.meta
        self.model_id = artifact.meta.model_id
        self.thresholds = dict(artifact.meta.thresholds)
        # float32 halves the memory the per-n-gram gather touches; sums stay in float64.
        self._coef = arrays["coef"].astype(np.float32)
        self._intercept = float(arrays["intercept"][0])
        self._a = artifact.meta.calibration.a
        self._b = artifact.meta.calibration.b
        fine = arrays.get("fine_coef")
        fine_b = arrays.get("fine_intercept")
        if (fine is None) != (fine_b is None) or (
            fine is not None
            and fine_b is not None
            and (fine.shape != (layout.width,) or fine_b.shape != (1,))
        ):
            raise ModelError("fine_coef/fine_intercept do not fit the layout", path=artifact.path)
        self._pairs: npt.NDArray[np.uint64] | None = None
        if fine is not None:
            # Both models' weights side by side, one 8-byte item per column: scoring fetches
            # both for each n-gram with one gather from the table (the gather is most of a
            # margin's cost; two separate gathers took 60 % longer). The spam-vs-ham weights
            # are a view of it.
            table = np.stack([self._coef, fine.astype(np.float32)], axis=1)
            self._coef = table[:, 0]
            self._pairs = table.view(np.uint64).ravel()
        self._fine_b = float(fine_b[0]) if fine_b is not None else 0.0
        classes = artifact.meta.fine_classes or ["spam"]
        self._fine_classes = classes if len(classes) == 2 else ["spam", "spam"]

    @classmethod
    def load(cls, path: Path) -> ContentModel:
        """Load and verify the artifact directory at ``path`` (raises :class:`ModelError`)."""
        return cls(load_artifact(path, kind="content", layout=CONTENT_LAYOUT))

    @classmethod
    def load_default(cls) -> ContentModel:
        return cls.load(default_model_path())

    # -- scoring ---------------------------------------------------------------------------

    def _margins(self, grams: Ngrams, coef: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        return _per_doc(grams, coef[grams.col] * grams.value)

    def _calibrate(self, margin: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return sigmoid(self._a * (margin + self._intercept) + self._b)

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Spam probability of each raw text (normalised here), in one batched pass."""
        return self.predict_proba_normalized([normalize(t).text for t in texts])

    def predict_proba_normalized(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Spam probability of texts already passed through :func:`spamgate.text.normalize`."""
        out = np.empty(len(texts), dtype=np.float64)
        for lo in range(0, len(texts), BATCH):
            grams = extract(texts[lo : lo + BATCH], self.layout)
            out[lo : lo + grams.n_docs] = self._calibrate(self._margins(grams, self._coef))
        return out

    def score_normalized(
        self, texts: Sequence[str], *, explain_above: float = 0.5, k: int = 5
    ) -> list[ContentScore]:
        """Probability, finer label and (above ``explain_above``) top n-grams for each text."""
        scores: list[ContentScore] = []
        spam, other = self._fine_classes[1], self._fine_classes[0]
        for lo in range(0, len(texts), BATCH):
            grams = extract(texts[lo : lo + BATCH], self.layout)
            n = grams.n_docs
            if self._pairs is not None:
                weights = self._pairs.take(grams.col).view(np.float32).reshape(-1, 2)
                contrib = weights[:, 0] * grams.value
                fine = (_per_doc(grams, weights[:, 1] * grams.value) + self._fine_b).tolist()
            else:
                contrib = self._coef.take(grams.col) * grams.value
                fine = [0.0] * n
            proba = self._calibrate(_per_doc(grams, contrib))
            tops = self._top_many(grams, proba >= explain_above, k, contrib)
            for p, f, top in zip(proba.tolist(), fine, tops, strict=True):
                label = "ham" if p < 0.5 else spam if f > 0 else other
                scores.append(ContentScore(p, label, top))
        return scores

    def _top_many(
        self,
        grams: Ngrams,
        explain: npt.NDArray[np.bool_],
        k: int,
        contrib: npt.NDArray[np.float64],
    ) -> list[tuple[str, ...]]:
        """For each message, names of the ``k`` columns with the largest positive summed
        contributions (``contrib``: each occurrence's coefficient × value; empty where
        ``explain`` is False).

        Single characters are left out (they carry weight but explain nothing to a reader), and so
        is an n-gram that overlaps one already named. The whole batch is sorted at once: one
        message at a time cost about ten numpy calls each.
        """
        out: list[tuple[str, ...]] = [()] * grams.n_docs
        if k <= 0 or not explain.any():
            return out
        # Occurrences that cannot push the score up are dropped before grouping (a column's
        # occurrences all have its coefficient's sign: feature values are positive).
        rows = np.flatnonzero(explain[grams.doc] & (grams.length >= 2) & (contrib > 0))
        if not rows.size:
            return out
        doc = grams.doc[rows]
        col = grams.col[rows]
        key = doc * self.layout.width + col
        # Stable: the first row of each (message, column) group is its first occurrence.
        order = np.argsort(key, kind="stable")
        key_sorted = key[order]
        heads = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]])
        sums = np.add.reduceat(contrib[rows][order], heads)
        first = rows[order[heads]]
        g_doc = doc[order[heads]]
        # Per message, by contribution (largest first), ties by column (the groups are in column
        # order already): two stable sorts, about half the time of np.lexsort on three keys
        # (uint16: a chunk holds at most BATCH messages).
        by_contrib = np.argsort(-sums, kind="stable")
        ranked = by_contrib[np.argsort(g_doc[by_contrib].astype(np.uint16), kind="stable")]
        r_doc = g_doc[ranked]
        r_first = first[ranked]
        # Each message's groups are a contiguous run of `ranked`; look at most `budget` of them.
        bounds = np.flatnonzero(np.r_[True, r_doc[1:] != r_doc[:-1], True])
        joined, starts, lengths = grams.joined, grams.start, grams.length
        tokens = bool(self.layout.url_tokens)
        budget = 8 * k + 16
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            picked = r_first[lo : min(hi, lo + budget)]
            names: list[str] = []
            for start, length in zip(
                starts[picked].tolist(), lengths[picked].tolist(), strict=True
            ):
                name = joined[start : start + length].strip()
                if tokens and "url" in joined[max(0, start - 10) : start + length + 10]:
                    name = token_label(joined, start, length) or name
                # one name per idea: "http" makes "htt" and "ttp" redundant
                if len(name) < 2 or any(name in other or other in name for other in names):
                    continue
                names.append(name)
                if len(names) == k:
                    break
            out[int(r_doc[lo])] = tuple(names)
        return out

    def thresholds_for(self, texts: Sequence[str], name: str) -> npt.NDArray[np.float64]:
        """Each text's threshold ``name`` (see :func:`row_thresholds`)."""
        return row_thresholds(self.thresholds, name, texts)

    def explain(self, text: str, k: int = 5) -> list[str]:
        """The ``k`` n-grams of ``text`` (normalised here) that pushed its score up the most."""
        normalized = normalize(text).text
        grams = extract([normalized], self.layout)
        contrib = self._coef[grams.col] * grams.value
        return list(self._top_many(grams, np.ones(1, dtype=np.bool_), k, contrib)[0])

    def margin_of(self, text: str) -> float:
        """The uncalibrated margin (for tests and debugging)."""
        grams = extract([normalize(text).text], self.layout)
        return float(self._margins(grams, self._coef)[0]) + self._intercept

    def __repr__(self) -> str:
        return f"ContentModel({self.model_id!r})"
