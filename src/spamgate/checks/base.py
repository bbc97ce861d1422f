"""The shape every check shares (Rspamd-style: symbols in code, scores in policy).

A check declares its symbols up front, validates its own options with a pydantic model, and maps
one prepared :class:`~spamgate.checks.context.CheckContext` to a list of :class:`Hit`. It does no
I/O: whatever it needs is prepared once per message in the context.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from spamgate.checks.context import CheckContext
from spamgate.domain.verdict import Action

__all__ = ["Check", "Hit", "NoOptions", "Options", "SymbolDef"]


@dataclass(frozen=True, slots=True)
class SymbolDef:
    """A symbol a check may emit: its default weight, group and one-line description.

    ``action`` is a floor on the verdict's action when the symbol fires (e.g. a spoofed sender is
    rejected whatever the score); policy may override weight and action per symbol.
    """

    name: str
    weight: float
    group: str
    description: str
    action: Action | None = None

    def __post_init__(self) -> None:
        if not self.name.isupper() or not self.name.replace("_", "").isalnum():
            raise ValueError(f"symbol name must be UPPER_SNAKE: {self.name!r}")


@dataclass(frozen=True, slots=True)
class Hit:
    """One symbol that fired: ``factor`` scales its weight, ``evidence`` is a short excerpt."""

    symbol: str
    evidence: str | None = None
    factor: float = 1.0


class Options(BaseModel):
    """Base of every check's options model: unknown keys are policy errors, not silence."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoOptions(Options):
    """For checks without options."""


OptionsT = TypeVar("OptionsT", bound=Options)


class Check(ABC, Generic[OptionsT]):
    """Base class of checks. Subclasses set ``name``, ``symbols`` and ``options_model``."""

    name: ClassVar[str]
    symbols: ClassVar[tuple[SymbolDef, ...]]
    options_model: ClassVar[type[Options]] = NoOptions
    #: Context attributes the check cannot work without (e.g. ``("urls",)``): when any is
    #: ``None`` or empty the engine skips the check, so absent inputs never fire and cost nothing.
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, options: OptionsT) -> None:
        self.options = options

    @abstractmethod
    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        """Return the hits for one message; must not do I/O or mutate ``ctx`` except ``facts``."""
