"""A labelled set from another instrument, made to look like the pool (seed 003 FR6,
seed 002 section 3): e.g. Ondřejov spectra at R ≈ 13,000 in air wavelengths become
LAMOST-like windows at R ≈ 1,800 in vacuum, so that the CNN can train on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from tqdm import tqdm

from alspec.errors import InputError
from alspec.features.window import window_dataset
from alspec.pool.formats import Spectrum, read_spectra
from alspec.pool.preprocess import air_to_vacuum, degrade_resolution, normalised_window, resample


def to_pool(
    spectrum: Spectrum, resolving_power: float, target: float, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Flux and ivar on the pool's `grid`: air to vacuum (eq. 2.2), blurred from
    `resolving_power` to `target` at the spectrum's own sampling (before the coarser
    grid can alias it), then resampled; masked pixels stay masked."""
    wavelength = air_to_vacuum(spectrum.wavelength) if spectrum.air else spectrum.wavelength
    good = np.isfinite(spectrum.flux) & (spectrum.ivar > 0)
    if not good.any():
        return np.zeros(grid.size), np.zeros(grid.size)
    bridged = np.interp(wavelength, wavelength[good], spectrum.flux[good])  # no NaN in the blur
    blurred = degrade_resolution(wavelength, bridged, resolving_power, target)
    return resample(wavelength, blurred, np.where(good, spectrum.ivar, 0.0), grid)


def relabel(labels: pd.DataFrame, label_map: dict[str, str]) -> pd.DataFrame:
    """The set's labels in the pool's classes, e.g. {"absorption": "other"}."""
    return labels.assign(label=labels["label"].replace(label_map))


def transfer_windows(
    files: Iterable[Path],
    labels: pd.DataFrame,
    resolving_power: float,
    target: float,
    pool_grid: np.ndarray,
    window: np.ndarray,
    normalisation: str,
    min_coverage: float,
    segment: int,
) -> tuple[xr.Dataset, pd.DataFrame, list[str]]:
    """The labelled spectra of `files` as a window store (the pool window's layout), their
    labels, and a line per spectrum left out and why."""
    wanted = labels.set_index("id")["label"]
    margin = segment if normalisation == "continuum" else 10
    inside = np.flatnonzero((pool_grid >= window[0] - 20) & (pool_grid <= window[-1] + 20))
    region = pool_grid[max(inside[0] - margin, 0) : inside[-1] + margin + 1]
    ids, fluxes, ivars, skipped = [], [], [], []
    for path in tqdm(list(files), desc="transfer", unit="files", mininterval=2):
        for record in read_spectra(path):
            if not isinstance(record, Spectrum):
                skipped.append(f"{record.file}: {record.reason}")
            elif record.id not in wanted.index:
                skipped.append(f"{path}: {record.id} has no label")
            else:
                flux, ivar = to_pool(record, resolving_power, target, region)
                ids.append(record.id)
                fluxes.append(flux)
                ivars.append(ivar)
    if not ids:
        raise InputError("transfer: no labelled spectrum among the files")
    flux, coverage, valid = normalised_window(
        region, np.array(fluxes), np.array(ivars), window, normalisation, min_coverage, segment
    )
    skipped += [f"{i}: the window is not covered" for i in np.array(ids)[~valid]]
    store = window_dataset(
        ids, flux, coverage, valid, window, normalisation=normalisation, resolving_power=target
    )
    kept = pd.DataFrame({"id": np.array(ids)[valid], "label": wanted.loc[ids].to_numpy()[valid]})
    return store, kept, skipped
