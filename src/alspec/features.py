"""The pool's window and features as Dask computations.

Every function here builds a lazy xarray Dataset with one task per block of spectra
(the pool's Zarr chunks), so a step holds a few blocks in memory whatever the size of
the pool; `write` computes one where `alspec.cluster.connect` says.
Models fitted to the whole pool (PCA, the map) are fitted on a random sample of it and
then applied block by block.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from dask_ml.decomposition import PCA

from alspec import cluster
from alspec import lines as line_measures
from alspec.cluster import compute
from alspec.io import as_strings
from alspec.lines import Line
from alspec.preprocess import continuum_normalise, normalised_window, rebin

logger = logging.getLogger(__name__)

SPECTRUM = "spectrum"
MAP_METHODS = ("auto", "umap", "tsne", "none")  # config features.map.method


def _per_block(func, data: xr.Dataset, variables: dict, coords: dict) -> xr.Dataset:
    """`func` applied to each block of spectra of `data` (xarray.map_blocks).

    `variables`: name -> (dims, shape of the other dims, dtype) of what `func` returns.
    """
    rows = data.chunks[SPECTRUM]
    n = data.sizes[SPECTRUM]
    template = xr.Dataset(
        {
            name: (dims, da.empty((n, *shape), chunks=(rows, *shape), dtype=dtype))
            for name, (dims, shape, dtype) in variables.items()
        },
        coords={"id": data.id, **coords},
    )
    return xr.map_blocks(func, data, template=template)


def _region(pool: xr.Dataset, low: float, high: float) -> xr.Dataset:
    """Flux and ivar of every spectrum between two wavelengths."""
    return pool[["flux", "ivar"]].sel(wavelength=slice(low, high))


def _pixel_width(pool: xr.Dataset, at: float) -> float:
    wavelength = pool.wavelength.values
    i = min(int(np.searchsorted(wavelength, at)), wavelength.size - 2)
    return float(wavelength[i + 1] - wavelength[i])


# --- the window --------------------------------------------------------------------------------


def window(
    pool: xr.Dataset,
    grid: np.ndarray,
    normalisation: str = "standard",
    min_coverage: float = 0.5,
    segment: int = 100,
) -> xr.Dataset:
    """The window the CNN reads (dims spectrum x window_wavelength): `flux`, `coverage`,
    `valid`; see preprocess.normalised_window. The continuum normalisation reads a
    margin of one segment either side of the window."""
    margin = segment * _pixel_width(pool, grid[0]) if normalisation == "continuum" else 10.0
    region = _region(pool, grid[0] - margin, grid[-1] + margin)

    def one_block(block: xr.Dataset) -> xr.Dataset:
        flux, coverage, valid = normalised_window(
            block.wavelength.values,
            block.flux.values,
            block.ivar.values,
            grid,
            normalisation,
            min_coverage,
            segment,
        )
        return xr.Dataset(
            {
                "flux": ((SPECTRUM, "window_wavelength"), flux),
                "coverage": (SPECTRUM, coverage),
                "valid": (SPECTRUM, valid),
            },
            coords={"id": block.id, "window_wavelength": grid},
        )

    variables = {
        "flux": ((SPECTRUM, "window_wavelength"), (grid.size,), np.float32),
        "coverage": ((SPECTRUM,), (), np.float32),
        "valid": ((SPECTRUM,), (), bool),
    }
    out = _per_block(one_block, region, variables, {"window_wavelength": grid})
    out.attrs = {"normalisation": normalisation, "min_coverage": min_coverage}
    return out


# --- line measurements -------------------------------------------------------------------------


def line_measurements(pool: xr.Dataset, lines: list[Line]) -> xr.Dataset:
    """lines.MEASUREMENTS of each line (dims spectrum x line)."""
    edges = [edge for line in lines for band in (line.core, *line.continuum) for edge in band]
    region = _region(pool, min(edges), max(edges))
    names = [line.name for line in lines]

    def one_block(block: xr.Dataset) -> xr.Dataset:
        values = [
            line_measures.measure(
                block.wavelength.values, block.flux.values, block.ivar.values, line
            )
            for line in lines
        ]
        return xr.Dataset(
            {
                name: ((SPECTRUM, "line"), np.stack([v[name] for v in values], axis=1))
                for name in line_measures.MEASUREMENTS
            },
            coords={"id": block.id, "line": as_strings(names)},
        )

    variables = {
        name: ((SPECTRUM, "line"), (len(lines),), np.float32) for name in line_measures.MEASUREMENTS
    }
    out = _per_block(one_block, region, variables, {"line": as_strings(names)})
    for name, meaning in line_measures.MEASUREMENTS.items():
        out[name].attrs["description"] = meaning
    out["line_centre"] = ("line", [line.centre for line in lines])
    return out


# --- PCA ---------------------------------------------------------------------------------------


def spectra_matrix(pool: xr.Dataset, segment: int, bin_pixels: int) -> da.Array:
    """What PCA and the map see: each spectrum continuum-normalised (missing pixels at the
    continuum, 1) and binned by `bin_pixels`; dask (n_spectra, n_features)."""

    def one_block(flux: np.ndarray, ivar: np.ndarray) -> np.ndarray:
        normalised = np.nan_to_num(continuum_normalise(flux, ivar, segment), nan=1.0)
        return rebin(normalised, bin_pixels).astype(np.float32)

    n_features = pool.sizes["wavelength"] // bin_pixels
    return da.map_blocks(
        one_block,
        pool.flux.data,
        pool.ivar.data,
        chunks=(pool.flux.data.chunks[0], (n_features,)),
        dtype=np.float32,
    )


def sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """A sorted random sample of `size` of `n` rows (all of them when n <= size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def fit_pca(matrix: da.Array, components: int, sample: int, seed: int) -> PCA:
    """dask-ml PCA fitted on a random sample of rows of `matrix`, held in memory."""
    rows = sample_rows(matrix.shape[0], sample, seed)
    training = matrix[rows].rechunk({0: 4096})
    training = compute(training, f"PCA: a sample of {rows.size} spectra", persist=True)
    # tsqr: the exact SVD of a tall matrix, block by block
    pca = PCA(n_components=min(components, *training.shape), svd_solver="tsqr")
    pca.fit(training)
    pca.mean_ = np.asarray(compute(pca.mean_, "PCA: mean spectrum"))
    return pca


def pca_dataset(pool: xr.Dataset, matrix: da.Array, pca: PCA, bin_pixels: int) -> xr.Dataset:
    """Every spectrum's PCA scores (spectrum x component), with the fitted model, so
    that new spectra can be projected the same way."""
    mean, axes = pca.mean_.astype(np.float32), pca.components_.astype(np.float32)
    scores = matrix.map_blocks(
        lambda x: (x - mean) @ axes.T,
        chunks=(matrix.chunks[0], (axes.shape[0],)),
        dtype=np.float32,
    )
    feature_wavelength = rebin(pool.wavelength.values[None, :], bin_pixels)[0]
    component = np.arange(axes.shape[0])
    return xr.Dataset(
        {
            "pca": ((SPECTRUM, "component"), scores),
            "pca_mean": ("feature_wavelength", mean),
            "pca_components": (("component", "feature_wavelength"), axes),
            "explained_variance_ratio": ("component", pca.explained_variance_ratio_),
        },
        coords={"id": pool.id, "component": component, "feature_wavelength": feature_wavelength},
    )


# --- the map -----------------------------------------------------------------------------------


def map_method(method: str, n_spectra: int, tsne_max: int) -> str:
    """ "auto": t-SNE for a pool of at most `tsne_max` spectra (it has no transform, so
    it embeds the whole pool at once), UMAP otherwise."""
    if method not in MAP_METHODS:
        raise ValueError(f"unknown map method {method!r}; known: {', '.join(MAP_METHODS)}")
    if method != "auto":
        return method
    return "tsne" if n_spectra <= tsne_max else "umap"


def embed(scores: da.Array, method: str, sample: int, seed: int) -> da.Array:
    """A 2-D map of the pool from its PCA `scores`: UMAP fitted on a random sample and
    applied to every block; or t-SNE of every spectrum at once (small pools)."""
    if method == "tsne":
        from sklearn.manifold import TSNE

        values = compute(scores, "t-SNE: reading the PCA scores")
        perplexity = min(30.0, max(2.0, (len(values) - 1) / 3))
        coordinates = TSNE(2, perplexity=perplexity, random_state=seed).fit_transform(values)
        return da.from_array(coordinates.astype(np.float32), chunks=(scores.chunks[0], 2))
    import umap

    rows = sample_rows(scores.shape[0], sample, seed)
    training = compute(scores[rows], f"UMAP: reading the PCA scores of {rows.size} spectra")
    logger.info("UMAP: fitting (numba compiles it first, about a minute)")
    reducer = umap.UMAP(n_components=2, random_state=seed, n_jobs=1).fit(training)
    return scores.map_blocks(
        lambda x: reducer.transform(x).astype(np.float32),
        chunks=(scores.chunks[0], (2,)),
        dtype=np.float32,
    )


def write(
    dataset: xr.Dataset, store: Path, description: str, mode: str = "w-", **encoding: Any
) -> None:
    """Write a lazy Dataset to a Zarr store where `connect` said, with progress."""
    cluster.store(
        dataset, store, description, mode=mode, consolidated=False, encoding=encoding or None
    )


def write_window(
    *, pool: str | Path, out: Path, settings: Mapping[str, Any], threads: int = 0
) -> dict[str, Any]:
    """The window step: every spectrum's window (config `window`) into the Zarr store
    `out`, in blocks of pool.block_size, computed where config `dask` says."""
    from alspec.io import atomic_output
    from alspec.pool import open_pool
    from alspec.preprocess import window_grid
    from alspec.provenance import seal

    shape, block_size = settings["window"], settings["pool"]["block_size"]
    grid = window_grid(shape["start"], shape["stop"], shape["points"])
    with cluster.configured(settings, threads), atomic_output(out) as tmp:
        windows = window(
            open_pool(pool),
            grid,
            shape["normalisation"],
            shape["min_coverage"],
            shape["continuum_segment"],
        )
        encoding = {"flux": {"chunks": (block_size, grid.size)}}
        write(windows.chunk({"spectrum": block_size}), tmp, "window", **encoding)
        seal(tmp, name=out.name)
    return {"spectra": windows.sizes["spectrum"], "normalisation": shape["normalisation"]}


def write_features(
    *, pool: str | Path, out: Path, settings: Mapping[str, Any], threads: int = 0
) -> dict[str, Any]:
    """The features step: PCA scores, line measurements and a 2-D map of every spectrum
    (config `features`) into the Zarr store `out`, computed where config `dask` says."""
    from alspec.config import check_lines
    from alspec.io import atomic_output
    from alspec.pool import open_pool, open_store
    from alspec.provenance import seal

    chosen, block_size = settings["features"], settings["pool"]["block_size"]
    pca_settings, map_settings = chosen["pca"], chosen["map"]
    check_lines(chosen["lines"])
    lines = [Line.from_config(entry) for entry in chosen["lines"]]
    with cluster.configured(settings, threads), atomic_output(out) as tmp:
        data = open_pool(pool)
        matrix = spectra_matrix(data, chosen["continuum_segment"], pca_settings["bin"])
        pca = fit_pca(
            matrix, pca_settings["components"], pca_settings["sample"], pca_settings["seed"]
        )
        table = xr.merge(
            [pca_dataset(data, matrix, pca, pca_settings["bin"]), line_measurements(data, lines)],
            compat="override",
        )
        write(table.chunk({"spectrum": block_size}), tmp, "PCA scores and lines")
        method = map_method(
            map_settings["method"], data.sizes["spectrum"], map_settings["tsne_max"]
        )
        if method != "none":
            scores = open_store(tmp).pca.chunk({"spectrum": block_size}).data
            coordinates = embed(scores, method, map_settings["sample"], map_settings["seed"])
            embedding = xr.Dataset(
                {"map_coordinates": (("spectrum", "map_axis"), coordinates)},
                coords={"map_axis": as_strings(["x", "y"])},
                attrs={"map_method": method},
            )
            write(embedding, tmp, f"{method} map", mode="a")
        seal(tmp, name=out.name)
    return {
        "spectra": data.sizes["spectrum"],
        "components": pca.n_components_,
        "explained": float(pca.explained_variance_ratio_.sum()),
        "lines": [line.name for line in lines],
        "map": method,
    }
