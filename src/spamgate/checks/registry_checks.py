"""The registry's rules on each message (issue 5): who may send, from which number, to whom.

Reads only the :class:`~spamgate.checks.registry_view.RegistryView` the pipeline put on the
context (an in-memory snapshot; no I/O here). Without a registry nothing fires, so a pipeline
without one judges exactly as before. Number rules (theft protection, block list, recipient
status) apply to every message; account rules apply when the message names an account:

* ``PER_SEND_AUTH_FAILED`` — the per-send proof is missing, stale, replayed, malformed or wrong,
  or the account is unknown (option ``require_proof = false`` lets messages *without* a proof
  through; a bad proof still fails). Not when an operator judges offline (``spamgate check`` /
  ``scan``: :attr:`SendAuth.OFFLINE`): the other rules still apply there;
* ``ACCOUNT_SUSPENDED``, ``RESELLER_NOT_CERTIFIED`` (not certified, suspended, cancelled, or
  past its end date), ``SENDER_NOT_REGISTERED`` (the sender is not an active number of this
  account).
"""

from __future__ import annotations

from collections.abc import Iterable

from spamgate.checks.base import Check, Hit, Options, SymbolDef
from spamgate.checks.context import CheckContext
from spamgate.checks.registry_view import SendAuth
from spamgate.domain.verdict import Action

__all__ = ["RegistryCheck", "RegistryOptions"]

GROUP = "registry"
_CERTIFIED = "certified"
_OK = SendAuth.OK
_OFFLINE = SendAuth.OFFLINE
_MISSING = SendAuth.MISSING


class RegistryOptions(Options):
    #: A message that names an account must carry a per-send proof.
    require_proof: bool = True
    #: Look up the links in the text on the registry's block list.
    check_links: bool = True


class RegistryCheck(Check[RegistryOptions]):
    name = "registry"
    options_model = RegistryOptions
    requires = ("registry",)
    symbols = (
        SymbolDef(
            "PER_SEND_AUTH_FAILED",
            15.0,
            GROUP,
            "per-send authentication failed (missing, stale, replayed or wrong proof)",
            Action.REJECT,
        ),
        SymbolDef(
            "ACCOUNT_SUSPENDED",
            15.0,
            GROUP,
            "the sending account is suspended",
            Action.REJECT,
        ),
        SymbolDef(
            "RESELLER_NOT_CERTIFIED",
            15.0,
            GROUP,
            "the account's reseller holds no valid transmission certification",
            Action.REJECT,
        ),
        SymbolDef(
            "SENDER_NOT_REGISTERED",
            15.0,
            GROUP,
            "sender number is not registered to this account (발신번호 사전등록)",
            Action.REJECT,
        ),
        SymbolDef(
            "SENDER_THEFT_PROTECTED",
            15.0,
            GROUP,
            "sender number is theft-protected: its owner asked that nobody send from it",
            Action.REJECT,
        ),
        SymbolDef(
            "SENDER_BLOCKLISTED",
            15.0,
            GROUP,
            "sender number is on the block list",
            Action.REJECT,
        ),
        SymbolDef(
            "RECIPIENT_INVALID",
            15.0,
            GROUP,
            "recipient number is unallocated, suspended or terminated",
            Action.REJECT,
        ),
        SymbolDef(
            "URL_REGISTRY_BLOCKLISTED",
            10.0,
            GROUP,
            "a link's URL or domain is on the registry's block list",
            Action.SPAMBOX,
        ),
    )

    def __init__(self, options: RegistryOptions) -> None:
        super().__init__(options)
        # Read once: the check runs for every message.
        self._require_proof = options.require_proof
        self._check_links = options.check_links

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        # A list rather than a generator: this runs for every message, and it adds up.
        view = ctx.registry
        if view is None:
            return ()
        hits: list[Hit] = []
        sender = ctx.sender
        sender_digits = sender.digits if sender is not None else ""
        if sender_digits and view.sender_flagged(sender_digits):  # one probe for most senders
            if view.theft_protected(sender_digits):
                hits.append(Hit("SENDER_THEFT_PROTECTED", sender_digits))
            blocked = view.blocked_number(sender_digits)
            if blocked is not None:
                hits.append(Hit("SENDER_BLOCKLISTED", f"{sender_digits} ({blocked})"))
        recipient = ctx.recipient
        if recipient is not None and recipient.valid:
            status = view.number_status(recipient.digits)
            if status is not None and status.blocks_delivery:
                hits.append(Hit("RECIPIENT_INVALID", f"{recipient.digits} {status.label}"))
        if ctx.urls and self._check_links:
            for url in ctx.urls:
                evidence = view.blocked_link(url)
                if evidence is not None:
                    hits.append(Hit("URL_REGISTRY_BLOCKLISTED", evidence))
                    break
        account_id = ctx.message.account
        if account_id is None:
            return hits
        auth = ctx.send_auth
        if (
            auth is not None
            and auth is not _OK
            and auth is not _OFFLINE
            and (self._require_proof or auth is not _MISSING)
        ):
            hits.append(Hit("PER_SEND_AUTH_FAILED", f"account {account_id[:32]}: {auth.value}"))
        account_state = view.account_state(account_id)  # account() and certification() at once
        if account_state is None:
            return hits
        standing, state = account_state
        if standing.suspended:
            hits.append(Hit("ACCOUNT_SUSPENDED", f"account {account_id}"))
        if standing.reseller_id is not None and state != _CERTIFIED:
            hits.append(
                Hit(
                    "RESELLER_NOT_CERTIFIED",
                    f"reseller {standing.reseller_id}: {state or 'never applied'}",
                )
            )
        if sender_digits and sender_digits not in standing.senders:
            hits.append(
                Hit("SENDER_NOT_REGISTERED", f"{sender_digits} not on account {account_id}")
            )
        return hits
