"""The anomaly stage's steps, one per command: `detect` scores every spectrum's anomaly,
`rank` re-ranks the pool by the relevance learnt from the expert's answers and asks the
top (workflow/rules/anomaly.smk)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alspec.anomaly.detectors import detector_scores
from alspec.anomaly.relevance import Relevance, ranked_outputs, rerank
from alspec.errors import InputError
from alspec.features.matrix import feature_matrix, prepared
from alspec.io import read_table, write_json, write_table
from alspec.layout import CATALOG
from alspec.oracles.labels import check
from alspec.pool.store import open_pool, open_store
from alspec.runtime.placement import this_job
from alspec.vocabulary import UNSURE, relevance_levels


def detect(*, features: Path, out: Path, settings: Mapping[str, Any], threads: int = 0) -> dict:
    """The detect step: every spectrum's anomaly score (0..1) by config anomaly.detector
    on its features (a features store, or a pool folder's raw values), as a table of id,
    score. Returns what was done, for the summary."""
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


def rank(
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
    chosen = settings["anomaly"]
    constants = Relevance.from_config(chosen["relevance"])
    ids, matrix = pool_features(features)
    score = detector_score_of(ids, scores)
    answers = read_table(training_set, required=("id", "label"))
    check(answers, relevance_levels(constants.maximum), str(training_set))
    given = answers.loc[answers["label"] != UNSURE]
    rows = pd.Index(ids).get_indexer(given["id"])
    if (rows < 0).any():
        strangers = list(given["id"][rows < 0][:3])
        raise InputError(
            f"{training_set}: {int((rows < 0).sum())} answers are not in the pool, e.g. {strangers}"
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


def detector_score_of(ids: np.ndarray, scores: Path) -> np.ndarray:
    """The detector's score (alspec detect's table `scores`) of each of `ids`."""
    detected = read_table(scores, required=("id", "score")).set_index("id")["score"]
    missing = set(ids) - set(detected.index)
    if missing:
        raise InputError(
            f"{scores}: no score for {len(missing)} spectra, e.g. {sorted(missing)[:3]}"
        )
    return detected.reindex(ids).to_numpy()


def pool_features(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The pool's ids and its features, ready for distances: from a features store its
    PCA scores and line measurements, standardised; from a pool directory its raw values
    on the pool's grid (seed 004 §6), masked pixels set to their column's median."""
    if (path / CATALOG).exists():
        pool = open_pool(path)
        values = pool.flux.where(pool.ivar > 0).values
        return np.array([str(i) for i in pool.id.values], dtype=object), prepared(values, False)
    features = open_store(path)
    if "pca" not in features:
        raise InputError(
            f"{path}: neither a features store (no `pca`; run `alspec features`) nor a pool"
            f" directory (no {CATALOG})"
        )
    ids = np.array([str(i) for i in features.id.values], dtype=object)
    return ids, prepared(feature_matrix(features))
