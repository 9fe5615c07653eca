"""scikit-learn models on the pool's features (seed 001): random forest, gradient
boosting, k nearest neighbours; multi-class, or one binary model per label
(one-vs-rest). Several of them together are a committee for the committee strategies.

Their input is one row per spectrum from features.zarr: the PCA scores and the line
measurements (alspec.features); a missing measurement is imputed with the training
median, and every column is standardised (kNN measures distances).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from alspec.calibration import class_fractions
from alspec.training import Balanced, balance, macro_f1, validation_split

KINDS = ("random_forest", "gradient_boosting", "knn")
MULTICLASS = ("multiclass", "one_vs_rest")
LINE_VARIABLES = ("ew", "peak", "trough", "asymmetry")


def feature_matrix(features: xr.Dataset) -> np.ndarray:
    """(spectrum, column) float32: the PCA scores, then each line's measurements."""
    columns = [features.pca.values]
    columns += [features[name].values for name in LINE_VARIABLES if name in features]
    return np.concatenate(columns, axis=1).astype(np.float32)


def usable(matrix: np.ndarray) -> np.ndarray:
    """Spectra that can be classified: those with PCA scores (lines may be missing)."""
    return np.isfinite(matrix).any(axis=1)


def build(kind: str, multiclass: str, seed: int, balanced: bool, threads: int = 1):
    """An unfitted model: imputation, scaling, then the classifier of `kind`; `balanced`
    weights the classes (kNN has no class weights: balance it with SMOTE)."""
    weight = "balanced" if balanced else None
    classifier = {
        "random_forest": lambda: RandomForestClassifier(
            300, min_samples_leaf=1, class_weight=weight, random_state=seed, n_jobs=threads
        ),
        "gradient_boosting": lambda: HistGradientBoostingClassifier(
            class_weight=weight, random_state=seed
        ),
        "knn": lambda: KNeighborsClassifier(5, weights="distance"),
    }
    if kind not in classifier:
        raise ValueError(f"unknown model {kind!r}; known: {', '.join(KINDS)}")
    if multiclass not in MULTICLASS:
        raise ValueError(f"unknown multiclass {multiclass!r}; known: {', '.join(MULTICLASS)}")
    model = classifier[kind]()
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
