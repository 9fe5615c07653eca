"""The window the CNN reads: a stretch of every spectrum around the line (Hα by default),
on its own grid and normalised (alspec.pool.preprocess.normalised_window), as one store
layout whether it is made from the pool or from another instrument's labelled set."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from alspec.features.blocks import SPECTRUM, per_block, pixel_width, region
from alspec.io import as_strings
from alspec.pool.preprocess import normalised_window


def window_dataset(
    ids: Sequence[str] | np.ndarray,
    flux: np.ndarray,
    coverage: np.ndarray,
    valid: np.ndarray,
    grid: np.ndarray,
    **attrs: object,
) -> xr.Dataset:
    """A window store (dims spectrum x window_wavelength): the windows' `flux`, the
    fraction of each window `coverage`d by usable pixels and whether it is `valid`
    (classifiable), on `grid`, with the store's `attrs`."""
    return xr.Dataset(
        {
            "flux": ((SPECTRUM, "window_wavelength"), flux),
            "coverage": (SPECTRUM, coverage),
            "valid": (SPECTRUM, valid),
        },
        coords={"id": (SPECTRUM, as_strings(ids)), "window_wavelength": grid},
        attrs=attrs,
    )


def window(
    pool: xr.Dataset,
    grid: np.ndarray,
    normalisation: str,
    min_coverage: float,
    segment: int,
) -> xr.Dataset:
    """Every spectrum's window, lazily, block by block (config `window`). The continuum
    normalisation reads a margin of one segment either side of the window."""
    margin = segment * pixel_width(pool, grid[0]) if normalisation == "continuum" else 10.0
    around = region(pool, grid[0] - margin, grid[-1] + margin)

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
        return window_dataset(block.id.values, flux, coverage, valid, grid)

    variables = {
        "flux": ((SPECTRUM, "window_wavelength"), (grid.size,), np.float32),
        "coverage": ((SPECTRUM,), (), np.float32),
        "valid": ((SPECTRUM,), (), bool),
    }
    out = per_block(one_block, around, variables, {"window_wavelength": grid})
    out.attrs = {"normalisation": normalisation, "min_coverage": min_coverage}
    return out
