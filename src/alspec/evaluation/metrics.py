"""How good are the candidates? Estimates from the oracle's answers, scores against a truth."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import confusion_matrix, f1_score, precision_score, recall_score

from alspec.vocabulary import POOL_SAMPLE, UNSURE


def binomial_interval(successes: int, trials: int, confidence: float) -> tuple[float, float]:
    """Clopper-Pearson interval: exact, so honest for the small samples an oracle labels."""
    if trials == 0:
        return 0.0, 1.0
    interval = binomtest(successes, trials).proportion_ci(confidence, method="exact")
    return float(interval.low), float(interval.high)


def picks_by_reason(labels: pd.DataFrame, classes_of_interest: Sequence[str]) -> dict[str, dict]:
    """For each reason a batch's spectra were asked for (the strategy, a discovery source,
    a random sample): how many were asked and how many answered a class of interest."""
    interesting = labels["label"].isin(set(classes_of_interest))
    return {
        str(reason): {"asked": len(rows), "of_interest": int(interesting[rows.index].sum())}
        for reason, rows in labels.groupby("reason")
    }


def scarce_classes(
    labels: pd.Series, classes_of_interest: Sequence[str], min_examples: int
) -> dict[str, int]:
    """Classes of interest with fewer than `min_examples` labels, and their labels: what
    is learnt or measured about them is not to be trusted yet."""
    counts = {c: int((labels == c).sum()) for c in classes_of_interest}
    return {c: n for c, n in counts.items() if n < min_examples}


def pool_estimate(
    labels: pd.DataFrame, classes_of_interest: Sequence[str], confidence: float
) -> dict[str, object]:
    """What the random sample of the whole pool says (FR13): the share of the pool in a
    class of interest, and how often the model's prediction was right; "unsure" left out."""
    sample = labels.loc[(labels["reason"] == POOL_SAMPLE) & (labels["label"] != UNSURE)]
    n = len(sample)
    interesting = int(sample["label"].isin(set(classes_of_interest)).sum())
    right = int((sample["label"] == sample["predicted"]).sum())
    return {
        "sample_size": n,
        "interest_fraction": interesting / n if n else None,
        "interest_fraction_interval": list(binomial_interval(interesting, n, confidence)),
        "accuracy": right / n if n else None,
        "accuracy_interval": list(binomial_interval(right, n, confidence)),
        "confidence": confidence,
    }


def truth_scores(
    predictions: pd.DataFrame,
    truth: pd.DataFrame,
    classes: Sequence[str],
    classes_of_interest: Sequence[str],
) -> dict[str, object]:
    """Per-class F1, precision, recall and the confusion matrix (rows: true class,
    columns: predicted) of the predictions against a known truth (a simulated survey's,
    or a held-out labelled set), and the F1 of "any class of interest" against the rest
    (how well candidates are found). "unsure" labels are left out."""
    truth = truth.loc[truth["label"] != UNSURE]
    joined = predictions[["id", "predicted"]].merge(truth[["id", "label"]], on="id")
    # classes as integer codes (a truth label outside `classes` gets its own code):
    # scikit-learn sorts string labels on every call, minutes at 10^7 spectra
    y_true, y_pred = (
        pd.Categorical(joined[column], categories=list(classes)).codes.astype(np.int64)
        for column in ("label", "predicted")
    )
    y_true[y_true < 0] = len(classes)
    labels = list(range(len(classes)))
    interesting = list(classes_of_interest)
    interest_codes = [classes.index(c) for c in interesting]
    per_class = {
        name: {"f1": float(f), "precision": float(p), "recall": float(r)}
        for name, f, p, r in zip(
            classes,
            f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0),
            precision_score(y_true, y_pred, labels=labels, average=None, zero_division=0),
            recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0),
            strict=True,
        )
    }
    return {
        "spectra": len(joined),
        "interest": interesting,
        "per_class": per_class,
        "interest_f1": float(
            f1_score(
                np.isin(y_true, interest_codes), np.isin(y_pred, interest_codes), zero_division=0
            )
        ),
        "interest_macro_f1": float(np.mean([per_class[c]["f1"] for c in interesting])),
        "confusion_matrix": {
            "classes": list(classes),
            "counts": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        },
    }


def catalogue_truth(
    members: pd.DataFrame,
    truth: pd.DataFrame,
    pool: pd.Series,
    classes_of_interest: Sequence[str],
) -> dict[str, float]:
    """The catalogue's (`members`: `id`) true precision, completeness over the `pool`'s
    ids and F1, against a `truth` table (`id`, `label`): what its estimates estimate."""
    interesting = set(truth.loc[truth["label"].isin(set(classes_of_interest)), "id"])
    in_pool = interesting & set(pool)
    hits = len(set(members["id"]) & in_pool)
    precision = hits / len(members) if len(members) else 0.0
    completeness = hits / len(in_pool) if in_pool else 0.0
    total = precision + completeness
    return {
        "precision": precision,
        "completeness": completeness,
        "f1": 2 * precision * completeness / total if total else 0.0,
        "objects_of_interest": len(in_pool),
    }
