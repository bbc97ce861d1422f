"""Shared fixtures: a real pipeline on the shipped policy, a fixed Korea-time clock."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from spamgate.config import load_policy
from spamgate.domain.message import KST
from spamgate.domain.verdict import Verdict
from spamgate.pipeline import MessageFields, Pipeline

#: Registry fixtures (databases on SQLite and PostgreSQL, a seeded chain): tests/registry_support.py
pytest_plugins = ["registry_support"]

#: A weekday afternoon in Seoul: no night-time rules apply unless a test says so.
DAYTIME = datetime(2026, 11, 26, 14, 0, tzinfo=KST)


@pytest.fixture(scope="session")
def pipeline() -> Pipeline:
    return Pipeline(load_policy(), clock=lambda: DAYTIME)


Judge = Callable[..., Verdict]


@pytest.fixture(scope="session")
def judge(pipeline: Pipeline) -> Judge:
    """judge(text, sender=…, recipient=…, route=…, at=…, account=…) -> Verdict."""

    def _judge(text: str, **fields: Any) -> Verdict:
        return pipeline.judge_fields(MessageFields(text, **fields))

    return _judge


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
