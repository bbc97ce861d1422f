"""The judging service: raw fields in, explained verdict out.

Everything that reaches a verdict goes through :class:`Pipeline`: the CLI, the HTTP API and (later)
the SMPP gateway. Bad input never raises out of it: it becomes an ``error`` verdict that says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from spamgate.checks.base import Check
from spamgate.checks.context import AccountView, prepare
from spamgate.checks.engine import CompiledPolicy, compile_policy, evaluate
from spamgate.checks.registry import CHECKS
from spamgate.config import PolicyFile, load_policy
from spamgate.domain.message import KST, Message, parse_message
from spamgate.domain.numbers import parse_number
from spamgate.domain.verdict import Verdict
from spamgate.errors import ConfigError, InputError

__all__ = ["MessageFields", "Pipeline"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MessageFields:
    """Untrusted input for one message, as the CLI, CSV rows and the API carry it."""

    text: str | None
    sender: str | None = None
    recipient: str | None = None
    route: str | None = None
    at: str | datetime | None = None
    account: str | None = None


class Pipeline:
    """Judges messages under a policy. Thread-compatible: compiled policies are read-only."""

    def __init__(
        self,
        policy: PolicyFile | None = None,
        *,
        checks: Sequence[type[Check[Any]]] = CHECKS,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.policy = policy if policy is not None else load_policy()
        self._checks = checks
        self._clock = clock or (lambda: datetime.now(KST))
        self._compiled: dict[str, CompiledPolicy] = {}
        self.default = self.compiled(self.policy.name)
        self.model_id: str | None = None

    @classmethod
    def from_config(cls, path: Path | None) -> Pipeline:
        return cls(load_policy(path))

    @property
    def limits(self) -> Any:
        return self.policy.limits

    def compiled(self, name: str) -> CompiledPolicy:
        """The compiled policy ``name``, compiled on first use."""
        found = self._compiled.get(name)
        if found is None:
            found = compile_policy(self.policy.overlay(name), self._checks)
            self._compiled[name] = found
        return found

    def account_view(self, account: str | None) -> AccountView | None:
        if account is None:
            return None
        conf = self.policy.accounts.get(account)
        if conf is None:
            return AccountView(id=account)
        return AccountView(
            id=account,
            policy=conf.policy,
            night_ad_consent=conf.night_ad_consent,
            international_verified=conf.international_verified,
        )

    def parse(self, fields: MessageFields) -> Message:
        """Validate ``fields`` into a :class:`Message` or raise :class:`InputError`."""
        message = parse_message(
            fields.text,
            sender=fields.sender,
            recipient=fields.recipient,
            route=fields.route,
            at=fields.at,
            account=fields.account,
            max_chars=self.policy.limits.max_text_chars,
            now=self._clock(),
        )
        if message.recipient is not None and parse_number(message.recipient).reason == "non_digit":
            # A recipient that is not a number cannot be delivered to or judged.
            raise InputError(
                f"recipient {message.recipient[:24]!r} is not a phone number", field="recipient"
            )
        return message

    def judge(self, message: Message) -> Verdict:
        """Judge a validated message under its account's policy."""
        account = self.account_view(message.account)
        name = account.policy if account is not None else self.policy.name
        try:
            compiled = self.compiled(name)
        except ConfigError as exc:
            log.error("account %s names a bad policy: %s", message.account, exc)
            compiled = self.default
        ctx = prepare(message, account=account)
        return evaluate(compiled, ctx, model_id=self.model_id)

    def judge_fields(self, fields: MessageFields) -> Verdict:
        """Parse and judge; bad input becomes an ``error`` verdict, never an exception."""
        try:
            message = self.parse(fields)
        except InputError as exc:
            return Verdict.error(exc.reason, policy=self.policy.name)
        return self.judge(message)

    def judge_many(self, batch: Iterable[MessageFields]) -> list[Verdict]:
        return [self.judge_fields(fields) for fields in batch]
