"""Each spectrum's nearest spectra in the features space: "more like this" in the explorer.

The space is the one discovery and the anomaly detector measure distances in: the PCA
scores and the line measurements, each standardised (alspec.features.matrix.prepared).
An approximate nearest-neighbour graph (NN-descent, pynndescent, as umap-learn builds
its own) is computed once per pool and stored row by row, so that asking for one
spectrum's neighbours reads one row, whatever the pool's size.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from alspec.features.matrix import feature_matrix, prepared

SPECTRUM, NEIGHBOUR = "spectrum", "neighbour"
# Up to this many spectra every distance is computed (under a second here), which also
# spares NN-descent's compilation (about 20 s in each new process).
EXACT_UP_TO = 4096


def neighbour_graph(
    matrix: np.ndarray,
    k: int,
    seed: int,
    threads: int | None = None,
    exact_up_to: int = EXACT_UP_TO,
) -> tuple[np.ndarray, np.ndarray]:
    """The `k` nearest other rows of every row of `matrix` (Euclidean), nearest first:
    (indices int32, distances float32), each (rows, k). NN-descent with `seed` keeps 2k
    neighbours and tries up to 60 candidates a round: measured on 20,000 rows of 12
    normal features (k 10), 99.95 % of the k kept are the true nearest (99.79 % with
    pynndescent's defaults). A pool of at most `exact_up_to` (or 2k + 1) rows is
    answered exactly; `threads` None: all cores."""
    rows = len(matrix)
    if rows <= max(exact_up_to, 2 * k + 1):
        return exact_neighbours(matrix, k)
    from pynndescent import NNDescent  # numba compiles on import: only when a graph is built

    index = NNDescent(
        matrix.astype(np.float32),
        n_neighbors=2 * k + 1,
        max_candidates=60,
        random_state=seed,
        n_jobs=threads,
        low_memory=True,
        compressed=True,
    )
    indices, distances = index.neighbor_graph
    return without_self(indices, distances, k)


def without_self(indices: np.ndarray, distances: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Each row's `k` nearest other rows: itself removed wherever NN-descent put it (a
    duplicate spectrum may come first), the rest kept in order."""
    rows = np.arange(len(indices))[:, None]
    keep = indices != rows
    order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(indices, order, axis=1).astype(np.int32)
    return picked, np.take_along_axis(distances, order, axis=1).astype(np.float32)


def exact_neighbours(matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute force, for a small pool: every distance computed."""
    squared = (matrix**2).sum(axis=1)
    distance = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * matrix @ matrix.T, 0))
    np.fill_diagonal(distance, np.inf)
    k = min(k, len(matrix) - 1)
    order = np.argsort(distance, axis=1, kind="stable")[:, :k]
    return order.astype(np.int32), np.take_along_axis(distance, order, axis=1).astype(np.float32)


def neighbours_dataset(
    features: xr.Dataset, k: int, seed: int, threads: int | None = None
) -> xr.Dataset:
    """The neighbour graph of every spectrum of a features store, as a Dataset beside
    the store's ids: `neighbours` (spectrum, neighbour) row numbers, `distance`."""
    indices, distances = neighbour_graph(
        prepared(feature_matrix(features)), k=k, seed=seed, threads=threads
    )
    return xr.Dataset(
        {
            "neighbours": ((SPECTRUM, NEIGHBOUR), indices),
            "distance": ((SPECTRUM, NEIGHBOUR), distances),
        },
        coords={"id": (SPECTRUM, features.id.values)},
        attrs={"space": "standardised PCA scores and line measurements", "k": k, "seed": seed},
    )
