"""Class probabilities with the balancing undone (prior-shift correction).

SMOTE and class weights fit the model as if every class were as common as the others:
its probabilities answer "which class, if all were equally likely?", and on a survey
with 0.4 % emitters that moves the decision threshold so far that most candidates are
false. Bayes' rule undoes it (Saerens, Latinne & Decaestecker 2002): with π_t the class
fractions the model was fitted to and π the ones wanted,

    p(c | x) = p_t(c | x) π(c) / π_t(c)  /  Σ_k p_t(k | x) π(k) / π_t(k).

Which π? The labelled set's own class fractions. Every query chooses spectra by what
they look like, never by their class, so among the labelled spectra that look like x
the classes come in the pool's proportions: p(c | x) of the labelled set is the pool's,
and only the balancing distorted it. The pool's overall fractions would be wrong here:
the labels hold the pool's hard cases, not a random sample of it (measured on the hard
survey: correcting to the pool's fractions, estimated by EM, lost 0.05-0.2 in emission
F1 against this; docs/label_efficiency.md). With random labels the two are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from alspec.errors import ConfigError, MissingInput

CALIBRATIONS = ("labelled_prior", "none")  # config model.calibration


def class_fractions(
    y: np.ndarray, n_classes: int, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """The class fractions of labels `y`, counted with their weights: after balancing,
    those the model was fitted to (SMOTE and class weights both give equal fractions)."""
    counts = np.bincount(y, weights=sample_weight, minlength=n_classes)
    return counts / counts.sum()


def adjust(probabilities: np.ndarray, fitted: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """p(c | x) under the class fractions `wanted`, from probabilities (..., classes) of a
    model `fitted` to other fractions; a class the model never saw keeps probability 0."""
    fitted, wanted = np.asarray(fitted, dtype=float), np.asarray(wanted, dtype=float)
    ratio = np.divide(wanted, fitted, out=np.zeros(len(fitted)), where=fitted > 0)
    weighted = probabilities * ratio
    total = weighted.sum(axis=-1, keepdims=True)
    calibrated = np.divide(weighted, total, out=np.zeros_like(weighted), where=total > 0)
    return calibrated.astype(probabilities.dtype)


def calibrated(
    proba: Callable[[np.ndarray], np.ndarray],
    method: str,
    training_report: Mapping[str, Any] | None,
) -> Callable[[np.ndarray], np.ndarray]:
    """The model `proba` with its probabilities calibrated by `method` (CALIBRATIONS):
    "labelled_prior" brings them to the labelled set's class fractions, both fractions
    read from the train step's report; "none" leaves them as the model gives them."""
    if method not in CALIBRATIONS:
        raise ConfigError(f"unknown calibration {method!r}; known: {', '.join(CALIBRATIONS)}")
    if method == "none":
        return proba
    if training_report is None:
        raise MissingInput(f"calibration {method}: it needs the train step's report")
    fitted, wanted = training_report["fitted_prior"], training_report["labelled_prior"]
    return lambda x: adjust(proba(x), fitted, wanted)
