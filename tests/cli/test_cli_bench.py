"""`spamgate bench`: finds benchmarks in bench/, writes JSON, refuses unknown names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import in_ci
from spamgate.benchmarks import default_data_dir
from spamgate.cli import app
from spamgate.errors import InputError

runner = CliRunner()


def test_unknown_benchmark_exits_2() -> None:
    result = runner.invoke(app, ["bench", "no_such_bench"])
    assert result.exit_code == 2
    assert "pipeline" in result.stderr  # lists the known ones


def test_pipeline_benchmark_small_run(tmp_path: Path) -> None:
    try:
        data = default_data_dir()
    except InputError:
        if in_ci():
            raise  # CI lays ../shared beside the checkout: its absence is a failure there
        pytest.skip("shared training data not present")
    result = runner.invoke(
        app, ["bench", "pipeline", "-n", "400", "--data", str(data), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "pipeline.json").read_text(encoding="utf-8"))
    assert record["messages"] == 400
    assert record["msg_per_s"] > 0
    assert sum(record["actions"].values()) == 400
    assert "msg/s" in result.stdout
