"""/api/v1/theft-protection: numbers nobody may send from (번호도용 문자차단), in effect at once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from spamgate.api.deps import CurrentPrincipal, RegistryDep
from spamgate.api.registry_app import ERROR_RESPONSES, Limit, Offset, PathId
from spamgate.api.registry_schemas import (
    TheftProtectionCreate,
    TheftProtectionListPublic,
    TheftProtectionPublic,
)

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1/theft-protection", tags=["theft protection"], responses=ERROR_RESPONSES
)


@router.post("", response_model=TheftProtectionPublic, status_code=status.HTTP_201_CREATED)
def protect(body: TheftProtectionCreate, registry: RegistryDep, principal: CurrentPrincipal) -> Any:
    """Protect a number (regulator, carrier). Messages from it are rejected from the next one
    judged on this node, and within seconds on the others."""
    return registry.protect_number(
        principal, number=body.number, evidence=body.evidence, requested_by=body.requested_by
    )


@router.get("", response_model=TheftProtectionListPublic)
def list_protected(
    registry: RegistryDep,
    principal: CurrentPrincipal,
    number: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    return registry.list_protected(principal, number=number, limit=limit, offset=offset)


@router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
def unprotect(
    entry_id: PathId,
    registry: RegistryDep,
    principal: CurrentPrincipal,
) -> Response:
    registry.unprotect_number(principal, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
