"""``spamgate model train|eval``: artifacts, the HTML report and its PNGs, clear errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from spamgate.cli import app
from spamgate.model.obfuscate import VARIANTS, decompose_jamo, obfuscate
from spamgate.text import normalize

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def test_train_writes_an_artifact(tmp_path: Path) -> None:
    out = tmp_path / "model"
    result = runner.invoke(
        app,
        ["model", "train", "--data", str(DATA / "tiny_train.csv"), "--out", str(out),
         "--model-id", "sms-ko-en-2026.11.7", "--seed", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert meta["model_id"] == "sms-ko-en-2026.11.7"
    assert meta["weights"]["sha256"] and meta["features"]["layout_hash"]
    assert (out / "weights.npz").is_file()


def test_train_detects_url_data(tmp_path: Path) -> None:
    out = tmp_path / "url"
    result = runner.invoke(
        app, ["model", "train", "--data", str(DATA / "tiny_urls.csv"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "model.json").read_text(encoding="utf-8"))["kind"] == "url"


def test_train_bad_csv_exits_2_with_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("label,text\nham,hello\nwhat,bad\n", encoding="utf-8")
    result = runner.invoke(app, ["model", "train", "--data", str(bad), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown label" in result.output


def test_eval_writes_a_self_contained_report(tmp_path: Path) -> None:
    report = tmp_path / "report"
    result = runner.invoke(
        app,
        ["model", "eval", "--data", str(DATA / "kor_handwritten_eval.csv"),
         "--report", str(report), "--obfuscate"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for name in ("confusion_matrix.png", "pr_curve.png", "score_histogram.png"):
        assert (report / name).read_bytes().startswith(b"\x89PNG")
    page = (report / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3
    assert not re.search(r"src=['\"](?!data:)", page)  # nothing fetched from elsewhere
    summary = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert summary["summary"]["rows"] == 12
    assert set(summary["obfuscation"]["variants"]) == set(VARIANTS)
    assert "엄마" not in page  # no message text in the report


def test_eval_on_missing_file_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["model", "eval", "--data", str(tmp_path / "x.csv"), "--report", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_obfuscations_are_undone_by_the_normaliser() -> None:
    assert decompose_jamo("대출") == "ㄷㅐㅊㅜㄹ"
    text = "무직자 당일 대출 가능"
    for variant in VARIANTS:
        changed = obfuscate(text, variant, seed=1)
        assert obfuscate(text, variant, seed=1) == changed
    assert normalize(obfuscate("free bitcoin", "fullwidth")).text == "free bitcoin"


def test_word_tricks_stop_at_line_breaks() -> None:
    """A spammer dots each word; no variant carries a dot or a space across a line break, and
    the normaliser gets back the words with their boundaries."""
    text = "엄마 입금받을수있는\n은행계좌번호\n하나랑 계좌등록\n본인인증땜에 보내줘"
    for seed in range(20):
        dotted = obfuscate(text, "dots", seed)
        assert ".\n" not in dotted and "\n." not in dotted
        assert dotted.count("\n") == text.count("\n")
        assert normalize(dotted).text == normalize(text).text
