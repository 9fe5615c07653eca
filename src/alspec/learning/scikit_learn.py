"""scikit-learn models on the pool's features (seed 001): random forest, gradient
boosting, k nearest neighbours; multi-class, or one binary model per label
(one-vs-rest). Several of them together are a committee for the committee strategies.

Their input is one row per spectrum from features.zarr: the PCA scores and the line
measurements (alspec.features.matrix); a missing measurement is imputed with the training
median, and every column is standardised (kNN measures distances).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from alspec.errors import ConfigError
from alspec.learning.calibration import class_fractions
from alspec.learning.fitting import Balanced, balance, macro_f1, validation_split

MULTICLASS = ("multiclass", "one_vs_rest")


# How each of vocabulary.SCIKIT_LEARN_MODELS is made, from its class weights ("balanced"
# or None), seed and threads.
CLASSIFIERS: dict[str, Callable[[str | None, int, int], Any]] = {
    "random_forest": lambda weight, seed, threads: RandomForestClassifier(
        300, min_samples_leaf=1, class_weight=weight, random_state=seed, n_jobs=threads
    ),
    "gradient_boosting": lambda weight, seed, threads: HistGradientBoostingClassifier(
        class_weight=weight, random_state=seed
    ),
    "knn": lambda weight, seed, threads: KNeighborsClassifier(5, weights="distance"),
}


def build(kind: str, multiclass: str, seed: int, balanced: bool, threads: int = 1) -> Any:
    """An unfitted model: imputation, scaling, then the classifier of `kind`; `balanced`
    weights the classes (kNN has no class weights: balance it with SMOTE)."""
    if kind not in CLASSIFIERS:
        raise ConfigError(f"unknown model {kind!r}; known: {', '.join(CLASSIFIERS)}")
    if multiclass not in MULTICLASS:
        raise ConfigError(f"unknown multiclass {multiclass!r}; known: {', '.join(MULTICLASS)}")
    model = CLASSIFIERS[kind]("balanced" if balanced else None, seed, threads)
    if multiclass == "one_vs_rest":
        model = OneVsRestClassifier(model)
    imputer = SimpleImputer(strategy="median", keep_empty_features=True)
    return make_pipeline(imputer, StandardScaler(), model)


@dataclass
class Committee:
    """One or more fitted models over the same classes; its probabilities are the mean
    of its members', and `members_proba` gives each member's (committee strategies)."""

    kinds: Sequence[str]
    n_classes: int
    models: list = field(default_factory=list)

    def members_proba(self, x: np.ndarray) -> np.ndarray:
        """(members, n, n_classes): each model's probabilities over every class, 0 for a
        class it never saw."""
        out = np.zeros((len(self.models), len(x), self.n_classes), dtype=np.float32)
        for member, model in enumerate(self.models):
            if len(x):
                out[member][:, model.classes_] = model.predict_proba(x)
        return out

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.members_proba(x).mean(axis=0)


def train(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    kinds: Sequence[str],
    multiclass: str,
    imbalance: str,
    validation_fraction: float,
    smote_neighbours: int,
    seed: int,
    threads: int = 1,
) -> tuple[Committee, dict]:
    """Fit the models `kinds` on features `x` (n, columns) and labels `y`; report the
    committee's macro F1 on a stratified validation split (they are then refitted on
    every example, as scikit-learn models need no early stopping)."""
    train_rows, validation_rows = validation_split(y, validation_fraction, seed)

    def fit(rows: np.ndarray) -> tuple[Committee, Balanced]:
        # SMOTE interpolates between examples, so missing measurements are filled first
        filled = SimpleImputer(strategy="median", keep_empty_features=True).fit_transform(x[rows])
        balanced = balance(filled, y[rows], n_classes, imbalance, smote_neighbours, seed)
        weighted = balanced.sample_weight is not None
        committee = Committee(kinds, n_classes)
        for kind in kinds:
            model = build(kind, multiclass, seed, balanced=weighted, threads=threads)
            committee.models.append(model.fit(balanced.x, balanced.y))
        return committee, balanced

    validation_f1 = None
    if len(validation_rows):
        held_back, _ = fit(train_rows)
        predicted = held_back.predict_proba(x[validation_rows]).argmax(axis=1)
        validation_f1 = macro_f1(y[validation_rows], predicted)
    committee, balanced = fit(np.arange(len(y)))
    return committee, {
        "models": list(kinds),
        "multiclass": multiclass,
        "training_examples": len(y),
        "validation_examples": len(validation_rows),
        "validation_f1": validation_f1,
        "validation_counts": np.bincount(y[validation_rows], minlength=n_classes).tolist(),
        "balance": balanced.method,
        # class weights act as equal fractions (the models' class_weight "balanced")
        "fitted_prior": class_fractions(balanced.y, n_classes, balanced.sample_weight).tolist(),
        "labelled_prior": class_fractions(y, n_classes).tolist(),
    }
