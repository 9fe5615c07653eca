"""Principal components of the pool's spectra: fitted on a random sample (held in memory),
then every spectrum projected block by block, so the step's memory does not grow with
the pool. What PCA sees: each spectrum continuum-normalised and binned."""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr
from dask_ml.decomposition import PCA

from alspec.features.blocks import SPECTRUM
from alspec.pool.preprocess import continuum_normalise, rebin
from alspec.runtime.dask_client import compute


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
