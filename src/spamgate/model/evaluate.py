"""Evaluating a content model on a labelled CSV: metrics, plots and one self-contained HTML page.

``evaluate`` scores every distinct text of the file (optionally only one split of the bucket
rule, so a training file can be measured on its validation slice only), reports precision,
recall, F1 and ham false-positive rate at the model's threshold, ROC-AUC and PR-AUC, a per-class
table and confusion matrices; with ``obfuscate`` it also scores disguised variants of every spam
text and reports the recall drop. ``write_report`` draws the PNGs (matplotlib, Agg) and writes
``report.html`` (images inlined as base64) and ``report.json``. No message text is written to the
report.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from spamgate.errors import InputError
from spamgate.model.data import LAW_ONLY_CATEGORIES, bucket_of, dedup_key, group_key, read_csv
from spamgate.model.data import split_of as bucket_split
from spamgate.model.metrics import binary_metrics, ranking_metrics, threshold_at_fpr
from spamgate.model.obfuscate import VARIANTS, obfuscate
from spamgate.model.scoring import ContentModel
from spamgate.text import normalize

__all__ = ["Evaluation", "evaluate", "write_report"]

SPLITS = ("all", "validation", "train", "holdout")


@dataclass(slots=True)
class Evaluation:
    """Everything the report shows; ``scores``/``labels`` stay in memory, not in the JSON."""

    model_id: str
    data: str
    split: str
    threshold_name: str
    summary: dict[str, Any]
    per_class: list[dict[str, Any]]
    confusion: dict[str, Any]
    obfuscation: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    scores: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "data": self.data,
            "split": self.split,
            "threshold": self.threshold_name,
            "summary": self.summary,
            "per_class": self.per_class,
            "confusion": self.confusion,
            "obfuscation": self.obfuscation,
            "warnings": self.warnings,
        }


def _rows(path: Path, split: str) -> tuple[list[str], list[str], str]:
    rows, record = read_csv(path)
    seen: set[str] = set()
    texts: list[str] = []
    labels: list[str] = []
    for row in rows:
        category = row.get("category") or None
        if category in LAW_ONLY_CATEGORIES:
            continue
        key = dedup_key(row["text"])
        if key in seen:
            continue
        seen.add(key)
        if split != "all" and bucket_split(bucket_of(group_key(key))) != split:
            continue
        label = row["label"]
        if label == "spam" and category is not None and category.startswith("smishing"):
            label = "smishing"
        texts.append(row["text"])
        labels.append(label)
    return texts, labels, record.sha256


def evaluate(
    model: ContentModel,
    path: Path,
    *,
    split: str = "all",
    fpr_point: float = 0.005,
    with_obfuscation: bool = False,
    seed: int = 0,
) -> Evaluation:
    """Score ``path`` with ``model`` and compute every figure of the report."""
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; one of {', '.join(SPLITS)}")
    texts, labels, digest = _rows(path, split)
    if not texts:
        raise InputError(f"{path.name}: no rows in the {split!r} split")
    warnings: list[str] = []
    trained_on = {str(d.get("sha256")) for d in model.meta.training_data}
    if digest in trained_on and split in ("all", "train"):
        warnings.append(
            f"{path.name} was used to train {model.model_id}: these figures include training "
            "rows and are optimistic; use --split validation"
        )
    key = f"fpr_{fpr_point:g}"
    if key not in model.thresholds:
        raise InputError(f"the model has no threshold {key}; it has {', '.join(model.thresholds)}")
    threshold = model.thresholds_for(texts, key)
    proba = model.predict_proba(texts)
    y = np.array([label != "ham" for label in labels])
    # one cut per row (its language's threshold): compare the margin above it with 0
    at_model = binary_metrics(y, proba - threshold, 0.0)
    at_model["threshold"] = _describe(model.thresholds, key)
    summary: dict[str, Any] = {
        "rows": len(texts),
        "ham": int((~y).sum()),
        "spam": int(y.sum()),
        **ranking_metrics(y, proba),
        "at_model_threshold": at_model,
    }
    if y.any() and (~y).any():
        summary["at_own_fpr"] = {
            f"fpr_{f:g}": binary_metrics(y, proba, threshold_at_fpr(proba[~y], f))
            for f in (0.003, 0.005)
        }
    per_class = []
    for label in ("ham", "spam", "smishing"):
        mask = np.array([lb == label for lb in labels])
        if mask.any():
            flagged = float(np.mean(proba[mask] >= threshold[mask]))
            per_class.append(
                {
                    "class": label,
                    "rows": int(mask.sum()),
                    "flagged": round(flagged, 4),
                    "mean_probability": round(float(proba[mask].mean()), 4),
                }
            )
    predicted = _fine_labels(model, texts, proba, threshold)
    classes = ["ham", "spam", "smishing"]
    matrix = [[sum(1 for t, p in zip(labels, predicted, strict=True) if t == a and p == b)
               for b in classes] for a in classes]  # fmt: skip
    confusion = {"classes": classes, "rows_true_cols_predicted": matrix}
    obfuscation = None
    if with_obfuscation and y.any():
        spam_texts = [t for t, is_spam in zip(texts, y.tolist(), strict=True) if is_spam]
        base = float(np.mean(proba[y] >= threshold[y]))
        variants: dict[str, Any] = {}
        for name in VARIANTS:
            # a variant is held to its original's threshold: disguise must not buy a laxer one
            changed = [obfuscate(t, name, seed) for t in spam_texts]
            recall = float(np.mean(model.predict_proba(changed) >= threshold[y]))
            variants[name] = {
                "recall": round(recall, 4),
                "drop_points": round(100 * (base - recall), 2),
            }
        worst = max(v["drop_points"] for v in variants.values())
        obfuscation = {
            "spam_texts": len(spam_texts),
            "recall": round(base, 4),
            "variants": variants,
            "worst_drop_points": worst,
            "target_drop_points": 2.0,
            "meets_target": worst <= 2.0,
        }
    return Evaluation(
        model_id=model.model_id,
        data=path.name,
        split=split,
        threshold_name=_describe(model.thresholds, key),
        summary=summary,
        per_class=per_class,
        confusion=confusion,
        obfuscation=obfuscation,
        warnings=warnings,
        labels=labels,
        scores=proba,
    )


def _describe(thresholds: dict[str, float], key: str) -> str:
    """``fpr_0.005 = 0.7819`` plus the per-language values the model has for ``key``."""
    own = [
        f"{name.split(':')[0]} {v:.4f}"
        for name, v in thresholds.items()
        if name.endswith(f":{key}")
    ]
    return f"{key} = {thresholds[key]:.4f}" + (f" ({', '.join(own)})" if own else "")


def _fine_labels(
    model: ContentModel,
    texts: list[str],
    proba: npt.NDArray[np.float64],
    threshold: npt.NDArray[np.float64],
) -> list[str]:
    normalized = [normalize(t).text for t in texts]
    fine = [s.label for s in model.score_normalized(normalized, explain_above=2.0)]
    out = []
    for p, cut, label in zip(proba.tolist(), threshold.tolist(), fine, strict=True):
        if p < cut:
            out.append("ham")
        else:
            out.append(label if label in ("spam", "smishing") else "spam")
    return out


# -- report -----------------------------------------------------------------------------------


def _plots(ev: Evaluation, out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    y = np.array([label != "ham" for label in ev.labels])
    files: dict[str, Path] = {}

    fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
    matrix = np.array(ev.confusion["rows_true_cols_predicted"])
    ax.imshow(matrix, cmap="Blues")
    classes = ev.confusion["classes"]
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color="black")
    ax.set_title("confusion matrix")
    fig.tight_layout()
    files["confusion"] = out / "confusion_matrix.png"
    fig.savefig(files["confusion"])
    plt.close(fig)

    if y.any() and (~y).any():
        precision, recall, _ = precision_recall_curve(y, ev.scores)
        fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
        ax.plot(recall, precision)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1.01)
        ax.set_ylim(0, 1.01)
        ax.set_title(f"PR curve (PR-AUC {ev.summary.get('pr_auc')})")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        files["pr_curve"] = out / "pr_curve.png"
        fig.savefig(files["pr_curve"])
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    bins = np.linspace(0, 1, 41).tolist()
    ax.hist(ev.scores[~y], bins=bins, alpha=0.6, label="ham", log=True)
    ax.hist(ev.scores[y], bins=bins, alpha=0.6, label="spam + smishing", log=True)
    ax.set_xlabel("spam probability")
    ax.set_ylabel("messages (log)")
    ax.legend()
    ax.set_title("score histogram")
    fig.tight_layout()
    files["histogram"] = out / "score_histogram.png"
    fig.savefig(files["histogram"])
    plt.close(fig)
    return files


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row.values()) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(ev: Evaluation, out: Path) -> Path:
    """Write the PNGs, ``report.json`` and the self-contained ``report.html`` into ``out``."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out}: {exc.strerror}") from None
    images = _plots(ev, out)
    (out / "report.json").write_text(
        json.dumps(ev.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    summary = ev.summary
    at = summary["at_model_threshold"]
    headline = [
        {
            "rows": summary["rows"],
            "ham": summary["ham"],
            "spam": summary["spam"],
            "precision": at["precision"],
            "recall": at["recall"],
            "F1": at["f1"],
            "ham FPR": at["ham_fpr"],
            "ROC-AUC": summary.get("roc_auc"),
            "PR-AUC": summary.get("pr_auc"),
        }
    ]
    own = [{"point": k, **v} for k, v in summary.get("at_own_fpr", {}).items()]
    classes = ev.confusion["classes"]
    confusion = [
        {"true \\ predicted": c, **dict(zip(classes, row, strict=True))}
        for c, row in zip(classes, ev.confusion["rows_true_cols_predicted"], strict=True)
    ]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>spamgate model report — {html.escape(ev.model_id)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:.3em .6em;text-align:right}.warn{color:#a40}</style></head><body>",
        f"<h1>Model {html.escape(ev.model_id)}</h1>",
        f"<p>data <code>{html.escape(ev.data)}</code>, split <b>{html.escape(ev.split)}</b>, "
        f"threshold {html.escape(ev.threshold_name)}</p>",
        *(f"<p class='warn'>{html.escape(w)}</p>" for w in ev.warnings),
        "<h2>Summary</h2>",
        _table(headline),
        "<h2>At this file's own ham FPR points</h2>",
        _table(own),
        "<h2>Per class</h2>",
        _table(ev.per_class),
        "<h2>Confusion matrix</h2>",
        _table(confusion),
    ]
    if ev.obfuscation is not None:
        obf = ev.obfuscation
        parts += [
            "<h2>Obfuscated spam</h2>",
            f"<p>{obf['spam_texts']} spam texts, recall {obf['recall']}; worst drop "
            f"{obf['worst_drop_points']} points (target ≤ {obf['target_drop_points']}).</p>",
            _table([{"variant": k, **v} for k, v in obf["variants"].items()]),
        ]
    for name, path in images.items():
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(
            f"<h2>{html.escape(name)}</h2><img alt='{name}' src='data:image/png;base64,{data}'>"
        )
    parts.append("</body></html>")
    target = out / "report.html"
    target.write_text("\n".join(parts), encoding="utf-8")
    return target
