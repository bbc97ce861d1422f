"""/api/v1/sender-numbers: caller IDs registered to accounts with ownership evidence."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from spamgate.api.deps import CurrentPrincipal, RegistryDep
from spamgate.api.registry_app import ERROR_RESPONSES, Limit, Offset, PathId
from spamgate.api.registry_schemas import (
    MAX_ID,
    SenderNumberCreate,
    SenderNumberPublic,
    SenderNumbersPublic,
    SenderNumberUpdate,
)
from spamgate.registry.models import SenderStatus

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1/sender-numbers", tags=["sender numbers"], responses=ERROR_RESPONSES
)
NumberId = PathId


@router.post("", response_model=SenderNumberPublic, status_code=status.HTTP_201_CREATED)
def register_sender(
    body: SenderNumberCreate, registry: RegistryDep, principal: CurrentPrincipal
) -> Any:
    """Register a number to an account. Invalid numbers and missing evidence are 422;
    a number already on the account or theft-protected is 409."""
    return registry.register_sender(
        principal, account_id=body.account_id, number=body.number, evidence=body.evidence
    )


@router.get("", response_model=SenderNumbersPublic)
def list_senders(
    registry: RegistryDep,
    principal: CurrentPrincipal,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    number: Annotated[str | None, Query(max_length=32)] = None,
    status: SenderStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    return registry.list_senders(
        principal, account_id=account_id, number=number, status=status, limit=limit, offset=offset
    )


@router.get("/{number_id}", response_model=SenderNumberPublic)
def get_sender(number_id: NumberId, registry: RegistryDep, principal: CurrentPrincipal) -> Any:
    return registry.get_sender(principal, number_id)


@router.patch("/{number_id}", response_model=SenderNumberPublic)
def update_sender(
    number_id: NumberId,
    body: SenderNumberUpdate,
    registry: RegistryDep,
    principal: CurrentPrincipal,
) -> Any:
    """Suspend, revoke or reactivate a registered number."""
    return registry.update_sender(principal, number_id, status=body.status)
