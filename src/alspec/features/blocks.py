"""The pool as Dask blocks: a function applied to every block of spectra lazily, and the
lazy result written to Zarr.

Every feature of the pool is a lazy xarray Dataset with one task per block of spectra
(the pool's Zarr chunks), so a step holds a few blocks in memory whatever the size of
the pool; `write` computes it where `alspec.runtime.dask_client.connect` says.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from alspec.runtime import dask_client

SPECTRUM = "spectrum"
# A variable a block function returns: (dims, shape of the dims after spectrum, dtype).
Variable = tuple[tuple[str, ...], tuple[int, ...], Any]


def per_block(
    func: Callable[[xr.Dataset], xr.Dataset],
    data: xr.Dataset,
    variables: dict[str, Variable],
    coords: dict[str, Any],
) -> xr.Dataset:
    """`func` applied to each block of spectra of `data` (xarray.map_blocks); it returns
    the `variables` with the `coords` beside the spectra's ids."""
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


def region(pool: xr.Dataset, low: float, high: float) -> xr.Dataset:
    """Flux and ivar of every spectrum between two wavelengths."""
    return pool[["flux", "ivar"]].sel(wavelength=slice(low, high))


def pixel_width(pool: xr.Dataset, at: float) -> float:
    """The width of the pool's grid pixel at wavelength `at`."""
    wavelength = pool.wavelength.values
    i = min(int(np.searchsorted(wavelength, at)), wavelength.size - 2)
    return float(wavelength[i + 1] - wavelength[i])


def write(
    dataset: xr.Dataset, store: Path, description: str, mode: str = "w-", **encoding: Any
) -> None:
    """Write a lazy Dataset to a Zarr store where `connect` said, with progress."""
    dask_client.store(
        dataset, store, description, mode=mode, consolidated=False, encoding=encoding or None
    )
