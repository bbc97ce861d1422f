"""Registry test fixtures (loaded by tests/conftest.py as a plugin): databases and a chain.

``db_url`` runs a test on SQLite and on the PostgreSQL of this machine (127.0.0.1:5432, trust
auth). PostgreSQL gets one fresh database per test session, migrated once and used as a
template; each test gets its own copy, and all of them are dropped at the end. When PostgreSQL
is unreachable its cases are skipped — except in CI (``CI=true``), where that is a failure.
Argon2 runs with test-friendly costs here only.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from spamgate.api.app import create_app
from spamgate.config import Settings, load_policy
from spamgate.pipeline import Pipeline
from spamgate.registry.auth import SYSTEM, SecretHasher
from spamgate.registry.models import OperatorKind, Role
from spamgate.registry.service import Registry
from spamgate.store.db import Database

#: Cheap argon2 for tests (production: settings defaults).
TEST_ARGON2: dict[str, Any] = {
    "argon2_time_cost": 1,
    "argon2_memory_kib": 8,
    "argon2_parallelism": 1,
}
PG_HOST = os.environ.get("SPAMGATE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("SPAMGATE_TEST_PG_PORT", "5432"))
VALID_BRN = "1248100998"
EVIDENCE = {"document": "통신서비스 이용증명원", "reference": "TEST-1"}


def in_ci() -> bool:  # the same rule as tests/conftest.py
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


class FakeClock:
    """A settable UTC clock for certificate expiry, token expiry and per-send skew."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _pg_connect(dbname: str = "test") -> Any:
    import psycopg

    last: Exception | None = None
    for user in ("postgres", "root"):
        try:
            return psycopg.connect(
                host=PG_HOST,
                port=PG_PORT,
                user=user,
                dbname=dbname,
                autocommit=True,
                connect_timeout=3,
            )
        except psycopg.OperationalError as exc:
            last = exc
    raise ConnectionError(f"PostgreSQL at {PG_HOST}:{PG_PORT} unreachable: {last}")


@dataclass
class _PgServer:
    user: str
    template: str
    created: list[str] = field(default_factory=list)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{PG_HOST}:{PG_PORT}/{database}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[_PgServer]:
    try:
        admin = _pg_connect()
    except (ConnectionError, ImportError) as exc:
        if in_ci():
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(str(exc))
    user = admin.info.user
    template = f"sgtest_{os.getpid()}_{secrets.token_hex(3)}"
    admin.execute(f'CREATE DATABASE "{template}"')
    server = _PgServer(user=user, template=template)
    database = Database.open(server.url(template))  # migrated once, then copied per test
    database.dispose()
    try:
        yield server
    finally:
        for name in [*server.created, template]:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "spamgate.db"
    database = Database.open(f"sqlite:///{path}")
    database.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A fresh, migrated database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "db" / "spamgate.db"
        target.parent.mkdir()
        shutil.copyfile(sqlite_template, target)
        yield f"sqlite:///{target}"
        return
    server: _PgServer = request.getfixturevalue("pg_server")
    name = f"{server.template}_{len(server.created)}"
    admin = _pg_connect()
    try:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{server.template}"')
        server.created.append(name)
        yield server.url(name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated SQLite database (for tests that need only one backend)."""
    target = tmp_path / "sqlite" / "spamgate.db"
    target.parent.mkdir()
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_registry(url: str, clock: FakeClock, data_dir: Path, **options: Any) -> Registry:
    return Registry(
        Database.open(url),
        hasher=SecretHasher(time_cost=1, memory_kib=8, parallelism=1),
        clock=clock,
        data_dir=data_dir,
        **options,
    )


@pytest.fixture
def registry(db_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[Registry]:
    reg = make_registry(db_url, clock, tmp_path)
    yield reg
    reg.close()


@pytest.fixture
def sqlite_registry(sqlite_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[Registry]:
    reg = make_registry(sqlite_url, clock, tmp_path)
    yield reg
    reg.close()


@dataclass
class Chain:
    """A carrier ← relay ← certified reseller with an account and a registered sender, plus a
    token per role (``tokens[role]``) and helpers to call the API as one of them."""

    registry: Registry
    carrier: int
    relay: int
    reseller: int
    account: int
    send_secret: str
    sender: str
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


_counter = iter(range(1, 1_000_000))


def build_chain(registry: Registry, *, certify: bool = True, sender: str = "0212345678") -> Chain:
    """Build a chain through the service (unique names, so several fit in one database)."""
    n = next(_counter)
    carrier = registry.create_operator(SYSTEM, name=f"Carrier {n}", kind=OperatorKind.CARRIER)
    relay = registry.create_operator(
        SYSTEM, name=f"Relay {n}", kind=OperatorKind.RELAY, parent_id=carrier.id
    )
    reseller = registry.create_operator(
        SYSTEM, name=f"Reseller {n}", kind=OperatorKind.RESELLER, parent_id=relay.id
    )
    if certify:
        for action in ("apply", "review", "inspect", "approve"):
            registry.certify(SYSTEM, reseller.id, action=action, evidence={"step": action})
    account = registry.create_account(
        SYSTEM,
        operator_id=reseller.id,
        name=f"Shop {n}",
        business_number=VALID_BRN,
        identity_evidence={"document": "사업자등록증"},
    )
    registry.register_sender(
        SYSTEM, account_id=account.account.id, number=sender, evidence=EVIDENCE
    )
    tokens = {
        "regulator": registry.create_token(SYSTEM, role=Role.REGULATOR).token,
        "certifier": registry.create_token(SYSTEM, role=Role.CERTIFIER).token,
        "carrier": registry.create_token(SYSTEM, role=Role.CARRIER, operator_id=carrier.id).token,
        "relay": registry.create_token(SYSTEM, role=Role.RELAY, operator_id=relay.id).token,
        "reseller": registry.create_token(
            SYSTEM, role=Role.RESELLER, operator_id=reseller.id
        ).token,
    }
    return Chain(
        registry=registry,
        carrier=carrier.id,
        relay=relay.id,
        reseller=reseller.id,
        account=account.account.id,
        send_secret=account.send_secret,
        sender=sender,
        tokens=tokens,
    )


@pytest.fixture
def chain(registry: Registry) -> Chain:
    return build_chain(registry)


@pytest.fixture
def client(registry: Registry, tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    """The HTTP API on ``registry``; the check pipeline judges with the same registry."""
    settings = Settings(data_dir=tmp_path, **TEST_ARGON2)
    pipeline = Pipeline(load_policy(), model=None, url_model=None, registry=registry)
    with TestClient(create_app(settings, pipeline, registry)) as test_client:
        yield test_client
