"""The per-message context every check reads: prepared once, shared by all checks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from spamgate.domain.message import Message
from spamgate.domain.numbers import NumberInfo, parse_number
from spamgate.text import ExtractedUrl, NormalizedText, extract_urls, normalize

if TYPE_CHECKING:
    from spamgate.checks.registry_view import RegistryView, SendAuth

__all__ = ["AccountView", "CheckContext", "ModelScores", "find_phone_numbers", "prepare"]


@dataclass(frozen=True, slots=True)
class AccountView:
    """What the checks may know about the sending account (from policy now, registry later)."""

    id: str
    policy: str = "default"
    night_ad_consent: bool = False
    international_verified: bool = False


@dataclass(frozen=True, slots=True)
class ModelScores:
    """Content-model output for this message, when a model is loaded."""

    spam_probability: float
    model_id: str
    label: str | None = None
    top_features: tuple[str, ...] = ()


@dataclass(slots=True)
class CheckContext:
    """Everything a check may read about one message. Built by :func:`prepare`."""

    message: Message
    text: NormalizedText
    urls: list[ExtractedUrl]
    sender: NumberInfo | None
    recipient: NumberInfo | None
    local_time: datetime
    account: AccountView | None = None
    model: ModelScores | None = None
    #: The registry as of this batch (None: no registry, the registry checks stay silent).
    registry: RegistryView | None = None
    #: Outcome of the per-send proof, when a registry is present and the message names an account.
    send_auth: SendAuth | None = None
    #: Derived facts checks publish for later checks (as Rspamd's spf.lua publishes spf_result),
    #: so no check needs to match another's symbol names.
    facts: dict[str, Any] = field(default_factory=dict)
    _numbers_in_text: list[NumberInfo] | None = None

    @property
    def numbers_in_text(self) -> list[NumberInfo]:
        """Valid phone numbers written in the body; found on first use (few checks need them)."""
        if self._numbers_in_text is None:
            self._numbers_in_text = find_phone_numbers(self.text.text)
        return self._numbers_in_text


# Phone numbers written in a message body: 02-123-4567, 010 1234 5678, 080.123.4567, 1588-1234,
# +82 10-..., 15881234. Digits with single separators; bounded so amounts are rarely caught.
_PHONE_RE = re.compile(
    r"(?<![\d.,])(?:\+82[ -]?)?\(?0\d{1,3}\)?[ .-]?\d{3,4}[ .-]?\d{4}(?![\d.,]*\d)"
    r"|(?<![\d.,])1[568]\d{2}[ .-]?\d{4}(?!\d)"
)


def find_phone_numbers(text: str) -> list[NumberInfo]:
    """Valid phone numbers written in ``text`` (invalid look-alikes such as amounts skipped)."""
    found: list[NumberInfo] = []
    seen: set[str] = set()
    for match in _PHONE_RE.finditer(text):
        info = parse_number(match.group(0))
        if info.valid and info.digits not in seen:
            seen.add(info.digits)
            found.append(info)
    return found


def prepare(
    message: Message,
    *,
    account: AccountView | None = None,
    model: ModelScores | None = None,
    registry: RegistryView | None = None,
) -> CheckContext:
    """Build the context for ``message``: normalise, extract URLs and numbers, parse parties.

    With a ``registry`` view, a message that names an account has its per-send proof checked
    here, once (checking consumes the nonce).
    """
    text = message.text
    sender = message.sender
    recipient = message.recipient
    # Positional, in field order (cheaper than keywords; this runs for every message).
    return CheckContext(
        message,
        normalize(text),
        extract_urls(text),
        parse_number(sender) if sender else None,
        parse_number(recipient) if recipient else None,
        message.submitted_at,  # local_time
        account,
        model,
        registry,
        (  # send_auth
            registry.authenticate(message)
            if registry is not None and message.account is not None
            else None
        ),
    )
