"""Messages that are variants of a registered spam campaign (MinHash fingerprints).

The pipeline looks every message of a batch up in the campaign index (see
:mod:`spamgate.model.campaigns`) and publishes the best match as the fact ``campaign_match``; this
check fires ``CAMPAIGN_MATCH`` when its estimated similarity reaches ``min_similarity``. The
evidence names the campaign and the similarity, never the campaign's text.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from spamgate.checks.base import Check, Hit, Options, SymbolDef
from spamgate.checks.context import CheckContext
from spamgate.domain.verdict import Action
from spamgate.model.campaigns import CampaignMatch

__all__ = ["CAMPAIGN_FACT", "CampaignCheck", "CampaignOptions"]

#: The fact the pipeline publishes: the best :class:`CampaignMatch`, if any.
CAMPAIGN_FACT = "campaign_match"


class CampaignOptions(Options):
    min_similarity: float = Field(default=0.6, gt=0, le=1)


class CampaignCheck(Check[CampaignOptions]):
    name = "campaigns"
    symbols = (
        SymbolDef(
            "CAMPAIGN_MATCH",
            10.0,
            "campaign",
            "a variant of a reported spam campaign",
            Action.SPAMBOX,
        ),
    )
    options_model = CampaignOptions

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        # Returns rather than yields: this runs for every message, and nearly all match nothing.
        match = ctx.facts.get(CAMPAIGN_FACT)
        if isinstance(match, CampaignMatch) and match.similarity >= self.options.min_similarity:
            return [Hit("CAMPAIGN_MATCH", f"{match.campaign_id} similarity {match.similarity:.2f}")]
        return ()
