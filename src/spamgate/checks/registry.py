"""The one place checks are registered, in the order they run.

Order matters only through published facts: ``illegal_goods`` publishes the categories the
``advertising`` check reads. Adding a check = one module, one line here, one policy section.
"""

from __future__ import annotations

from typing import Any

from spamgate.checks.advertising import AdvertisingCheck
from spamgate.checks.base import Check
from spamgate.checks.bursts import BurstCheck
from spamgate.checks.campaigns import CampaignCheck
from spamgate.checks.content_model import ContentModelCheck
from spamgate.checks.illegal_goods import IllegalGoodsCheck
from spamgate.checks.lures import LureCheck
from spamgate.checks.numbers import NumbersCheck
from spamgate.checks.origin import OriginCheck
from spamgate.checks.registry_checks import RegistryCheck
from spamgate.checks.url_model import UrlModelCheck
from spamgate.checks.urls import UrlCheck

__all__ = ["CHECKS", "all_symbols"]

CHECKS: tuple[type[Check[Any]], ...] = (
    NumbersCheck,
    OriginCheck,
    RegistryCheck,
    IllegalGoodsCheck,
    AdvertisingCheck,
    UrlCheck,
    LureCheck,
    ContentModelCheck,
    UrlModelCheck,
    CampaignCheck,
    BurstCheck,
)


def all_symbols() -> dict[str, tuple[str, str]]:
    """Symbol name → (check name, description), for docs and the API."""
    return {s.name: (c.name, s.description) for c in CHECKS for s in c.symbols}
