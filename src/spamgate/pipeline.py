"""The judging service: raw fields in, explained verdict out.

Everything that reaches a verdict goes through :class:`Pipeline`: the CLI, the HTTP API and (later)
the SMPP gateway. Bad input never raises out of it: it becomes an ``error`` verdict that says why.

Models: unless told otherwise the pipeline loads the content and URL models shipped in the
package (settings ``model`` / ``url_model``, i.e. ``SPAMGATE_MODEL`` / ``SPAMGATE_URL_MODEL``: a
model directory, or ``none``), and skips a model whose check the default policy disables.
Messages are scored in batches: ``judge_many`` scores its whole batch with one call per model,
``judge`` a batch of one. A model that cannot be loaded is refused with a logged error; a running
pipeline keeps its last good model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from spamgate.checks.base import Check
from spamgate.checks.bursts import BURST_FACT, SWEEP_FACT, BurstCheck
from spamgate.checks.campaigns import CAMPAIGN_FACT
from spamgate.checks.context import AccountView, CheckContext, ModelScores, prepare
from spamgate.checks.engine import CompiledPolicy, compile_policy, evaluate
from spamgate.checks.registry import CHECKS
from spamgate.checks.registry_view import RegistrySource
from spamgate.checks.url_model import URL_SCORES_FACT
from spamgate.config import PolicyFile, Settings, load_policy
from spamgate.domain.message import KST, Message, SendProof, parse_message
from spamgate.domain.numbers import parse_number
from spamgate.domain.verdict import Verdict
from spamgate.errors import ConfigError, InputError
from spamgate.model.artifact import ModelError
from spamgate.model.bursts import BurstTracker, BurstWindows, Observation, content_key
from spamgate.model.campaigns import CampaignIndex
from spamgate.model.scoring import ContentModel
from spamgate.model.url import UrlModel

__all__ = ["MessageFields", "Pipeline"]

log = logging.getLogger(__name__)

_PLAIN_ACCOUNTS_MAX = 4096


@dataclass(frozen=True, slots=True)
class MessageFields:
    """Untrusted input for one message, as the CLI, CSV rows and the API carry it."""

    text: str | None
    sender: str | None = None
    recipient: str | None = None
    route: str | None = None
    at: str | datetime | None = None
    account: str | None = None
    #: Per-send proof ``{timestamp, nonce, signature}`` (see spamgate.registry.persend).
    auth: SendProof | Mapping[str, Any] | None = None


class Pipeline:
    """Judges messages under a policy. Thread-compatible: compiled policies are read-only."""

    def __init__(
        self,
        policy: PolicyFile | None = None,
        *,
        checks: Sequence[type[Check[Any]]] = CHECKS,
        clock: Callable[[], datetime] | None = None,
        model: ContentModel | Path | Literal["default"] | None = "default",
        url_model: UrlModel | Path | Literal["default"] | None = "default",
        explain_above: float = 0.5,
        campaigns: CampaignIndex | None = None,
        bursts: BurstWindows | None = None,
        registry: RegistrySource | None = None,
    ) -> None:
        self.policy = policy if policy is not None else load_policy()
        #: The registry the registry checks read (one view per batch); None: they stay silent.
        self.registry = registry
        self._checks = checks
        self._clock = clock or (lambda: datetime.now(KST))
        self._compiled: dict[str, CompiledPolicy] = {}
        #: account id -> its view, for accounts the policy says nothing about
        self._plain_accounts: dict[str, AccountView] = {}
        self.default = self.compiled(self.policy.name)
        self.explain_above = explain_above
        self.content_model: ContentModel | None = None
        self.url_model: UrlModel | None = None
        enabled = {check.name for check in self.default.checks}
        if "content_model" in enabled and model is not None:
            self.content_model = _load_or_none(ContentModel, model)
        if "url_model" in enabled and url_model is not None:
            self.url_model = _load_or_none(UrlModel, url_model)
        #: Registered campaigns (``spamgate campaigns add``), looked up per batch.
        self.campaigns = campaigns if "campaigns" in enabled else None
        #: Sliding-window burst and sweep state (bounded, in process), fed in order; only a
        #: pipeline that judges a stream has one (see :meth:`start_burst_tracking`).
        self.bursts = bursts if "bursts" in enabled else None

    def start_burst_tracking(
        self, *, redis_url: str | None = None, redis_prefix: str = "spamgate"
    ) -> BurstWindows | None:
        """Give this pipeline fresh sliding-window state for the ``bursts`` check, sized by the
        policy (what a gateway or a batch scan wants; a one-off judgement gains nothing): in
        this process, or shared by every process using the Redis at ``redis_url``.
        Returns ``None`` when the policy disables the check."""
        self.bursts = None
        for check in self.default.checks:
            if isinstance(check, BurstCheck):
                window = check.options.window_minutes * 60
                if redis_url:
                    from spamgate.model.bursts_redis import RedisBurstTracker

                    self.bursts = RedisBurstTracker.from_url(
                        redis_url, prefix=redis_prefix, window=window
                    )
                else:
                    self.bursts = BurstTracker(window=window)
        return self.bursts

    @property
    def model_id(self) -> str | None:
        """The content model's id (the verdict's ``model`` field), ``None`` without one."""
        return self.content_model.model_id if self.content_model is not None else None

    @classmethod
    def from_config(
        cls, path: Path | None, data_dir: Path | None = None, *, settings: Settings | None = None
    ) -> Pipeline:
        """The policy at ``path`` over the defaults; models per ``settings.model`` and
        ``settings.url_model`` (``SPAMGATE_MODEL`` / ``SPAMGATE_URL_MODEL``: a model directory,
        ``none``, or unset for the shipped ones); the campaign index of ``data_dir`` when one
        is given; burst tracking started (shared through ``settings.redis_url`` if set)."""
        if settings is None:
            try:
                settings = Settings()
            except ValidationError as exc:  # e.g. SPAMGATE_HTTP_PORT=abc
                err = exc.errors()[0]
                key = "SPAMGATE_" + "_".join(str(p) for p in err["loc"]).upper()
                raise ConfigError(err["msg"], key=key) from None
        pipeline = cls(
            load_policy(path),
            model=_model_spec(settings.model),
            url_model=_model_spec(settings.url_model),
            campaigns=CampaignIndex.open(data_dir) if data_dir is not None else None,
        )
        pipeline.start_burst_tracking(
            redis_url=settings.redis_url, redis_prefix=settings.redis_prefix
        )
        return pipeline

    def load_model(self, path: Path) -> ContentModel:
        """Replace the content model with the one at ``path``.

        Raises :class:`ModelError` (and keeps the current model) if it cannot be used.
        """
        try:
            model = ContentModel.load(path)
        except ModelError as exc:
            log.error("content model refused, keeping %s: %s", self.model_id, exc)
            raise
        self.content_model = model
        log.info("content model %s loaded", model.model_id)
        return model

    def load_url_model(self, path: Path) -> UrlModel:
        """Replace the URL model; raises :class:`ModelError` and keeps the current one."""
        try:
            model = UrlModel.load(path)
        except ModelError as exc:
            log.error("URL model refused, keeping the current one: %s", exc)
            raise
        self.url_model = model
        return model

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
            # The same accounts send most messages: share their (immutable) views, a bounded
            # number of them, rather than building one per message.
            shared = self._plain_accounts.get(account)
            if shared is None:
                if len(self._plain_accounts) >= _PLAIN_ACCOUNTS_MAX:
                    self._plain_accounts.clear()
                shared = self._plain_accounts[account] = AccountView(id=account)
            return shared
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
            auth=fields.auth,
        )
        if message.recipient is not None and parse_number(message.recipient).reason == "non_digit":
            # A recipient that is not a number cannot be delivered to or judged.
            raise InputError(
                f"recipient {message.recipient[:24]!r} is not a phone number", field="recipient"
            )
        return message

    def judge(self, message: Message) -> Verdict:
        """Judge a validated message under its account's policy (a model batch of one)."""
        # judge_batch's steps for one message, without its lists: judging one by one
        # (judge_fields) runs this for every message.
        view = self.registry.view() if self.registry is not None else None
        account = self.account_view(message.account)
        compiled = self._compiled_for(account, message.account)
        ctx = prepare(message, account=account, registry=view)
        self._score((ctx,))
        return evaluate(compiled, ctx, model_id=self.model_id)

    def _compiled_for(self, account: AccountView | None, account_id: str | None) -> CompiledPolicy:
        """The compiled policy the account names (the default one if that policy is bad)."""
        name = account.policy if account is not None else self.policy.name
        try:
            return self.compiled(name)
        except ConfigError as exc:
            log.error("account %s names a bad policy: %s", account_id, exc)
            return self.default

    def judge_batch(self, messages: Sequence[Message]) -> list[Verdict]:
        """Judge validated messages; each model scores the whole batch in one call."""
        prepared: list[tuple[CompiledPolicy, CheckContext]] = []
        view = self.registry.view() if self.registry is not None and messages else None
        batch_view = getattr(view, "batch", None) if len(messages) > 1 else None
        if batch_view is not None:  # the batch's per-send proofs at once: one nonce round trip
            view = batch_view(messages)
        for message in messages:
            account = self.account_view(message.account)
            compiled = self._compiled_for(account, message.account)
            prepared.append((compiled, prepare(message, account=account, registry=view)))
        contexts = [ctx for _, ctx in prepared]
        self._score(contexts)
        model_id = self.model_id
        return [evaluate(compiled, ctx, model_id=model_id) for compiled, ctx in prepared]

    def _score(self, contexts: Sequence[CheckContext]) -> None:
        """Put model scores into the contexts: one call per model for the whole batch."""
        model = self.content_model
        if model is not None and contexts:
            scores = model.score_normalized(
                [ctx.text.text for ctx in contexts], explain_above=self.explain_above
            )
            for ctx, score in zip(contexts, scores, strict=True):
                ctx.model = ModelScores(
                    spam_probability=score.spam_probability,
                    model_id=model.model_id,
                    label=score.label,
                    top_features=score.top_features,
                )
        if self.bursts is not None:
            self._observe_bursts(self.bursts, contexts)
        campaigns = self.campaigns
        if campaigns is not None and contexts:
            campaigns.refresh()  # campaigns added since the last batch count from now on
            if len(campaigns):
                matches = campaigns.match_many([ctx.text.original for ctx in contexts])
                for ctx, match in zip(contexts, matches, strict=True):
                    if match is not None:
                        ctx.facts[CAMPAIGN_FACT] = match
        url_model = self.url_model
        if url_model is not None:
            unique = {u.url: u for ctx in contexts for u in ctx.urls if not u.is_shortener}
            if unique:
                probabilities = url_model.predict_proba(list(unique.values()))
                by_url = dict(zip(unique, probabilities.tolist(), strict=True))
                for ctx in contexts:
                    if ctx.urls:
                        ctx.facts[URL_SCORES_FACT] = {
                            u.url: by_url[u.url] for u in ctx.urls if u.url in by_url
                        }

    @staticmethod
    def _observe_bursts(tracker: BurstWindows, contexts: Sequence[CheckContext]) -> None:
        """Count the batch in the windows (one call: one round trip when they are shared)."""
        batch: list[Observation] = []
        for ctx in contexts:
            recipient = ctx.recipient
            invalid = recipient is not None and not recipient.valid
            if recipient is not None and recipient.valid and ctx.registry is not None:
                status = ctx.registry.number_status(recipient.digits)
                invalid = status is not None and status.blocks_delivery
            batch.append(
                Observation(
                    content_key(ctx.text.text),
                    at=ctx.local_time,
                    sender=ctx.sender.digits if ctx.sender is not None else None,
                    recipient=recipient.digits if recipient is not None else None,
                    account=ctx.message.account,
                    recipient_invalid=invalid,
                )
            )
        for ctx, (burst, sweep) in zip(contexts, tracker.observe_many(batch), strict=True):
            ctx.facts[BURST_FACT] = burst
            if sweep is not None:
                ctx.facts[SWEEP_FACT] = sweep

    def judge_fields(self, fields: MessageFields) -> Verdict:
        """Parse and judge; bad input becomes an ``error`` verdict, never an exception."""
        try:
            message = self.parse(fields)
        except InputError as exc:
            return Verdict.error(exc.reason, policy=self.policy.name)
        return self.judge(message)

    def judge_many(self, batch: Iterable[MessageFields]) -> list[Verdict]:
        """Parse and judge a batch, in order; the models score all valid messages at once."""
        verdicts: list[Verdict | None] = []
        valid: list[Message] = []
        slots: list[int] = []
        for fields in batch:
            try:
                message = self.parse(fields)
            except InputError as exc:
                verdicts.append(Verdict.error(exc.reason, policy=self.policy.name))
                continue
            slots.append(len(verdicts))
            verdicts.append(None)
            valid.append(message)
        for slot, verdict in zip(slots, self.judge_batch(valid), strict=True):
            verdicts[slot] = verdict
        return [v for v in verdicts if v is not None]


def _model_spec(value: str | None) -> Path | Literal["default"] | None:
    if value is None or value.strip() in ("", "default"):
        return "default"
    if value.strip().lower() in ("none", "off", "0", "false"):
        return None
    return Path(value)


def _load_or_none(
    kind: type[ContentModel] | type[UrlModel],
    spec: ContentModel | UrlModel | Path | Literal["default"],
) -> Any:
    """The model ``spec`` names, or ``None`` (logged) if it cannot be loaded."""
    if not isinstance(spec, str | Path):
        return spec
    try:
        return kind.load_default() if spec == "default" else kind.load(spec)
    except ModelError as exc:
        log.error("%s not loaded, judging without it: %s", kind.__name__, exc)
        return None
