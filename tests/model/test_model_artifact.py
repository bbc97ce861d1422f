"""Artifacts: corrupt, tampered or foreign-layout models are refused; a pipeline keeps its model."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spamgate.model.artifact import ModelError, load_artifact, meta_checksum
from spamgate.model.features import CONTENT_LAYOUT
from spamgate.model.scoring import ContentModel, default_model_path
from spamgate.pipeline import Pipeline


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(default_model_path(), target)
    return target


def _meta(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path / "model.json").read_text(encoding="utf-8"))
    return data


def _write_meta(path: Path, data: dict[str, Any], *, fix_checksum: bool = True) -> None:
    if fix_checksum:
        data["checksum"] = meta_checksum(data)
    (path / "model.json").write_text(json.dumps(data), encoding="utf-8")


def test_shipped_model_loads(artifact: Path) -> None:
    model = ContentModel.load(artifact)
    assert model.model_id.startswith("sms-ko-en-")


def test_flipped_weight_byte_is_refused(artifact: Path) -> None:
    weights = artifact / "weights.npz"
    blob = bytearray(weights.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    weights.write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="SHA-256 does not match"):
        ContentModel.load(artifact)


def test_bad_json_is_refused(artifact: Path) -> None:
    (artifact / "model.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="not valid JSON"):
        ContentModel.load(artifact)


def test_edited_metadata_is_refused(artifact: Path) -> None:
    data = _meta(artifact)
    data["thresholds"]["fpr_0.005"] = 0.01
    _write_meta(artifact, data, fix_checksum=False)
    with pytest.raises(ModelError, match="checksum mismatch"):
        ContentModel.load(artifact)


def test_missing_weights_is_refused(artifact: Path) -> None:
    (artifact / "weights.npz").unlink()
    with pytest.raises(ModelError, match="missing weights"):
        ContentModel.load(artifact)


def test_not_a_model_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a model directory"):
        ContentModel.load(tmp_path)


def test_wrong_shapes_are_refused_even_with_matching_hashes(artifact: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        arrays: dict[str, np.ndarray[Any, Any]] = {
            "coef": np.zeros(10, dtype=np.float32),
            "intercept": np.zeros(1),
        }
        for name, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, arr, allow_pickle=False)
            archive.writestr(f"{name}.npy", member.getvalue())
    blob = buffer.getvalue()
    (artifact / "weights.npz").write_bytes(blob)
    data = _meta(artifact)
    data["weights"]["sha256"] = hashlib.sha256(blob).hexdigest()
    _write_meta(artifact, data)
    with pytest.raises(ModelError, match=r"arrays \['coef', 'intercept'\]|array coef"):
        ContentModel.load(artifact)


def test_pickled_arrays_are_never_loaded(artifact: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        member = io.BytesIO()
        np.lib.format.write_array(member, np.empty(1, dtype=object), allow_pickle=True)
        archive.writestr("coef.npy", member.getvalue())
    blob = buffer.getvalue()
    (artifact / "weights.npz").write_bytes(blob)
    data = _meta(artifact)
    data["weights"]["sha256"] = hashlib.sha256(blob).hexdigest()
    data["weights"]["arrays"] = {"coef": {"shape": [1], "dtype": "float32"}}
    _write_meta(artifact, data)
    with pytest.raises(ModelError, match=r"unreadable weights\.npz"):
        ContentModel.load(artifact)


def test_other_feature_layout_is_refused(artifact: Path) -> None:
    data = _meta(artifact)
    layout = dict(data["features"]["layout"])
    layout["char_max"] = 4
    from spamgate.model.features import FeatureLayout

    data["features"] = {"layout": layout, "layout_hash": FeatureLayout(**layout).layout_hash}
    _write_meta(artifact, data)
    with pytest.raises(ModelError, match=r"built for feature layout .*retrain it"):
        ContentModel.load(artifact)


def test_url_model_is_not_a_content_model(artifact: Path) -> None:
    from spamgate.model.url import default_url_model_path

    with pytest.raises(ModelError, match="a url model where a content model is needed"):
        load_artifact(default_url_model_path(), kind="content", layout=CONTENT_LAYOUT)


def test_pipeline_keeps_its_last_good_model(artifact: Path) -> None:
    pipeline = Pipeline(url_model=None)
    good = pipeline.content_model
    assert good is not None
    (artifact / "weights.npz").write_bytes(b"garbage")
    with pytest.raises(ModelError):
        pipeline.load_model(artifact)
    assert pipeline.content_model is good
    assert pipeline.model_id == good.model_id


def test_pipeline_without_a_loadable_model_still_judges(tmp_path: Path) -> None:
    pipeline = Pipeline(model=tmp_path, url_model=None)
    assert pipeline.content_model is None
    from spamgate.pipeline import MessageFields

    verdict = pipeline.judge_fields(MessageFields("안녕하세요"))
    assert verdict.model is None and verdict.spam_probability is None
