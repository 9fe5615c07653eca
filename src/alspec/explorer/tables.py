"""One row per spectrum of the pool, as the explorer shows it: where it lies on the map,
what the iteration predicted, what the oracle answered, its catalogue metadata.

Built once when the explorer starts, from the files a finished iteration left (nothing is
recomputed), in the pool's order; numbers as float32 and words as categories, so that
10^7 spectra fit in about a gigabyte.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from alspec import layout
from alspec.errors import InputError, MissingInput
from alspec.features.lines import LINE_FEATURES
from alspec.pool.store import open_store

logger = logging.getLogger(__name__)

MAP_X, MAP_Y = "map_x", "map_y"
ANSWER, IN_BATCH = "answer", "in_batch"
ANOMALY_SCORE = "anomaly_score"
PCA_SHOWN = 4  # the first PCA components offered as axes
# The catalogue's bookkeeping: where a spectrum's file and row are, not what it is.
LOCATION = ("file", "file_row", "row", "shard")


@dataclass
class Iteration:
    """A finished iteration as the explorer sees it: its config, the pool's table and
    where its stores are. `map_missing` says why there is no map, if there is none."""

    results: Path
    number: int
    config: dict[str, Any]
    table: pd.DataFrame
    locations: pd.DataFrame  # shard, row of each spectrum in the pool's stores
    next_batch: int  # the iteration whose query will read a request written now
    map_missing: str | None = None
    numeric: list[str] = field(default_factory=list)  # columns a user may plot or colour by
    categorical: list[str] = field(default_factory=list)

    @property
    def pool(self) -> Path:
        return layout.under(self.results, layout.POOL)

    @property
    def anomaly_mode(self) -> bool:
        return self.config["mode"] == "anomaly"


def finished_iteration(results: Path, iteration: int | None) -> Path:
    """The folder of `iteration` (None: the last finished one) under `results`; an error
    naming what there is when it is not finished."""
    done = layout.iteration_folders(results)
    if not done:
        raise MissingInput(
            f"{results}: no finished iteration (no iterations/<n>/{layout.PERFORMANCE});"
            " run the workflow first"
        )
    if iteration is None:
        return done[-1]
    found = [folder for folder in done if int(folder.name) == iteration]
    if not found:
        numbers = ", ".join(folder.name for folder in done)
        raise InputError(f"{results}: iteration {iteration} is not finished (finished: {numbers})")
    return found[0]


def next_batch(results: Path) -> int:
    """The first iteration whose batch is not chosen yet: a request written now is asked
    there, and no iteration that has run changes."""
    asked = [int(path.parent.name) for path in layout.under(results, layout.ITERATIONS).glob(
        f"*/{layout.QUERY}"
    ) if path.parent.name.isdigit()]  # fmt: skip
    return max(asked, default=-1) + 1


def aligned(ids: pd.Index, table: pd.DataFrame, source: str) -> pd.DataFrame:
    """`table`'s rows in the order of `ids` (missing ones empty); ids it holds that the
    pool does not are an error naming `source`."""
    table = table.drop_duplicates("id", keep="last")
    if len(table) == len(ids) and (table["id"].to_numpy() == ids.to_numpy()).all():
        return table.drop(columns="id").reset_index(drop=True)
    known = table["id"].isin(ids)
    if not known.all():
        unknown = table.loc[~known, "id"].head(5).tolist()
        raise InputError(f"{source}: {(~known).sum()} id(s) not in the pool, e.g. {unknown}")
    return table.set_index("id").reindex(ids).reset_index(drop=True)


def compact(table: pd.DataFrame) -> pd.DataFrame:
    """float64 as float32, and words as categories: what a 10^7-row table can afford."""
    for name in table.columns:
        column = table[name]
        if pd.api.types.is_float_dtype(column) and name not in ("ra", "dec"):
            table[name] = column.astype(np.float32)
        elif name != "id" and (pd.api.types.is_string_dtype(column) or column.dtype == object):
            table[name] = column.astype("category")
    return table


def features_columns(store: Path, ids: pd.Index) -> tuple[pd.DataFrame, str | None]:
    """The map's coordinates, the first PCA scores and each line's measurements from the
    features `store`; an empty table and why, when there is no store or no map."""
    if not store.exists():
        return pd.DataFrame(index=ids), f"no features store at {store}: no map"
    data = open_store(store)
    columns = {"id": data.id.values}
    for component in range(min(PCA_SHOWN, data.sizes.get("component", 0))):
        columns[f"pca_{component}"] = data.pca[:, component].values
    for name in LINE_FEATURES:
        if name in data:
            for i, line in enumerate(data.line.values):
                columns[f"{line}_{name}"] = data[name][:, i].values
    missing = None
    if "map_coordinates" in data:
        xy = data.map_coordinates.values
        columns[MAP_X], columns[MAP_Y] = xy[:, 0], xy[:, 1]
    else:
        missing = f"{store} has no map (features.map.method none)"
    return aligned(ids, pd.DataFrame(columns), str(store)), missing


def answers_of(folder: Path) -> pd.DataFrame:
    """Every answer the iteration knew: its training set and its batch's answers."""
    parts = [
        pd.read_parquet(folder / name, columns=["id", "label"])
        for name in (layout.TRAINING_SET, layout.ANSWERS)
        if (folder / name).exists()
    ]
    return pd.concat(parts, ignore_index=True).rename(columns={"label": ANSWER})


