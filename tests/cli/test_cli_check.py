"""`spamgate check`: one verdict, human or JSON, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from spamgate.cli import app

runner = CliRunner()


def test_check_json_matches_the_contract() -> None:
    result = runner.invoke(
        app,
        [
            "check",
            "--text",
            "첫충 20% 바카라 카지노 bit.ly/abc",
            "--sender",
            "01023456789",
            "--at",
            "2026-11-26T14:00:00+09:00",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert set(verdict) >= {"action", "score", "spam_probability", "symbols", "policy", "model"}
    assert verdict["action"] == "reject"
    names = [s["name"] for s in verdict["symbols"]]
    assert "ILLEGAL_GAMBLING" in names
    for sym in verdict["symbols"]:
        assert set(sym) >= {"name", "score", "description", "evidence"}


def test_check_human_output_explains() -> None:
    # A fixed daytime: between 21:00 and 08:00 KST the night-ad rule would also fire.
    text = "(광 고)[렌터카] 특가 1522-4935 무료수신거부 0808741586"
    result = runner.invoke(app, ["check", "--text", text, "--at", "2026-11-26T14:00:00+09:00"])
    assert result.exit_code == 0
    assert "AD_PREFIX_VARIANT" in result.stdout
    assert "label" in result.stdout


def test_check_bad_input_exits_2_with_reason() -> None:
    result = runner.invoke(app, ["check", "--text", "hi", "--route", "moon", "--json"])
    assert result.exit_code == 2
    verdict = json.loads(result.stdout)
    assert verdict["action"] == "error" and "route" in verdict["reason"]


def test_check_international_spoof() -> None:
    result = runner.invoke(
        app,
        [
            "check",
            "--text",
            "엄마 나 폰 고장났어",
            "--sender",
            "010-2345-6789",
            "--route",
            "international",
            "--json",
        ],
    )
    assert json.loads(result.stdout)["action"] == "reject"


def test_check_with_bad_config_exits_2(tmp_path: Path) -> None:
    conf = tmp_path / "bad.toml"
    conf.write_text("[actions]\nlabel = 'x'\n", encoding="utf-8")
    result = runner.invoke(app, ["check", "--text", "hi", "--config", str(conf)])
    assert result.exit_code == 2
    assert "error" in result.stderr


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0 and result.stdout.strip()
