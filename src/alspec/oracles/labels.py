"""Label tables: what the oracle said about which spectrum, merged across batches.

A label table has one row per answer: `id`, `label`, and where known `comment`,
`annotator`, `batch`, `reason` (why the spectrum was asked) and `predicted` (the
class the model predicted when it asked). "unsure" answers stay in the table, so
the spectrum is never asked again, but never train a model.
"""

from __future__ import annotations

import fcntl
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from alspec.errors import LabelError
from alspec.io import read_table, write_table
from alspec.vocabulary import LABEL_COLUMNS, UNSURE

CATALOGUE_KEY = ["session", "batch", "id"]


def check(labels: pd.DataFrame, classes: Sequence[str], source: str) -> None:
    allowed = {*classes, UNSURE}
    bad = labels.loc[~labels["label"].isin(allowed)]
    if len(bad):
        examples = ", ".join(f"{r.id}: {r.label!r}" for r in bad.head(5).itertuples())
        raise LabelError(
            f"{source}: {len(bad)} label(s) not among {sorted(allowed)} (id: label): {examples}"
        )


def normalise(labels: pd.DataFrame) -> pd.DataFrame:
    """The standard columns, missing ones empty, ids as strings."""
    table = labels.reindex(columns=list(LABEL_COLUMNS))
    table["id"] = table["id"].astype(str)
    for column in ("comment", "annotator", "batch", "reason"):
        table[column] = table[column].astype(object).fillna("")
    return table


def merge(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """All answers so far, one per spectrum; a later table's answer replaces an earlier one."""
    empty = pd.DataFrame(columns=list(LABEL_COLUMNS))  # no table yet: no answers
    combined = pd.concat([normalise(t) for t in [empty, *tables]], ignore_index=True)
    return combined.drop_duplicates("id", keep="last").reset_index(drop=True)


def training_examples(labels: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    """The answers that train a model: every label except "unsure", with its class index."""
    usable = labels.loc[labels["label"] != UNSURE, ["id", "label"]].copy()
    usable["target"] = usable["label"].map({c: i for i, c in enumerate(classes)})
    return usable.reset_index(drop=True)


def record(answers: pd.DataFrame, catalogue: str | Path, session: str) -> int:
    """Add a batch's answers to the pool's label catalogue (seed 003 NFR3), which outlives
    this run: every label with its comment, batch, annotator and time, for a later learning
    session or another model. Pulling a batch again replaces its rows. Returns the
    catalogue's size."""
    catalogue = Path(catalogue)
    catalogue.parent.mkdir(parents=True, exist_ok=True)
    now = pd.Timestamp.now(tz="UTC").floor("s")
    new = normalise(answers).assign(session=session, recorded_at=now)
    with open(catalogue.with_name(f".{catalogue.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two pulls at once must not lose each other's rows
        old = [read_table(catalogue)] if catalogue.exists() else []
        combined = pd.concat([*old, new], ignore_index=True)
        combined = combined.drop_duplicates(CATALOGUE_KEY, keep="last")
        write_table(combined, catalogue)
    return len(combined)
