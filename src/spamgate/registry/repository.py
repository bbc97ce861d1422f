"""Queries with tenancy built in: every read and every lookup by id goes through here.

Who sees what (DESIGN: least privilege):

============  ==============================================================
regulator     everything
certifier     everything (it certifies resellers and must see their chain)
carrier       itself, its relays, and their resellers — and their accounts
relay         itself and its resellers — and their accounts and numbers
reseller      itself — and its own accounts and numbers
============  ==============================================================

An id the caller may not see answers exactly like an id that does not exist
(:class:`~spamgate.errors.NotFound`), so nobody learns what exists outside their tenancy.
Whether a visible object may also be *changed* is the service's decision (403).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.orm import Session

from spamgate.errors import NotFound
from spamgate.registry.auth import Principal
from spamgate.registry.models import Account, Operator, Role, SenderNumber

__all__ = [
    "Page",
    "account_scope",
    "get_account",
    "get_operator",
    "get_sender_number",
    "operator_scope",
    "paginate",
    "sender_scope",
    "visible_operator_ids",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing and the total matching the filters."""

    items: Sequence[T]
    total: int
    limit: int
    offset: int


def operator_scope(principal: Principal) -> ColumnElement[bool]:
    """A condition on :class:`Operator` selecting the operators ``principal`` may see."""
    if principal.sees_everything:
        return true()
    me = principal.operator_id
    if me is None:  # an operator role without an operator sees nothing
        return Operator.id.is_(None)
    if principal.role is Role.RESELLER:
        return Operator.id == me
    if principal.role is Role.RELAY:
        return or_(Operator.id == me, Operator.parent_id == me)
    if principal.role is Role.CARRIER:
        relays = select(Operator.id).where(Operator.parent_id == me).scalar_subquery()
        return or_(Operator.id == me, Operator.parent_id == me, Operator.parent_id.in_(relays))
    return Operator.id.is_(None)


def visible_operator_ids(principal: Principal) -> Select[Any]:
    return select(Operator.id).where(operator_scope(principal))


def account_scope(principal: Principal) -> ColumnElement[bool]:
    """A condition on :class:`Account`: accounts of operators ``principal`` may see."""
    if principal.sees_everything:
        return true()
    return Account.operator_id.in_(visible_operator_ids(principal).scalar_subquery())


def sender_scope(principal: Principal) -> ColumnElement[bool]:
    """A condition on :class:`SenderNumber`: numbers of accounts ``principal`` may see."""
    if principal.sees_everything:
        return true()
    accounts = select(Account.id).where(account_scope(principal)).scalar_subquery()
    return SenderNumber.account_id.in_(accounts)


_Scoped = TypeVar("_Scoped", Operator, Account, SenderNumber)


def _get_visible(
    session: Session, model: type[_Scoped], scope: ColumnElement[bool], row_id: int, label: str
) -> _Scoped:
    """The row ``row_id`` if ``scope`` lets the caller see it; NotFound either way otherwise."""
    found = session.execute(select(model).where(model.id == row_id, scope)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"{label} {row_id} not found")
    return found


def get_operator(session: Session, principal: Principal, operator_id: int) -> Operator:
    return _get_visible(session, Operator, operator_scope(principal), operator_id, "operator")


def get_account(session: Session, principal: Principal, account_id: int) -> Account:
    return _get_visible(session, Account, account_scope(principal), account_id, "account")


def get_sender_number(session: Session, principal: Principal, number_id: int) -> SenderNumber:
    return _get_visible(session, SenderNumber, sender_scope(principal), number_id, "sender number")


def paginate(
    session: Session, stmt: Select[Any], *, limit: int, offset: int, order_by: Any
) -> Page[Any]:
    """Run ``stmt`` for one page (ordered by ``order_by``) and count all its rows."""
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    items = session.execute(stmt.order_by(order_by).limit(limit).offset(offset)).scalars().all()
    return Page(items=items, total=total, limit=limit, offset=offset)
