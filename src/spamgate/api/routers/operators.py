"""/api/v1/operators: the chain (carrier ← relay ← reseller) and reseller certification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from spamgate.api.deps import CurrentPrincipal, RegistryDep
from spamgate.api.registry_app import ERROR_RESPONSES, Limit, Offset, PathId
from spamgate.api.registry_schemas import (
    MAX_ID,
    CertificationPublic,
    CertificationRequest,
    OperatorCreate,
    OperatorPublic,
    OperatorsPublic,
)
from spamgate.registry.models import OperatorKind

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/operators", tags=["operators"], responses=ERROR_RESPONSES)
OperatorId = PathId


@router.post("", response_model=OperatorPublic, status_code=status.HTTP_201_CREATED)
def create_operator(
    body: OperatorCreate, registry: RegistryDep, principal: CurrentPrincipal
) -> Any:
    """Register a carrier (regulator), a relay (regulator or its carrier) or a reseller
    (regulator or its relay). Names and SMPP system_ids are unique (409)."""
    return registry.create_operator(
        principal,
        name=body.name,
        kind=body.kind,
        parent_id=body.parent_id,
        business_number=body.business_number,
        smpp_system_id=body.smpp_system_id,
        smpp_password=body.smpp_password,
    )


@router.get("", response_model=OperatorsPublic)
def list_operators(
    registry: RegistryDep,
    principal: CurrentPrincipal,
    kind: OperatorKind | None = None,
    parent_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """The operators the caller may see (a relay: itself and its resellers; ...)."""
    return registry.list_operators(
        principal, kind=kind, parent_id=parent_id, name=name, limit=limit, offset=offset
    )


@router.get("/{operator_id}", response_model=OperatorPublic)
def get_operator(
    operator_id: OperatorId, registry: RegistryDep, principal: CurrentPrincipal
) -> Any:
    return registry.get_operator(principal, operator_id)


@router.get("/{operator_id}/certification", response_model=CertificationPublic)
def get_certification(
    operator_id: OperatorId, registry: RegistryDep, principal: CurrentPrincipal
) -> Any:
    """The reseller's certification as of today, the actions it allows, and its history."""
    return registry.certification(principal, operator_id)


@router.post("/{operator_id}/certification", response_model=CertificationPublic)
def certify(
    operator_id: OperatorId,
    body: CertificationRequest,
    registry: RegistryDep,
    principal: CurrentPrincipal,
) -> Any:
    """Take one certification step. Steps the current state does not allow answer 409 with
    the reason and the allowed actions; approve/renew set the end date (default: a year)."""
    return registry.certify(
        principal,
        operator_id,
        action=body.action,
        evidence=body.evidence,
        note=body.note,
        valid_until=body.valid_until,
    )
