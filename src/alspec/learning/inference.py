"""Classify the whole pool: stream its windows (or features) from Zarr block by block
through a model into a Parquet table, so memory stays one block deep at any pool size.

A pool can be split into `parts` contiguous ranges of blocks, one job each; the query
step gathers the parts. A model that returns a committee's probabilities (members, n,
classes) gets the committee's consensus and every committee strategy's score stored
beside them, so the members' probabilities never need to be written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xarray as xr

from alspec.errors import ConfigError
from alspec.io import atomic_output
from alspec.learning.learners import LEARNERS, Learner, Proba
from alspec.pool.store import iter_blocks, open_store
from alspec.query.strategies import COMMITTEE, consensus, entropy
from alspec.vocabulary import CNN_MODEL, probability_columns

logger = logging.getLogger(__name__)

T = TypeVar("T")


def part_rows(n: int, part: int, parts: int, block_size: int) -> slice:
    """Rows of part `part` of `parts`: whole blocks, as even as blocks allow."""
    if not 0 <= part < parts:
        raise ConfigError(f"part {part} of {parts}: parts are numbered 0 .. {parts - 1}")
    blocks = -(-n // block_size)
    per_part = -(-blocks // parts)
    return slice(min(n, part * per_part * block_size), min(n, (part + 1) * per_part * block_size))


def model_inputs(learner: Learner, store: xr.Dataset, rows: slice) -> tuple[np.ndarray, np.ndarray]:
    """(ids, x) of the spectra among `rows` that the `learner` can classify."""
    x, usable = learner.inputs(store.isel(spectrum=rows))
    return store.id[rows].values[usable], x[usable]


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


def read_ahead(blocks: Iterable[slice], read: Callable[[slice], T]) -> Iterator[T]:
    """`read(block)` of each block, the next one read in a thread while the caller
    computes on this one: the cores never wait for the disk."""
    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = None
        for block in blocks:
            upcoming = reader.submit(read, block)
            if pending is not None:
                yield pending.result()
            pending = upcoming
        if pending is not None:
            yield pending.result()


def predict_pool(
    proba: Proba,
    store: str | Path,
    classes: Sequence[str],
    out: str | Path,
    block_size: int,
    part: int = 0,
    parts: int = 1,
    learner: Learner | None = None,
) -> int:
    """Write the predictions of part `part` of `parts` of the pool in `store` to `out`;
    `proba(x)` gives (n, classes) probabilities, or (members, n, classes) of a committee,
    on the inputs `learner` reads (the CNN's windows by default).
    Returns the number of spectra predicted."""
    learner = learner or LEARNERS[CNN_MODEL]
    data = open_store(store)
    learner.check_store(data, store)
    rows = part_rows(data.sizes["spectrum"], part, parts, block_size)
    written = 0

    def read(block: slice) -> tuple[np.ndarray, np.ndarray]:
        return model_inputs(learner, data, slice(rows.start + block.start, rows.start + block.stop))

    with atomic_output(out) as tmp:
        writer = None
        for ids, x in read_ahead(iter_blocks(rows.stop - rows.start, block_size, "predict"), read):
            table = prediction_table(ids, proba(x), classes)
            writer = writer or pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
            written += table.num_rows
        if writer is None:
            # an empty part still gets the columns of a prediction table
            ids, x = model_inputs(learner, data, slice(rows.start, rows.start))
            pq.write_table(prediction_table(ids, proba(x), classes), tmp)
        else:
            writer.close()
    return written
