"""Which spectra a gesture picks, computed on the server from the pool's coordinates:
the nearest to a click, those inside a box or a lasso, those a filter expression
keeps, a spectrum's nearest neighbours. A selection is an array of row numbers of the
explorer's table (alspec.explorer.tables), in the order it was made.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.path import Path as Polygon

from alspec.errors import InputError
from alspec.explorer.tables import positions
from alspec.pool.store import open_store

POOL_VIEW = "pool"  # the name a filter expression's table has (SELECT ... FROM pool)


def nearest(
    x: np.ndarray, y: np.ndarray, at: tuple[float, float], scale: tuple[float, float]
) -> int | None:
    """The row nearest to the point `at`, distances measured in units of `scale` (the
    view's width and height, so that near means near on the screen); None if no row
    has finite coordinates."""
    dx = (x - at[0]) / scale[0]
    dy = (y - at[1]) / scale[1]
    distance = np.where(np.isfinite(dx) & np.isfinite(dy), dx * dx + dy * dy, np.inf)
    row = int(np.argmin(distance))
    return None if not np.isfinite(distance[row]) else row


def inside_box(
    x: np.ndarray, y: np.ndarray, x_range: tuple[float, float], y_range: tuple[float, float]
) -> np.ndarray:
    """The rows inside a box (edges included)."""
    keep = (x >= x_range[0]) & (x <= x_range[1]) & (y >= y_range[0]) & (y <= y_range[1])
    return np.flatnonzero(keep)


def inside_polygon(x: np.ndarray, y: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """The rows inside a lasso's polygon (`vertices`, (n, 2)): the box around it first,
    so that only the points near it are tested one by one."""
    vertices = np.asarray(vertices, dtype=float)
    if len(vertices) < 3:
        return np.empty(0, dtype=np.int64)
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    near = inside_box(x, y, (low[0], high[0]), (low[1], high[1]))
    points = np.column_stack([x[near], y[near]])
    return near[Polygon(vertices).contains_points(points)]


def filtered(table: pd.DataFrame, condition: str, limit: int | None = None) -> np.ndarray:
    """The rows for which the SQL `condition` holds (DuckDB, as `alspec sql`): a WHERE
    clause over the table's columns, e.g. "predicted = 'double_peak' AND snrr > 20"."""
    connection = duckdb.connect()
    try:
        connection.register(POOL_VIEW, table.assign(_row=np.arange(len(table))))
        sql = f"SELECT _row FROM {POOL_VIEW} WHERE {condition}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = connection.execute(sql).fetchnumpy()["_row"]
    except duckdb.Error as error:
        first = str(error).splitlines()[0]
        raise InputError(f"filter {condition!r}: {first}") from None
    finally:
        connection.close()
    return np.asarray(rows, dtype=np.int64)


def by_id(ids: pd.Series, wanted: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """The rows of the ids `wanted`, in their order, and the ids the pool does not hold."""
    where = positions(pa.array(ids, pa.string()), list(wanted))
    unknown = [i for i, w in zip(wanted, where, strict=True) if w < 0]
    return where[where >= 0], unknown


class Neighbours:
    """Each spectrum's nearest in the features space, as the neighbours rule stored
    them (alspec.features.neighbours): one row read per question."""

    def __init__(self, store: Path, ids: pd.Series):
        self.store, self.ids = store, ids
        self.graph = open_store(store).neighbours
        self.k = self.graph.sizes["neighbour"]
        self.to_pool = self.to_graph = None  # row maps, made at the first question

    def _map_rows(self) -> None:
        """The graph's rows are the features store's, the explorer's the pool's: the
        same order unless the pool was re-ingested since."""
        pool_ids = pa.array(self.ids, pa.string())
        graph_ids = pa.array(open_store(self.store).id.values, pa.string())
        if len(graph_ids) == len(pool_ids) and pc.all(pc.equal(graph_ids, pool_ids)).as_py():
            self.to_pool = self.to_graph = np.arange(len(pool_ids))
        else:
            self.to_pool = positions(pool_ids, graph_ids)
            self.to_graph = positions(graph_ids, pool_ids)

    def of(self, pool_row: int) -> np.ndarray:
        """The explorer rows of the neighbours of the spectrum at `pool_row`, nearest
        first (empty for a spectrum the index does not hold)."""
        if self.to_graph is None:
            self._map_rows()
        row = self.to_graph[pool_row]
        if row < 0:
            return np.empty(0, dtype=np.int64)
        found = self.to_pool[self.graph[row].values]
        return found[found >= 0].astype(np.int64)
