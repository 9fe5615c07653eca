"""Measurements of one spectral line (Hα by default) against a local pseudo-continuum.

`measure` is a pure function on rows of spectra: `flux` and `ivar` (n_spectra,
n_pixels) on the wavelengths `wavelength` (n_pixels,), vacuum Å; `line_measurements`
applies it to the whole pool, block by block. The continuum is the straight line
through the mean flux of the continuum bands either side of the line, as for Lick
indices, so the measurements need no global continuum fit.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from alspec.features.blocks import SPECTRUM, per_block, region
from alspec.io import as_strings

MEASUREMENTS = {
    "ew": "equivalent width, Å: positive for absorption, negative for emission",
    "peak": "highest flux in the core above the continuum, in units of the continuum",
    "trough": "deepest flux in the core below the continuum, in units of the continuum",
    "asymmetry": "(blue - red) / (blue + red) of |1 - F/Fc| integrated either side of the centre",
    "coverage": "fraction of the core's pixels that are usable",
}
# What describes the line's shape, the features a model reads: the coverage describes
# the data, not the line.
LINE_FEATURES = tuple(name for name in MEASUREMENTS if name != "coverage")


@dataclass(frozen=True)
class Line:
    """A line: its vacuum centre, the core it is measured over, and the blue and red
    continuum bands."""

    name: str
    centre: float
    core: tuple[float, float]
    continuum: tuple[tuple[float, float], tuple[float, float]]

    @classmethod
    def from_config(cls, entry: dict) -> Line:
        bands = tuple(tuple(band) for band in entry["continuum"])
        return cls(entry["name"], entry["centre"], tuple(entry["core"]), bands)


def _masked(flux: np.ndarray, ivar: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    return np.where(ivar[:, pixels] > 0, flux[:, pixels], np.nan)


def pseudo_continuum(
    wavelength: np.ndarray, flux: np.ndarray, ivar: np.ndarray, line: Line
) -> np.ndarray:
    """The continuum at every wavelength, per row: the straight line through the mean
    flux of the blue and of the red continuum band; NaN if a band has no usable pixel."""
    centres, means = [], []
    for low, high in line.continuum:
        pixels = (wavelength >= low) & (wavelength <= high)
        centres.append(wavelength[pixels].mean() if pixels.any() else np.nan)
        means.append(np.nanmean(_masked(flux, ivar, pixels), axis=1))
    (blue_centre, red_centre), (blue, red) = centres, means
    slope = (red - blue) / (red_centre - blue_centre)
    return blue[:, None] + slope[:, None] * (wavelength - blue_centre)


def _integral(values: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Σ values × pixel widths per row, the missing (NaN) pixels taking the width-weighted
    mean of the others; NaN for a row with none."""
    covered = np.where(np.isfinite(values), widths, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(values * widths, axis=1) / covered * widths.sum()


def measure(
    wavelength: np.ndarray,
    flux: np.ndarray,
    ivar: np.ndarray,
    line: Line,
    min_coverage: float = 0.5,
) -> dict[str, np.ndarray]:
    """Each of MEASUREMENTS per row; NaN where less than `min_coverage` of the core is
    usable or the continuum is unknown."""
    core = (wavelength >= line.core[0]) & (wavelength <= line.core[1])
    widths = np.gradient(wavelength)[core]
    level = pseudo_continuum(wavelength, flux, ivar, line)[:, core]
    ratio = _masked(flux, ivar, core) / np.where(level > 0, level, np.nan)
    depth = 1.0 - ratio
    # the share of each pixel's width on the blue side of the centre
    blue = np.clip((line.centre - wavelength[core]) / widths + 0.5, 0.0, 1.0)
    coverage = np.isfinite(ratio).mean(axis=1)
    blue_area = _integral(np.abs(depth), widths * blue)
    red_area = _integral(np.abs(depth), widths * (1 - blue))
    total = blue_area + red_area
    with warnings.catch_warnings():  # rows without a usable pixel are NaN, as documented
        warnings.simplefilter("ignore", RuntimeWarning)
        values = {
            "ew": _integral(depth, widths),
            "peak": np.nanmax(ratio, axis=1) - 1.0,
            "trough": 1.0 - np.nanmin(ratio, axis=1),
            "asymmetry": np.where(total > 0, (blue_area - red_area) / total, 0.0),
        }
    usable = coverage >= min_coverage
    out = {
        name: np.where(usable, value, np.nan).astype(np.float32) for name, value in values.items()
    }
    out["coverage"] = coverage.astype(np.float32)
    return out


def line_measurements(pool: xr.Dataset, lines: list[Line]) -> xr.Dataset:
    """MEASUREMENTS of each line, lazily, block by block (dims spectrum x line)."""
    edges = [edge for line in lines for band in (line.core, *line.continuum) for edge in band]
    around = region(pool, min(edges), max(edges))
    names = [line.name for line in lines]

    def one_block(block: xr.Dataset) -> xr.Dataset:
        values = [
            measure(block.wavelength.values, block.flux.values, block.ivar.values, line)
            for line in lines
        ]
        return xr.Dataset(
            {
                name: ((SPECTRUM, "line"), np.stack([v[name] for v in values], axis=1))
                for name in MEASUREMENTS
            },
            coords={"id": block.id, "line": as_strings(names)},
        )

    variables = {name: ((SPECTRUM, "line"), (len(lines),), np.float32) for name in MEASUREMENTS}
    out = per_block(one_block, around, variables, {"line": as_strings(names)})
    for name, meaning in MEASUREMENTS.items():
        out[name].attrs["description"] = meaning
    out["line_centre"] = ("line", [line.centre for line in lines])
    return out
