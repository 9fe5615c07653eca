"""Anomaly mode (seed 004, Astronomaly): unsupervised anomaly scores, re-ranked by what
this astronomer finds relevant.

A detector scores every spectrum's features (higher: more anomalous, on [0, 1]). The
expert gives relevance U from 0 (boring) to 5 (very interesting) to the top of the
ranking; a random forest predicts U for the whole pool; eq. 1-3 then lower the score
near spectra found irrelevant and keep it where no label is near:

    S^ = S tanh(delta - 1 + arctanh(U~)),  U~ = eps1 + eps2 U / Umax,  delta = exp(alpha d / d0)

with d the distance in feature space to the nearest labelled spectrum and d0 the mean
of d over the pool. A labelled spectrum (d = 0) gets S U~; one far from every label, S.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from sklearn.ensemble import IsolationForest, RandomForestRegressor
from sklearn.neighbors import LocalOutlierFactor

from alspec.query import TOP_RANKED

DETECTORS = ("isolation_forest", "lof")


def prepared(matrix: np.ndarray, standardise: bool = True) -> np.ndarray:
    """Features ready for distances: a column's missing values (a line outside the
    spectrum, a masked pixel) set to its median, then, when `standardise`, every column
    scaled to zero mean and unit variance, so that no feature outweighs the others by its
    unit (raw values on one scale are left as they are)."""
    matrix = np.array(matrix, dtype=np.float64)
    medians = np.nanmedian(matrix, axis=0)
    missing = np.isnan(matrix)
    matrix[missing] = np.take(np.nan_to_num(medians), np.nonzero(missing)[1])
    if not standardise:
        return matrix
    spread = matrix.std(axis=0)
    return (matrix - matrix.mean(axis=0)) / np.where(spread > 0, spread, 1.0)


def detector_scores(
    features: np.ndarray, method: str, seed: int = 0, neighbours: int = 20, threads: int = 1
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
        raise ValueError(f"unknown anomaly detector {method!r}; known: {', '.join(DETECTORS)}")
    return min_max(-normality)


def min_max(values: np.ndarray) -> np.ndarray:
    """`values` scaled onto [0, 1] (all zeros when they are all equal)."""
    low, high = float(np.min(values)), float(np.max(values))
    if high == low:
        return np.zeros(len(values))
    return (values - low) / (high - low)


@dataclass(frozen=True)
class Relevance:
    """The constants of eq. 1-3 (seed 004's defaults)."""

    alpha: float = 1.0
    epsilon1: float = 0.1
    epsilon2: float = 0.85
    maximum: float = 5.0


def trained_score(
    score: np.ndarray,
    relevance: np.ndarray,
    distance: np.ndarray,
    mean_distance: float,
    constants: Relevance = Relevance(),
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
    constants: Relevance = Relevance(),
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


def rank_weighted_score(is_target: np.ndarray, n: int) -> float:
    """Eq. 4-5: RWS(N) of a ranked list, `is_target[i]` true when the object at rank i
    (0-based) is one of the anomalies sought; weights N + 1 - i over the top N."""
    top = np.asarray(is_target[:n], dtype=float)
    weights = n + 1 - np.arange(1, len(top) + 1)
    return float(weights @ top / (n * (n + 1) / 2))


def recall_by_index(is_target: np.ndarray) -> np.ndarray:
    """The fraction of the anomalies sought found among the first 1, 2, ... of the
    ranking (seed 004 §4's recall against the index in the ranked list)."""
    found = np.cumsum(np.asarray(is_target, dtype=int))
    return found / max(int(found[-1]) if len(found) else 0, 1)


def class_ranking_scores(ranked_classes: np.ndarray, classes: list[str]) -> dict[str, dict]:
    """For each of `classes`, sought among a ranked list's true classes: RWS(N) and the
    recall after N, with N the number of its members (seed 004 §4's natural choice)."""
    scores = {}
    for name in classes:
        is_member = ranked_classes == name
        n = int(is_member.sum())
        scores[name] = {
            "n": n,
            "rws": rank_weighted_score(is_member, n) if n else None,
            "recall": float(recall_by_index(is_member)[n - 1]) if n else None,
        }
    return scores


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


def pool_features(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The pool's ids and its features, ready for distances: from a features store its
    PCA scores and line measurements, standardised; from a pool directory its raw values
    on the pool's grid (seed 004 §6), masked pixels set to their column's median."""
    from alspec.classifiers import feature_matrix
    from alspec.pool import open_pool, open_store

    if (path / "catalog.parquet").exists():
        pool = open_pool(path)
        values = pool.flux.where(pool.ivar > 0).values
        return np.array([str(i) for i in pool.id.values], dtype=object), prepared(values, False)
    features = open_store(path)
    if "pca" not in features:
        raise ValueError(
            f"{path}: neither a features store (no `pca`; run `alspec features`) nor a pool"
            " directory (no catalog.parquet)"
        )
    ids = np.array([str(i) for i in features.id.values], dtype=object)
    return ids, prepared(feature_matrix(features))


def detect(*, features: Path, out: Path, settings: Mapping[str, Any], threads: int = 0) -> dict:
    """The detect step: every spectrum's anomaly score (0..1) by config anomaly.detector
    on its features (a features store, or a pool folder's raw values), as a table of id,
    score. Returns what was done, for the summary."""
    from alspec.io import write_table

    chosen = settings["anomaly"]
    ids, matrix = pool_features(features)
    score = detector_scores(
        matrix, chosen["detector"], chosen["seed"], chosen["neighbours"], threads=threads or -1
    )
    write_table(pd.DataFrame({"id": ids, "score": score}), out)
    return {
        "detector": chosen["detector"],
        "spectra": len(ids),
        "features": matrix.shape[1],
        "top": list(ids[np.argsort(-score)[:3]]),
    }


def rank_pool(
    *,
    features: Path,
    scores: Path,
    training_set: Path,
    out: Path,
    query: Path,
    candidates: Path,
    report: Path,
    settings: Mapping[str, Any],
    threads: int = 0,
) -> dict[str, Any]:
    """The rank step (seed 004 eq. 1-3): the detector's `scores` re-ranked by a relevance
    forest trained on the expert's answers so far (config anomaly.relevance); writes the
    ranked pool, the batch to ask (the top not yet answered, query.batch_size), the
    candidates (anomaly.candidates) and a report, which it returns."""
    from alspec.config import relevance_levels
    from alspec.io import read_table, write_json, write_table
    from alspec.labels import UNSURE, check
    from alspec.placement import this_job

    chosen, relevance_settings = settings["anomaly"], settings["anomaly"]["relevance"]
    ids, matrix = pool_features(features)
    detected = read_table(scores, required=("id", "score")).set_index("id")["score"]
    missing = set(ids) - set(detected.index)
    if missing:
        raise ValueError(
            f"{scores}: no score for {len(missing)} spectra, e.g. {sorted(missing)[:3]}"
        )
    score = detected.reindex(ids).to_numpy()
    answers = read_table(training_set, required=("id", "label"))
    check(answers, relevance_levels(relevance_settings["maximum"]), str(training_set))
    given = answers.loc[answers["label"] != UNSURE]
    rows = pd.Index(ids).get_indexer(given["id"])
    if (rows < 0).any():
        strangers = list(given["id"][rows < 0][:3])
        raise ValueError(
            f"{training_set}: {int((rows < 0).sum())} answers are not in the pool, e.g. {strangers}"
        )
    constants = Relevance(
        relevance_settings["alpha"],
        relevance_settings["epsilon1"],
        relevance_settings["epsilon2"],
        relevance_settings["maximum"],
    )
    if len(rows):
        relevance = given["label"].astype(float).to_numpy()
        trained, predicted = rerank(
            matrix, score, rows, relevance, constants, chosen["seed"], threads or -1
        )
    else:  # nothing answered yet: the detector's ranking
        trained, predicted = score.copy(), np.full(len(ids), np.nan)
    pool = pd.DataFrame(
        {"id": ids, "score": score, "relevance": predicted, "trained_score": trained}
    )
    ranked, asked, top = ranked_outputs(
        pool, set(answers["id"]), settings["query"]["batch_size"], chosen["candidates"]
    )
    write_table(ranked, out)
    write_table(asked, query)
    write_table(top, candidates)
    record = {
        "type": "relevance_forest",
        "labels": len(rows),
        "relevance": {
            level: int((given["label"] == level).sum()) for level in sorted(set(given["label"]))
        },
        "constants": vars(constants),
        "device": "CPU",
        "job": this_job(os.environ),
        "threads": threads,
    }
    write_json(record, report)
    return record | {"spectra": len(ids), "asked": len(asked)}


def evaluate_ranking(
    *,
    iteration: int,
    scores: str | Path,
    ranked: str | Path,
    labels: str | Path,
    training_set: str | Path,
    out: Path,
    settings: Mapping[str, Any],
    truth: str | Path | None = None,
) -> dict[str, Any]:
    """The evaluate step of anomaly mode: the batch's relevance answers and, with a
    `truth` table, each class's rank-weighted score and recall (not anomaly.inliers)
    before and after relevance learning. Writes and returns the report."""
    from alspec.io import read_table, write_json
    from alspec.labels import UNSURE

    answers = read_table(labels, required=("id", "label"))
    given = answers.loc[answers["label"] != UNSURE, "label"].astype(int)
    report: dict[str, Any] = {
        "mode": "anomaly",
        "iteration": iteration,
        "training_set_size": len(read_table(training_set)),
        "batch_relevance": {
            "mean": float(given.mean()) if len(given) else None,
            "counts": {str(k): int(v) for k, v in given.value_counts().sort_index().items()},
        },
    }
    if truth:
        known = read_table(truth, required=("id", "label")).set_index("id")["label"]
        raw = read_table(scores, required=("id", "score"))
        raw = raw.sort_values("score", ascending=False, kind="stable")
        after = read_table(ranked, required=("id", "trained_score"))
        classes = sorted(set(known) - set(settings["anomaly"]["inliers"]))
        report["before"] = class_ranking_scores(known.reindex(raw["id"]).to_numpy(), classes)
        report["after"] = class_ranking_scores(known.reindex(after["id"]).to_numpy(), classes)
    write_json(report, out)
    return report
