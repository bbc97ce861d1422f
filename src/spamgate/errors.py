"""Every error spamgate raises on purpose, in one tree.

    SpamgateError                 base of everything below
    ├── ConfigError               settings or a policy file cannot be used (carries the key)
    │   └── PolicyError           one check's policy section is invalid (carries the check)
    ├── InputError                a message or a batch row cannot be judged (carries field/row)
    ├── ModelError                a model artifact or the campaign store cannot be used (path)
    ├── SmppError                 SMPP protocol trouble (see spamgate.smpp.errors)
    └── RegistryError             registry operations
        ├── NotFound              no such object, or not visible to this tenant (HTTP 404)
        ├── Forbidden             the caller may not do this (HTTP 403)
        ├── Unauthorized          missing, unknown, revoked or expired credentials (HTTP 401)
        ├── Conflict              duplicate, or a transition the current state refuses (409)
        └── InvalidValue          a value the registry cannot accept (HTTP 422; names the field)

Each carries what an operator needs to act (a TOML key, a CSV row, a field name) and never a
message body: texts are personal data.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "Conflict",
    "Forbidden",
    "InputError",
    "InvalidValue",
    "ModelError",
    "NotFound",
    "PolicyError",
    "RegistryError",
    "SpamgateError",
    "Unauthorized",
]


class SpamgateError(Exception):
    """Base class of spamgate's own errors."""


class ConfigError(SpamgateError):
    """Settings or a policy file cannot be used; ``key`` names the offending TOML key."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message if key is None else f"{key}: {message}")
        self.key = key


class PolicyError(ConfigError):
    """One check's policy section is invalid; only that check is disabled."""

    def __init__(self, message: str, *, check: str, key: str | None = None) -> None:
        super().__init__(message, key=key or f"checks.{check}")
        self.check = check


class InputError(SpamgateError):
    """A message (or a batch row) cannot be judged; ``field`` names what was wrong."""

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.reason = message
        self.field = field
        self.row = row


class ModelError(SpamgateError):
    """A model artifact (or the campaign store) cannot be used; ``path`` names it. The caller
    keeps its last good model."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(f"{path}: {message}" if path is not None else message)
        self.path = path


class RegistryError(SpamgateError):
    """Base of registry errors."""


class NotFound(RegistryError):  # noqa: N818 - the name reads as the HTTP answer it maps to
    """No such object, or it belongs to another tenant (never leak which)."""


class Forbidden(RegistryError):  # noqa: N818
    """The caller's role may not perform this operation."""


class Unauthorized(RegistryError):  # noqa: N818
    """No usable credentials: missing, malformed, unknown, revoked or expired (never says which
    of the last four, so a token cannot be probed)."""


class Conflict(RegistryError):  # noqa: N818
    """The request clashes with the registry's state: a duplicate, or a transition the current
    state does not allow. The message gives the reason (e.g. the allowed actions)."""


class InvalidValue(RegistryError):  # noqa: N818
    """A value the registry cannot accept (bad business number, invalid phone number, a parent
    of the wrong kind); ``field`` names it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
