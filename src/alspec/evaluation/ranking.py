"""How good a ranking is at finding what is sought (seed 004 §4): the rank-weighted
score RWS(N) and the recall against the index in the ranked list."""

from __future__ import annotations

import numpy as np


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
