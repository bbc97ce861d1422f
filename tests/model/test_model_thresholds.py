"""Calibration and thresholds: robust Platt scaling, language groups, per-language thresholds."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from spamgate.model.data import Example, load_examples
from spamgate.model.evaluate import evaluate
from spamgate.model.features import language_of
from spamgate.model.scoring import ContentModel, row_thresholds
from spamgate.model.train import (
    TrainOptions,
    _platt,
    featurize,
    fit_content,
    train_content_model,
)
from spamgate.text import normalize

KO_HAM = [
    "[한빛택배] {n}님 상품이 {h}시 배송 예정입니다",
    "[새봄카드] {n}님 {h},500원 승인 누적 {h}2,000원",
    "내일 {h}시에 회의실에서 봐요 {n}님",
    "[정부24] 인증번호 {h}4821 입력해 주세요",
]
KO_SPAM = [
    "첫충 {h}% 카지노 가입머니 지급 바로가기 win{h}.fun",
    "급전 당일대출 무직자 가능 {h}00만원 상담 010-{h}{h}-0000",
]
EN_HAM = [
    "see you at {h} tonight {n}, bring the notes",
    "ok i will call you after the {h} oclock meeting",
    "can you pick up milk on the way back {n}",
]
EN_SPAM = [
    "WINNER you have won a {h}000 prize call 0906{h}{h} now to claim",
    "FREE entry to win cash text WIN to 8{h}{h}1 now",
]


def _write_corpus(path: Path, seed: int = 3) -> None:
    rng = random.Random(seed)
    names = ["김*수", "이*영", "Tom", "Ann", "박*민", "Lee"]
    lines = ["label,text"]
    syllables, letters = "가나다라마바사아자차카타파하", "abcdefghijklmnop"
    for templates, label, count in (
        (KO_HAM, "ham:ko", 1800),
        (EN_HAM, "ham:en", 1800),
        (KO_SPAM, "spam:ko", 250),
        (EN_SPAM, "spam:en", 250),
    ):
        for _ in range(count):
            text = rng.choice(templates).format(n=rng.choice(names), h=rng.randrange(10, 99))
            # a random letter tag spreads the rows over group keys (digits alone would not)
            tag = "".join(rng.choice(syllables if "ko" in label else letters) for _ in range(4))
            lines.append(f'{label.split(":")[0]},"{text} {tag}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "two_languages.csv"
    _write_corpus(path)
    return path


def test_platt_stays_finite_on_separable_margins() -> None:
    # Plain Newton steps ran off to a ~ 1e10 on a split the model separates cleanly.
    margin = np.r_[np.linspace(-9.0, -3.0, 400), np.linspace(3.0, 9.0, 40)]
    y = np.r_[np.zeros(400, dtype=bool), np.ones(40, dtype=bool)]
    a, b = _platt(margin, y)
    assert 0 < a < 50 and np.isfinite(b)
    p = 1 / (1 + np.exp(-(a * margin + b)))
    assert p[~y].max() < 0.05 and p[y].min() > 0.5
    assert p[~y].max() < 1.0  # ham never saturates to exactly 1, so thresholds stay below 1


def test_platt_matches_a_logistic_fit_on_overlapping_margins() -> None:
    rng = np.random.default_rng(0)
    margin = np.r_[rng.normal(-1, 1, 2000), rng.normal(1, 1, 2000)]
    y = np.r_[np.zeros(2000, dtype=bool), np.ones(2000, dtype=bool)]
    a, b = _platt(margin, y)
    # two unit-variance Gaussians at -1 and +1: the true log-odds are 2m
    assert a == pytest.approx(2.0, abs=0.2) and b == pytest.approx(0.0, abs=0.15)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("[Web발신] 인증번호 583920", "ko"),
        ("(광고) 대출 https://bit.ly/abc free", "ko"),
        ("[KB] 보안 승급 https://kbstar-secure-login.example.com/verify?id=abcdef", "ko"),
        ("ㄷㅐㅊㅜㄹ loan", "ko"),
        ("FREE entry to win", "other"),
        ("Привет", "other"),
        ("010-1234-5678", "other"),
        ("", "other"),
    ],
)
def test_language_of(text: str, language: str) -> None:
    assert language_of(text) == language


def test_row_thresholds_fall_back_to_the_shared_one() -> None:
    thresholds = {"fpr_0.005": 0.7, "ko:fpr_0.005": 0.9}
    cuts = row_thresholds(thresholds, "fpr_0.005", ["안녕하세요 고객님", "hello there"])
    assert cuts.tolist() == [0.9, 0.7]
    with pytest.raises(KeyError):
        row_thresholds(thresholds, "fpr_0.01", ["hello"])


def test_each_language_gets_thresholds_from_its_own_ham(corpus: Path) -> None:
    examples, _, _ = load_examples([corpus])
    train = [e for e in examples if e.split == "train"]
    val = [e for e in examples if e.split == "validation"]
    fitted = fit_content(train, val, TrainOptions(seed=5, augment=0.0, language_thresholds=True))
    names = set(fitted.thresholds)
    assert {"fpr_0.005", "ko:fpr_0.005", "other:fpr_0.005"} <= names
    # per language, at most 0.5 % of that language's validation ham scores at or above its cut
    proba = fitted.proba(featurize([normalize(e.text).text for e in val]))
    for language in ("ko", "other"):
        ham = np.array([not e.is_spam and language_of(e.text) == language for e in val])
        assert ham.sum() >= 200
        flagged = float(np.mean(proba[ham] >= fitted.thresholds[f"{language}:fpr_0.005"]))
        assert flagged <= 0.005


def test_without_language_thresholds_only_shared_ones(corpus: Path) -> None:
    examples, _, _ = load_examples([corpus])
    train = [e for e in examples if e.split == "train"]
    val = [e for e in examples if e.split == "validation"]
    assert not TrainOptions().language_thresholds  # the shipped recipe: off (see the bench)
    opts = TrainOptions(seed=5, augment=0.0)
    assert all(":" not in name for name in fit_content(train, val, opts).thresholds)


def test_too_little_ham_of_a_language_means_no_thresholds_for_it() -> None:
    ham = [Example(f"hello number {i} see you", "ham", {"x"}, bucket=50) for i in range(60)]
    spam = [Example(f"win cash prize {i} call now", "spam", {"x"}, bucket=50) for i in range(30)]
    val = [Example(f"hi {i} later ok", "ham", {"x"}, bucket=25) for i in range(40)]
    val += [Example(f"free prize {i} claim", "spam", {"x"}, bucket=25) for i in range(10)]
    fitted = fit_content(
        ham + spam, val, TrainOptions(seed=1, augment=0.0, language_thresholds=True)
    )
    assert all(":" not in name for name in fitted.thresholds)


def test_evaluation_holds_each_row_to_its_language_threshold(corpus: Path, tmp_path: Path) -> None:
    opts = TrainOptions(seed=5, augment=0.0, model_id="t-2026.11.1", language_thresholds=True)
    out = train_content_model([corpus], opts)
    model = ContentModel.load(out.save(tmp_path / "m"))
    ev = evaluate(model, corpus, split="validation", fpr_point=0.005)
    assert "ko" in ev.threshold_name and "other" in ev.threshold_name
    texts, labels = _validation_rows(corpus)
    proba = model.predict_proba(texts)
    cuts = model.thresholds_for(texts, "fpr_0.005")
    y = np.array([label != "ham" for label in labels])
    expected_fp = int(np.sum((proba >= cuts) & ~y))
    assert ev.summary["at_model_threshold"]["fp"] == expected_fp
    assert ev.summary["at_model_threshold"]["tp"] == int(np.sum((proba >= cuts) & y))


def _validation_rows(path: Path) -> tuple[list[str], list[str]]:
    examples, _, _ = load_examples([path])
    val = [e for e in examples if e.split == "validation"]
    return [e.text for e in val], [e.label for e in val]
