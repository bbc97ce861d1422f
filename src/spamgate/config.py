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
from typing import Any, Literal

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
    "RoutingConfig",
    "Settings",
    "SmppAccountConfig",
    "SmppConfig",
    "SmppRateConfig",
    "UpstreamConfig",
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
    # -- registry (issue 5) ------------------------------------------------------------------
    #: PostgreSQL DSN (``postgresql+psycopg://user@host/db``; ``postgresql://`` is accepted);
    #: unset means the SQLite file ``<data_dir>/spamgate.db``.
    database_url: str | None = Field(default=None, repr=False)
    #: argon2id cost for API tokens and SMPP passwords (RFC 9106's second recommended set).
    #: Lower them only in tests.
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    argon2_memory_kib: int = Field(default=65_536, ge=8, le=4_194_304)
    argon2_parallelism: int = Field(default=4, ge=1, le=64)
    #: Per-send proofs: accepted clock skew (seconds) and remembered nonces (bounded).
    persend_max_skew: int = Field(default=300, ge=1, le=86_400)
    persend_nonce_capacity: int = Field(default=1_000_000, ge=1_000, le=100_000_000)
    #: How often (seconds) a running process looks for registry changes made by others.
    registry_refresh_seconds: float = Field(default=5.0, ge=0.0, le=60.0)
    #: Largest request body the registry API reads (bytes); larger bodies answer 413.
    registry_max_body_bytes: int = Field(default=65_536, ge=1_024, le=16_777_216)
    # -- models and shared state (issue 4) ------------------------------------------------------
    #: Content model (``SPAMGATE_MODEL``): a model directory, ``default`` or unset for the one
    #: shipped in the package, ``none`` (or off/0/false) for none.
    model: str | None = None
    #: URL model (``SPAMGATE_URL_MODEL``), the same choices.
    url_model: str | None = None
    #: Redis (``redis://127.0.0.1:6379/0``) for burst windows and per-send proof nonces shared
    #: by several gateway processes; unset: each process keeps its own in memory.
    redis_url: str | None = Field(default=None, repr=False)
    #: Prefix of every Redis key spamgate writes (several deployments can share one Redis).
    redis_prefix: str = Field(default="spamgate", min_length=1, max_length=64)
    # -- upstream carrier links (issue 6) -------------------------------------------------------
    #: Extra carrier links, ``[SYSTEM_ID@]HOST:PORT`` each (``serve --upstream``); they join
    #: ``[[smpp.upstreams]]`` on the default carrier, password from SPAMGATE_UPSTREAM_PASSWORD.
    upstreams: list[str] = Field(default_factory=list)


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


BindKindName = Literal["transmitter", "receiver", "transceiver"]
_ALL_BIND_KINDS: tuple[BindKindName, ...] = ("transmitter", "receiver", "transceiver")


class SmppAccountConfig(BaseModel):
    """One SMPP login of the static authenticator (``[smpp.accounts.<system_id>]``).

    ``password_hash`` is an argon2 hash (``spamgate smpp hash-password``), never a password.
    """

    model_config = ConfigDict(extra="forbid")

    password_hash: str = Field(pattern=r"^\$argon2(id|i|d)\$")
    #: The account whose policy (and registry rules) judge this login's messages; unset: none.
    account: str | None = None
    route: Literal["domestic", "international"] | None = None
    bind_kinds: list[BindKindName] = Field(default_factory=lambda: list(_ALL_BIND_KINDS))
    window: int | None = Field(default=None, ge=1, le=10_000)
    suspended: bool = False


