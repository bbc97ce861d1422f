"""Typed dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from spamgate.api.metrics import Metrics
from spamgate.config import Settings
from spamgate.errors import Unauthorized
from spamgate.pipeline import Pipeline
from spamgate.registry.auth import Principal
from spamgate.registry.service import Registry

__all__ = ["CurrentPrincipal", "MetricsDep", "PipelineDep", "RegistryDep", "SettingsDep"]


def _pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


PipelineDep = Annotated[Pipeline, Depends(_pipeline)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
SettingsDep = Annotated[Settings, Depends(_settings)]


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


RegistryDep = Annotated[Registry, Depends(_registry)]

_bearer = HTTPBearer(
    auto_error=False,
    description="A registry API token: `Authorization: Bearer sgt_...` "
    "(`spamgate admin token create` or `POST /api/v1/tokens`).",
)


def _principal(
    registry: RegistryDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from the bearer token; 401 when it is missing, unknown or expired."""
    if credentials is None:
        raise Unauthorized("missing bearer token")
    return registry.authenticate(credentials.credentials)


#: The authenticated caller; tenancy is enforced by the registry's queries with it.
CurrentPrincipal = Annotated[Principal, Depends(_principal)]
