"""Unsupervised anomaly scores of every spectrum from its features (seed 004 §2.2):
isolation forest or local outlier factor, scaled onto [0, 1], 1 the most anomalous."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor

from alspec.errors import ConfigError

DETECTORS = ("isolation_forest", "lof")  # config anomaly.detector


def detector_scores(
    features: np.ndarray, method: str, seed: int, neighbours: int, threads: int = 1
) -> np.ndarray:
    """Anomaly score of each row of `features` (n, k) by `method` (DETECTORS), scaled onto
    [0, 1] with 1 the most anomalous: both detectors' own scores are higher for more
    normal points, so they are negated before scaling."""
    if method == "isolation_forest":
        forest = IsolationForest(random_state=seed, n_jobs=threads).fit(features)
        normality = forest.score_samples(features)
    elif method == "lof":
        lof = LocalOutlierFactor(n_neighbors=min(neighbours, len(features) - 1), n_jobs=threads)
        lof.fit(features)
        normality = lof.negative_outlier_factor_
    else:
        raise ConfigError(f"unknown anomaly detector {method!r}; known: {', '.join(DETECTORS)}")
    return min_max(-normality)


def min_max(values: np.ndarray) -> np.ndarray:
    """`values` scaled onto [0, 1] (all zeros when they are all equal)."""
    low, high = float(np.min(values)), float(np.max(values))
    if high == low:
        return np.zeros(len(values))
    return (values - low) / (high - low)
