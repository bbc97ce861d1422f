"""Model artifacts: a directory with ``model.json`` (metadata) and ``weights.npz`` (arrays).

Nothing in an artifact can run code: the metadata is JSON, the weights are plain numeric arrays
read with ``allow_pickle=False``. Loading refuses, with a :class:`ModelError` that says why:

* a missing file, JSON that does not parse or does not match the schema, a metadata checksum
  that does not match its content (corruption, or an edit that did not update it);
* a weights file whose SHA-256 differs from the one recorded in the metadata (tampering);
* arrays that are missing, of the wrong shape or dtype, or not finite;
* a model built for another feature layout than the code computes (its ``layout_hash`` differs),
  or of another kind or format version.

Saving is deterministic: the same arrays and metadata give byte-identical files (the zip entries
carry a fixed timestamp), so a weights hash identifies a trained model.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from spamgate.errors import ModelError  # re-exported: its home used to be here
from spamgate.model.features import FeatureLayout

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "META_FILE",
    "WEIGHTS_FILE",
    "Artifact",
    "ModelError",
    "ModelMeta",
    "load_artifact",
    "meta_checksum",
    "save_artifact",
]

FORMAT = "spamgate-linear-model"
FORMAT_VERSION = 1
META_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"
MAX_META_BYTES = 4 * 1024 * 1024
MAX_WEIGHTS_BYTES = 256 * 1024 * 1024
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class _ArraySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shape: list[int]
    dtype: Literal["float32", "float64"]


class _Weights(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str = Field(pattern=r"^[A-Za-z0-9_.-]+\.npz$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    arrays: dict[str, _ArraySpec]


class _Features(BaseModel):
    model_config = ConfigDict(extra="forbid")

    layout: dict[str, Any]
    layout_hash: str


class _Calibration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["platt"]
    a: float
    b: float
    fitted_on: str


class ModelMeta(BaseModel):
    """The schema of ``model.json``. Unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["spamgate-linear-model"]
    format_version: int
    kind: Literal["content", "url"]
    model_id: str = Field(pattern=r"^[a-z0-9-]+-\d{4}\.\d{2}\.\d+$")
    created: str | None = None
    seed: int
    classes: list[str]
    fine_classes: list[str] | None = None
    training_data: list[dict[str, Any]]
    training_rows: dict[str, int]
    dropped: dict[str, int] = Field(default_factory=dict)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    calibration: _Calibration
    thresholds: dict[str, float]
    metrics: dict[str, Any]
    features: _Features
    weights: _Weights
    checksum: str = ""


