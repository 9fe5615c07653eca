"""What every model's training shares, whatever the model: a validation split, class
balance, the validation F1 and how it is named.

The labelled set of an active-learning run is small and very unbalanced (a few Be stars
among hundreds of normal stars), so the split keeps every class in training and the
rare classes are either synthesised (SMOTE, seed 002) or weighted up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from imblearn.over_sampling import SMOTE
from sklearn.metrics import f1_score

from alspec.errors import ConfigError

logger = logging.getLogger(__name__)

IMBALANCE = ("smote", "class_weight", "none")


def validation_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation), stratified: `fraction` of each class, rounded down,
    held out, so a class with few examples keeps them all for training."""
    rng = np.random.default_rng(seed)
    held_out = [
        rng.permutation(members)[: int(fraction * len(members))]
        for members in (np.flatnonzero(y == c) for c in np.unique(y))
    ]
    validation = np.sort(np.concatenate([np.empty(0, int), *held_out]))
    return np.setdiff1d(np.arange(len(y)), validation), validation


@dataclass(frozen=True)
class Balanced:
    """A training set after balancing: examples, labels, per-example weights (or None),
    and what was done, in words, for the training report."""

    x: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    method: str


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Weight n / (k n_c) for each of the n_classes (0 for a class not in `y`), k the
    classes present: every class then counts as much as the others."""
    counts = np.bincount(y, minlength=n_classes)
    present = counts > 0
    weights = np.zeros(n_classes)
    weights[present] = len(y) / (present.sum() * counts[present])
    return weights


def balance(
    x: np.ndarray, y: np.ndarray, n_classes: int, method: str, neighbours: int, seed: int
) -> Balanced:
    """Balance the classes of (x, y) by `method` (IMBALANCE). SMOTE interpolates between
    a rare example and one of its `neighbours` nearest of its class, so it needs more
    than `neighbours` examples of every class: with fewer it falls back to class weights
    and says which class was short."""
    if method not in IMBALANCE:
        raise ConfigError(f"unknown imbalance method {method!r}; known: {', '.join(IMBALANCE)}")
    if method == "none" or len(np.unique(y)) < 2:
        return Balanced(x, y, None, "none")
    counts = np.bincount(y, minlength=n_classes)
    if method == "smote":
        short = [c for c in np.flatnonzero(counts) if counts[c] <= neighbours]
        if not short:
            resampled_x, resampled_y = SMOTE(
                k_neighbors=neighbours, random_state=seed
            ).fit_resample(x.reshape(len(x), -1), y)
            resampled_x = resampled_x.reshape(-1, *x.shape[1:]).astype(x.dtype)
            return Balanced(resampled_x, resampled_y, None, "smote")
        shortest = min(short, key=lambda c: counts[c])
        logger.warning(
            f"SMOTE needs more than {neighbours} examples of every class; class {shortest}"
            f" has {counts[shortest]}: weighting the classes instead"
        )
    return Balanced(x, y, class_weights(y, n_classes)[y], "class_weight")


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float | None:
    """Mean F1 over the classes present in `y_true`; None without a validation set."""
    if len(y_true) == 0:
        return None
    return float(f1_score(y_true, y_pred, labels=np.unique(y_true), average="macro"))


def checkpoint_name(iteration: int, validation_f1: float | None, suffix: str) -> str:
    """A model's checkpoint name, with its iteration and validation F1 (seed 001)."""
    score = "none" if validation_f1 is None else f"{validation_f1:.3f}"
    return f"iteration-{iteration:03d}_val-f1-{score}{suffix}"


def unmeasured_classes(
    validation_counts: Sequence[int], classes: Sequence[str], classes_of_interest: Sequence[str]
) -> list[str]:
    """Classes of interest with no example in the validation split: a macro F1 over the
    other classes says nothing about them, so the validation F1 is not measurable yet."""
    count = dict(zip(classes, validation_counts, strict=True))
    return [c for c in classes_of_interest if count[c] == 0]
