"""Grids, resampling with masks, and the normalised window, on hand-checkable inputs."""

from __future__ import annotations

import numpy as np
import pytest

from alspec.config import schema as cfg
from alspec.pool.preprocess import (
    degrade_resolution,
    extract_window,
    log_wavelength_grid,
    pool_grid,
    resample,
    standardise,
    window_grid,
)


def test_log_grid_is_lamost_like():
    grid = log_wavelength_grid(3690, 9100, 1e-4)
    assert grid[0] == pytest.approx(3690)
    assert grid[-1] <= 9100 and grid[-1] > 9100 * 10**-1e-4
    assert np.allclose(np.diff(np.log10(grid)), 1e-4)


def test_a_pool_grid_with_points_is_evenly_spaced_from_start_to_stop():
    grid = pool_grid({"start": 0.0, "stop": 1.0, "log10_step": 1e-4, "points": 100})
    assert grid.size == 100 and grid[0] == 0.0 and grid[-1] == 1.0
    assert np.allclose(np.diff(grid), 1 / 99)


def test_resampling_onto_the_same_grid_is_the_identity():
    wave = log_wavelength_grid(6000, 7000, 1e-4)
    flux = np.linspace(1, 2, wave.size)
    ivar = np.full(wave.size, 4.0)
    out_flux, out_ivar = resample(wave, flux, ivar, wave)
    np.testing.assert_allclose(out_flux, flux)
    np.testing.assert_allclose(out_ivar, ivar)


def test_lamost_pixels_are_copied_onto_the_default_grid_without_interpolation():
    grid = pool_grid(cfg.default("pool", "grid"))
    lamost = (10 ** (3.5682 + 1e-4 * np.arange(3909))).astype(np.float32)  # as stored
    flux = np.random.default_rng(0).normal(10, 1, lamost.size)
    out_flux, out_ivar = resample(lamost.astype(np.float64), flux, np.ones(lamost.size), grid)
    start = int(np.searchsorted(grid, 3699.9))
    np.testing.assert_array_equal(out_flux[start : start + lamost.size], flux)
    assert grid[0] <= 3690 and grid[-1] <= 9100 and (out_ivar[:start] == 0).all()


def test_masked_and_uncovered_pixels_get_zero_weight():
    wave = np.arange(100.0, 200.0)
    flux, ivar = np.ones(100), np.ones(100)
    ivar[50] = 0
    grid = np.arange(90.0, 210.0, 0.5)
    _, out_ivar = resample(wave, flux, ivar, grid)
    assert np.all(out_ivar[(grid > 149) & (grid < 151)] == 0)
    assert np.all(out_ivar[(grid < 100) | (grid > 199)] == 0)
    assert np.all(out_ivar[(grid >= 100) & (grid < 149)] > 0)


def test_linear_interpolation_of_a_line_is_exact():
    wave = np.arange(6500.0, 6800.0, 1.5)
    flux = 3 + 0.01 * wave
    grid = window_grid(6519, 6732, 140)
    window, coverage = extract_window(wave, flux[None, :], np.ones((1, wave.size)), grid)
    np.testing.assert_allclose(window[0], 3 + 0.01 * grid, rtol=1e-6)
    assert coverage[0] == 1.0


def test_window_skips_masked_pixels_and_reports_coverage():
    wave = np.arange(6500.0, 6800.0, 1.0)
    flux = np.ones((2, wave.size))
    ivar = np.ones((2, wave.size))
    flux[0, 100] = 1000.0  # a bad pixel the mask flags
    ivar[0, 100] = 0
    ivar[1] = 0
    window, coverage = extract_window(wave, flux, ivar, window_grid(6519, 6732, 140))
    np.testing.assert_allclose(window[0], 1.0)
    assert np.isnan(window[1]).all() and coverage[1] == 0


def test_standardise_gives_zero_mean_unit_variance():
    x = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0]])
    z = standardise(x)
    np.testing.assert_allclose(z[0].mean(), 0, atol=1e-7)
    np.testing.assert_allclose(z[0].std(), 1, rtol=1e-6)
    np.testing.assert_allclose(z[1], 0), "a flat row becomes zero, not NaN"


def moments(wavelength: np.ndarray, line: np.ndarray) -> tuple[float, float, float]:
    """Area, centre and sigma of an emission line above a zero continuum."""
    area = np.trapezoid(line, wavelength)
    centre = np.trapezoid(line * wavelength, wavelength) / area
    sigma = np.sqrt(np.trapezoid(line * (wavelength - centre) ** 2, wavelength) / area)
    return area, centre, sigma


@pytest.mark.parametrize("centre", [6564.61, 6300.0])
def test_degrading_a_gaussian_line_adds_widths_in_quadrature(centre):
    """An Ondrejov-like spectrum (R 13,000, 0.1 Å pixels) seen at LAMOST's R 1,800."""
    wavelength = np.arange(6250.0, 6700.0, 0.1)
    sigma0 = 0.4
    line = 5.0 * np.exp(-0.5 * ((wavelength - centre) / sigma0) ** 2)
    blurred = degrade_resolution(wavelength, 10 + line, 13_000, 1_800) - 10
    area, blurred_centre, sigma = moments(wavelength, blurred)
    kernel = centre * np.sqrt(1 / 1800**2 - 1 / 13000**2) / 2.3548
    assert blurred_centre == pytest.approx(centre, abs=0.01), "the line stays where it was"
    assert sigma == pytest.approx(np.hypot(sigma0, kernel), rel=0.01)
    assert area == pytest.approx(moments(wavelength, line)[0], rel=1e-3), "flux is conserved"


def test_degrading_keeps_a_flat_spectrum_and_refuses_to_sharpen():
    wavelength = np.linspace(6250, 6700, 2000)
    np.testing.assert_allclose(degrade_resolution(wavelength, np.full(2000, 3.0), 13e3, 1.8e3), 3.0)
    with pytest.raises(ValueError, match="not below"):
        degrade_resolution(wavelength, np.ones(2000), 1800, 13000)
