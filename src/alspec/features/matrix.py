"""The features as one matrix, a row per spectrum: what the scikit-learn models, the
anomaly detector and discovery's clusters read from the features store."""

from __future__ import annotations

import numpy as np
import xarray as xr

from alspec.features.lines import LINE_FEATURES


def feature_matrix(features: xr.Dataset) -> np.ndarray:
    """(spectrum, column) float32: the PCA scores, then each line's measurements."""
    columns = [features.pca.values]
    columns += [features[name].values for name in LINE_FEATURES if name in features]
    return np.concatenate(columns, axis=1).astype(np.float32)


def usable(matrix: np.ndarray) -> np.ndarray:
    """Spectra that can be classified: those with PCA scores (lines may be missing)."""
    return np.isfinite(matrix).any(axis=1)


def prepared(matrix: np.ndarray, standardise: bool = True) -> np.ndarray:
    """Features ready for distances: a column's missing values (a line outside the
    spectrum, a masked pixel) set to its median, then, when `standardise`, every column
    scaled to zero mean and unit variance, so that no feature outweighs the others by its
    unit (raw values on one scale are left as they are)."""
    matrix = np.array(matrix, dtype=np.float64)
    medians = np.nanmedian(matrix, axis=0)
    missing = np.isnan(matrix)
    matrix[missing] = np.take(np.nan_to_num(medians), np.nonzero(missing)[1])
    if not standardise:
        return matrix
    spread = matrix.std(axis=0)
    return (matrix - matrix.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
