"""Campaign fingerprints: variants of a registered campaign match, ham does not."""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import DAYTIME
from spamgate.cli import app
from spamgate.config import load_policy
from spamgate.model.campaigns import CampaignIndex, signatures, store_path
from spamgate.pipeline import MessageFields, Pipeline

DATA = Path(__file__).parent / "data"
CAMPAIGNS = [
    "[CJ대한통운] 김*수 고객님 택배가 주소 불일치로 반송 예정입니다.\n"
    "주소 수정: http://cj-logis.xyz/a1\n문의 010-1234-5678",
    "(광고) 에이스벳\n스포츠 토토 첫충 30% 매충 10%\n가입코드 ACE77\nhttps://han.gl/4FGtu\n"
    "무료수신거부 080-932-0450",
    "엄마 나 폰 액정 깨져서 수리 맡겼어\n이 번호로 문자줘 급해\n010-5555-1234",
    "[국민건강보험] 건강검진 결과 통보\n확인하기 https://nhis-kr.info/check\n고객센터 1577-1000",
    "URGENT! You have won a 1 week FREE membership in our prize jackpot!\n"
    "Txt the word CLAIM to 81010\nT&C www.dbuk.net",
]


def _variants(text: str) -> list[str]:
    lines = text.split("\n")
    return [
        re.sub(r"(https?://)?[\w-]+(\.[\w-]+)+(/\S*)?", "http://new-link.top/x9", text),
        re.sub(r"\d{2,4}-\d{3,4}-\d{4}", "02-777-8888", text),
        _disguise(text, " "),  # every word spaced out (links and numbers must keep working)
        _disguise(text, "."),
        text.replace(" ", ".").replace("다", "다!!"),
        "\n".join(reversed(lines)),
        "\n".join(lines[1:] + lines[:1]),
        text.replace("김*수", "박*영"),
    ]


def _disguise(text: str, sep: str) -> str:
    def spread(word: str) -> str:
        if "/" in word or "." in word or any(c.isdigit() for c in word):
            return word
        return sep.join(word)

    return "\n".join(" ".join(spread(w) for w in line.split(" ")) for line in text.split("\n"))


def _ham() -> list[str]:
    out = []
    for name in ("tiny_train.csv", "kor_handwritten_eval.csv"):
        with (DATA / name).open(encoding="utf-8", newline="") as fh:
            out += [row["text"] for row in csv.DictReader(fh) if row["label"] == "ham"]
    return out


def test_every_variant_matches_and_ham_does_not() -> None:
    index = CampaignIndex()
    ids = index.add_texts(CAMPAIGNS)
    assert len(ids) == len(CAMPAIGNS) == len(index)
    for campaign_id, text in zip(ids, CAMPAIGNS, strict=True):
        for variant in _variants(text):
            match = index.match_many([variant], min_similarity=0.6)[0]
            assert match is not None and match.campaign_id == campaign_id, variant
    assert index.match_many(_ham(), min_similarity=0.6) == [None] * len(_ham())


def test_signatures_are_deterministic_and_empty_text_matches_nothing() -> None:
    first = signatures(CAMPAIGNS)
    assert np.array_equal(first, signatures(CAMPAIGNS))
    assert first.shape == (len(CAMPAIGNS), 64)
    index = CampaignIndex()
    index.add_texts(CAMPAIGNS)
    assert index.add_texts(["!!! ... ???"]) == []
    assert index.match_many(["", "..."]) == [None, None]


def test_store_persists_and_a_running_pipeline_sees_new_campaigns(tmp_path: Path) -> None:
    pipeline = Pipeline(
        load_policy(), clock=lambda: DAYTIME, model=None, url_model=None,
        campaigns=CampaignIndex.open(tmp_path),
    )  # fmt: skip
    message = MessageFields(_variants(CAMPAIGNS[0])[0])
    assert "CAMPAIGN_MATCH" not in pipeline.judge_fields(message).symbol_names()
    CampaignIndex.open(tmp_path).add_texts([CAMPAIGNS[0]])  # e.g. another process
    verdict = pipeline.judge_fields(message)
    assert "CAMPAIGN_MATCH" in verdict.symbol_names()
    assert verdict.action in ("spambox", "reject")
    assert len(CampaignIndex.open(tmp_path)) == 1
    stored = store_path(tmp_path).read_text(encoding="utf-8")
    assert "cj-logis" not in stored and "010-1234" not in stored  # no full body kept


def test_unreadable_store_lines_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    CampaignIndex.open(tmp_path).add_texts(CAMPAIGNS[:2])
    with store_path(tmp_path).open("a", encoding="utf-8") as fh:
        fh.write('{"id": "broken"}\nnot json\n')
    with caplog.at_level(logging.ERROR):
        index = CampaignIndex.open(tmp_path)
    assert len(index) == 2
    assert "unreadable line" in caplog.text


def test_cli_add_csv_and_text_file(tmp_path: Path) -> None:
    runner = CliRunner()
    data_dir = tmp_path / "var"
    text_file = tmp_path / "one.txt"
    text_file.write_text(CAMPAIGNS[2], encoding="utf-8")
    result = runner.invoke(app, ["campaigns", "add", str(text_file), "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "1 new campaign(s)" in result.output
    csv_file = tmp_path / "many.csv"
    with csv_file.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text"])
        writer.writerows([[t] for t in CAMPAIGNS])
    result = runner.invoke(app, ["campaigns", "add", str(csv_file), "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert f"{len(CAMPAIGNS)} registered" in result.output
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    result = runner.invoke(app, ["campaigns", "add", str(empty), "--data-dir", str(data_dir)])
    assert result.exit_code == 2 and "empty" in result.output
