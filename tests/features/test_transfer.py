"""Training sets from another instrument (seed 003 FR6, seed 002 section 3): air to vacuum,
R 13,000 to the pool's 1,800, on the pool's grid and window; checked on analytic lines."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from alspec.features.transfer import to_pool
from alspec.pool.formats import Spectrum
from alspec.pool.preprocess import air_to_vacuum
from alspec.pool.store import open_store, select
from alspec.survey.spectra import ondrejov_wavelength, render_ondrejov
from alspec.survey.stars import HALPHA

from conftest import CLASSES, GRID, run_alspec


def air_line(centre_air: float, sigma: float) -> Spectrum:
    """A Gaussian emission line of area 1 Å on a flat continuum, sampled as Ondřejov does."""
    air = ondrejov_wavelength()
    profile = np.exp(-0.5 * ((air - centre_air) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return Spectrum("line", air, 1 + profile, np.ones(air.size), air=True)


def moments(wavelength: np.ndarray, excess: np.ndarray) -> tuple[float, float, float]:
    """Area, centre and width of a line above a continuum of 1."""
    area = np.trapezoid(excess, wavelength)
    centre = np.trapezoid(excess * wavelength, wavelength) / area
    width = np.sqrt(np.trapezoid(excess * (wavelength - centre) ** 2, wavelength) / area)
    return area, centre, width


def test_a_line_keeps_its_vacuum_centre_and_flux_and_widths_add_in_quadrature():
    centre_air, sigma = 6562.80, 0.4
    flux, ivar = to_pool(air_line(centre_air, sigma), 13_000, 1_800, GRID)
    near = np.abs(GRID - 6564.6) < 40
    area, centre, width = moments(GRID[near], flux[near] - 1)
    assert area == pytest.approx(1.0, rel=0.01), "flux conserved"
    assert centre == pytest.approx(air_to_vacuum(np.array([centre_air]))[0], abs=0.05)
    # the kernel takes R from 13,000 to 1,800: its FWHM is λ sqrt(1/1800² - 1/13000²)
    kernel = centre * np.sqrt(1 / 1800**2 - 1 / 13_000**2) / 2.3548
    expected = np.sqrt(sigma**2 + kernel**2)
    assert width == pytest.approx(expected, rel=0.03)
    assert (ivar[near] > 0).all() and (ivar[GRID > 6800] == 0).all(), "no data, no weight"


def test_an_ondrejov_be_star_lands_in_vacuum_at_lamost_resolution(rng):
    star = pd.Series(
        {
            "teff": 20000.0,
            "rv_kms": 0.0,
            "snr": 1e6,
            "emission_ew": 20.0,
            "emission_sigma_kms": 30.0,
            "peak_separation_kms": 0.0,
            "violet_to_red": 1.0,
        }
    )
    air = ondrejov_wavelength()
    flux = render_ondrejov(star, rng)
    assert air[np.argmax(flux)] == pytest.approx(6562.80, abs=0.25), "stored in air"
    on_grid, _ = to_pool(
        Spectrum("be", air, flux, np.ones(air.size), air=True), 13_000, 1_800, GRID
    )
    assert GRID[np.argmax(on_grid)] == pytest.approx(HALPHA, abs=1.6), "vacuum, one pixel"
    assert 0 < np.max(on_grid) - 1 < np.sort(flux)[-3:].mean() - 1, "lower once blurred"


@pytest.fixture(scope="module")
def ondrejov(tmp_path_factory):
    out = tmp_path_factory.mktemp("ondrejov")
    size = ("--set", "simulate.n_spectra=60", "--set", "simulate.seed=4")
    run_alspec("simulate", "--external", "--out", out, *size)
    return out


@pytest.fixture(scope="module")
def transferred(ondrejov, tmp_path_factory):
    """The Ondřejov set made to look like the pool: window.zarr and labels.parquet."""
    out = tmp_path_factory.mktemp("transferred")
    result = run_alspec(
        "transfer",
        ondrejov / "spectra",
        "--labels",
        ondrejov / "truth.parquet",
        "--out",
        out / "window.zarr",
        "--labels-out",
        out / "labels.parquet",
    )
    (out / "stdout.txt").write_text(result.stdout)
    return out


def test_transfer_writes_windows_and_labels_in_the_pools_classes(ondrejov, pool, transferred):
    labels = pd.read_parquet(transferred / "labels.parquet")
    truth = pd.read_parquet(ondrejov / "truth.parquet").set_index("id")["label"]
    assert len(labels) == 60 and set(labels["label"]) <= set(CLASSES)
    expected = truth.loc[labels["id"]].replace({"absorption": "other"})
    assert (labels["label"].to_numpy() == expected.to_numpy()).all()
    assert "R 13000 to R 1800" in (transferred / "stdout.txt").read_text()
    window, pool_window = open_store(transferred / "window.zarr"), open_store(pool / "window.zarr")
    assert window.flux.dims == pool_window.flux.dims
    np.testing.assert_allclose(window.window_wavelength, pool_window.window_wavelength)
    assert window.valid.all()
    # emission stars peak in the window's Hα pixels, as LAMOST Be stars do
    top = window.flux.sel(window_wavelength=HALPHA, method="nearest").values
    halpha = pd.Series(top, index=window.id.values)
    by_class = halpha.groupby(labels.set_index("id")["label"]).median()
    assert by_class["single_peak"] > 2 and by_class["other"] < 0
    # training reads the pool's windows and the set's together
    both = select(
        [pool / "window.zarr", transferred / "window.zarr"],
        [labels["id"][0], str(pool_window.id.values[0])],
    )
    assert list(both.id.values) == [labels["id"][0], str(pool_window.id.values[0])]


def test_transfer_names_labels_outside_the_classes(ondrejov, tmp_path):
    result = run_alspec(
        "transfer",
        ondrejov / "spectra",
        "--labels",
        ondrejov / "truth.parquet",
        "--set",
        "initial.external.label_map={}",
        "--out",
        tmp_path / "w.zarr",
        "--labels-out",
        tmp_path / "l.parquet",
        check=False,
    )
    assert result.returncode == 1
    assert "label(s) not among" in result.stderr and "'absorption'" in result.stderr
    assert not (tmp_path / "w.zarr").exists()


def test_train_on_the_external_set(pool, transferred, tmp_path):
    run_alspec(
        "train",
        "--inputs",
        pool / "window.zarr",
        transferred / "window.zarr",
        "--training-set",
        transferred / "labels.parquet",
        "--set",
        "model.architecture=slim",
        "--set",
        "model.epochs=2",
        "--model",
        tmp_path / "model.keras",
        "--report",
        tmp_path / "training.json",
        "--threads",
        2,
    )
    examples = json.loads((tmp_path / "training.json").read_text())["examples"]
    assert sum(examples.values()) == 60 and examples["single_peak"] > 0
