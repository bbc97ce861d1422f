"""What ``spamgate model train|eval`` do, without the terminal: the CLI only prints results."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from spamgate.errors import InputError
from spamgate.model.artifact import save_artifact
from spamgate.model.data import read_csv
from spamgate.model.evaluate import Evaluation, evaluate, write_report
from spamgate.model.features import URL_LAYOUT
from spamgate.model.scoring import ContentModel
from spamgate.model.train import DEFAULT_SEED, TrainOptions, default_model_id, train_content_model
from spamgate.model.url import train_url_model

__all__ = ["detect_kind", "eval_to_dir", "train_to_dir"]

Kind = Literal["content", "url"]


def detect_kind(paths: Sequence[Path]) -> Kind:
    """``url`` when every file has a ``url`` column and no ``text`` column, else ``content``."""
    kinds: set[str] = set()
    for path in paths:
        try:
            with path.open(encoding="utf-8-sig", errors="replace") as fh:
                header = fh.readline().strip().lower().split(",")
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from None
        kinds.add("url" if "url" in header and "text" not in header else "content")
    if len(kinds) > 1:
        raise InputError("mixed URL and text files: train the two models separately")
    return "url" if kinds == {"url"} else "content"


def train_to_dir(
    paths: Sequence[Path],
    out: Path,
    *,
    kind: Kind | None = None,
    seed: int = DEFAULT_SEED,
    model_id: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train a model on ``paths`` and save it to ``out``; returns its metadata."""
    if not paths:
        raise InputError("no training data: pass --data FILE.csv (repeatable)")
    kind = kind or detect_kind(paths)
    if kind == "url":
        for path in paths:
            read_csv(path, column="url", labels=("legitimate", "phishing"))
        meta, arrays = train_url_model(
            paths, seed=seed, model_id=model_id or default_model_id("url-lex")
        )
        save_artifact(out, meta, arrays, URL_LAYOUT)
    else:
        result = train_content_model(
            paths, TrainOptions(seed=seed, model_id=model_id), progress=progress
        )
        result.save(out)
        meta = result.meta
    return meta


def eval_to_dir(
    model_dir: Path | None,
    data: Path,
    report: Path,
    *,
    split: str = "all",
    fpr_point: float = 0.005,
    with_obfuscation: bool = False,
) -> tuple[Evaluation, Path]:
    """Evaluate the model at ``model_dir`` (the shipped one if ``None``) and write the report."""
    model = ContentModel.load_default() if model_dir is None else ContentModel.load(model_dir)
    ev = evaluate(model, data, split=split, fpr_point=fpr_point, with_obfuscation=with_obfuscation)
    return ev, write_report(ev, report)
