"""A 2-D map of the pool (t-SNE or UMAP) from its PCA scores: what the report and the
explorer draw, every spectrum at its place."""

from __future__ import annotations

import logging
import threading

import dask.array as da
import numpy as np
from sklearn.manifold import TSNE

from alspec.errors import ConfigError
from alspec.features.pca import sample_rows
from alspec.runtime.dask_client import compute

logger = logging.getLogger(__name__)

MAP_METHODS = ("auto", "umap", "tsne", "none")  # config features.map.method


def map_method(method: str, n_spectra: int, tsne_max: int) -> str:
    """ "auto": t-SNE for a pool of at most `tsne_max` spectra (it has no transform, so
    it embeds the whole pool at once), UMAP otherwise."""
    if method not in MAP_METHODS:
        raise ConfigError(f"unknown map method {method!r}; known: {', '.join(MAP_METHODS)}")
    if method != "auto":
        return method
    return "tsne" if n_spectra <= tsne_max else "umap"


def embed(scores: da.Array, method: str, sample: int, seed: int) -> da.Array:
    """A 2-D map of the pool from its PCA `scores`: UMAP fitted on a random sample and
    applied to every block; or t-SNE of every spectrum at once (small pools)."""
    if method == "tsne":
        values = compute(scores, "t-SNE: reading the PCA scores")
        perplexity = min(30.0, max(2.0, (len(values) - 1) / 3))
        coordinates = TSNE(2, perplexity=perplexity, random_state=seed).fit_transform(values)
        return da.from_array(coordinates.astype(np.float32), chunks=(scores.chunks[0], 2))
    # imported only for a UMAP map: umap loads TensorFlow (its parametric UMAP), 4.6 s
    import umap

    rows = sample_rows(scores.shape[0], sample, seed)
    training = compute(scores[rows], f"UMAP: reading the PCA scores of {rows.size} spectra")
    logger.info("UMAP: fitting (numba compiles it first, about a minute)")
    reducer = umap.UMAP(n_components=2, random_state=seed, n_jobs=1).fit(training)
    # one block at a time: UMAP's transform shares its neighbour search's state between
    # calls, and two Dask threads at once gave different maps for the same pool (26 % of
    # the coordinates of the demo's 8,000 spectra, run to run)
    one_at_a_time = threading.Lock()

    def transform(block: np.ndarray) -> np.ndarray:
        with one_at_a_time:
            return reducer.transform(block).astype(np.float32)

    return scores.map_blocks(transform, chunks=(scores.chunks[0], (2,)), dtype=np.float32)
