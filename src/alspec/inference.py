"""Classify the whole pool: stream its windows (or features) from Zarr block by block
through a model into a Parquet table, so memory stays one block deep at any pool size.

A pool can be split into `parts` contiguous ranges of blocks, one job each; the query
step gathers the parts. A model that returns a committee's probabilities (members, n,
classes) gets the committee's consensus and every committee strategy's score stored
beside them, so the members' probabilities never need to be written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xarray as xr

from alspec.classifiers import feature_matrix, usable
from alspec.io import atomic_output
from alspec.pool import iter_blocks, open_store
from alspec.query import probability_columns
from alspec.strategies import COMMITTEE, consensus, entropy

Proba = Callable[[np.ndarray], np.ndarray]


def part_rows(n: int, part: int, parts: int, block_size: int) -> slice:
    """Rows of part `part` of `parts`: whole blocks, as even as blocks allow."""
    if not 0 <= part < parts:
        raise ValueError(f"part {part} of {parts}: parts are numbered 0 .. {parts - 1}")
    blocks = -(-n // block_size)
    per_part = -(-blocks // parts)
    return slice(min(n, part * per_part * block_size), min(n, (part + 1) * per_part * block_size))


def check_inputs(data: xr.Dataset, source: str | Path, cnn: bool) -> None:
    """The CNN reads a window store (`flux`), scikit-learn models a features store (`pca`)."""
    wanted, kind = ("flux", "window") if cnn else ("pca", "features")
    if wanted not in data:
        model = "the CNN" if cnn else "a scikit-learn model"
        raise ValueError(f"{source}: {model} reads a {kind} store ({wanted}); this store has none")


def model_inputs(store: xr.Dataset, rows: slice) -> tuple[np.ndarray, np.ndarray]:
    """(ids, x) of the classifiable spectra among `rows`: windows from a window store,
    feature rows from a features store."""
    if "flux" in store:
        valid = store.valid[rows].values
        return store.id[rows].values[valid], store.flux[rows].values[valid]
    x = feature_matrix(store.isel(spectrum=rows))
    valid = usable(x)
    return store.id[rows].values[valid], x[valid]


def prediction_table(
    ids: np.ndarray, probabilities: np.ndarray, classes: Sequence[str]
) -> pa.Table:
    """One row per spectrum: `id`, `predicted`, `probability` (of the predicted class),
    `p_<class>`, `entropy` (bits); for a committee also its members' count and the score
    of each committee strategy."""
    committee = probabilities if probabilities.ndim == 3 else None
    p = consensus(committee) if committee is not None else probabilities
    best = p.argmax(axis=1)
    columns = {
        "id": pa.array(ids.astype(object), type=pa.string()),
        "predicted": pa.array(np.asarray(classes, dtype=object)[best], type=pa.string()),
        "probability": p[np.arange(len(p)), best],
    }
    columns |= dict(zip(probability_columns(classes), p.T, strict=True))
    columns["entropy"] = entropy(p)
    if committee is not None:
        columns["members"] = np.full(len(p), committee.shape[0], dtype=np.int32)
        columns |= {name: score(committee) for name, score in COMMITTEE.items()}
    return pa.table(columns)


def predict_pool(
    proba: Proba,
    store: str | Path,
    classes: Sequence[str],
    out: str | Path,
    block_size: int,
    part: int = 0,
    parts: int = 1,
    cnn: bool = True,
) -> int:
    """Write the predictions of part `part` of `parts` of the pool in `store` to `out`;
    `proba(x)` gives (n, classes) probabilities, or (members, n, classes) of a committee.
    Returns the number of spectra predicted."""
    data = open_store(store)
    check_inputs(data, store, cnn)
    rows = part_rows(data.sizes["spectrum"], part, parts, block_size)
    written = 0
    with atomic_output(out) as tmp:
        writer = None
        for block in iter_blocks(rows.stop - rows.start, block_size, "predict"):
            ids, x = model_inputs(data, slice(rows.start + block.start, rows.start + block.stop))
            table = prediction_table(ids, proba(x), classes)
            writer = writer or pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
            written += table.num_rows
        if writer is None:
            # an empty part still gets the columns of a prediction table
            ids, x = model_inputs(data, slice(rows.start, rows.start))
            pq.write_table(prediction_table(ids, proba(x), classes), tmp)
        else:
            writer.close()
    return written
