"""/api/v1/accounts: sender accounts (a reseller's customers) and their per-send secrets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from spamgate.api.deps import CurrentPrincipal, RegistryDep
from spamgate.api.registry_app import ERROR_RESPONSES, Limit, Offset, PathId
from spamgate.api.registry_schemas import (
    MAX_ID,
    AccountCreate,
    AccountCreated,
    AccountPublic,
    AccountsPublic,
    AccountUpdate,
    SecretRotated,
)
from spamgate.registry.models import AccountStatus

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"], responses=ERROR_RESPONSES)
AccountId = PathId


@router.post("", response_model=AccountCreated, status_code=status.HTTP_201_CREATED)
def create_account(body: AccountCreate, registry: RegistryDep, principal: CurrentPrincipal) -> Any:
    """Open an account for one of the caller's customers. The response carries the account's
    per-send secret, shown this once."""
    created = registry.create_account(
        principal,
        operator_id=body.operator_id,
        name=body.name,
        business_number=body.business_number,
        identity_evidence=body.identity_evidence,
        trust_tier=body.trust_tier,
    )
    public = AccountPublic.model_validate(created.account)
    return AccountCreated(**public.model_dump(), send_secret=created.send_secret)


@router.get("", response_model=AccountsPublic)
def list_accounts(
    registry: RegistryDep,
    principal: CurrentPrincipal,
    operator_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: AccountStatus | None = None,
    business_number: Annotated[str | None, Query(max_length=16)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    return registry.list_accounts(
        principal,
        operator_id=operator_id,
        status=status,
        business_number=business_number,
        limit=limit,
        offset=offset,
    )


@router.get("/{account_id}", response_model=AccountPublic)
def get_account(account_id: AccountId, registry: RegistryDep, principal: CurrentPrincipal) -> Any:
    return registry.get_account(principal, account_id)


@router.patch("/{account_id}", response_model=AccountPublic)
def update_account(
    account_id: AccountId, body: AccountUpdate, registry: RegistryDep, principal: CurrentPrincipal
) -> Any:
    """Suspend (with a reason) or reactivate an account, or change its trust tier."""
    return registry.update_account(
        principal, account_id, status=body.status, reason=body.reason, trust_tier=body.trust_tier
    )


@router.post("/{account_id}/secret", response_model=SecretRotated)
def rotate_secret(account_id: AccountId, registry: RegistryDep, principal: CurrentPrincipal) -> Any:
    """A new per-send secret; the old one stops working at once."""
    return SecretRotated(
        id=account_id, send_secret=registry.rotate_send_secret(principal, account_id)
    )
