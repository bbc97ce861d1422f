"""What the gateway checks itself before the pipeline judges a message, and how it says no.

Per message, on the event loop, a few dict probes (:meth:`SendGate.check`):

1. the bound reseller may still send: its login in the cached registry standing
   (``RegistryAuthenticator``, rebuilt every few seconds) is certified, else
   ``RESELLER_NOT_CERTIFIED`` → SG_RNOTCERTIFIED;
2. the per-send proof (``SPAMGATE_SEND_PROOF`` TLV, :mod:`spamgate.smpp.proof`): required on
   registry binds; it must parse and its account must belong to the bound reseller, else
   ``PER_SEND_AUTH_FAILED`` → SG_RAUTHFAIL.

Per batch, before judging:

3. the proofs that passed step 2 are verified together (:meth:`SendGate.verify`: clock skew,
   HMAC, nonce — one nonce-store call for the batch, in a thread when the store is shared over
   the network, so the event loop never waits on Redis), once per SMPP message; a failure is
   ``PER_SEND_AUTH_FAILED``. A submit_multi is judged once per recipient, so the pipeline is
   told the outcome through :class:`PreverifiedSource` instead of checking (and spending) the
   nonce again;
4. the send-rate buckets (:meth:`SendGate.limit`, :mod:`spamgate.smpp.ratelimit`); over a
   limit → ``throttle`` with ``RATE_LIMITED``.

The refusals are verdicts with one symbol each, so they explain themselves like any other
verdict and map to SMPP statuses in :mod:`spamgate.smpp.mapping`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from spamgate.checks.registry_view import (
    AccountStanding,
    AccountState,
    RegistrySource,
    RegistryView,
    SendAuth,
)
from spamgate.domain.message import KST, Message, SendProof
from spamgate.domain.verdict import Action, SymbolResult, Verdict
from spamgate.smpp.proof import find_proof, parse_proof, signed_recipient
from spamgate.smpp.ratelimit import RateRefusal, RateRequest, SendLimiter
from spamgate.smpp.session import MessagePdu

if TYPE_CHECKING:
    from spamgate.registry.number_status import NumberStatus
    from spamgate.smpp.auth import BindDecision, RegistryAuthenticator
    from spamgate.text import ExtractedUrl

__all__ = [
    "GATE_SYMBOLS",
    "GatePass",
    "PreverifiedSource",
    "SendGate",
    "gate_verdict",
    "throttle_verdict",
]

#: The symbols the gateway itself gives: name → (score, description).
GATE_SYMBOLS: Final[dict[str, tuple[float, str]]] = {
    "RESELLER_NOT_CERTIFIED": (
        15.0,
        "the bound reseller holds no valid transmission certification (전송자격인증 없음)",
    ),
    "PER_SEND_AUTH_FAILED": (
        15.0,
        "per-send authentication failed (발송 건별 인증 실패): missing, malformed, stale, "
        "replayed or wrong proof, or another reseller's account",
    ),
    "RATE_LIMITED": (
        0.0,
        "send rate exceeded (발송 속도 제한): retry later, slower",
    ),
}
_ACTIONS: Final = {
    "RESELLER_NOT_CERTIFIED": Action.REJECT,
    "PER_SEND_AUTH_FAILED": Action.REJECT,
    "RATE_LIMITED": Action.THROTTLE,
}


def gate_verdict(symbol: str, evidence: str, *, policy: str = "default") -> Verdict:
    """A verdict made by the gateway: one of :data:`GATE_SYMBOLS` with its evidence."""
    score, description = GATE_SYMBOLS[symbol]
    return Verdict(
        action=_ACTIONS[symbol],
        score=score,
        symbols=(SymbolResult(symbol, score, description, evidence[:120], "gateway"),),
        policy=policy,
    )


@dataclass(frozen=True, slots=True)
class GatePass:
    """A message the gate let through: the account (and proof) the pipeline judges it under.

    ``pending``: the message whose proof :meth:`SendGate.verify` still has to check."""

    account: str | None
    proof: SendProof | None
    tier: str | None
    pending: Message | None = None


class _PreverifiedView:
    """A registry view whose ``authenticate`` answers OK for proofs the gate already checked."""

    __slots__ = ("_inner", "_verified")

    def __init__(self, inner: RegistryView, verified: Counter[tuple[str, str]]) -> None:
        self._inner = inner
        self._verified = verified

    @property
    def now(self) -> datetime:
        return self._inner.now

    def account(self, account_id: str) -> AccountStanding | None:
        return self._inner.account(account_id)

    def certification(self, standing: AccountStanding) -> str | None:
        return self._inner.certification(standing)

    def account_state(self, account_id: str) -> AccountState | None:
        return self._inner.account_state(account_id)

    def sender_flagged(self, number: str) -> bool:
        return self._inner.sender_flagged(number)

    def theft_protected(self, number: str) -> bool:
        return self._inner.theft_protected(number)

    def blocked_number(self, number: str) -> str | None:
        return self._inner.blocked_number(number)

    def blocked_link(self, url: ExtractedUrl) -> str | None:
        return self._inner.blocked_link(url)

    def number_status(self, number: str) -> NumberStatus | None:
        return self._inner.number_status(number)

    def authenticate(self, message: Message) -> SendAuth:
        auth = message.auth
        if (
            message.account is not None
            and auth is not None
            and self._verified[(message.account, auth.nonce)] > 0
        ):
            return SendAuth.OK
        return self._inner.authenticate(message)


class PreverifiedSource:
    """Wraps the pipeline's registry source (see the module docstring).

    ``remember`` before a message is queued for judging (once per recipient job), ``forget``
    once it is answered; the counter never holds more than the messages in flight.
    """

    def __init__(self, inner: RegistrySource) -> None:
        self.inner = inner
        self.verified: Counter[tuple[str, str]] = Counter()

    def view(self) -> RegistryView:
        return _PreverifiedView(self.inner.view(), self.verified)

    def remember(self, account: str, nonce: str, times: int = 1) -> None:
        self.verified[(account, nonce)] += times

    def forget(self, account: str, nonce: str) -> None:
        key = (account, nonce)
        left = self.verified[key] - 1
        if left > 0:
            self.verified[key] = left
        else:
            self.verified.pop(key, None)


class SendGate:
    """The gateway's own checks (see the module docstring)."""

    def __init__(
        self,
        *,
        logins: RegistryAuthenticator | None = None,
        registry: PreverifiedSource | None = None,
        limiter: SendLimiter | None = None,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(KST),
        verify_in_thread: bool = False,
    ) -> None:
        self.logins = logins
        self.registry = registry
        self.limiter = limiter
        self._wall_clock = wall_clock
        #: True when the nonce store is shared over the network (Redis): verify off the loop.
        self.verify_in_thread = verify_in_thread

    def check(
        self, decision: BindDecision, system_id: str, pdu: MessagePdu, text: str
    ) -> GatePass | Verdict:
        """Standing and the per-send proof's form of one whole message (``pdu`` is its first
        part); the proof itself is left to :meth:`verify` (``GatePass.pending``)."""
        if decision.operator_id is not None and self.logins is not None:
            login = self.logins.login(system_id)
            if login is None or login.operator_id != decision.operator_id or not login.may_send:
                state = "login removed" if login is None else login.certification or "none"
                return gate_verdict(
                    "RESELLER_NOT_CERTIFIED", f"reseller {decision.operator_id}: {state}"
                )
        raw = find_proof(pdu)
        if raw is None:
            if decision.from_registry:
                return gate_verdict("PER_SEND_AUTH_FAILED", "missing: no SPAMGATE_SEND_PROOF")
            return GatePass(decision.account, None, self._tier(decision.account))
        parsed = parse_proof(raw)
        if parsed is None:
            return gate_verdict("PER_SEND_AUTH_FAILED", "malformed SPAMGATE_SEND_PROOF")
        account = parsed.account
        if decision.account is not None and account != decision.account:
            return gate_verdict("PER_SEND_AUTH_FAILED", f"account {account}: not this login's")
        registry = self.registry
        if registry is None:  # nothing to verify against: the proof cannot be trusted
            return gate_verdict("PER_SEND_AUTH_FAILED", "no registry to verify the proof")
        view = registry.inner.view()
        standing = view.account(account)
        if standing is None:
            return gate_verdict("PER_SEND_AUTH_FAILED", f"account {account}: unknown")
        if decision.operator_id is not None and standing.operator_id != decision.operator_id:
            # Another tenant's account: say no more than for an unknown one.
            return gate_verdict("PER_SEND_AUTH_FAILED", f"account {account}: unknown")
        message = Message(
            text=text,
            submitted_at=self._wall_clock(),
            sender=pdu.source_addr.strip() or None,
            recipient=signed_recipient(pdu) or None,
            account=account,
            auth=parsed.proof,
        )
        return GatePass(account, parsed.proof, self._tier(account), pending=message)

    async def verify(self, pending: Sequence[Message]) -> list[Verdict | None]:
        """Check the proofs of ``pending`` (from :meth:`check`) in one call: per message, None
        (verified: its nonce is spent) or the ``PER_SEND_AUTH_FAILED`` refusal."""
        if not pending:
            return []
        if self.registry is None:
            return [gate_verdict("PER_SEND_AUTH_FAILED", "no registry to verify the proof")] * len(
                pending
            )
        view = self.registry.inner.view()
        # The registry's own view checks a batch with one nonce-store round trip.
        many: Callable[[Sequence[Message]], list[SendAuth]] | None = getattr(
            view, "authenticate_many", None
        )

        def run() -> list[SendAuth]:
            if many is not None:
                return many(pending)
            return [view.authenticate(message) for message in pending]

        outcomes = await asyncio.to_thread(run) if self.verify_in_thread else run()
        return [
            None
            if outcome is SendAuth.OK
            else gate_verdict("PER_SEND_AUTH_FAILED", f"account {message.account}: {outcome.value}")
            for message, outcome in zip(pending, outcomes, strict=True)
        ]

    def _tier(self, account: str | None) -> str | None:
        if account is None or self.logins is None:
            return None
        info = self.logins.standing.accounts.get(account)
        return None if info is None else info.trust_tier

    async def limit(self, requests: Sequence[RateRequest]) -> list[RateRefusal | None]:
        """Per request: None (within its rates) or the bucket that refused it."""
        if self.limiter is None:
            return [None] * len(requests)
        return await self.limiter.admit(requests)


def throttle_verdict(refusal: RateRefusal) -> Verdict:
    """The ``throttle`` verdict for a message over a send rate."""
    return gate_verdict("RATE_LIMITED", refusal.evidence)