def batch_ids(results: Path, number: int) -> set[str]:
    """The spectra of the batch being labelled: the next iteration's if it was sent,
    else this iteration's."""
    for n in (number + 1, number):
        path = layout.under(results, layout.ITERATIONS) / str(n) / layout.QUERY
        if path.exists():
            return set(pd.read_parquet(path, columns=["id"])["id"])
    return set()


def load(results: Path, iteration: int | None = None) -> Iteration:
    """Everything the explorer shows of `iteration` (None: the last finished) under
    `results`, one row per spectrum of the pool, in the pool's order."""
    folder = finished_iteration(results, iteration)
    config = yaml.safe_load((folder / layout.ITERATION_CONFIG).read_text())
    pool = layout.under(results, layout.POOL)
    catalog = pd.read_parquet(pool / layout.CATALOG)
    ids = pd.Index(catalog["id"])
    locations = catalog[["shard", "row"]].copy()
    table = catalog.drop(columns=[c for c in LOCATION if c in catalog])
    predictions = pd.read_parquet(folder / layout.PREDICTIONS)
    parts = [table, aligned(ids, predictions, str(folder / layout.PREDICTIONS))]
    scores_file = pool / layout.ANOMALY_SCORES
    if scores_file.exists() and config["mode"] != "anomaly":  # anomaly mode ranks them itself
        scores = pd.read_parquet(scores_file).rename(columns={"score": ANOMALY_SCORE})
        parts.append(aligned(ids, scores, str(scores_file)))
    features, map_missing = features_columns(pool / layout.FEATURES, ids)
    parts.append(features)
    answers = answers_of(folder)
    parts.append(aligned(ids, answers, f"{folder}'s answers"))
    table = pd.concat([part.reset_index(drop=True) for part in parts], axis=1)
    table[IN_BATCH] = table["id"].isin(batch_ids(results, int(folder.name)))
    table = compact(table)
    numeric = [
        c for c in table.columns if pd.api.types.is_numeric_dtype(table[c]) and c != IN_BATCH
    ]
    categorical = [c for c in table.columns if isinstance(table[c].dtype, pd.CategoricalDtype)]
    logger.info(f"explorer: iteration {folder.name}, {len(table)} spectra, {len(answers)} answers")
    return Iteration(
        results=results,
        number=int(folder.name),
        config=config,
        table=table,
        locations=locations,
        next_batch=next_batch(results),
        map_missing=map_missing,
        numeric=numeric,
        categorical=categorical,
    )
