"""Mounts the registry API on the app: routers, error mapping, the body-size limit.

Registry errors map to HTTP in one place: :class:`~spamgate.errors.Unauthorized` 401 (with
``WWW-Authenticate: Bearer``), :class:`~spamgate.errors.Forbidden` 403,
:class:`~spamgate.errors.NotFound` 404 (also for another tenant's ids),
:class:`~spamgate.errors.Conflict` 409 (duplicates, refused certification steps, with the
reason), :class:`~spamgate.errors.InvalidValue` 422 (with the field). Bodies are
``{"detail": "..."}`` like FastAPI's own errors.

Registry requests carry small JSON documents, so their bodies are capped
(``registry_max_body_bytes``, 64 KiB by default): a larger body is answered 413 before any of it
is parsed, whether or not it announces its length. ``POST /api/v1/check`` keeps its own limits.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any, Final

from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse

from spamgate.api.registry_schemas import MAX_ID
from spamgate.config import Settings
from spamgate.errors import Conflict, Forbidden, InvalidValue, NotFound, Unauthorized
from spamgate.registry.service import Registry

__all__ = ["ERROR_RESPONSES", "BodyLimit", "Limit", "Offset", "PathId", "install_registry"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Paging parameters shared by every listing.
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page (1-500).")]
Offset = Annotated[int, Query(ge=0, le=100_000_000, description="Items to skip.")]
#: An object's id in a path (``/operators/{operator_id}``); larger ids answer 422, not 500.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]

_DETAIL = {"application/json": {"example": {"detail": "what went wrong"}}}
ERROR_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    401: {"description": "Missing, unknown, revoked or expired token", "content": _DETAIL},
    403: {"description": "The caller's role may not do this", "content": _DETAIL},
    404: {"description": "No such object, or another tenant's", "content": _DETAIL},
    409: {"description": "Duplicate, or a step the current state refuses", "content": _DETAIL},
    413: {"description": "Request body too large", "content": _DETAIL},
}

_STATUS: Final[dict[type[Exception], int]] = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidValue: 422,
}

_CHECK_PATHS: Final = ("/api/v1/check",)


async def _registry_error(_request: Request, exc: Exception) -> JSONResponse:
    code = next(code for kind, code in _STATUS.items() if isinstance(exc, kind))
    body: dict[str, Any] = {"detail": str(exc)}
    if isinstance(exc, InvalidValue) and exc.field:
        body["field"] = exc.field
    headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
    return JSONResponse(body, status_code=code, headers=headers)


class BodyLimit:
    """ASGI middleware: request bodies over ``max_bytes`` on registry paths answer 413."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, prefix: str = "/api/v1/") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    def _applies(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        return (
            scope["type"] == "http"
            and path.startswith(self.prefix)
            and path not in _CHECK_PATHS
            and scope.get("method") not in ("GET", "HEAD", "OPTIONS")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await self._too_large(send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body: bytes = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        buffered = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": buffered, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        body = json.dumps(
            {"detail": f"request body over {self.max_bytes} bytes"}, ensure_ascii=False
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def install_registry(
    app: FastAPI, settings: Settings, registry: Registry | None = None
) -> Registry:
    """Open the registry (unless given), mount its routers, error mapping and body limit."""
    from spamgate.api.routers import (
        accounts,
        blocklist,
        campaigns,
        operators,
        sender_numbers,
        theft_protection,
        tokens,
    )

    registry = registry if registry is not None else Registry.open(settings)
    app.state.registry = registry
    for router in (
        operators.router,
        accounts.router,
        sender_numbers.router,
        theft_protection.router,
        blocklist.router,
        tokens.router,
        campaigns.router,
    ):
        app.include_router(router)
    for kind in _STATUS:
        app.add_exception_handler(kind, _registry_error)
    app.add_middleware(BodyLimit, max_bytes=settings.registry_max_body_bytes)
    return registry
