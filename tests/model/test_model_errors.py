"""ModelError in the error tree; the model settings (SPAMGATE_MODEL, SPAMGATE_URL_MODEL): a
corrupt or missing artifact is a clear error, never a traceback, and judging goes on."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spamgate.cli import app
from spamgate.config import Settings
from spamgate.errors import ConfigError, ModelError, SpamgateError
from spamgate.model import artifact
from spamgate.model.campaigns import CampaignIndex, store_path
from spamgate.model.scoring import ContentModel, default_model_path
from spamgate.pipeline import MessageFields, Pipeline


def test_model_error_is_a_spamgate_error_with_its_path(tmp_path: Path) -> None:
    assert artifact.ModelError is ModelError and issubclass(ModelError, SpamgateError)
    with pytest.raises(ModelError) as caught:
        ContentModel.load(tmp_path / "missing")
    assert caught.value.path == tmp_path / "missing"
    assert "not a model directory" in str(caught.value)


def _corrupt_copy(tmp_path: Path) -> Path:
    target = tmp_path / "corrupt"
    shutil.copytree(default_model_path(), target)
    weights = target / artifact.WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: the recorded hash no longer matches
    weights.write_bytes(bytes(data))
    return target


def test_corrupt_model_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        ContentModel.load(_corrupt_copy(tmp_path))
    assert str(tmp_path) in str(caught.value)


def test_settings_read_the_model_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPAMGATE_MODEL", "none")
    monkeypatch.setenv("SPAMGATE_URL_MODEL", "/models/url-7")
    settings = Settings()
    assert settings.model == "none" and settings.url_model == "/models/url-7"
    monkeypatch.setenv("SPAMGATE_URL_MODEL", "off")
    pipeline = Pipeline.from_config(None)
    assert pipeline.content_model is None and pipeline.url_model is None
    monkeypatch.delenv("SPAMGATE_MODEL")
    monkeypatch.delenv("SPAMGATE_URL_MODEL")
    assert Settings().model is None  # unset: the shipped models
    assert Pipeline.from_config(None).content_model is not None


def test_corrupt_model_setting_is_logged_and_judging_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SPAMGATE_MODEL", str(_corrupt_copy(tmp_path)))
    monkeypatch.setenv("SPAMGATE_URL_MODEL", str(tmp_path / "no-such-model"))
    with caplog.at_level(logging.ERROR):
        pipeline = Pipeline.from_config(None)
    assert pipeline.content_model is None and pipeline.url_model is None
    assert "ContentModel not loaded" in caplog.text and "UrlModel not loaded" in caplog.text
    verdict = pipeline.judge_fields(MessageFields("급전 당일대출 010-2345-6789"))
    assert verdict.action != "error" and verdict.model is None


def test_cli_with_a_broken_model_prints_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPAMGATE_MODEL", str(tmp_path / "nothing-here"))
    result = CliRunner().invoke(
        app, ["check", "--text", "안녕하세요", "--json", "--data-dir", str(tmp_path / "var")]
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and '"action"' in result.output


def test_invalid_settings_environment_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPAMGATE_HTTP_PORT", "not-a-port")
    with pytest.raises(ConfigError) as caught:
        Pipeline.from_config(None)
    assert caught.value.key == "SPAMGATE_HTTP_PORT"


def test_unreadable_campaign_store_keeps_judging(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store_path(tmp_path).mkdir(parents=True)  # a directory where the store file should be
    with caplog.at_level(logging.ERROR):
        index = CampaignIndex.open(tmp_path)
    assert len(index) == 0 and "unreadable" in caplog.text
    with pytest.raises(ModelError):
        index.add_texts(["(광고) 에이스벳 스포츠 토토 첫충 30% 매충 10% 가입코드 ACE77"])
