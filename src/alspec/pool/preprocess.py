"""Pure array functions that bring spectra onto common grids and normalise them.

Spectra are rows: `flux` and `ivar` have shape (n_spectra, n_pixels). A pixel with
zero inverse variance carries no information (masked, outside the data, or bad).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
from scipy.ndimage import gaussian_filter1d

from alspec.errors import ConfigError


def log_wavelength_grid(start: float, stop: float, log10_step: float) -> np.ndarray:
    """Log-linear grid from `start` to `stop` (inclusive where it lands), like LAMOST's."""
    n = int(np.floor((np.log10(stop) - np.log10(start)) / log10_step + 1e-9)) + 1
    return 10.0 ** (np.log10(start) + log10_step * np.arange(n))


def window_grid(start: float, stop: float, points: int) -> np.ndarray:
    """The `points` wavelengths of a window, evenly spaced from `start` to `stop`."""
    return np.linspace(start, stop, points)


def pool_grid(grid: Mapping[str, float | None]) -> np.ndarray:
    """The pool's grid from config `pool.grid`: log-linear in wavelength (`log10_step`),
    or `points` evenly spaced when given, for tables whose columns are not wavelengths
    (seed 004's curves on x in [0, 1])."""
    if grid["stop"] <= grid["start"]:
        raise ConfigError(
            f"pool.grid: stop {grid['stop']} must be greater than start {grid['start']}"
        )
    if grid.get("points"):
        return window_grid(grid["start"], grid["stop"], int(grid["points"]))
    return log_wavelength_grid(grid["start"], grid["stop"], grid["log10_step"])


def air_to_vacuum(wavelength: np.ndarray) -> np.ndarray:
    """Vacuum wavelengths (Å) from air ones, seed 003 eq. 2.2 with s = 10^4 / λ_air."""
    s2 = (1e4 / wavelength) ** 2
    n = 1 + 8.34254e-5 + 2.406147e-2 / (130 - s2) + 1.5998e-4 / (38.9 - s2)
    return n * wavelength


def blur(values: np.ndarray, fwhm: float, step: float) -> np.ndarray:
    """Convolve with a Gaussian line-spread function of full width `fwhm`, on a grid of
    uniform `step` (both in the same units: ln λ or log10 λ, where R is constant)."""
    return gaussian_filter1d(values, fwhm / 2.3548 / step, mode="nearest")


def degrade_resolution(
    wavelength: np.ndarray, flux: np.ndarray, resolving_power: float, target: float
) -> np.ndarray:
    """The spectrum seen at the lower resolving power `target`, on its own wavelengths.

    Resolution is constant in ln λ (FWHM = 1/R), so the spectrum is put on a uniform
    ln λ grid finer than its finest pixel, convolved with a Gaussian whose FWHM is
    sqrt(1/target² - 1/R²) and sampled back: line centres stay, widths add in
    quadrature, flux is conserved (seed 002 section 3; seed 003 section 2.1.6).
    """
    if target >= resolving_power:
        raise ConfigError(f"target resolving power {target} is not below {resolving_power}")
    log_wavelength = np.log(wavelength)
    step = np.min(np.diff(log_wavelength)) / 2
    fine = np.arange(log_wavelength[0], log_wavelength[-1] + step / 2, step)
    kernel_fwhm = np.sqrt(1 / target**2 - 1 / resolving_power**2)
    blurred = blur(np.interp(fine, log_wavelength, flux), kernel_fwhm, step)
    return np.interp(log_wavelength, fine, blurred)


