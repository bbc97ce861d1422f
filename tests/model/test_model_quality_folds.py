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
