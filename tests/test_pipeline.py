"""The pipeline never raises on input, whatever it is: bad input is an error verdict."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spamgate.domain.verdict import Action
from spamgate.pipeline import MessageFields, Pipeline

PIPELINE = Pipeline()

fields = st.builds(
    MessageFields,
    text=st.one_of(st.none(), st.text(max_size=400)),
    sender=st.one_of(st.none(), st.text(max_size=20), st.from_regex(r"\+?[0-9 -]{3,16}")),
    recipient=st.one_of(st.none(), st.text(max_size=20), st.from_regex(r"01[0-9]{8,9}")),
    route=st.sampled_from([None, "domestic", "international", "", "moon"]),
    at=st.one_of(st.none(), st.text(max_size=30), st.just("2026-11-26T23:00:00+09:00")),
    account=st.one_of(st.none(), st.text(max_size=10)),
)


@settings(max_examples=300, deadline=None)
@given(fields)
def test_judge_fields_never_raises_and_always_explains(message: MessageFields) -> None:
    verdict = PIPELINE.judge_fields(message)
    if verdict.action == Action.ERROR:
        assert verdict.reason
        assert verdict.symbols == ()
    else:
        assert abs(verdict.score - sum(s.score for s in verdict.symbols)) < 1e-6
        for symbol in verdict.symbols:
            assert symbol.description
            assert symbol.evidence is None or len(symbol.evidence) <= 60


def test_error_verdict_shape() -> None:
    verdict = PIPELINE.judge_fields(MessageFields(""))
    out = verdict.to_dict()
    assert out["action"] == "error"
    assert out["reason"].startswith("empty text")
    assert out["symbols"] == []
