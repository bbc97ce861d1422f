"""/api/v1/blocklist: blocked numbers, domains and URLs, with source, reason and expiry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from spamgate.api.deps import CurrentPrincipal, RegistryDep
from spamgate.api.registry_app import ERROR_RESPONSES, Limit, Offset, PathId
from spamgate.api.registry_schemas import (
    BlockEntryCreate,
    BlockEntryPublic,
    BlockListPublic,
)
from spamgate.registry.models import BlockKind

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/blocklist", tags=["block list"], responses=ERROR_RESPONSES)


@router.post("", response_model=BlockEntryPublic, status_code=status.HTTP_201_CREATED)
def block(body: BlockEntryCreate, registry: RegistryDep, principal: CurrentPrincipal) -> Any:
    """Block a number, domain (its subdomains too) or URL; values are stored canonical."""
    return registry.block(
        principal,
        kind=body.kind,
        value=body.value,
        source=body.source,
        reason=body.reason,
        expires_at=body.expires_at,
    )


@router.get("", response_model=BlockListPublic)
def list_blocks(
    registry: RegistryDep,
    principal: CurrentPrincipal,
    kind: BlockKind | None = None,
    value: Annotated[str | None, Query(max_length=2048)] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    active: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Entries, filtered by kind, value, source and whether they are still in force."""
    return registry.list_blocks(
        principal,
        kind=kind,
        value=value,
        source=source,
        active=active,
        limit=limit,
        offset=offset,
    )


@router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
def unblock(
    entry_id: PathId,
    registry: RegistryDep,
    principal: CurrentPrincipal,
) -> Response:
    registry.unblock(principal, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