def resample(
    wavelength: np.ndarray, flux: np.ndarray, ivar: np.ndarray, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Resample one spectrum onto `grid`.

    A spectrum whose pixels are grid pixels (LAMOST's, on the default grid) is copied
    into place. Otherwise flux and variance are interpolated linearly, and a grid pixel
    gets zero weight when it lies outside the data or next to a pixel of zero weight,
    so masks survive resampling.
    """
    if (np.diff(wavelength) < 0).any():
        order = np.argsort(wavelength)
        wavelength, flux, ivar = wavelength[order], flux[order], ivar[order]
    good = np.isfinite(flux) & np.isfinite(ivar) & (ivar > 0)
    start = int(np.searchsorted(grid, wavelength[0] * (1 - 1e-7)))
    aligned = grid[start : start + wavelength.size]
    tolerance = 1e-6 * np.abs(grid).max()  # of a wavelength; x in [0, 1] starts at 0
    if aligned.size == wavelength.size and np.abs(aligned - wavelength).max() < tolerance:
        flux_out, ivar_out = np.zeros(grid.size), np.zeros(grid.size)
        flux_out[start : start + wavelength.size] = np.where(good, flux, 0.0)
        ivar_out[start : start + wavelength.size] = np.where(good, ivar, 0.0)
        return flux_out, ivar_out
    variance = np.where(good, 1.0 / np.where(good, ivar, 1.0), 0.0)
    flux_out = np.interp(grid, wavelength, np.where(good, flux, 0.0), left=0.0, right=0.0)
    variance_out = np.interp(grid, wavelength, variance)
    touches_bad = np.interp(grid, wavelength, (~good).astype(float)) > 0
    outside = (grid < wavelength[0]) | (grid > wavelength[-1])
    usable = ~(touches_bad | outside) & (variance_out > 0)
    ivar_out = np.where(usable, 1.0 / np.where(usable, variance_out, 1.0), 0.0)
    return np.where(usable, flux_out, 0.0), ivar_out


def extract_window(
    wavelength: np.ndarray, flux: np.ndarray, ivar: np.ndarray, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Interpolate each spectrum's usable pixels onto the window `grid`.

    Returns the window fluxes (n_spectra, len(grid)) and, per spectrum, the fraction
    of the window covered by usable pixels; a spectrum with none gets NaN.
    """
    window = np.full((flux.shape[0], grid.size), np.nan, dtype=np.float32)
    inside = (wavelength >= grid[0]) & (wavelength <= grid[-1])
    coverage = (ivar[:, inside] > 0).mean(axis=1) if inside.any() else np.zeros(flux.shape[0])
    for row in np.flatnonzero(coverage > 0):
        good = ivar[row] > 0
        window[row] = np.interp(grid, wavelength[good], flux[row, good])
    return window, coverage


def standardise(x: np.ndarray) -> np.ndarray:
    """Zero mean and unit variance per row (seed 003 section 2.1.6); flat rows become zero."""
    mean = np.nanmean(x, axis=1, keepdims=True)
    std = np.nanstd(x, axis=1, keepdims=True)
    return ((x - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)


def minmax(x: np.ndarray) -> np.ndarray:
    """Each row scaled onto [0, 1]; flat rows become zero."""
    low = np.nanmin(x, axis=1, keepdims=True)
    span = np.nanmax(x, axis=1, keepdims=True) - low
    return ((x - low) / np.where(span > 0, span, 1.0)).astype(np.float32)


def continuum(flux: np.ndarray, ivar: np.ndarray, segment: int) -> np.ndarray:
    """A smooth continuum under each spectrum: the median of the usable pixels in
    consecutive segments of `segment` pixels, joined linearly between segment centres.

    The median ignores a line narrower than half a segment, absorption or emission
    alike, so dividing by it leaves lines on a flat continuum at 1. Rows with no
    usable pixel get NaN.
    """
    n_spectra, n_pixels = flux.shape
    n_segments = -(-n_pixels // segment)
    padded = np.full((n_spectra, n_segments * segment), np.nan, dtype=np.float32)
    padded[:, :n_pixels] = np.where(ivar > 0, flux, np.nan)
    with warnings.catch_warnings():  # all-NaN segments are expected: gaps, edges
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nanmedian(padded.reshape(n_spectra, n_segments, segment), axis=2)
    centres = np.minimum(np.arange(n_segments) * segment + (segment - 1) / 2, n_pixels - 1)
    pixels = np.arange(n_pixels)
    out = np.full(flux.shape, np.nan, dtype=np.float32)
    for row in range(n_spectra):
        known = np.isfinite(medians[row])
        if known.any():
            out[row] = np.interp(pixels, centres[known], medians[row, known])
    return out


def continuum_normalise(flux: np.ndarray, ivar: np.ndarray, segment: int) -> np.ndarray:
    """flux / continuum: 1 on the continuum, lines as fractions of it; NaN where the
    continuum is unknown or not positive."""
    level = continuum(flux, ivar, segment)
    usable = np.isfinite(level) & (level > 0)
    return np.where(usable, flux / np.where(usable, level, 1.0), np.nan)


NORMALISATIONS = ("standard", "minmax", "continuum")


def normalised_window(
    wavelength: np.ndarray,
    flux: np.ndarray,
    ivar: np.ndarray,
    grid: np.ndarray,
    normalisation: str,
    min_coverage: float,
    segment: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The window the CNN reads: `flux` (n_spectra, len(grid)) interpolated onto `grid`
    and normalised, the fraction of the window `coverage`ed by usable pixels, and
    `valid` where that reaches `min_coverage` (other rows stay NaN, never classified).

    "standard": zero mean, unit variance (seed 003); "minmax": onto [0, 1];
    "continuum": divided by `continuum` over the pixels given, so pass the window with
    a margin of about a `segment` on each side.
    """
    if normalisation not in NORMALISATIONS:
        raise ConfigError(f"normalisation {normalisation!r} is not one of {NORMALISATIONS}")
    if normalisation == "continuum":
        flux = continuum_normalise(flux, ivar, segment)
        ivar = np.where(np.isfinite(flux), ivar, 0.0)
    window, coverage = extract_window(wavelength, flux, ivar, grid)
    valid = coverage >= min_coverage
    if normalisation != "continuum":
        scale = standardise if normalisation == "standard" else minmax
        window[valid] = scale(window[valid])
    window[~valid] = np.nan
    return window, coverage.astype(np.float32), valid


def rebin(x: np.ndarray, factor: int) -> np.ndarray:
    """Mean of each run of `factor` columns (a trailing partial run is dropped): a coarser
    spectrum with less noise per pixel, for PCA and maps."""
    n = x.shape[1] // factor * factor
    return x[:, :n].reshape(x.shape[0], -1, factor).mean(axis=2)
