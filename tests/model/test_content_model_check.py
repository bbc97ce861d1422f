"""CONTENT_MODEL_* symbols from the shipped model, through the real pipeline."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from conftest import DAYTIME, Judge
from spamgate.checks.content_model import ContentModelOptions
from spamgate.config import load_policy
from spamgate.domain.verdict import Action
from spamgate.model.scoring import ContentModel, default_model_path
from spamgate.model.url_tokens import TOKEN_LABELS, token_label
from spamgate.pipeline import MessageFields, Pipeline
from spamgate.text import normalize

HANDWRITTEN = Path(__file__).parent / "data" / "kor_handwritten_eval.csv"


def _rows() -> list[tuple[str, str]]:
    with HANDWRITTEN.open(encoding="utf-8", newline="") as fh:
        return [(row["label"], row["text"]) for row in csv.DictReader(fh)]


def _model_symbols(names: list[str]) -> list[str]:
    return [n for n in names if n.startswith("CONTENT_MODEL_")]


def test_shipped_model_loads_fast() -> None:
    start = time.perf_counter()
    model = ContentModel.load(default_model_path())
    assert time.perf_counter() - start < 1.0
    assert model.meta.training_data and model.meta.metrics


def test_fires_on_obvious_spam_with_ngram_evidence(judge: Judge) -> None:
    text = (
        "[CJ대한통운] 고객님 택배가 주소 불명으로 반송 예정입니다. 주소 수정 http://cj-logis.xyz/a1"
    )
    verdict = judge(text)
    fired = _model_symbols(verdict.symbol_names())
    assert fired == ["CONTENT_MODEL_HIGH"]
    evidence = next(s.evidence for s in verdict.symbols if s.name == fired[0])
    assert evidence is not None and evidence.startswith("smishing p=1.00: ")
    named = evidence.split(": ", 1)[1].rstrip("…").split(", ")
    compact = normalize(text).compact
    assert len(named) >= 3
    # each name is text of the message, or the kind of one of its links (model/url_tokens.py)
    assert all(n.replace(" ", "") in compact or n in TOKEN_LABELS.values() for n in named[:-1])
    assert "<link: suspicious TLD>" in named
    assert verdict.spam_probability is not None and verdict.spam_probability > 0.98
    assert verdict.model is not None and verdict.model.startswith("sms-ko-en-")


@pytest.mark.parametrize(
    "text",
    [
        "[Web발신] 인증번호 [583920]를 입력해 주세요.",
        "내일 점심 같이 먹을래? 회사 앞 국수집 어때",
        "Can you pick up some milk on the way back?",
        "[서울아산병원] 12월 3일 오전 10시 내과 진료 예약되어 있습니다.",
    ],
)
def test_does_not_fire_on_ham(judge: Judge, text: str) -> None:
    verdict = judge(text)
    assert _model_symbols(verdict.symbol_names()) == []
    assert verdict.action == Action.DELIVER
    assert verdict.spam_probability is not None and verdict.spam_probability < 0.5


def test_handwritten_korean_smishing_is_flagged_and_ham_is_not(judge: Judge) -> None:
    flagged = {"smishing": 0, "ham": 0}
    total = {"smishing": 0, "ham": 0}
    for label, text in _rows():
        total[label] += 1
        if _model_symbols(judge(text).symbol_names()):
            flagged[label] += 1
    assert flagged["ham"] == 0
    assert flagged["smishing"] >= total["smishing"] - 1


def test_no_model_no_symbols() -> None:
    pipeline = Pipeline(load_policy(), clock=lambda: DAYTIME, model=None, url_model=None)
    verdict = pipeline.judge_fields(MessageFields("첫충 30% 카지노 가입머니 지급 바로가기"))
    assert _model_symbols(verdict.symbol_names()) == []
    assert verdict.spam_probability is None and verdict.model is None


def test_judge_many_scores_the_batch_in_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline = Pipeline(load_policy(), clock=lambda: DAYTIME, url_model=None)
    model = pipeline.content_model
    assert model is not None
    calls: list[int] = []
    original = model.score_normalized

    def spy(texts: list[str], **kwargs: float) -> object:
        calls.append(len(texts))
        return original(texts, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(model, "score_normalized", spy)
    batch = [MessageFields(f"메시지 {i}") for i in range(7)] + [MessageFields("")]
    verdicts = pipeline.judge_many(batch)
    assert calls == [7]
    assert [v.action for v in verdicts][-1] == Action.ERROR
    assert all(v.spam_probability is not None for v in verdicts[:7])
    single = pipeline.judge_fields(MessageFields("메시지 3"))
    assert calls == [7, 1]
    assert single.spam_probability == verdicts[3].spam_probability


def test_policy_can_disable_the_model() -> None:
    policy = load_policy()
    policy.checks["content_model"] = {**policy.checks["content_model"], "enabled": False}
    pipeline = Pipeline(policy, url_model=None)
    assert pipeline.content_model is None


def test_band_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="low <= medium <= high"):
        ContentModelOptions(high=0.5, medium=0.9, low=0.2)


def _top_one_by_one(model: ContentModel, text: str, k: int) -> list[str]:
    """The explanation rule spelled out for one message, the slow obvious way."""
    from spamgate.model.features import extract

    grams = extract([text], model.layout)
    totals: dict[int, float] = {}
    first: dict[int, int] = {}
    for row, (col, length, value) in enumerate(
        zip(grams.col.tolist(), grams.length.tolist(), grams.value.tolist(), strict=True)
    ):
        if length < 2:
            continue
        totals[col] = totals.get(col, 0.0) + float(model._coef[col]) * value
        first.setdefault(col, row)
    ranked = sorted((c for c in totals if totals[c] > 0), key=lambda c: (-totals[c], c))
    names: list[str] = []
    for col in ranked[: 8 * k + 16]:
        start, length = int(grams.start[first[col]]), int(grams.length[first[col]])
        name = grams.joined[start : start + length].strip()
        name = token_label(grams.joined, start, length) or name  # a link's kind, named
        if len(name) < 2 or any(name in seen or seen in name for seen in names):
            continue
        names.append(name)
        if len(names) == k:
            break
    return names


def test_batched_explanations_match_one_message_at_a_time() -> None:
    model = ContentModel.load_default()
    texts = [
        normalize(t).text
        for t in (
            "(광고) 대출 가능 최저금리 당일입금 문의 010-1234-5678 무료거부 080-123-4567",
            "WINNER!! You have won a £1000 prize. Call 09061701461 to claim now",
            "안녕하세요 내일 회의는 3시입니다",
            "[Web발신] 고객님 택배 주소지 불일치 확인 bit.ly/3xYz 바로가기",
            "",
            "free free free free entry txt WIN to 80086 now",
            "카지노 첫충 30% 매충 10% 토토 사이트 가입코드 777",
        )
    ]
    scores = model.score_normalized(texts, explain_above=0.0, k=5)
    explained = 0
    for text, score in zip(texts, scores, strict=True):
        assert list(score.top_features) == _top_one_by_one(model, text, 5), text
        explained += bool(score.top_features)
    assert explained >= 5
    # Above the bar only; the rest get no names.
    strict = model.score_normalized(texts, explain_above=0.9)
    for loose, tight in zip(scores, strict, strict=True):
        assert tight.spam_probability == loose.spam_probability
        assert tight.top_features == (loose.top_features if tight.spam_probability >= 0.9 else ())
    assert model.explain(texts[1]) == _top_one_by_one(model, texts[1], 5)
