"""Reseller certification (전송자격인증): the lifecycle as a table.

A reseller may send bulk messages only while certified (guideline 2024-03-27). The steps are
application with documents, document review, on-site review, the committee's decision, and a
yearly re-check; sanctions are suspension and cancellation. As h11 does for HTTP, the legal
moves are data — :data:`TRANSITIONS` maps (state, action) to the next state — and anything not
in it is refused with the reason and the actions the state does allow::

    state \\ action    apply  review   inspect  approve  reject  renew  suspend  reinstate cancel
    (none)            applied
    applied                  doc_rev                   rejected
    doc_reviewed                      onsite           rejected
    onsite_reviewed                            certif  rejected
    certified                                                  certif suspended          cancelled
    suspended                                                                 certified cancelled
    expired           applied                                                           cancelled
    rejected          applied
    cancelled         (final: a cancelled reseller is not certifiable again)

``expired`` is never stored: a certified or suspended certificate whose end date has passed
reads as expired (:func:`effective`), so the gateway stops a lapsed reseller on the day after its
end date without anyone having to act. Renewal (the yearly re-check) extends the end date by a
year; an expired certificate cannot be renewed, only applied for again.

Who may act is a table too (:data:`ACTION_ROLES`). Which steps need evidence (document
references, the committee decision) and which a reason is :data:`NEEDS_EVIDENCE` /
:data:`NEEDS_NOTE`. Pure: no I/O, time comes in as ``today``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from spamgate.errors import Conflict
from spamgate.registry.models import CertState, Role

__all__ = [
    "ACTION_ROLES",
    "CERTIFICATE_DAYS",
    "NEEDS_EVIDENCE",
    "NEEDS_NOTE",
    "TRANSITIONS",
    "CertAction",
    "allowed_actions",
    "default_valid_until",
    "effective",
    "next_state",
]


class CertAction(StrEnum):
    APPLY = "apply"
    REVIEW = "review"
    INSPECT = "inspect"
    APPROVE = "approve"
    REJECT = "reject"
    RENEW = "renew"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    CANCEL = "cancel"


S = CertState
A = CertAction

#: (effective state, or None before any application; action) → next state.
TRANSITIONS: Final[Mapping[tuple[CertState | None, CertAction], CertState]] = {
    (None, A.APPLY): S.APPLIED,
    (S.REJECTED, A.APPLY): S.APPLIED,
    (S.EXPIRED, A.APPLY): S.APPLIED,
    (S.APPLIED, A.REVIEW): S.DOCUMENTS_REVIEWED,
    (S.DOCUMENTS_REVIEWED, A.INSPECT): S.ONSITE_REVIEWED,
    (S.ONSITE_REVIEWED, A.APPROVE): S.CERTIFIED,
    (S.APPLIED, A.REJECT): S.REJECTED,
    (S.DOCUMENTS_REVIEWED, A.REJECT): S.REJECTED,
    (S.ONSITE_REVIEWED, A.REJECT): S.REJECTED,
    (S.CERTIFIED, A.RENEW): S.CERTIFIED,
    (S.CERTIFIED, A.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, A.REINSTATE): S.CERTIFIED,
    (S.CERTIFIED, A.CANCEL): S.CANCELLED,
    (S.SUSPENDED, A.CANCEL): S.CANCELLED,
    (S.EXPIRED, A.CANCEL): S.CANCELLED,
}

_BOARD: Final = frozenset({Role.REGULATOR, Role.CERTIFIER})
#: Roles that may take each action (a reseller only for itself: tenancy sees to that).
ACTION_ROLES: Final[Mapping[CertAction, frozenset[Role]]] = {
    action: (_BOARD | {Role.RESELLER}) if action is A.APPLY else _BOARD for action in CertAction
}

#: Actions that must cite evidence (documents, inspection report, committee decision).
NEEDS_EVIDENCE: Final = frozenset({A.APPLY, A.REVIEW, A.INSPECT, A.APPROVE, A.RENEW})
#: Actions that must give a reason.
NEEDS_NOTE: Final = frozenset({A.REJECT, A.SUSPEND, A.REINSTATE, A.CANCEL})

#: A certificate runs one year, and each renewal adds one.
CERTIFICATE_DAYS: Final = 365


def effective(state: CertState | None, valid_until: date | None, today: date) -> CertState | None:
    """The state as it stands ``today``: certified/suspended past the end date is expired."""
    if state in (S.CERTIFIED, S.SUSPENDED) and valid_until is not None and today > valid_until:
        return S.EXPIRED
    return state


def allowed_actions(state: CertState | None) -> list[CertAction]:
    """The actions the table allows from ``state``, in declaration order."""
    return [action for (source, action) in TRANSITIONS if source == state]


def next_state(state: CertState | None, action: CertAction) -> CertState:
    """The state ``action`` leads to from ``state``, or :class:`Conflict` saying why not."""
    target = TRANSITIONS.get((state, action))
    if target is not None:
        return target
    where = "there is no certification yet" if state is None else f"the certification is {state}"
    allowed = ", ".join(allowed_actions(state)) or "none: the state is final"
    hint = ""
    if state is S.EXPIRED and action is A.RENEW:
        hint = " (an expired certificate cannot be renewed; apply again)"
    raise Conflict(f"cannot {action}: {where}{hint}; allowed actions: {allowed}")


def default_valid_until(today: date, current: date | None = None) -> date:
    """End date for an approval (a year from today) or a renewal (a year after ``current``)."""
    base = current if current is not None and current >= today else today
    return base + timedelta(days=CERTIFICATE_DAYS)
