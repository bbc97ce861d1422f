"""HTTP API: app factory, routers, schemas."""

from spamgate.api.app import create_app

__all__ = ["create_app"]
