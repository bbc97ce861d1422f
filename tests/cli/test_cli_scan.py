"""`spamgate scan`: one verdict per row in order; bad rows are error verdicts, never lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from spamgate.cli import app

runner = CliRunner()


def scan(path: Path, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    result = runner.invoke(app, ["scan", str(path), *extra])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.exit_code, lines, result.stderr


def test_scan_writes_one_verdict_per_row_in_order(tmp_path: Path) -> None:
    csv_path = tmp_path / "in.csv"
    csv_path.write_text(
        "text,sender,route,at\r\n"
        '"(광고)[행복마트] 세일 30% 할인\r\n문의 02-555-1234\r\n무료수신거부 080-123-4567",0212345678,domestic,2026-11-26T14:00:00+09:00\r\n'
        "(광 고)[렌터카] 특가 1522-4935 무료수신거부 0808741586,01023456789,,"
        "2026-11-26T14:00:00+09:00\r\n"  # daytime: no night-ad rule
        "엄마 나 폰 고장났어,01023456789,international,\r\n",
        encoding="utf-8",
    )
    code, rows, stderr = scan(csv_path)
    assert code == 0
    assert [r["row"] for r in rows] == [0, 1, 2]
    assert [r["action"] for r in rows] == ["deliver", "label", "reject"]
    assert "3 rows" in stderr  # the summary and the progress bar go to stderr, not stdout


def test_scan_to_file(tmp_path: Path) -> None:
    csv_path = tmp_path / "in.csv"
    csv_path.write_text("text\n안녕하세요\n반가워요\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["scan", str(csv_path), "-o", str(out)])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in rows] == [0, 1]
    assert result.stdout == ""


def test_bad_rows_become_error_verdicts_and_the_batch_goes_on(tmp_path: Path) -> None:
    body = (
        b"text,sender,recipient,route,at\n"
        b"ok message,0212345678,01023456789,domestic,2026-11-26T10:00:00\n"  # 0 fine
        b",0212345678,,,\n"  # 1 empty text
        b"too,many,fields,in,this,row,here\n"  # 2 ragged
        b"short row\n"  # 3 ragged (too few)
        b"\xff\xfe broken utf-8,,,,\n"  # 4 not UTF-8
        b"nul \x00 inside,,,,\n"  # 5 NUL byte
        b"when?,,,,not-a-date\n"  # 6 bad at
        b"where?,,,moon,\n"  # 7 bad route
        b"letters,,010-ABCD-1234,,\n"  # 8 recipient with letters
        + b'"'
        + ("\uac00" * 2500).encode()
        + b'",,,,\n'  # 9 too long
        + b"last one fine,,,,\n"  # 10
    )
    path = tmp_path / "bad.csv"
    path.write_bytes(body)
    code, rows, _ = scan(path)
    assert code == 0
    assert [r["row"] for r in rows] == list(range(11))
    actions = [r["action"] for r in rows]
    assert actions[0] == "deliver" and actions[10] == "deliver"
    assert actions[1:10] == ["error"] * 9
    reasons = [r.get("reason", "") for r in rows]
    assert "empty" in reasons[1]
    assert "ragged" in reasons[2] and "ragged" in reasons[3]
    assert "UTF-8" in reasons[4]
    assert "NUL" in reasons[5]
    assert "time" in reasons[6]
    assert "route" in reasons[7]
    assert "recipient" in reasons[8]
    assert "maximum" in reasons[9]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"sender,route\n0101234,domestic\n", "no 'text' column"),
        (b"", "empty"),
    ],
)
def test_unusable_files_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    code, rows, stderr = scan(path)
    assert code == 2
    assert rows == []
    assert message in stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    code, _, stderr = scan(tmp_path / "nope.csv")
    assert code == 2 and "no such file" in stderr


def test_directory_exits_2(tmp_path: Path) -> None:
    code, _, stderr = scan(tmp_path)
    assert code == 2 and "directory" in stderr


def test_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftext\r\n안녕\r\n".encode())
    code, rows, _ = scan(path)
    assert code == 0 and rows[0]["action"] == "deliver"
