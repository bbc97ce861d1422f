"""The content model's verdict as symbols: one per probability band.

The pipeline scores each batch with the loaded content model and hands every message its
:class:`~spamgate.checks.context.ModelScores`; this check only maps the calibrated spam
probability to a band (thresholds in the options, weights in the policy) and names, as evidence,
the n-grams that pushed the score up most. With no model loaded it never fires.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field, model_validator

from spamgate.checks.base import Check, Hit, Options, SymbolDef
from spamgate.checks.context import CheckContext

__all__ = ["ContentModelCheck", "ContentModelOptions"]

GROUP = "content_model"


class ContentModelOptions(Options):
    """Probability at which each band starts (calibrated spam probability, 0..1)."""

    high: float = Field(default=0.9, gt=0, le=1)
    medium: float = Field(default=0.8, gt=0, le=1)
    low: float = Field(default=0.63, gt=0, le=1)
    evidence_ngrams: int = Field(default=4, ge=0, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> ContentModelOptions:
        if not self.low <= self.medium <= self.high:
            raise ValueError("thresholds must satisfy low <= medium <= high")
        return self


class ContentModelCheck(Check[ContentModelOptions]):
    name = "content_model"
    symbols = (
        SymbolDef("CONTENT_MODEL_HIGH", 6.0, GROUP, "the content model is confident this is spam"),
        SymbolDef("CONTENT_MODEL_MEDIUM", 3.5, GROUP, "the content model finds this likely spam"),
        SymbolDef("CONTENT_MODEL_LOW", 1.5, GROUP, "the content model finds this possibly spam"),
    )
    options_model = ContentModelOptions
    requires = ("model",)

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        scores = ctx.model
        if scores is None:
            return
        p = scores.spam_probability
        opts = self.options
        if p >= opts.high:
            symbol = "CONTENT_MODEL_HIGH"
        elif p >= opts.medium:
            symbol = "CONTENT_MODEL_MEDIUM"
        elif p >= opts.low:
            symbol = "CONTENT_MODEL_LOW"
        else:
            return
        ngrams = ", ".join(scores.top_features[: opts.evidence_ngrams])
        label = f"{scores.label} " if scores.label and scores.label != "ham" else ""
        yield Hit(symbol, f"{label}p={p:.2f}" + (f": {ngrams}" if ngrams else ""))
