"""Checks (one module each), their registry and the scoring engine."""

from spamgate.checks.base import Check, Hit, NoOptions, Options, SymbolDef
from spamgate.checks.context import AccountView, CheckContext, ModelScores, prepare
from spamgate.checks.engine import CHECK_ERROR, CompiledPolicy, compile_policy, evaluate
from spamgate.checks.registry import CHECKS, all_symbols

__all__ = [
    "CHECKS",
    "CHECK_ERROR",
    "AccountView",
    "Check",
    "CheckContext",
    "CompiledPolicy",
    "Hit",
    "ModelScores",
    "NoOptions",
    "Options",
    "SymbolDef",
    "all_symbols",
    "compile_policy",
    "evaluate",
    "prepare",
]
