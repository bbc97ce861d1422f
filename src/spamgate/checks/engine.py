"""The scoring engine: runs the checks, sums weights per group with caps, picks the action.

Policy is compiled once (per named policy) into a :class:`CompiledPolicy`: the enabled checks with
validated options, the effective weight of every symbol, group caps and thresholds. A check whose
section is invalid is left out with a logged error, so a typo in one section never takes the
gateway down; a check that raises while judging yields ``CHECK_ERROR`` and the others still judge.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from spamgate.checks.base import Check, Hit, SymbolDef
from spamgate.checks.context import CheckContext
from spamgate.config import PolicyFile
from spamgate.domain.verdict import Action, SymbolResult, Verdict, most_severe
from spamgate.errors import PolicyError

__all__ = [
    "CHECK_ERROR",
    "CompiledPolicy",
    "EffectiveSymbol",
    "compile_policy",
    "evaluate",
]

log = logging.getLogger(__name__)

#: Emitted by the engine itself when a check raises or emits an undeclared symbol.
CHECK_ERROR = SymbolDef(
    "CHECK_ERROR",
    0.0,
    "engine",
    "a check failed on this message; the others still judged it",
)


@dataclass(frozen=True, slots=True)
class EffectiveSymbol:
    """A symbol with the weight and action the policy gives it."""

    name: str
    weight: float
    group: str
    description: str
    action: Action | None
    check: str


@dataclass(slots=True)
class CompiledPolicy:
    """A policy ready to judge with: enabled checks, effective symbols, caps, thresholds."""

    name: str
    checks: list[Check[Any]]
    symbols: dict[str, EffectiveSymbol]
    group_caps: dict[str, float]
    thresholds: list[tuple[Action, float]]
    disabled: dict[str, str] = field(default_factory=dict)


class _SymbolOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weight: float | None = None
    action: Action | None = None
    description: str | None = None


class _CheckSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    symbols: dict[str, float | _SymbolOverride] = {}
    options: dict[str, Any] = {}


def _compile_check(
    check_cls: type[Check[Any]], raw: dict[str, Any]
) -> tuple[Check[Any] | None, list[EffectiveSymbol]]:
    """Instantiate one check from its policy section; raises :class:`PolicyError` if invalid."""
    name = check_cls.name
    try:
        section = _CheckSection.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(_describe(exc), check=name) from None
    declared = {s.name: s for s in check_cls.symbols}
    unknown = sorted(set(section.symbols) - set(declared))
    if unknown:
        raise PolicyError(f"undeclared symbols {unknown}", check=name, key=f"checks.{name}.symbols")
    try:
        options = check_cls.options_model.model_validate(section.options)
    except ValidationError as exc:
        raise PolicyError(_describe(exc), check=name, key=f"checks.{name}.options") from None
    try:
        instance = check_cls(options) if section.enabled else None
    except (ValueError, TypeError) as exc:  # e.g. an option that compiles to a bad regex
        raise PolicyError(str(exc), check=name, key=f"checks.{name}.options") from None
    effective = []
    for sym in check_cls.symbols:
        override = section.symbols.get(sym.name)
        if isinstance(override, float | int):
            override = _SymbolOverride(weight=float(override))
        effective.append(
            EffectiveSymbol(
                name=sym.name,
                weight=sym.weight
                if override is None or override.weight is None
                else override.weight,
                group=sym.group,
                description=(
                    sym.description
                    if override is None or override.description is None
                    else override.description
                ),
                action=sym.action
                if override is None or override.action is None
                else override.action,
                check=name,
            )
        )
    return instance, effective


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def compile_policy(policy: PolicyFile, registry: Sequence[type[Check[Any]]]) -> CompiledPolicy:
    """Compile ``policy`` against the registered checks. Never raises for one bad section."""
    checks: list[Check[Any]] = []
    symbols: dict[str, EffectiveSymbol] = {
        CHECK_ERROR.name: EffectiveSymbol(
            CHECK_ERROR.name, 0.0, CHECK_ERROR.group, CHECK_ERROR.description, None, "engine"
        )
    }
    disabled: dict[str, str] = {}
    known = {c.name for c in registry}
    for name in sorted(set(policy.checks) - known):
        log.error("policy %s: [checks.%s] names no known check; ignored", policy.name, name)
    for check_cls in registry:
        try:
            instance, effective = _compile_check(check_cls, policy.checks.get(check_cls.name, {}))
        except PolicyError as exc:
            log.error("policy %s: check %s disabled: %s", policy.name, check_cls.name, exc)
            disabled[check_cls.name] = str(exc)
            continue
        if instance is None:
            disabled[check_cls.name] = "disabled by policy"
            continue
        checks.append(instance)
        for sym in effective:
            symbols[sym.name] = sym
    caps = {
        name: group.max_score
        for name, group in policy.groups.items()
        if group.max_score is not None
    }
    return CompiledPolicy(
        name=policy.name,
        checks=checks,
        symbols=symbols,
        group_caps=caps,
        thresholds=policy.actions.ordered(),
        disabled=disabled,
    )


def _excerpt(value: str | None, limit: int = 60) -> str | None:
    if value is None:
        return None
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _run_checks(compiled: CompiledPolicy, ctx: CheckContext) -> list[tuple[EffectiveSymbol, Hit]]:
    fired: list[tuple[EffectiveSymbol, Hit]] = []
    symbols = compiled.symbols
    for check in compiled.checks:
        requires = check.requires
        if requires:  # most checks need nothing
            skip = False
            for need in requires:  # a loop, not all(genexpr): this runs for every check
                if not getattr(ctx, need):
                    skip = True
                    break
            if skip:
                continue
        try:
            hits = check.check(ctx)
            # Built-in checks return lists (or ()): no copy. A generator runs here, inside
            # the try, so a check that raises half-way still yields CHECK_ERROR.
            if type(hits) is not list and type(hits) is not tuple:
                hits = list(hits)
        except Exception as exc:  # a faulty check must not take the message or gateway down
            log.exception("check %s raised on a message", check.name)
            error_sym = symbols[CHECK_ERROR.name]
            fired.append((error_sym, Hit(error_sym.name, f"{check.name}: {type(exc).__name__}")))
            continue
        for hit in hits:
            sym = symbols.get(hit.symbol)
            if sym is None or sym.check != check.name:
                log.error("check %s emitted undeclared symbol %s", check.name, hit.symbol)
                error_sym = symbols[CHECK_ERROR.name]
                fired.append((error_sym, Hit(error_sym.name, f"{check.name}: undeclared symbol")))
                continue
            fired.append((sym, hit))
    return fired


def evaluate(
    compiled: CompiledPolicy,
    ctx: CheckContext,
    *,
    model_id: str | None = None,
) -> Verdict:
    """Judge one prepared message under ``compiled`` and explain the verdict."""
    fired = _run_checks(compiled, ctx)
    results: list[SymbolResult] = []
    forced: list[Action] = []
    total_score = 0.0
    if fired:  # most messages fire nothing: skip the group sums
        # Sum per group, then cap; symbols of a capped group are scaled so the parts still
        # add up.
        raw: dict[str, float] = {}
        for sym, hit in fired:
            raw[sym.group] = raw.get(sym.group, 0.0) + sym.weight * hit.factor
        scale: dict[str, float] = {}
        for group, total in raw.items():
            cap = compiled.group_caps.get(group)
            scale[group] = cap / total if cap is not None and total > cap else 1.0
        for sym, hit in fired:
            score = sym.weight * hit.factor * scale[sym.group]
            total_score += score
            # name, score, description, evidence, group (positional: cheaper per symbol)
            results.append(
                SymbolResult(sym.name, score, sym.description, _excerpt(hit.evidence), sym.group)
            )
            if sym.action is not None:
                forced.append(sym.action)
        if len(results) > 1:
            results.sort(key=lambda r: (-r.score, r.name))
    by_score = Action.DELIVER
    for action, threshold in compiled.thresholds:
        if total_score >= threshold:
            by_score = action
            break
    model = ctx.model
    # action, score, symbols, spam_probability, policy, model (positional: once per message)
    return Verdict(
        most_severe(by_score, *forced),
        total_score,
        tuple(results) if results else (),
        model.spam_probability if model else None,
        compiled.name,
        model_id if model_id is not None else (model.model_id if model else None),
    )
