"""Binary metrics at a threshold, thresholds at a target ham false-positive rate, AUCs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["binary_metrics", "count_metrics", "ranking_metrics", "threshold_at_fpr"]

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]


def threshold_at_fpr(ham_scores: Floats, fpr: float) -> float:
    """The lowest threshold ``t`` such that at most ``fpr`` of ``ham_scores`` are ``>= t``."""
    if ham_scores.size == 0:
        return 0.5
    ordered = np.sort(ham_scores)[::-1]
    allowed = math.floor(fpr * ordered.size + 1e-9)
    if allowed >= ordered.size:
        return 0.0
    return float(np.nextafter(ordered[allowed], np.inf))


def binary_metrics(y: Bools, p: Floats, threshold: float) -> dict[str, Any]:
    """Counts, precision, recall, F1 and ham FPR of ``p >= threshold`` against ``y``."""
    pred = p >= threshold
    tp, fp = int(np.sum(pred & y)), int(np.sum(pred & ~y))
    fn, tn = int(np.sum(~pred & y)), int(np.sum(~pred & ~y))
    return {"threshold": round(threshold, 6), **count_metrics(tp, fp, fn, tn)}


def count_metrics(tp: int, fp: int, fn: int, tn: int) -> dict[str, Any]:
    """The counts with precision, recall, F1 (4 places) and ham FPR (5 places)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "ham_fpr": round(fp / (fp + tn), 5) if fp + tn else 0.0,
    }


def ranking_metrics(y: Bools, p: Floats) -> dict[str, Any]:
    """ROC-AUC and PR-AUC (average precision); ``None`` when a class is missing."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    if y.all() or not y.any():
        return {"roc_auc": None, "pr_auc": None}
    return {
        "roc_auc": round(float(roc_auc_score(y, p)), 5),
        "pr_auc": round(float(average_precision_score(y, p)), 5),
    }
