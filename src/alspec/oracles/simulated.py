"""An oracle that answers from the truth table of a simulated survey, instantly and right."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from alspec.errors import InputError
from alspec.io import read_table
from alspec.oracles.labels import normalise


def push(query: pd.DataFrame, batch: str) -> dict[str, object]:
    return {"backend": "simulated", "batch": batch, "spectra": len(query)}


def pull(
    query: pd.DataFrame,
    truth_path: str | Path,
    batch: str,
    relevance_of: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The truth's label of every queried spectrum; in anomaly mode (`relevance_of`, a
    relevance per class, 0 for a class it does not name) the relevance of its class."""
    truth = read_table(truth_path, required=("id", "label"))
    if relevance_of is not None:
        truth["label"] = truth["label"].map(lambda c: str(relevance_of.get(c, 0)))
    answers = query.merge(truth[["id", "label"]], on="id", how="left")
    unknown = answers.loc[answers["label"].isna(), "id"]
    if len(unknown):
        raise InputError(
            f"{truth_path}: no truth for {len(unknown)} queried spectra, e.g. {list(unknown[:5])}"
        )
    return normalise(answers.assign(annotator="simulated", batch=batch))
