"""/api/v1/campaigns: confirmed spam texts registered as campaigns (CAMPAIGN_MATCH).

A registered text takes effect for the next message: the running pipeline's index is updated
in place and the campaign is appended to ``<data-dir>/campaigns/campaigns.jsonl``, which other
processes on the same data dir pick up on their next batch and a restart reloads. Only a hash
of the text, a 40-character excerpt and its MinHash signature are kept, never the body.

Roles: ``regulator``, ``carrier`` and ``relay`` register and withdraw campaigns (as they may
block numbers and links); those and ``certifier`` may list them; ``reseller`` may do neither.
Every registration and withdrawal is written to the registry's audit log with the caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Annotated, Any, Final

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from spamgate.api.deps import CurrentPrincipal, PipelineDep, RegistryDep, SettingsDep
from spamgate.api.registry_app import ERROR_RESPONSES, Limit, Offset
from spamgate.errors import Conflict, Forbidden, InputError, InvalidValue, ModelError, NotFound
from spamgate.model.campaigns import NUM_PERM, CampaignIndex, CampaignRecord
from spamgate.registry import audit
from spamgate.registry.auth import Principal
from spamgate.registry.models import Role
from spamgate.registry.service import Registry

__all__ = [
    "CampaignCreate",
    "CampaignPublic",
    "CampaignsPublic",
    "Fingerprint",
    "router",
]

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"], responses=ERROR_RESPONSES)

WRITERS: Final = frozenset({Role.REGULATOR, Role.CARRIER, Role.RELAY})
READERS: Final = frozenset({Role.REGULATOR, Role.CERTIFIER, Role.CARRIER, Role.RELAY})
CampaignId = Annotated[str, Path(pattern=r"^c-[0-9a-f]{16}$", description="e.g. c-1f0e…")]
Label = Annotated[str | None, Field(default=None, max_length=200)]


class CampaignCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": "[CJ대한통운] 김*수 고객님 택배가 주소 불일치로 반송 예정입니다.\n"
                    "주소 수정: http://cj-logis.xyz/a1",
                    "name": "택배 반송 스미싱",
                    "source": "KISA 118",
                    "reason": "confirmed smishing, 1,200 reports",
                }
            ]
        },
    )

    #: The confirmed spam text (its limit is the policy's ``limits.max_text_chars``).
    text: str = Field(min_length=1, max_length=100_000)
    name: Label = None
    source: Label = None
    reason: Annotated[str | None, Field(default=None, max_length=1000)] = None


class Fingerprint(BaseModel):
    """What the campaign is matched by: a MinHash over the masked text's shingles."""

    scheme: str = "minhash/masked-char5"
    num_perm: int = NUM_PERM
    shingles: int | None = Field(description="distinct 5-character shingles after masking")


class CampaignPublic(BaseModel):
    id: str
    name: str | None
    source: str | None
    reason: str | None
    excerpt: str = Field(description="the first 40 characters of the normalised text")
    added: str
    added_by: str | None
    sha256: str | None = Field(default=None, description="SHA-256 of the text (on creation)")
    fingerprint: Fingerprint


class CampaignsPublic(BaseModel):
    items: list[CampaignPublic]
    total: int
    limit: int
    offset: int


def _require(principal: Principal, roles: frozenset[Role], what: str) -> None:
    if principal.role not in roles:
        raise Forbidden(f"role {principal.role} may not {what}")


def _index(request: Request, pipeline: PipelineDep, settings: SettingsDep) -> CampaignIndex:
    """The running pipeline's index (so a change applies to its next message), else the data
    dir's (the ``campaigns`` check disabled: the store is still kept)."""
    if pipeline.campaigns is not None:
        return pipeline.campaigns
    index: CampaignIndex | None = getattr(request.app.state, "campaigns", None)
    if index is None:
        index = request.app.state.campaigns = CampaignIndex.open(settings.data_dir)
    return index


def _public(record: CampaignRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "source": record.source,
        "reason": record.reason,
        "excerpt": record.excerpt,
        "added": record.added,
        "added_by": record.added_by,
        "sha256": record.sha256 or None,
        "fingerprint": {"shingles": record.shingles},
    }


@contextmanager
def _audited(
    registry: Registry, principal: Principal, action: str, entity_id: str, data: dict[str, Any]
) -> Iterator[None]:
    """A registry transaction holding the audit row; the change is made inside it, so a change
    that fails (or is refused) leaves no audit row behind."""
    with registry.db.session() as session:
        audit.record(
            session,
            at=registry.clock().astimezone(UTC),
            actor=principal.actor,
            action=action,
            entity="campaign",
            entity_id=entity_id,
            data=data,
            changes_view=False,  # the message checks do not read campaigns from the registry
        )
        yield


def _store_unavailable(exc: ModelError) -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"campaign store unavailable: {exc}")


@router.post("", response_model=CampaignPublic, status_code=status.HTTP_201_CREATED)
def add_campaign(
    body: CampaignCreate,
    request: Request,
    registry: RegistryDep,
    principal: CurrentPrincipal,
    pipeline: PipelineDep,
    settings: SettingsDep,
) -> Any:
    """Register a confirmed spam text; its variants match from the next message on."""
    _require(principal, WRITERS, "register campaigns")
    limit = pipeline.policy.limits.max_text_chars
    if len(body.text) > limit:
        raise InvalidValue(f"text is longer than {limit} characters", field="text")
    index = _index(request, pipeline, settings)
    try:
        record = index.prepare(
            body.text,
            source=body.source,
            name=body.name,
            reason=body.reason,
            added_by=principal.actor,
        )
    except InputError as exc:
        raise InvalidValue(exc.reason, field="text") from None
    if index.get(record.id) is not None:
        raise Conflict(f"campaign {record.id} is already registered")
    data = {
        "sha256": record.sha256,
        "name": record.name,
        "source": record.source,
        "reason": record.reason,
        "shingles": record.shingles,
    }
    try:
        with _audited(registry, principal, "campaign.create", record.id, data):
            new = index.register([record])
            if not new:  # registered by someone else meanwhile
                raise Conflict(f"campaign {record.id} is already registered")
    except ModelError as exc:
        raise _store_unavailable(exc) from None
    return _public(new[0])


@router.get("", response_model=CampaignsPublic)
def list_campaigns(
    request: Request,
    principal: CurrentPrincipal,
    pipeline: PipelineDep,
    settings: SettingsDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Campaigns in force, oldest first."""
    _require(principal, READERS, "read campaigns")
    index = _index(request, pipeline, settings)
    try:
        index.refresh()
    except ModelError as exc:
        raise _store_unavailable(exc) from None
    total, records = index.page(limit=limit, offset=offset)
    return {
        "items": [_public(r) for r in records],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.delete("/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_campaign(
    campaign_id: CampaignId,
    request: Request,
    registry: RegistryDep,
    principal: CurrentPrincipal,
    pipeline: PipelineDep,
    settings: SettingsDep,
) -> Response:
    """Withdraw a campaign (it stops matching from the next message on)."""
    _require(principal, WRITERS, "withdraw campaigns")
    index = _index(request, pipeline, settings)
    if index.get(campaign_id) is None:
        raise NotFound(f"campaign {campaign_id} not found")
    try:
        with _audited(registry, principal, "campaign.delete", campaign_id, {}):
            if not index.remove(campaign_id, removed_by=principal.actor):
                raise NotFound(f"campaign {campaign_id} not found")
    except ModelError as exc:
        raise _store_unavailable(exc) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