@dataclass(frozen=True, slots=True)
class Artifact:
    """A loaded, verified artifact: metadata, feature layout and arrays (float64)."""

    path: Path
    meta: ModelMeta
    layout: FeatureLayout
    arrays: dict[str, npt.NDArray[np.float64]]


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def meta_checksum(data: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the metadata without its ``checksum`` field."""
    return hashlib.sha256(
        _canonical({k: v for k, v in data.items() if k != "checksum"})
    ).hexdigest()


def _npz_bytes(arrays: dict[str, npt.NDArray[Any]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            member = io.BytesIO()
            np.lib.format.write_array(
                member, np.ascontiguousarray(arrays[name]), allow_pickle=False
            )
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def save_artifact(
    out: Path, meta: dict[str, Any], arrays: dict[str, npt.NDArray[Any]], layout: FeatureLayout
) -> Path:
    """Write ``arrays`` and ``meta`` (weights, features and checksum filled in) to ``out``."""
    blob = _npz_bytes(arrays)
    meta = dict(meta)
    meta["features"] = {"layout": layout.to_dict(), "layout_hash": layout.layout_hash}
    meta["weights"] = {
        "file": WEIGHTS_FILE,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "arrays": {
            name: {"shape": list(arr.shape), "dtype": str(arr.dtype)}
            for name, arr in sorted(arrays.items())
        },
    }
    meta["format"] = FORMAT
    meta["format_version"] = FORMAT_VERSION
    meta["checksum"] = ""
    ModelMeta.model_validate(meta)  # never write what we would refuse to load
    meta["checksum"] = meta_checksum(meta)
    out.mkdir(parents=True, exist_ok=True)
    tmp_weights = out / f".{WEIGHTS_FILE}.tmp"
    tmp_weights.write_bytes(blob)
    os.replace(tmp_weights, out / WEIGHTS_FILE)
    text = json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    tmp_meta = out / f".{META_FILE}.tmp"
    tmp_meta.write_text(text, encoding="utf-8")
    os.replace(tmp_meta, out / META_FILE)
    return out


def _read_meta(path: Path) -> ModelMeta:
    meta_path = path / META_FILE
    try:
        if meta_path.stat().st_size > MAX_META_BYTES:
            raise ModelError(f"{META_FILE} is too large", path=path)
        raw = meta_path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"no {META_FILE}: not a model directory", path=path) from None
    except OSError as exc:
        raise ModelError(f"cannot read {META_FILE}: {exc.strerror}", path=path) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{META_FILE} is not valid JSON ({exc})", path=path) from None
    if not isinstance(data, dict):
        raise ModelError(f"{META_FILE} is not a JSON object", path=path)
    if data.get("checksum") != meta_checksum(data):
        raise ModelError(
            f"{META_FILE} checksum mismatch: the metadata is corrupt or was edited", path=path
        )
    try:
        return ModelMeta.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ModelError(f"{META_FILE}: {where}: {err['msg']}", path=path) from None


def load_artifact(
    path: Path, *, kind: Literal["content", "url"], layout: FeatureLayout
) -> Artifact:
    """Load and verify the artifact at ``path``; raises :class:`ModelError` if it is unusable."""
    meta = _read_meta(path)
    if meta.format_version != FORMAT_VERSION:
        raise ModelError(
            f"format version {meta.format_version}; this spamgate reads {FORMAT_VERSION}",
            path=path,
        )
    if meta.kind != kind:
        raise ModelError(f"a {meta.kind} model where a {kind} model is needed", path=path)
    try:
        built_for = FeatureLayout(**meta.features.layout)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"unreadable feature layout: {exc}", path=path) from None
    if built_for.layout_hash != meta.features.layout_hash:
        raise ModelError("feature layout hash does not match the layout it describes", path=path)
    if built_for.layout_hash != layout.layout_hash:
        raise ModelError(
            f"built for feature layout {built_for.layout_hash} "
            f"({built_for.scheme}, {built_for.n_features} columns); this spamgate computes "
            f"{layout.layout_hash} ({layout.scheme}, {layout.n_features} columns): retrain it",
            path=path,
        )
    weights_path = path / meta.weights.file
    try:
        if weights_path.stat().st_size > MAX_WEIGHTS_BYTES:
            raise ModelError(f"{meta.weights.file} is too large", path=path)
        blob = weights_path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"missing weights file {meta.weights.file}", path=path) from None
    except OSError as exc:
        raise ModelError(f"cannot read {meta.weights.file}: {exc.strerror}", path=path) from None
    if hashlib.sha256(blob).hexdigest() != meta.weights.sha256:
        raise ModelError(
            f"{meta.weights.file} SHA-256 does not match {META_FILE}: corrupt or tampered",
            path=path,
        )
    arrays: dict[str, npt.NDArray[np.float64]] = {}
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            names = set(npz.files)
            if names != set(meta.weights.arrays):
                raise ModelError(
                    f"weights hold arrays {sorted(names)}, metadata lists "
                    f"{sorted(meta.weights.arrays)}",
                    path=path,
                )
            for name, spec in meta.weights.arrays.items():
                arr = npz[name]
                if list(arr.shape) != spec.shape or str(arr.dtype) != spec.dtype:
                    raise ModelError(
                        f"array {name}: {arr.dtype}{list(arr.shape)} where the metadata says "
                        f"{spec.dtype}{spec.shape}",
                        path=path,
                    )
                if not np.all(np.isfinite(arr)):
                    raise ModelError(f"array {name} holds NaN or infinite values", path=path)
                arrays[name] = arr.astype(np.float64)
    except ModelError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelError(f"unreadable {meta.weights.file}: {exc}", path=path) from None
    return Artifact(path=path, meta=meta, layout=built_for, arrays=arrays)
