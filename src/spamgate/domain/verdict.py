"""Actions and verdicts: what the pipeline decides and how it explains itself.

The JSON shape of :meth:`Verdict.to_dict` is a public contract (DESIGN.md): the HTTP API, the
``check``/``scan`` commands and users' scripts all rely on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["ACTION_ORDER", "Action", "SymbolResult", "Verdict", "most_severe"]


class Action(StrEnum):
    """What happens to a message, from mildest to harshest (``error`` stands apart)."""

    DELIVER = "deliver"
    LABEL = "label"
    SPAMBOX = "spambox"
    OVERSEAS_INBOX = "overseas_inbox"
    THROTTLE = "throttle"
    REJECT = "reject"
    ERROR = "error"

    @property
    def severity(self) -> int:
        return ACTION_ORDER[self]


#: Severity rank; ``error`` is not judged, so it ranks below nothing and above nothing useful.
ACTION_ORDER: dict[Action, int] = {
    Action.DELIVER: 0,
    Action.LABEL: 1,
    Action.SPAMBOX: 2,
    Action.OVERSEAS_INBOX: 3,
    Action.THROTTLE: 4,
    Action.REJECT: 5,
    Action.ERROR: -1,
}


def most_severe(*actions: Action) -> Action:
    """The harshest of ``actions`` (``deliver`` when none is given)."""
    best = Action.DELIVER
    for action in actions:
        if ACTION_ORDER[action] > ACTION_ORDER[best]:
            best = action
    return best


@dataclass(frozen=True, slots=True)
class SymbolResult:
    """One symbol in a verdict: a named rule that fired, its score and the evidence."""

    name: str
    score: float
    description: str
    evidence: str | None = None
    group: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "score": round(self.score, 3),
            "description": self.description,
            "evidence": self.evidence,
        }
        if self.group:
            out["group"] = self.group
        return out


@dataclass(frozen=True, slots=True)
class Verdict:
    """The pipeline's decision on one message, with everything needed to explain it."""

    action: Action
    score: float
    symbols: tuple[SymbolResult, ...] = ()
    spam_probability: float | None = None
    policy: str = "default"
    model: str | None = None
    reason: str | None = None  # only for action == error: why the input could not be judged

    @classmethod
    def error(cls, reason: str, *, policy: str = "default") -> Verdict:
        """A verdict for input that could not be judged; nothing is delivered or lost."""
        return cls(action=Action.ERROR, score=0.0, policy=policy, reason=reason)

    def symbol_names(self) -> list[str]:
        return [s.name for s in self.symbols]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "action": self.action.value,
            "score": round(self.score, 3),
            "spam_probability": (
                None if self.spam_probability is None else round(self.spam_probability, 4)
            ),
            "symbols": [s.to_dict() for s in self.symbols],
            "policy": self.policy,
            "model": self.model,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        return out
