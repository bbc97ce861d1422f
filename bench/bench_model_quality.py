"""Benchmark: the content model's quality targets (issue 4), by grouped cross-validation.

``spamgate bench model_quality`` trains the shipped recipe (``fit_content`` with the default
``TrainOptions`` of :mod:`spamgate.model.train`) ``K`` times on the training data
(never on the withheld bucket < 20 rows, which are not in the folder anyway) and reports:

* UCI SMS spam: spam F1 and ham FPR at the threshold chosen for 0.3 % validation ham FPR
  (target F1 >= 0.97 with FPR <= 0.3 %);
* Korean smishing against realistic Korean SMS ham (the synthetic set's ham): recall and ham
  FPR at the 0.5 % threshold (target recall >= 0.95 with FPR <= 0.5 %);
* obfuscated variants (``spamgate model eval --obfuscate``'s transforms, seed 0, which training
  augmentation never draws: it uses the training seed): worst recall drop in points (target <= 2)
  on kim2024 smishing and on all spam;
* for context, every fold's model on the fresh Korean set (``data/kor_sms_spamgate_fresh_eval.csv``,
  written apart from all other data and never trained on): recall and ham FPR at the 0.5 %
  threshold, and the mean ROC-AUC;
* for context, the whole pipeline's verdicts on each test fold's Korean rows with that fold's
  model (:class:`VerdictLevel`): what a gateway would do, with the law, URL and lure checks
  beside the model (``SPAMGATE_QUALITY_VERDICTS=0`` skips it).

Protocol. Folds are groups, not rows: rows sharing SOURCES.md's ``group_key`` stay together,
as in the withheld split of the public sets. The synthetic Korean set's withheld test was written
separately (new templates), and its rows are template siblings that differ in brand names and so
in ``group_key``: there, near-duplicates (Jaccard >= 0.5 on character 5-grams of the digit-masked
``dedup_key``) are joined too, so a template is never on both sides. Fold ``k`` is the test fold,
fold ``k+1`` the inner validation (calibration and thresholds are picked there, as the shipped
model picks them on ``20 <= bucket < 35``), the other folds train. Thresholds are the model's
own: per language group (Hangul share) where the model has them. Counts are pooled over the
``K`` test folds; the per-fold range is reported beside them. ``SPAMGATE_QUALITY_NEAR_DUP=none``
joins by ``group_key`` only (``all``: near-duplicates in every set). About 2-4 minutes on a
free core. Writes ``bench/results/model_quality.json``.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from rich.console import Console
from rich.table import Table

from spamgate.benchmarks import write_result
from spamgate.config import load_policy
from spamgate.domain.message import KST
from spamgate.model.artifact import save_artifact
from spamgate.model.data import Example, bucket_of, dedup_key, group_key, load_examples
from spamgate.model.features import CONTENT_LAYOUT, FeatureLayout
from spamgate.model.metrics import binary_metrics, count_metrics, ranking_metrics
from spamgate.model.obfuscate import VARIANTS, obfuscate
from spamgate.model.scoring import ContentModel, row_thresholds
from spamgate.model.train import FittedContent, TrainOptions, featurize, fit_content
from spamgate.pipeline import MessageFields, Pipeline
from spamgate.text import normalize

#: The sets ``make model`` trains on (ExAIS is left out; see the Makefile).
MODEL_SETS = (
    "uci_sms_spam",
    "mendeley_sms_phishing",
    "smishtank",
    "kor_phishing_kim2024",
    "kor_sms_synthetic",
)
KOREAN = frozenset({"kor_phishing_kim2024", "kor_sms_synthetic"})
#: The project's own Korean SMS (data/README.md), which ``make model`` trains on too. They take
#: part in training and validation like any set, and are never in a reported target's subset:
#: the targets stay measured on the shared data. ``SPAMGATE_QUALITY_OWN=0`` leaves them out.
OWN_DATA = Path(__file__).resolve().parents[1] / "data"
OWN_SETS = (
    "kor_sms_spamgate_ham",
    "kor_sms_spamgate_spam",
    "kor_sms_spamgate_ham2",
    "kor_sms_spamgate_spam2",
    "kor_sms_spamgate_ham3",
    "kor_sms_spamgate_spam3",
    "kor_sms_spamgate_ham4",
    "kor_sms_spamgate_spam4",
)
_OWN = frozenset(OWN_SETS)
#: Korean SMS written apart from every other set (data/README.md, round 5): never trained on;
#: each fold's model scores all of it (context, not a target).
FRESH_EVAL = OWN_DATA / "kor_sms_spamgate_fresh_eval.csv"
#: Sets whose rows near-duplicate links may join under the default protocol: the synthetic set
#: (its withheld test is new templates) and our own, which may rephrase a synthetic template.
_NEW_TEMPLATE_SETS = _OWN | {"kor_sms_synthetic"}
FOLDS = 5
NEAR_DUP_JACCARD = 0.5
_DIGITS = re.compile(r"\d+")
Bools = npt.NDArray[np.bool_]


def near_duplicate_groups(
    texts: Sequence[str],
    linkable: Sequence[bool] | None = None,
    jaccard: float = NEAR_DUP_JACCARD,
) -> list[int]:
    """A group id per text: connected components of ``group_key`` equality and near-duplicates.

    Character 5-grams (binary, hashed) of the digit-masked ``dedup_key``; 5-grams found in more
    than 300 texts are dropped (they say nothing about near-duplication and make the pairwise
    product dense). Pairs at Jaccard >= ``jaccard`` are joined when both are ``linkable``.
    """
    from sklearn.feature_extraction.text import HashingVectorizer

    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    first: dict[str, int] = {}
    for i, text in enumerate(texts):
        join(first.setdefault(group_key(text), i), i)
    allowed = [True] * len(texts) if linkable is None else list(linkable)
    # rows that may not be linked get no 5-grams, so they match nothing
    masked = [
        _DIGITS.sub("0", dedup_key(t)) if ok else "" for t, ok in zip(texts, allowed, strict=True)
    ]
    vectorizer = HashingVectorizer(
        analyzer="char", ngram_range=(5, 5), n_features=2**20, alternate_sign=False, norm=None
    )
    x = vectorizer.transform(masked).tocsc()
    df = np.diff(x.indptr)
    x = x[:, np.flatnonzero((df > 0) & (df <= 300))].tocsr()
    x.data[:] = 1.0
    size = np.asarray(x.sum(axis=1)).ravel()
    xt = x.T.tocsr()
    for lo in range(0, len(texts), 2000):
        product = sp.coo_matrix(x[lo : lo + 2000] @ xt)
        rows, cols, inter = product.row + lo, product.col, product.data
        upper = cols > rows
        rows, cols, inter = rows[upper], cols[upper], inter[upper]
        near = inter / (size[rows] + size[cols] - inter + 1e-9) >= jaccard
        for a, b in zip(rows[near].tolist(), cols[near].tolist(), strict=True):
            join(a, b)
    return [find(i) for i in range(len(texts))]


def assign_folds(
    examples: Sequence[Example], k: int = FOLDS, near_dup: str = "synthetic"
) -> npt.NDArray[np.int64]:
    """The fold of each example: the bucket of its group's first ``group_key``, modulo ``k``.

    ``near_dup``: which rows near-duplicate links may join — ``synthetic`` (the Korean set
    whose withheld test was written separately, so its test texts are new templates, and our
    own Korean sets, so that none of them trains on a rephrasing of a test template), ``all``
    or ``none`` (``group_key`` only, like the withheld split of the public sets).
    """
    if near_dup not in ("synthetic", "all", "none"):
        raise ValueError(f"near_dup must be synthetic, all or none, not {near_dup!r}")
    linkable = [
        near_dup == "all" or (near_dup == "synthetic" and bool(e.sources & _NEW_TEMPLATE_SETS))
        for e in examples
    ]
    groups = near_duplicate_groups([e.text for e in examples], linkable)
    return np.array([bucket_of(group_key(examples[g].text)) % k for g in groups], dtype=np.int64)


def _mask(examples: Sequence[Example], test: Callable[[Example], bool]) -> Bools:
    return np.fromiter((test(e) for e in examples), dtype=np.bool_, count=len(examples))


def subsets(examples: Sequence[Example]) -> dict[str, Bools]:
    """The rows each target is measured on."""
    ko_smish = _mask(examples, lambda e: e.label == "smishing" and bool(e.sources & KOREAN))
    ko_sms_ham = _mask(examples, lambda e: not e.is_spam and "kor_sms_synthetic" in e.sources)
    ko_ham = _mask(examples, lambda e: not e.is_spam and bool(e.sources & KOREAN))
    uci = _mask(examples, lambda e: "uci_sms_spam" in e.sources)
    return {
        "uci_sms_spam": uci,
        "korean_smishing_vs_sms_ham": ko_smish | ko_sms_ham,
        "korean_smishing_vs_all_korean_ham": ko_smish | ko_ham,
        "kor_sms_synthetic": _mask(examples, lambda e: "kor_sms_synthetic" in e.sources),
        "mendeley_sms_phishing": _mask(examples, lambda e: "mendeley_sms_phishing" in e.sources),
        # context, not a target: our own Korean SMS in the test folds
        "own_korean_sms": _mask(examples, lambda e: bool(e.sources & _OWN)),
    }


#: (subset, threshold name) pairs reported; the first two are the issue's targets.
REPORTED = (
    ("uci_sms_spam", "fpr_0.003"),
    ("korean_smishing_vs_sms_ham", "fpr_0.005"),
    ("korean_smishing_vs_all_korean_ham", "fpr_0.005"),
    ("kor_sms_synthetic", "fpr_0.005"),
    ("mendeley_sms_phishing", "fpr_0.003"),
    ("own_korean_sms", "fpr_0.005"),
)
OBFUSCATION_SETS: dict[str, Callable[[Example], bool]] = {
    "kor_phishing_kim2024": lambda e: e.is_spam and "kor_phishing_kim2024" in e.sources,
    "all_spam": lambda e: e.is_spam,
}
OBFUSCATION_THRESHOLD = "fpr_0.005"  # what `spamgate model eval --obfuscate` uses by default


#: Rows without an envelope are judged as sent on a weekday afternoon, so that the night rule
#: (ads 21:00-08:00) does not depend on when the benchmark runs.
DAYTIME = "2026-11-25T14:00:00+09:00"
#: Actions that warn the recipient or keep the message out of the inbox on the verdict's
#: grounds; ``overseas_inbox`` is left out: the law sends every unverified international
#: message there, spam or not.
ALARM = frozenset({"label", "spambox", "reject", "throttle"})
BLOCK = frozenset({"spambox", "reject"})
VERDICT_SUBSETS: dict[str, Callable[[Example], bool]] = {
    "korean_smishing": lambda e: e.label == "smishing" and bool(e.sources & KOREAN),
    "kor_sms_synthetic_spam": lambda e: e.is_spam and "kor_sms_synthetic" in e.sources,
    "kor_sms_synthetic_ham": lambda e: not e.is_spam and "kor_sms_synthetic" in e.sources,
    "kor_phishing_kim2024_ham": lambda e: not e.is_spam and "kor_phishing_kim2024" in e.sources,
    "own_korean_spam": lambda e: e.is_spam and bool(e.sources & _OWN),
    "own_korean_ham": lambda e: not e.is_spam and bool(e.sources & _OWN),
}


class VerdictLevel:
    """The whole pipeline's verdicts on each test fold's Korean rows, with the fold's model.

    The model targets score the content model alone; a gateway acts on the verdict, where the
    law checks (prefix, opt-out, night, envelope), the URL checks and the lure rules add their
    symbols. Rows of the synthetic set are judged with their own envelope (sender, route,
    time); others with text only, sent at :data:`DAYTIME`.
    """

    def __init__(self, data: Path, config: Path | None = None) -> None:
        self.policy = load_policy(config)
        self.envelope: dict[str, dict[str, str]] = {}
        synthetic = data / "kor_sms_synthetic.train.csv"
        if synthetic.is_file():
            with synthetic.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    self.envelope[dedup_key(row["text"])] = row
        self.actions: dict[str, Counter[str]] = {name: Counter() for name in VERDICT_SUBSETS}
        self.symbols: dict[str, Counter[str]] = {name: Counter() for name in VERDICT_SUBSETS}

    def _fields(self, example: Example) -> MessageFields:
        row = (
            self.envelope.get(dedup_key(example.text))
            if "kor_sms_synthetic" in example.sources
            else None
        )
        if row is None:
            return MessageFields(text=example.text, at=DAYTIME)
        return MessageFields(
            text=example.text,
            sender=row.get("sender") or None,
            route=row.get("route") or None,
            at=row.get("at") or DAYTIME,
        )

    def judge(self, fitted: FittedContent, test: Sequence[Example], fold: int) -> None:
        picked = [(e, [name for name, pick in VERDICT_SUBSETS.items() if pick(e)]) for e in test]
        picked = [(e, names) for e, names in picked if names]
        meta = {
            "kind": "content", "model_id": f"cv-fold-2026.11.{fold}", "created": None,
            "seed": 0, "classes": ["ham", "spam"], "fine_classes": fitted.fine_classes,
            "training_data": [], "training_rows": {}, "dropped": {}, "hyperparameters": {},
            "calibration": fitted.calibration, "thresholds": fitted.thresholds, "metrics": {},
        }  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="spamgate-cv-") as tmp:
            model = ContentModel.load(save_artifact(Path(tmp), meta, fitted.arrays, CONTENT_LAYOUT))
        pipeline = Pipeline(self.policy, model=model)
        verdicts = pipeline.judge_many([self._fields(e) for e, _ in picked])
        for (_, names), verdict in zip(picked, verdicts, strict=True):
            for name in names:
                self.actions[name][verdict.action.value] += 1
                if verdict.action.value in ALARM:
                    self.symbols[name].update(s.name for s in verdict.symbols if s.score)

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, actions in self.actions.items():
            n = sum(actions.values())
            if not n:
                continue
            out[name] = {
                "rows": n,
                "alarm": round(sum(actions[a] for a in ALARM) / n, 4),
                "blocked": round(sum(actions[a] for a in BLOCK) / n, 4),
                "delivered": round(actions["deliver"] / n, 4),
                "actions": dict(actions.most_common()),
                "symbols_when_alarmed": dict(self.symbols[name].most_common(12)),
            }
        return out


def _pool(counts: list[dict[str, Any]]) -> dict[str, Any]:
    tp, fp, fn, tn = (sum(c[k] for c in counts) for k in ("tp", "fp", "fn", "tn"))
    return {
        **count_metrics(tp, fp, fn, tn),
        "f1_range": [min(c["f1"] for c in counts), max(c["f1"] for c in counts)],
        "recall_range": [min(c["recall"] for c in counts), max(c["recall"] for c in counts)],
        "ham_fpr_range": [min(c["ham_fpr"] for c in counts), max(c["ham_fpr"] for c in counts)],
    }


def cross_validate(
    examples: Sequence[Example],
    opts: TrainOptions,
    *,
    k: int = FOLDS,
    folds: npt.NDArray[np.int64] | None = None,
    layout: FeatureLayout = CONTENT_LAYOUT,
    say: Callable[[str], None] = lambda _m: None,
    verdicts: VerdictLevel | None = None,
) -> dict[str, Any]:
    """Pooled test-fold metrics of ``opts`` (see the module docstring for the protocol);
    with ``verdicts``, the whole pipeline's verdicts on the test folds too."""
    rows = [e for e in examples if e.split != "holdout"]
    fold_of = assign_folds(rows, k) if folds is None else folds
    fresh: list[Example] = []
    if FRESH_EVAL.is_file():
        fresh = load_examples([FRESH_EVAL])[0]
    fresh_y = np.array([e.is_spam for e in fresh])
    fresh_texts = [e.text for e in fresh]
    # the same features for every fold: computed once
    fresh_x = featurize([normalize(t).text for t in fresh_texts], layout) if fresh else None
    fresh_aucs: list[float] = []
    fresh_counts: list[dict[str, Any]] = []
    per_fold: dict[str, list[dict[str, Any]]] = {f"{s}@{t}": [] for s, t in REPORTED}
    thresholds: list[dict[str, float]] = []
    obf: dict[str, dict[str, list[tuple[int, int, int]]]] = {
        name: {v: [] for v in VARIANTS} for name in OBFUSCATION_SETS
    }
    for fold in range(k):
        val_fold = (fold + 1) % k
        train = [e for e, f in zip(rows, fold_of, strict=True) if f not in (fold, val_fold)]
        val = [e for e, f in zip(rows, fold_of, strict=True) if f == val_fold]
        test = [e for e, f in zip(rows, fold_of, strict=True) if f == fold]
        t0 = time.perf_counter()
        fitted = fit_content(train, val, opts, layout=layout)
        proba = fitted.proba(featurize([normalize(e.text).text for e in test], layout))
        thresholds.append({k: round(v, 6) for k, v in fitted.thresholds.items()})
        if verdicts is not None:
            verdicts.judge(fitted, test, fold)
        if fresh_x is not None:
            scores = fitted.proba(fresh_x)
            shifted = scores - row_thresholds(fitted.thresholds, "fpr_0.005", fresh_texts)
            fresh_counts.append(binary_metrics(fresh_y, shifted, 0.0))
            fresh_aucs.append(float(ranking_metrics(fresh_y, scores)["roc_auc"] or 0.0))
        y = np.array([e.is_spam for e in test])
        masks = subsets(test)
        for name, threshold in REPORTED:
            m = masks[name]
            if not m.any():  # e.g. our own sets, left out
                continue
            cut = row_thresholds(fitted.thresholds, threshold, [e.text for e in test])
            # binary_metrics compares with one threshold: shift each row by its own instead
            per_fold[f"{name}@{threshold}"].append(binary_metrics(y[m], (proba - cut)[m], 0.0))
        for name, pick in OBFUSCATION_SETS.items():
            spam = [e.text for e in test if pick(e)]
            t_obf = row_thresholds(fitted.thresholds, OBFUSCATION_THRESHOLD, spam)
            caught = fitted.proba(featurize([normalize(t).text for t in spam], layout)) >= t_obf
            for variant in VARIANTS:
                changed = [normalize(obfuscate(t, variant, 0)).text for t in spam]
                # the variant keeps its original's language group: disguise must not move it
                flagged = fitted.proba(featurize(changed, layout)) >= t_obf
                obf[name][variant].append((len(spam), int(caught.sum()), int(flagged.sum())))
        say(f"fold {fold + 1}/{k}: {len(train):,} train, {len(test):,} test rows, "
            f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
    obfuscation: dict[str, Any] = {}
    for name, by_variant in obf.items():
        variants: dict[str, dict[str, Any]] = {}
        for variant, parts in by_variant.items():
            n = sum(p[0] for p in parts)
            base: float = sum(p[1] for p in parts) / n
            hit: float = sum(p[2] for p in parts) / n
            drops = [100 * (p[1] - p[2]) / p[0] for p in parts if p[0]]
            variants[variant] = {
                "recall": round(hit, 4),
                "drop_points": round(100 * (base - hit), 2),
                "drop_range": [round(min(drops), 2), round(max(drops), 2)],
            }
        obfuscation[name] = {
            "spam_texts": sum(p[0] for p in next(iter(by_variant.values()))),
            "recall": round(base, 4),
            "variants": variants,
            "worst_drop_points": max(v["drop_points"] for v in variants.values()),
        }
    metrics = {name: _pool(counts) for name, counts in per_fold.items() if counts}
    if fresh_counts:
        metrics["fresh_korean_eval@fpr_0.005"] = {
            **_pool(fresh_counts),
            "roc_auc": round(sum(fresh_aucs) / len(fresh_aucs), 4),
            "roc_auc_range": [round(min(fresh_aucs), 4), round(max(fresh_aucs), 4)],
        }
    return {
        "folds": k,
        "rows": len(rows),
        "metrics": metrics,
        "thresholds_per_fold": thresholds,
        "obfuscation": obfuscation,
        **({"verdicts": verdicts.report()} if verdicts is not None else {}),
    }


def targets_met(result: dict[str, Any]) -> dict[str, bool]:
    m = result["metrics"]
    uci = m["uci_sms_spam@fpr_0.003"]
    ko = m["korean_smishing_vs_sms_ham@fpr_0.005"]
    return {
        "uci_f1>=0.97_fpr<=0.3%": uci["f1"] >= 0.97 and uci["ham_fpr"] <= 0.003,
        "korean_recall>=0.95_fpr<=0.5%": ko["recall"] >= 0.95 and ko["ham_fpr"] <= 0.005,
        "obfuscation_drop<=2": result["obfuscation"]["kor_phishing_kim2024"]["worst_drop_points"]
        <= 2.0,
    }


def load(data: Path, *, own: bool = True) -> list[Example]:
    paths = [data / f"{name}.train.csv" for name in MODEL_SETS]
    if own:
        paths += [OWN_DATA / f"{name}.csv" for name in OWN_SETS]
    examples, _, _ = load_examples(paths)
    return examples


def print_table(console: Console, result: dict[str, Any], title: str) -> None:
    table = Table(title=title)
    for column in ("subset @ threshold", "precision", "recall", "F1", "ham FPR", "F1 per fold"):
        table.add_column(column, justify="right")
    for name, entry in result["metrics"].items():
        low, high = entry["f1_range"]
        table.add_row(
            name,
            f"{entry['precision']:.4f}",
            f"{entry['recall']:.4f}",
            f"{entry['f1']:.4f}",
            f"{100 * entry['ham_fpr']:.2f} %",
            f"{low:.3f}-{high:.3f}",
        )
    for name, entry in result["obfuscation"].items():
        worst = max(entry["variants"].items(), key=lambda kv: kv[1]["drop_points"])
        table.add_row(
            f"obfuscated {name} @ {OBFUSCATION_THRESHOLD}",
            "",
            f"{entry['recall']:.4f}",
            "",
            "",
            f"worst drop {worst[1]['drop_points']:.2f} pts ({worst[0]})",
        )
    console.print(table)
    if "verdicts" in result:
        table = Table(title="whole pipeline, test folds (alarm: label, spambox or reject)")
        for column in ("subset", "rows", "alarm", "blocked", "overseas inbox", "delivered"):
            table.add_column(column, justify="right")
        for name, entry in result["verdicts"].items():
            overseas = entry["actions"].get("overseas_inbox", 0) / entry["rows"]
            table.add_row(
                name,
                f"{entry['rows']:,}",
                f"{100 * entry['alarm']:.2f} %",
                f"{100 * entry['blocked']:.2f} %",
                f"{100 * overseas:.2f} %",
                f"{100 * entry['delivered']:.2f} %",
            )
        console.print(table)


def run(*, console: Console, data: Path | None, out: Path, **_: Any) -> dict[str, Any]:
    from spamgate.benchmarks import default_data_dir

    folder = data or default_data_dir()
    # the shipped recipe unless overridden, e.g. the previous one for a before/after figure:
    # SPAMGATE_QUALITY_OPTIONS='{"augment": 0.5, "language_thresholds": false}'
    # SPAMGATE_QUALITY_LAYOUT='{"compact_scale": 4.0}'
    opts = TrainOptions(**json.loads(os.environ.get("SPAMGATE_QUALITY_OPTIONS", "{}")))
    layout = replace(CONTENT_LAYOUT, **json.loads(os.environ.get("SPAMGATE_QUALITY_LAYOUT", "{}")))
    near_dup = os.environ.get("SPAMGATE_QUALITY_NEAR_DUP", "synthetic")
    start = time.perf_counter()
    own = os.environ.get("SPAMGATE_QUALITY_OWN", "1") != "0"
    examples = load(folder, own=own)
    folds = assign_folds([e for e in examples if e.split != "holdout"], FOLDS, near_dup)
    # The verdict level needs a model the pipeline can load: the shipped layout only.
    verdicts = (
        VerdictLevel(folder)
        if layout == CONTENT_LAYOUT and os.environ.get("SPAMGATE_QUALITY_VERDICTS", "1") != "0"
        else None
    )
    result = cross_validate(
        examples,
        opts,
        folds=folds,
        layout=layout,
        say=lambda msg: console.print(msg, highlight=False),
        verdicts=verdicts,
    )
    result.update(
        {
            "benchmark": "model_quality",
            "when": datetime.now(KST).isoformat(timespec="seconds"),
            "machine": {"python": platform.python_version(), "cpu": platform.processor()},
            "options": {k: getattr(opts, k) for k in opts.__dataclass_fields__},
            "near_duplicates_joined_in": near_dup,
            "own_sets": list(OWN_SETS) if own else [],
            "layout": layout.to_dict(),
            "seconds": round(time.perf_counter() - start, 1),
        }
    )
    result["targets_met"] = targets_met(result)
    title = f"spamgate bench model_quality ({FOLDS}-fold grouped CV, near-dups: {near_dup})"
    print_table(console, result, title)
    console.print(result["targets_met"])
    target = write_result(out, "model_quality", result)
    console.print(f"wrote {target}")
    return result
