"""The lexical URL model and blocklists, and the url_model check through the pipeline."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import DAYTIME, Judge
from spamgate.config import load_policy
from spamgate.errors import InputError
from spamgate.model.artifact import save_artifact
from spamgate.model.features import URL_LAYOUT
from spamgate.model.url import Blocklist, UrlModel, canonical_url, train_url_model, url_text
from spamgate.pipeline import MessageFields, Pipeline

TINY_URLS = Path(__file__).parent / "data" / "tiny_urls.csv"


def _url(raw: str) -> object:
    found = canonical_url(raw)
    assert found is not None
    return found


def test_url_text_drops_scheme_www_and_final_slash() -> None:
    assert url_text("HTTPS://www.Naver.com/") == "naver.com"
    assert url_text("http://bit.ly/abc") == "bit.ly/abc"


def test_trained_url_model_is_deterministic_and_separates(tmp_path: Path) -> None:
    digests = []
    for name in ("a", "b"):
        meta, arrays = train_url_model([TINY_URLS], seed=3, model_id="url-test-2026.11.1")
        save_artifact(tmp_path / name, meta, arrays, URL_LAYOUT)
        digests.append(hashlib.sha256((tmp_path / name / "weights.npz").read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    model = UrlModel.load(tmp_path / "a")
    legit, phish = model.predict_proba(
        [_url("https://www.naver.com/"), _url("http://naver-login-check.top/auth.php?id=1")]  # type: ignore[list-item]
    ).tolist()
    assert phish > legit


def test_url_training_rejects_unknown_labels(tmp_path: Path) -> None:
    path = tmp_path / "urls.csv"
    path.write_text("label,url\nlegitimate,https://a.com\nbad,https://b.com\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 2: unknown label 'bad'"):
        train_url_model([path], model_id="url-test-2026.11.1")


def test_shipped_url_model_scores_obvious_cases() -> None:
    model = UrlModel.load_default()
    legit, phish = model.predict_proba(
        [_url("https://www.gov.kr/portal/main"), _url("http://192.168.0.1/bank/login.php")]  # type: ignore[list-item]
    ).tolist()
    assert legit < 0.5 < 0.99 < phish


def test_blocklist_lines_domains_and_urls(tmp_path: Path) -> None:
    path = tmp_path / "block.txt"
    path.write_text(
        "# reported smishing domains\nevil-parcel.com\n\nhttp://bit.ly/BadLink  # one link\n",
        encoding="utf-8",
    )
    blocklist = Blocklist.from_files([path])
    assert len(blocklist) == 2
    assert blocklist.match(_url("https://m.evil-parcel.com/track")) == "evil-parcel.com"  # type: ignore[arg-type]
    assert blocklist.match(_url("bit.ly/BadLink")) == "bit.ly/BadLink".lower()  # type: ignore[arg-type]
    assert blocklist.match(_url("bit.ly/other")) is None  # type: ignore[arg-type]
    assert blocklist.match(_url("https://parcel.com")) is None  # type: ignore[arg-type]
    with pytest.raises(InputError, match="blocklist not found"):
        Blocklist.from_files([tmp_path / "missing.txt"])


def _pipeline(options: dict[str, object]) -> Pipeline:
    policy = load_policy()
    section = dict(policy.checks["url_model"])
    section["options"] = {**section.get("options", {}), **options}
    policy.checks["url_model"] = section
    return Pipeline(policy, clock=lambda: DAYTIME, model=None)


def test_blocklisted_link_fires_and_forces_spambox(tmp_path: Path) -> None:
    path = tmp_path / "block.txt"
    path.write_text("evil-parcel.com\n", encoding="utf-8")
    pipeline = _pipeline({"blocklist_files": [str(path)], "blocked": ["other-bad.net"]})
    verdict = pipeline.judge_fields(MessageFields("배송 조회 https://evil-parcel.com/a 확인"))
    assert "URL_BLOCKLISTED" in verdict.symbol_names()
    assert verdict.action in ("spambox", "reject")
    verdict = pipeline.judge_fields(MessageFields("확인 other-bad.net/x"))
    assert "URL_BLOCKLISTED" in verdict.symbol_names()


def test_unreadable_blocklist_disables_only_this_check(tmp_path: Path) -> None:
    pipeline = _pipeline({"blocklist_files": [str(tmp_path / "nope.txt")]})
    assert "url_model" in pipeline.default.disabled
    assert pipeline.url_model is None
    verdict = pipeline.judge_fields(MessageFields("안녕하세요"))
    assert verdict.action == "deliver"


def test_url_phishing_fires_on_a_phishing_link(judge: Judge) -> None:
    verdict = judge("고객님 계정 확인 http://192.168.23.4/bank/login/update.html")
    assert "URL_PHISHING" in verdict.symbol_names()


def test_legitimate_link_does_not_fire(judge: Judge) -> None:
    verdict = judge("[CJ대한통운] 배송조회 https://www.cjlogistics.com/ko/tool/parcel/tracking")
    assert "URL_PHISHING" not in verdict.symbol_names()
    assert "URL_BLOCKLISTED" not in verdict.symbol_names()
