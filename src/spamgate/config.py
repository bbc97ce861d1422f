"""Settings (environment and flags) and the policy (TOML): weights, groups, thresholds.

The default policy ships inside the package (``spamgate/conf/spamgate.toml``); an operator's file
given with ``--config`` / ``SPAMGATE_CONFIG`` is merged over it key by key, so it need only name
what it changes. Each check's section is validated later, by the engine, against that check's own
options model: a bad section disables that one check and never the gateway.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from spamgate.domain.verdict import Action
from spamgate.errors import ConfigError

__all__ = [
    "AccountPolicy",
    "ActionThresholds",
    "GroupPolicy",
    "Limits",
    "PolicyFile",
    "PolicyOverlay",
    "Settings",
    "deep_merge",
    "load_policy",
]


class Settings(BaseSettings):
    """Process settings; every field can come from a flag or a ``SPAMGATE_*`` variable."""

    model_config = SettingsConfigDict(env_prefix="SPAMGATE_", extra="ignore")

    data_dir: Path = Path("./var")
    config: Path | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    smpp_host: str = "127.0.0.1"
    smpp_port: int = Field(default=2775, ge=0, le=65535)
    demo: bool = False
    log_level: str = "INFO"


class Limits(BaseModel):
    """Input limits (DESIGN: 2,000 characters, 255 concatenated parts; batches of 10,000)."""

    model_config = ConfigDict(extra="forbid")

    max_text_chars: int = Field(default=2000, ge=1, le=100_000)
    max_parts: int = Field(default=255, ge=1, le=255)
    max_batch: int = Field(default=10_000, ge=1, le=1_000_000)


class GroupPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    max_score: float | None = Field(default=None, gt=0)


class ActionThresholds(BaseModel):
    """Score at which each action starts; ``None`` means never by score (only forced)."""

    model_config = ConfigDict(extra="forbid")

    label: float | None = 4.0
    spambox: float | None = 8.0
    overseas_inbox: float | None = None
    throttle: float | None = None
    reject: float | None = 15.0

    def ordered(self) -> list[tuple[Action, float]]:
        """Thresholds from harshest to mildest action, skipping unset ones."""
        pairs = [
            (Action.REJECT, self.reject),
            (Action.THROTTLE, self.throttle),
            (Action.OVERSEAS_INBOX, self.overseas_inbox),
            (Action.SPAMBOX, self.spambox),
            (Action.LABEL, self.label),
        ]
        return [(action, value) for action, value in pairs if value is not None]


class AccountPolicy(BaseModel):
    """Per-account policy choice and the consents/verifications checks must know about."""

    model_config = ConfigDict(extra="forbid")

    policy: str = "default"
    night_ad_consent: bool = False
    international_verified: bool = False


class PolicyOverlay(BaseModel):
    """A named policy: sections merged over the default policy for the accounts that use it."""

    model_config = ConfigDict(extra="forbid")

    checks: dict[str, dict[str, Any]] = Field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = Field(default_factory=dict)
    actions: dict[str, float | None] = Field(default_factory=dict)


class PolicyFile(BaseModel):
    """The whole policy document after merging."""

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    limits: Limits = Field(default_factory=Limits)
    # Raw here on purpose: each check validates its own section (see module docstring).
    checks: dict[str, dict[str, Any]] = Field(default_factory=dict)
    groups: dict[str, GroupPolicy] = Field(default_factory=dict)
    actions: ActionThresholds = Field(default_factory=ActionThresholds)
    policies: dict[str, PolicyOverlay] = Field(default_factory=dict)
    accounts: dict[str, AccountPolicy] = Field(default_factory=dict)

    @field_validator("checks")
    @classmethod
    def _sections_are_tables(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, section in value.items():
            if not isinstance(section, dict):
                raise ValueError(f"[checks.{name}] must be a table")
        return value

    def overlay(self, name: str) -> PolicyFile:
        """The policy named ``name`` (``default`` is this one), merged over this one."""
        if name == self.name or name == "default":
            return self
        if name not in self.policies:
            raise ConfigError(f"unknown policy {name!r}", key=f"policies.{name}")
        extra = self.policies[name]
        merged = self.model_dump()
        merged["checks"] = deep_merge(merged["checks"], extra.checks)
        merged["groups"] = deep_merge(merged["groups"], extra.groups)
        merged["actions"] = deep_merge(merged["actions"], extra.actions)
        merged["name"] = name
        merged["policies"] = {}
        try:
            return PolicyFile.model_validate(merged)
        except ValidationError as exc:
            raise ConfigError(_first_error(exc), key=f"policies.{name}") from None


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` merged into a copy of ``base``: tables merge recursively, other values replace."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"policy file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read policy file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {path}: {exc}") from None


def default_policy_text() -> str:
    return (resources.files("spamgate") / "conf" / "spamgate.toml").read_text(encoding="utf-8")


def load_policy(path: Path | None = None) -> PolicyFile:
    """The default policy, with the operator's file at ``path`` merged over it."""
    data = tomllib.loads(default_policy_text())
    if path is not None:
        data = deep_merge(data, _read_toml(path))
    try:
        return PolicyFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_first_error(exc), key=str(path) if path else "default policy") from None
