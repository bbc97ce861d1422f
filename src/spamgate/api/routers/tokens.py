"""/api/v1/tokens: issue and revoke bearer tokens (stored argon2-hashed, shown once)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from spamgate.api.deps import CurrentPrincipal, RegistryDep
from spamgate.api.registry_app import ERROR_RESPONSES, PathId
from spamgate.api.registry_schemas import TokenCreate, TokenCreated
from spamgate.registry.models import Role

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"], responses=ERROR_RESPONSES)


@router.post("", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, registry: RegistryDep, principal: CurrentPrincipal) -> Any:
    """Issue a token: the regulator for any role; an operator for itself, in its own role.
    Operator roles (carrier, relay, reseller) need the operator_id of an operator of that kind."""
    issued = registry.create_token(
        principal,
        role=body.role,
        operator_id=body.operator_id,
        expires_in_days=body.expires_in_days,
        label=body.label,
    )
    record = issued.record
    return TokenCreated(
        id=record.id,
        token=issued.token,
        role=Role(record.role),
        operator_id=record.operator_id,
        expires_at=record.expires_at,
    )


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(
    token_id: PathId,
    registry: RegistryDep,
    principal: CurrentPrincipal,
) -> Response:
    registry.revoke_token(principal, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
