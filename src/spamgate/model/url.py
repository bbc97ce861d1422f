"""The lexical phishing-URL model and URL/domain blocklists. No network at run time.

Model: character 2–5-grams of the URL as spamgate canonicalises links found in messages
(:func:`spamgate.text.extract_urls`, then scheme and a leading ``www.`` dropped, since SMS links
often come without them), hashed by :data:`URL_LAYOUT`, plus twelve standardised numeric
features (lengths, digits, dots, hyphens, path depth, IP literal, IDN, …), into one L2 logistic
regression with Platt calibration on the validation split (bucket of the registrable domain,
so every URL of a site is on one side).

Blocklists are plain text files, one entry a line, ``#`` starting a comment: a bare domain blocks
it and its subdomains, an entry with a ``/`` or a scheme blocks that URL (and anything below it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from spamgate.errors import InputError
from spamgate.model.artifact import Artifact, ModelError, load_artifact
from spamgate.model.data import URL_LABELS, bucket_of, read_csv, split_of
from spamgate.model.features import URL_LAYOUT, extract, to_matrix
from spamgate.model.metrics import binary_metrics, ranking_metrics, threshold_at_fpr
from spamgate.model.scoring import sigmoid
from spamgate.text import ExtractedUrl, extract_urls

__all__ = [
    "Blocklist",
    "UrlModel",
    "canonical_url",
    "default_url_model_path",
    "numeric_features",
    "train_url_model",
    "url_text",
]

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_SPECIAL = re.compile(r"[%=&~_@!$]")


def default_url_model_path() -> Path:
    return Path(str(resources.files("spamgate.model") / "default_url"))


def canonical_url(raw: str) -> ExtractedUrl | None:
    """The URL as spamgate reads it in a message, or ``None`` if it is not one."""
    found = extract_urls(raw.strip())
    return found[0] if found else None


def url_text(url: str) -> str:
    """What the n-grams are taken from: lower-cased, scheme, ``www.`` and a final ``/`` dropped."""
    text = _SCHEME.sub("", url.strip().lower(), count=1)
    text = text.removeprefix("www.")
    return text[:-1] if text.endswith("/") else text


def numeric_features(url: ExtractedUrl) -> list[float]:
    """Twelve lexical numbers for one URL (raw; the model standardises them)."""
    text = url_text(url.url)
    host = url.host
    rest = text[len(host) :] if text.startswith(host) else text.partition("/")[2]
    path, _, query = rest.partition("?")
    digits = sum(ch.isdigit() for ch in text)
    return [
        math.log1p(len(text)),
        math.log1p(len(host)),
        float(host.count(".")),
        float(host.count("-")),
        sum(ch.isdigit() for ch in host) / max(len(host), 1),
        digits / max(len(text), 1),
        float(path.count("/")),
        math.log1p(len(query)),
        float("@" in text),
        float(url.is_ip),
        float(url.is_idn or ":" in host),
        math.log1p(len(_SPECIAL.findall(text))),
    ]


class UrlModel:
    """A loaded URL model: ``predict_proba(urls)`` for canonical URLs, batched."""

    def __init__(self, artifact: Artifact) -> None:
        layout = artifact.layout
        arrays = artifact.arrays
        shapes = {
            "coef": (layout.width,),
            "intercept": (1,),
            "numeric_mean": (layout.n_numeric,),
            "numeric_scale": (layout.n_numeric,),
        }
        for name, shape in shapes.items():
            if name not in arrays or arrays[name].shape != shape:
                raise ModelError(
                    f"array {name} missing or not of shape {shape}", path=artifact.path
                )
        if np.any(arrays["numeric_scale"] <= 0):
            raise ModelError("numeric_scale must be positive", path=artifact.path)
        self.artifact = artifact
        self.layout = layout
        self.model_id = artifact.meta.model_id
        self.thresholds = dict(artifact.meta.thresholds)
        self._coef = arrays["coef"]
        self._intercept = float(arrays["intercept"][0])
        self._mean = arrays["numeric_mean"]
        self._scale = arrays["numeric_scale"]
        self._a = artifact.meta.calibration.a
        self._b = artifact.meta.calibration.b

    @classmethod
    def load(cls, path: Path) -> UrlModel:
        return cls(load_artifact(path, kind="url", layout=URL_LAYOUT))

    @classmethod
    def load_default(cls) -> UrlModel:
        return cls.load(default_url_model_path())

    def predict_proba(self, urls: Sequence[ExtractedUrl]) -> npt.NDArray[np.float64]:
        """Phishing probability of each URL, in one pass."""
        if not urls:
            return np.zeros(0)
        grams = extract([url_text(u.url) for u in urls], self.layout)
        sums = np.bincount(
            grams.doc, weights=self._coef[grams.col] * grams.value, minlength=grams.n_docs
        )
        numeric = (np.array([numeric_features(u) for u in urls]) - self._mean) / self._scale
        margin = np.asarray(sums, dtype=np.float64)
        margin += np.asarray(numeric @ self._coef[self.layout.n_features :], dtype=np.float64)
        return sigmoid(self._a * (margin + self._intercept) + self._b)

    def __repr__(self) -> str:
        return f"UrlModel({self.model_id!r})"


@dataclass(frozen=True, slots=True)
class Blocklist:
    """Blocked domains (with their subdomains) and URL prefixes."""

    domains: frozenset[str] = frozenset()
    urls: tuple[str, ...] = ()

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> Blocklist:
        domains: set[str] = set()
        urls: set[str] = set()
        for line in lines:
            entry = line.split("#", 1)[0].strip()
            if not entry:
                continue
            if "/" in entry:
                found = canonical_url(entry)
                if found is not None:
                    urls.add(url_text(found.url))
                continue
            found = canonical_url(entry)
            host = found.host if found is not None else entry.lower().strip(".")
            domains.add(host.removeprefix("www."))
        return cls(frozenset(domains), tuple(sorted(urls)))

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> Blocklist:
        """Read every file; raises :class:`InputError` naming a file that cannot be read."""
        lines: list[str] = []
        for path in paths:
            try:
                lines.extend(path.read_text(encoding="utf-8").splitlines())
            except FileNotFoundError:
                raise InputError(f"blocklist not found: {path}") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read blocklist {path}: {exc}") from None
        return cls.from_lines(lines)

    def __len__(self) -> int:
        return len(self.domains) + len(self.urls)

    def match(self, url: ExtractedUrl) -> str | None:
        """The entry that blocks ``url``, or ``None``."""
        labels = url.host.removeprefix("www.").split(".")
        for i in range(len(labels) - 1):
            candidate = ".".join(labels[i:])
            if candidate in self.domains:
                return candidate
        if url.host in self.domains:
            return url.host
        text = url_text(url.url)
        for prefix in self.urls:
            if text == prefix or text.startswith(prefix.rstrip("/") + "/"):
                return prefix
        return None


def _platt(margin: npt.NDArray[np.float64], y: npt.NDArray[np.bool_]) -> tuple[float, float]:
    from spamgate.model.train import _platt as platt

    return platt(margin, y)


def train_url_model(
    paths: Sequence[Path], *, seed: int = 20261126, c: float = 4.0, model_id: str
) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """Train on ``label,url`` CSVs (``legitimate``/``phishing``); returns metadata and arrays."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from spamgate.model.data import DataFile

    seen: set[str] = set()
    rows: list[tuple[ExtractedUrl, bool, int]] = []
    files: list[DataFile] = []
    skipped = 0
    for path in paths:
        records, record = read_csv(path, column="url", labels=URL_LABELS)
        files.append(record)
        for row in records:
            url = canonical_url(row["url"])
            if url is None:
                skipped += 1
                continue
            key = url_text(url.url)
            if key in seen:
                continue
            seen.add(key)
            rows.append((url, row["label"] == "phishing", bucket_of(url.registered_domain)))
    y_all = np.array([r[1] for r in rows])
    if not rows or y_all.all() or not y_all.any():
        raise InputError("URL training data needs both legitimate and phishing rows")
    split = [split_of(r[2]) for r in rows]
    train = [r for r, s in zip(rows, split, strict=True) if s == "train"]
    val = [r for r, s in zip(rows, split, strict=True) if s == "validation"]
    layout = URL_LAYOUT

    def matrix(part: list[tuple[ExtractedUrl, bool, int]], mean: Any, scale: Any) -> Any:
        grams = extract([url_text(r[0].url) for r in part], layout)
        hashed = to_matrix(grams, layout)[:, : layout.n_features]
        numeric = (np.array([numeric_features(r[0]) for r in part]) - mean) / scale
        return sp.hstack([hashed, sp.csr_matrix(numeric)], format="csr")

    raw_numeric = np.array([numeric_features(r[0]) for r in train])
    mean = raw_numeric.mean(axis=0)
    scale = raw_numeric.std(axis=0)
    scale[scale < 1e-6] = 1.0
    x_train = matrix(train, mean, scale)
    y_train = np.array([r[1] for r in train])
    model = LogisticRegression(
        C=c, solver="liblinear", dual=True, max_iter=10000, tol=1e-4, random_state=seed
    )
    model.fit(x_train, y_train.astype(np.int8))
    coef = model.coef_.ravel().astype(np.float32).astype(np.float64)
    intercept = float(model.intercept_[0])
    y_val = np.array([r[1] for r in val])
    if val and y_val.any() and not y_val.all():
        margin = matrix(val, mean, scale) @ coef + intercept
        a, b = _platt(margin, y_val)
        fitted_on = "validation"
    else:
        margin = np.zeros(0)
        a, b = _platt(x_train @ coef + intercept, y_train)
        fitted_on = "train"
    proba = sigmoid(a * margin + b)
    legit = proba[~y_val] if fitted_on == "validation" else np.zeros(0)
    thresholds = {f"fpr_{f:g}": threshold_at_fpr(legit, f) for f in (0.001, 0.005, 0.01, 0.05)}
    metrics: dict[str, Any] = {}
    if fitted_on == "validation":
        metrics = {
            "rows": len(val),
            "phishing": int(y_val.sum()),
            **ranking_metrics(y_val, proba),
            "at_model_thresholds": {
                k: binary_metrics(y_val, proba, t) for k, t in thresholds.items()
            },
            "at_0.5": binary_metrics(y_val, proba, 0.5),
        }
    meta: dict[str, Any] = {
        "kind": "url",
        "model_id": model_id,
        "seed": seed,
        "classes": ["legitimate", "phishing"],
        "training_data": [f.to_dict() for f in files],
        "training_rows": {
            "distinct": len(rows),
            "train": len(train),
            "validation": len(val),
            "holdout_skipped": sum(1 for s in split if s == "holdout"),
            "not_a_url": skipped,
        },
        "hyperparameters": {
            "model": "LogisticRegression(liblinear, L2, dual)",
            "C": c,
            "split": "bucket = sha1(registrable domain) % 100; validation 20 <= bucket < 35",
        },
        "calibration": {"method": "platt", "a": a, "b": b, "fitted_on": fitted_on},
        "thresholds": thresholds,
        "metrics": {"validation": metrics},
    }
    arrays: dict[str, npt.NDArray[Any]] = {
        "coef": coef.astype(np.float32),
        "intercept": np.array([intercept]),
        "numeric_mean": mean.astype(np.float64),
        "numeric_scale": scale.astype(np.float64),
    }
    return meta, arrays
