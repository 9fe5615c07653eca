"""Pure array functions that bring spectra onto common grids and normalise them.

Spectra are rows: `flux` and `ivar` have shape (n_spectra, n_pixels). A pixel with
zero inverse variance carries no information (masked, outside the data, or bad).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d


def log_wavelength_grid(start: float, stop: float, log10_step: float) -> np.ndarray:
    """Log-linear grid from `start` to `stop` (inclusive where it lands), like LAMOST's."""
    n = int(np.floor((np.log10(stop) - np.log10(start)) / log10_step + 1e-9)) + 1
    return 10.0 ** (np.log10(start) + log10_step * np.arange(n))


def window_grid(start: float, stop: float, points: int) -> np.ndarray:
    """The `points` wavelengths of a window, evenly spaced from `start` to `stop`."""
    return np.linspace(start, stop, points)


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
        raise ValueError(f"target resolving power {target} is not below {resolving_power}")
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
    if aligned.size == wavelength.size and np.abs(aligned / wavelength - 1).max() < 1e-6:
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