class UpstreamConfig(BaseModel):
    """One carrier SMSC link (``[[smpp.upstreams]]``); see ``spamgate.smpp.upstream``.

    ``password`` is sent to the carrier, so it is stored as given (keep the file private), or
    read from the environment variable named by ``password_env``.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    system_id: str = Field(default="spamgate", min_length=1, max_length=15)
    password: str = Field(default="", max_length=8, repr=False)
    password_env: str | None = None
    system_type: str = Field(default="", max_length=12)
    carrier: str = Field(default="default", min_length=1, max_length=32)
    weight: float = Field(default=1.0, ge=0)
    window: int = Field(default=100, ge=1, le=10_000)


class RoutingConfig(BaseModel):
    """``[smpp.routing]``: prefix rules, default and fallback carriers (``smpp.routing``)."""

    model_config = ConfigDict(extra="forbid")

    prefixes: dict[str, str] = Field(default_factory=dict)
    default: str | None = None
    fallback: dict[str, str] = Field(default_factory=dict)
    #: The number-to-carrier snapshot (``spamgate numbers import-carriers``); unset:
    #: ``<data-dir>/numbers/carriers.npz`` when it exists.
    carrier_table: Path | None = None
    #: Give up forwarding a message (EXPIRED receipt) this many seconds after it was accepted.
    max_age: float = Field(default=172_800.0, gt=0)
    #: Keep carrier-id mappings (for late receipts) this many seconds.
    id_retention: float = Field(default=604_800.0, gt=0)
    #: Give up a receipt the reseller could not take after this many seconds.
    receipt_expiry: float = Field(default=259_200.0, gt=0)


class SmppRateConfig(BaseModel):
    """``[smpp.rates]``: send rates (messages a second) per reseller and per account trust tier,
    and where the counters live (see ``spamgate.smpp.ratelimit``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    #: ``memory://`` (one process) or ``redis://127.0.0.1:6379`` (one budget for all nodes).
    storage: str = Field(default="memory://", pattern=r"^(memory://|rediss?://\S+)$")
    strategy: Literal["fixed-window", "moving-window", "sliding-window-counter"] = "fixed-window"
    reseller: int = Field(default=1000, ge=0, le=1_000_000)
    tiers: dict[str, int] = Field(
        default_factory=lambda: {"new": 20, "standard": 200, "trusted": 1000}
    )
    #: The tier of an account the registry does not know (or of a static login's messages).
    default_tier: str = "new"


class SmppConfig(BaseModel):
    """The ``[smpp]`` table: session limits and timers (seconds), lockout, labels, logins."""

    model_config = ConfigDict(extra="forbid")

    system_id: str = Field(default="spamgate", min_length=1, max_length=15)
    window: int = Field(default=100, ge=1, le=10_000)
    bind_timeout: float | None = Field(default=30.0, gt=0)
    enquire_link_interval: float | None = Field(default=30.0, gt=0)
    response_timeout: float = Field(default=10.0, gt=0)
    idle_timeout: float | None = Field(default=300.0, gt=0)
    reassembly_timeout: float = Field(default=30.0, gt=0)
    max_pdu_size: int = Field(default=65_536, ge=1_024, le=1_048_576)
    max_failed_binds: int = Field(default=5, ge=1)
    failed_bind_window: float = Field(default=300.0, gt=0)
    lockout: float = Field(default=900.0, ge=0)
    #: Messages judged together at most (whatever queued while the previous batch ran): larger
    #: batches spread the models' per-call cost; under light load batches stay small anyway.
    judge_batch: int = Field(default=128, ge=1, le=10_000)
    #: Accepted messages the spool holds not yet forwarded, at most; beyond it a submit gets
    #: ESME_RMSGQFUL (retry later) instead of the backlog filling the disk (about 1 KB each).
    spool_capacity: int = Field(default=2_000_000, ge=1)
    #: Judge in this many worker processes (0: on the SMPP event loop itself).
    judge_workers: int = Field(default=0, ge=0, le=64)
    #: Failed binds that lock out a peer host (any system_id) / a system_id (any host).
    max_failed_binds_per_host: int = Field(default=20, ge=1)
    max_failed_binds_per_system_id: int = Field(default=20, ge=1)
    #: Seconds between rebuilds of the registry standing (certification, tiers) the gateway
    #: checks per message: a reseller suspended while bound is stopped within this time.
    status_refresh: float = Field(default=5.0, gt=0, le=60)
    #: Send-rate buckets (speed reduction and quotas, issue 6).
    rates: SmppRateConfig = Field(default_factory=SmppRateConfig)
    labels: dict[str, str] = Field(
        default_factory=lambda: {
            "label": "[스팸의심]",
            "spambox": "",
            "overseas_inbox": "[국제발신]",
        }
    )
    accounts: dict[str, SmppAccountConfig] = Field(default_factory=dict)
    upstreams: list[UpstreamConfig] = Field(default_factory=list)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)

    @field_validator("accounts")
    @classmethod
    def _system_ids_fit_smpp(
        cls, value: dict[str, SmppAccountConfig]
    ) -> dict[str, SmppAccountConfig]:
        for system_id in value:
            if not 1 <= len(system_id) <= 15 or not system_id.isascii():
                raise ValueError(f"system_id {system_id!r} must be 1-15 ASCII characters")
        return value


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
    smpp: SmppConfig = Field(default_factory=SmppConfig)

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
