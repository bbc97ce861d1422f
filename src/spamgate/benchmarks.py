"""Finds and runs the benchmarks kept in the repository's ``bench/`` folder.

Benchmarks are not part of the installed package (they need the training data next to the
checkout), so ``spamgate bench NAME`` loads ``bench/bench_NAME.py`` (or ``bench/NAME.py``) from
the checkout and calls its ``run(...)``. The ``bench_`` prefix keeps a file such as
``numbers.py`` from shadowing a standard-library module. Each prints a table and writes JSON
under ``bench/results/``.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from rich.console import Console

from spamgate.errors import InputError

__all__ = ["bench_dir", "default_data_dir", "run_benchmark"]


def bench_dir() -> Path:
    """``$SPAMGATE_BENCH_DIR``, else ``./bench``, else the checkout this package runs from."""
    env = os.environ.get("SPAMGATE_BENCH_DIR")
    candidates = [Path(env)] if env else []
    candidates += [Path.cwd() / "bench", Path(__file__).resolve().parents[2] / "bench"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise InputError("no bench/ folder found: run from the spamgate checkout")


def default_data_dir() -> Path:
    """``$SPAMGATE_SHARED_DATA``, else ``../shared/data`` next to the checkout."""
    env = os.environ.get("SPAMGATE_SHARED_DATA")
    if env:
        return Path(env)
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = base.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    raise InputError("training data not found: pass --data or set SPAMGATE_SHARED_DATA")


def write_result(out: Path, name: str, result: Any) -> Path:
    """Write a benchmark's result record as ``<out>/<name>.json``; returns the path."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.json"
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def run_benchmark(name: str, *, console: Console, **options: Any) -> dict[str, Any]:
    """Load ``bench/<name>.py`` and run it; returns its result record."""
    folder = bench_dir()
    candidates = [folder / f"bench_{name}.py", folder / f"{name}.py"]
    path = next((p for p in candidates if p.is_file()), None)
    if not name.isidentifier() or path is None:
        known = sorted(
            p.stem.removeprefix("bench_") for p in folder.glob("*.py") if not p.stem.startswith("_")
        )
        raise InputError(f"unknown benchmark {name!r}; known: {', '.join(known)}")
    spec = importlib.util.spec_from_file_location(f"spamgate_bench_{name}", path)
    if spec is None or spec.loader is None:
        raise InputError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if options.get("data") is None:
        options["data"] = default_data_dir()
    result: dict[str, Any] = module.run(console=console, **options)
    return result
