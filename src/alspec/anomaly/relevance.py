"""Relevance learning (seed 004 eq. 1-3, Astronomaly): the detector's anomaly scores
re-ranked by what this astronomer finds relevant.

The expert gives relevance U from 0 (boring) to 5 (very interesting) to the top of the
ranking; a random forest predicts U for the whole pool; eq. 1-3 then lower the score
near spectra found irrelevant and keep it where no label is near:

    S^ = S tanh(delta - 1 + arctanh(U~)),  U~ = eps1 + eps2 U / Umax,  delta = exp(alpha d / d0)

with d the distance in feature space to the nearest labelled spectrum and d0 the mean
of d over the pool. A labelled spectrum (d = 0) gets S U~; one far from every label, S.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from sklearn.ensemble import RandomForestRegressor

from alspec.vocabulary import TOP_RANKED


@dataclass(frozen=True)
class Relevance:
    """The constants of eq. 1-3; their defaults (seed 004's) are the schema's, config
    anomaly.relevance: `from_config` takes them from a resolved config."""

    alpha: float
    epsilon1: float
    epsilon2: float
    maximum: float

    @classmethod
    def from_config(cls, relevance: Mapping[str, Any]) -> Relevance:
        """The constants of config section anomaly.relevance."""
        return cls(**{name: relevance[name] for name in cls.__dataclass_fields__})


def trained_score(
    score: np.ndarray,
    relevance: np.ndarray,
    distance: np.ndarray,
    mean_distance: float,
    constants: Relevance,
) -> np.ndarray:
    """Eq. 1-3: the anomaly score `score` (S) weighted by the (predicted) relevance U at
    `distance` (d) from the nearest labelled spectrum, d0 = `mean_distance`."""
    normalised = constants.epsilon1 + constants.epsilon2 * relevance / constants.maximum
    penalty = np.exp(constants.alpha * distance / mean_distance)
    return score * np.tanh(penalty - 1 + np.arctanh(normalised))


def nearest_labelled_distance(features: np.ndarray, labelled: np.ndarray) -> np.ndarray:
    """Euclidean distance from each row of `features` to its nearest labelled row
    (`labelled`: their indices), by a KD-tree as in seed 004 §2.3."""
    distance, _ = cKDTree(features[labelled]).query(features, k=1)
    return distance


def rerank(
    features: np.ndarray,
    score: np.ndarray,
    labelled: np.ndarray,
    relevance: np.ndarray,
    constants: Relevance,
    seed: int = 0,
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """The trained score of every row, and the relevance the forest predicts for it.

    `labelled` are the indices of the rows the expert scored, `relevance` their scores
    (0..constants.maximum). A random forest regressor (100 trees, seed 004 §2.3) learns
    U from their features; a labelled row keeps the expert's own U.
    """
    labelled = np.asarray(labelled)
    forest = RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=threads)
    forest.fit(features[labelled], relevance)
    predicted = forest.predict(features)
    predicted[labelled] = relevance
    distance = nearest_labelled_distance(features, labelled)
    mean_distance = float(distance.mean()) or 1.0  # every row labelled: d = 0 everywhere
    return trained_score(score, predicted, distance, mean_distance, constants), predicted


def ranking(score: np.ndarray) -> np.ndarray:
    """Row indices from the most to the least anomalous (ties in row order)."""
    return np.argsort(-score, kind="stable")


def ranked_outputs(
    pool: pd.DataFrame, answered: set[str], batch_size: int, top: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(the pool ranked, the batch to ask, the candidates) from `pool` (id, score,
    relevance, trained_score): the batch is the top of the ranking not yet answered."""
    ranked = pool.sort_values("trained_score", ascending=False, kind="stable")
    ranked = ranked.assign(rank=np.arange(1, len(ranked) + 1)).reset_index(drop=True)
    asked = ranked.loc[~ranked["id"].isin(answered)].head(batch_size)
    predicted = ["" if np.isnan(u) else str(round(u)) for u in asked["relevance"]]
    query = pd.DataFrame(
        {
            "id": asked["id"],
            "score": asked["trained_score"],
            "reason": TOP_RANKED,
            "predicted": predicted,
        }
    )
    return ranked, query.reset_index(drop=True), ranked.head(top)
