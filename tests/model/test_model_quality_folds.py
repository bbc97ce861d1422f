"""The quality benchmark's folds (bench/bench_model_quality.py): near-duplicates never straddle."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from spamgate.model.data import Example


@pytest.fixture(scope="module")
def quality() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "bench_model_quality.py"
    spec = importlib.util.spec_from_file_location("bench_model_quality_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SIBLINGS = [
    "[한빛택배] 김*수님 고객님의 상품이 배송될 예정입니다. 운송장번호 123456 조회하기",
    "[두리택배] 이*영님 고객님의 상품이 배송될 예정입니다. 운송장번호 987654 조회하기",
    "[새봄택배] 박*민님 고객님의 상품이 배송될 예정입니다. 운송장번호 555111 조회하기",
]
OTHERS = [
    "내일 점심 같이 먹을래? 회사 앞 국수집 어때",
    "WINNER you have won a prize, call now to claim it",
]


def test_template_siblings_share_a_group_and_strangers_do_not(quality: ModuleType) -> None:
    # the siblings differ in brand and name, so their group_keys (and buckets) differ
    groups = quality.near_duplicate_groups(SIBLINGS + OTHERS)
    assert len({groups[0], groups[1], groups[2]}) == 1
    assert len({groups[0], groups[3], groups[4]}) == 3


def test_near_duplicate_links_only_between_linkable_rows(quality: ModuleType) -> None:
    texts = [*SIBLINGS, "Call 010-1234-5678 now!!", "call 010 9999 0000 NOW"]
    linkable = [True, True, False, False, False]
    groups = quality.near_duplicate_groups(texts, linkable)
    assert groups[0] == groups[1] != groups[2]
    assert groups[3] == groups[4]  # same group_key: always together, linkable or not


def test_folds_follow_groups(quality: ModuleType) -> None:
    rows = [Example(t, "ham", {"kor_sms_synthetic"}, bucket=50) for t in SIBLINGS + OTHERS]
    folds = quality.assign_folds(rows, k=5).tolist()
    assert folds[0] == folds[1] == folds[2]
    assert all(0 <= f < 5 for f in folds)
    public = [Example(t, "ham", {"uci_sms_spam"}, bucket=50) for t in SIBLINGS]
    assert quality.assign_folds(public, k=5, near_dup="all").tolist() == folds[:3]
    with pytest.raises(ValueError, match="near_dup"):
        quality.assign_folds(rows, near_dup="some")


def test_verdict_level_judges_with_the_fold_model_and_the_envelope(
    quality: ModuleType, tmp_path: Path
) -> None:
    """The verdict-level part wraps a fold's fitted model for the pipeline, judges synthetic
    rows with their own envelope and other rows at a fixed daytime, and counts actions."""
    from spamgate.model.train import TrainOptions, fit_content

    ham = [f"[한빛마트] {i}번 주문하신 상품이 오늘 배송 출발합니다 운송장 {i}" for i in range(40)]
    spam = [f"[국민은행] 보안 승인 필요 {i} kbstar-safe{i}.top 접속 후 인증" for i in range(40)]
    examples = [Example(t, "ham", {"kor_sms_synthetic"}) for t in ham] + [
        Example(t, "smishing", {"kor_phishing_kim2024"}) for t in spam
    ]
    fitted = fit_content(examples[::2], examples[1::2], TrainOptions(augment=0.0))
    (tmp_path / "kor_sms_synthetic.train.csv").write_text(
        "label,category,text,sender,route,at\n"
        f"ham,delivery,{ham[1]},+8613800138000,international,2026-11-25T10:00:00+09:00\n",
        encoding="utf-8",
    )
    level = quality.VerdictLevel(tmp_path)
    level.judge(fitted, examples[1::2], 0)
    report = level.report()
    synthetic_ham = report["kor_sms_synthetic_ham"]
    assert synthetic_ham["rows"] == 20
    # the one row with an envelope came over an international route
    assert synthetic_ham["actions"]["overseas_inbox"] == 1
    smishing = report["korean_smishing"]
    assert smishing["rows"] == 20
    assert smishing["alarm"] > 0.5
    assert "own_korean_ham" not in report  # no rows, no entry
