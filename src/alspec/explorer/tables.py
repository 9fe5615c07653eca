"""One row per spectrum of the pool, as the explorer shows it: where it lies on the map,
what the iteration predicted, what the oracle answered, its catalogue metadata.

Built once when the explorer starts, from the files a finished iteration left (nothing is
recomputed), in the pool's order; numbers as float32 and words as categories, so that
10^7 spectra fit in about a gigabyte.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from alspec import layout
from alspec.errors import InputError, MissingInput
from alspec.explorer.requests import BEGUN
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
    """The first iteration that has not begun (no training set, no batch chosen): a
    request written now is asked there, and no iteration that has begun changes."""
    folders = layout.under(results, layout.ITERATIONS)
    begun = [
        int(path.parent.name)
        for name in BEGUN
        for path in folders.glob(f"*/{name}")
        if path.parent.name.isdigit()
    ]
    return max(begun, default=-1) + 1


def positions(ids: pa.Array, wanted: pa.Array | pd.Series | list[str]) -> np.ndarray:
    """Where each of `wanted` is among the pool's `ids` (-1: not there), by Arrow's hash
    lookups in C++ (a pandas Index of 10^7 ids would make 10^7 Python strings, 1 GB): a
    few ids are hashed and the pool scanned; many, the pool hashed."""
    wanted = pa.array(wanted, type=pa.string())
    if len(wanted) > 100_000:
        found = pc.index_in(wanted, value_set=ids)
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    rows = np.flatnonzero(pc.is_in(ids, value_set=wanted).to_numpy(zero_copy_only=False))
    row_of = dict(zip(ids.take(pa.array(rows)).to_pylist(), rows.tolist(), strict=True))
    return np.array([row_of.get(i, -1) for i in wanted.to_pylist()], dtype=np.int64)


def aligned(ids: pa.Array, table: pd.DataFrame, source: str, keys: pa.Array | None = None):
    """`table`'s rows (compacted; one per id) in the order of the pool's `ids`, missing
    ones empty; ids it holds that the pool does not are an error naming `source`. Its
    ids are its `id` column, or `keys` (as Arrow strings) when given."""
    if keys is None:
        keys, table = pa.array(table["id"], pa.string()), table.drop(columns="id")
    values = compact(table)
    if len(keys) == len(ids) and pc.all(pc.equal(keys, ids)).as_py():
        return values.reset_index(drop=True)
    where = positions(ids, keys)
    if (where < 0).any():
        unknown = keys.filter(pa.array(where < 0)).to_pylist()[:5]
        raise InputError(f"{source}: {(where < 0).sum()} id(s) not in the pool, e.g. {unknown}")
    return values.set_axis(where).reindex(np.arange(len(ids)))


def compact(table: pd.DataFrame) -> pd.DataFrame:
    """float64 as float32, and words as categories: what a 10^7-row table can afford."""
    changed = {}
    for name in table.columns:
        column = table[name]
        if pd.api.types.is_float_dtype(column) and name not in ("ra", "dec"):
            changed[name] = np.float32
        elif name != "id" and (pd.api.types.is_string_dtype(column) or column.dtype == object):
            changed[name] = "category"
    return table.astype(changed) if changed else table


def features_columns(store: Path) -> tuple[pd.DataFrame, pa.Array | None, str | None]:
    """The map's coordinates, the first PCA scores and each line's measurements from the
    features `store`, with the store's ids; an empty table and why, when there is no
    store or no map."""
    if not store.exists():
        return pd.DataFrame(), None, f"no features store at {store}: no map"
    data = open_store(store)
    columns = {}
    shown = min(PCA_SHOWN, data.sizes.get("component", 0))
    scores = data.pca[:, :shown].values if shown else np.empty((data.sizes["spectrum"], 0))
    columns |= {f"pca_{component}": scores[:, component] for component in range(shown)}
    for name in LINE_FEATURES:
        if name in data:
            measured = data[name].values
            for i, line in enumerate(data.line.values):
                columns[f"{line}_{name}"] = measured[:, i]
    missing = None
    if "map_coordinates" in data:
        xy = data.map_coordinates.values
        columns[MAP_X], columns[MAP_Y] = xy[:, 0], xy[:, 1]
    else:
        missing = f"{store} has no map (features.map.method none)"
    keys = pa.array(data.id.values, pa.string())  # from NumPy's strings: 0.2 s for 10^7
    return pd.DataFrame(columns, copy=False), keys, missing


def answers_of(folder: Path) -> pd.DataFrame:
    """Every answer the iteration knew: its training set and its batch's answers (the
    later, if a spectrum was answered twice)."""
    parts = [
        pd.read_parquet(folder / name, columns=["id", "label"])
        for name in (layout.TRAINING_SET, layout.ANSWERS)
        if (folder / name).exists()
    ]
    answers = pd.concat(parts, ignore_index=True).drop_duplicates("id", keep="last")
    return answers.rename(columns={"label": ANSWER})


def in_batch(results: Path, number: int, ids: pa.Array) -> np.ndarray:
    """Which spectra are in the batch being labelled: the next iteration's if it was
    sent, else this iteration's."""
    flags = np.zeros(len(ids), dtype=bool)
    for n in (number + 1, number):
        path = layout.under(results, layout.ITERATIONS) / str(n) / layout.QUERY
        if path.exists():
            where = positions(ids, pd.read_parquet(path, columns=["id"])["id"])
            flags[where[where >= 0]] = True
            break
    return flags


def catalogue(pool: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pool's catalogue without its bookkeeping (file names alone would take 0.5 GB
    at 10^7 spectra), and where each spectrum is stored (shard, row)."""
    path = pool / layout.CATALOG
    names = [c for c in pq.read_schema(path).names if c not in LOCATION[:2]]
    table = pd.read_parquet(path, columns=names)
    locations = table[["shard", "row"]].astype({"shard": "category"})
    return compact(table.drop(columns=["shard", "row"])), locations


def load(results: Path, iteration: int | None = None) -> Iteration:
    """Everything the explorer shows of `iteration` (None: the last finished) under
    `results`, one row per spectrum of the pool, in the pool's order."""
    folder = finished_iteration(results, iteration)
    config = yaml.safe_load((folder / layout.ITERATION_CONFIG).read_text())
    pool = layout.under(results, layout.POOL)
    with ThreadPoolExecutor(1) as reader:  # the features store read beside the catalogue
        features_read = reader.submit(features_columns, pool / layout.FEATURES)
        table, locations = catalogue(pool)
        ids = pa.array(table["id"], pa.string())
        parts = [table]
        predictions = folder / layout.PREDICTIONS
        parts.append(aligned(ids, pd.read_parquet(predictions), str(predictions)))
        scores_file = pool / layout.ANOMALY_SCORES
        if scores_file.exists() and config["mode"] != "anomaly":  # anomaly mode ranks its own
            scores = pd.read_parquet(scores_file).rename(columns={"score": ANOMALY_SCORE})
            parts.append(aligned(ids, scores, str(scores_file)))
        features, keys, map_missing = features_read.result()
    if keys is not None:
        parts.append(aligned(ids, features, str(pool / layout.FEATURES), keys))
    answers = answers_of(folder)
    parts.append(aligned(ids, answers, f"{folder}'s answers"))
    table = pd.concat(parts, axis=1)
    table[IN_BATCH] = in_batch(results, int(folder.name), ids)
    pa.default_memory_pool().release_unused()  # what reading left in Arrow's pool: 0.3 GB at 10^7
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
