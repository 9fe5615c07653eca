"""One spectrum as the explorer shows it: the window the model reads and the whole
spectrum as ingested, read from the pool's stores row by row (never the whole pool)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import xarray as xr

from alspec import layout
from alspec.pool.store import open_store


@cache
def _store(path: Path) -> xr.Dataset:
    return open_store(path)


def whole_spectrum(pool: Path, shard: str, row: int) -> tuple[np.ndarray, np.ndarray]:
    """(wavelength, flux) of the spectrum at `row` of `shard`, masked pixels as NaN."""
    data = _store(pool / layout.SHARDS / shard / layout.SHARD_STORE).isel(spectrum=int(row))
    flux, ivar = data.flux.values.astype(float), data.ivar.values
    return data.wavelength.values, np.where(ivar > 0, flux, np.nan)


def window_of(pool: Path, spectrum_id: str, row: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(wavelength, flux) of the window the CNN reads for `spectrum_id` (at `row` of the
    pool), None when it has no usable window or the pool none at all (a detector on raw
    values)."""
    if not (pool / layout.WINDOW).exists():
        return None
    data = _store(pool / layout.WINDOW)
    if row >= data.sizes["spectrum"] or str(data.id[row].values) != spectrum_id:
        rows = np.flatnonzero(data.id.values == spectrum_id)
        if not rows.size:
            return None
        row = int(rows[0])
    one = data.isel(spectrum=int(row))
    if not bool(one.valid.values):
        return None
    return one.window_wavelength.values, one.flux.values.astype(float)
