"""Normalisations, continuum, line measurements, PCA and maps, on hand-checkable inputs;
and the Dask steps `alspec window` and `alspec features` on pools in Zarr."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from alspec.features.embedding import embed, map_method
from alspec.features.lines import Line, measure
from alspec.features.pca import fit_pca, spectra_matrix
from alspec.pool.preprocess import (
    continuum,
    continuum_normalise,
    minmax,
    normalised_window,
    rebin,
    window_grid,
)
from alspec.pool.store import open_pool, open_store
from alspec.runtime.dask_client import connect

from conftest import GRID, build_pool, run_alspec, write_pool

HALPHA = Line("halpha", 6564.61, (6550.0, 6580.0), ((6510.0, 6540.0), (6590.0, 6620.0)))
WAVE = np.arange(6400.0, 6700.0, 0.5)


def gaussian(wavelength: np.ndarray, centre: float, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * ((wavelength - centre) / sigma) ** 2)


# --- normalisations and continuum ---------------------------------------------------------------


def test_minmax_maps_each_row_onto_zero_one():
    x = np.array([[2.0, 4.0, 3.0], [5.0, 5.0, 5.0]])
    np.testing.assert_allclose(minmax(x), [[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]])


def test_continuum_ignores_narrow_lines_and_follows_a_slope():
    pixels = np.arange(1000.0)
    level = 2.0 + 0.001 * pixels  # a sloped continuum
    flux = level * (1 + 0.8 * gaussian(pixels, 500, 3) - 0.5 * gaussian(pixels, 250, 3))
    fitted = continuum(flux[None, :], np.ones((1, 1000)), segment=100)[0]
    np.testing.assert_allclose(fitted[50:950], level[50:950], rtol=1e-2)
    normalised = continuum_normalise(flux[None, :], np.ones((1, 1000)), segment=100)[0]
    assert normalised[500] == pytest.approx(1.8, rel=1e-2)
    assert normalised[250] == pytest.approx(0.5, rel=1e-2)


def test_continuum_skips_masked_pixels_and_is_nan_without_data():
    flux = np.ones((2, 300))
    ivar = np.ones((2, 300))
    flux[0, 100:150], ivar[0, 100:150] = 1000.0, 0.0  # a masked cosmic ray
    ivar[1] = 0
    fitted = continuum(flux, ivar, segment=100)
    np.testing.assert_allclose(fitted[0], 1.0)
    assert np.isnan(fitted[1]).all()


@pytest.mark.parametrize("normalisation", ["standard", "minmax", "continuum"])
def test_normalised_window(normalisation):
    wave = np.linspace(6300, 6950, 600)
    flux = np.vstack([3 * (1 + gaussian(wave, 6564.6, 4)), np.full(wave.size, 3.0)])
    ivar = np.ones_like(flux)
    ivar[1, (wave > 6500) & (wave < 6700)] = 0  # no usable window
    grid = window_grid(6519, 6732, 140)
    window, coverage, valid = normalised_window(wave, flux, ivar, grid, normalisation, 0.5, 100)
    assert valid.tolist() == [True, False] and np.isnan(window[1]).all()
    assert coverage[0] == 1.0
    row = window[0]
    if normalisation == "standard":
        assert row.mean() == pytest.approx(0, abs=1e-6) and row.std() == pytest.approx(1, rel=1e-5)
    elif normalisation == "minmax":
        assert row.min() == 0 and row.max() == pytest.approx(1)
    else:  # 1 on the continuum, 2 at the top of a line as high as the continuum
        assert row[0] == pytest.approx(1, rel=1e-3) and row.max() == pytest.approx(2, rel=0.01)


def test_rebin_averages_runs_of_pixels():
    np.testing.assert_allclose(rebin(np.arange(10.0)[None, :], 4), [[1.5, 5.5]])


# --- line measurements --------------------------------------------------------------------------


def test_emission_line_equivalent_width_peak_and_symmetry():
    sigma, height = 3.0, 0.8
    flux = 2.0 * (1 + height * gaussian(WAVE, HALPHA.centre, sigma))
    m = measure(WAVE, flux[None, :], np.ones((1, WAVE.size)), HALPHA)
    assert m["ew"][0] == pytest.approx(-height * sigma * np.sqrt(2 * np.pi), rel=1e-3)
    assert m["peak"][0] == pytest.approx(height, rel=1e-3)
    assert m["trough"][0] == pytest.approx(0, abs=1e-4)
    assert m["asymmetry"][0] == pytest.approx(0, abs=0.01)
    assert m["coverage"][0] == 1


def test_absorption_on_a_sloped_continuum():
    level = 1.0 + 0.002 * (WAVE - 6400)
    flux = level * (1 - 0.6 * gaussian(WAVE, HALPHA.centre, 2.0))
    m = measure(WAVE, flux[None, :], np.ones((1, WAVE.size)), HALPHA)
    assert m["ew"][0] == pytest.approx(0.6 * 2.0 * np.sqrt(2 * np.pi), rel=1e-3)
    assert m["trough"][0] == pytest.approx(0.6, rel=3e-3)  # the nearest pixel is 0.11 Å off
    assert m["peak"][0] == pytest.approx(0, abs=1e-4)


def test_asymmetry_of_a_violet_peak_and_missing_core():
    flux = np.vstack([1 + gaussian(WAVE, 6556.0, 1.5), np.ones(WAVE.size)])
    ivar = np.ones_like(flux)
    ivar[1, (WAVE > 6545) & (WAVE < 6575)] = 0  # most of the core masked
    m = measure(WAVE, flux, ivar, HALPHA)
    assert m["asymmetry"][0] == pytest.approx(1.0, abs=1e-3)  # all the line is blue
    assert np.isnan([m[k][1] for k in ("ew", "peak", "trough", "asymmetry")]).all()
    assert m["coverage"][1] < 0.5


# --- the Dask steps over a pool -----------------------------------------------------------------


def line_pool(tmp_path, n: int = 600, seed: int = 0):
    """`n` spectra on the pool grid: a sloped continuum, an Hα line of random height
    (emission or absorption) and noise; the heights are returned."""
    rng = np.random.default_rng(seed)
    heights = rng.uniform(-0.5, 1.5, n)
    level = 1 + 0.3 * (GRID - GRID[0]) / (GRID[-1] - GRID[0])
    line = gaussian(GRID, HALPHA.centre, 3.0)
    flux = level * (1 + heights[:, None] * line) + rng.normal(0, 0.01, (n, GRID.size))
    ivar = np.full(flux.shape, 1e4)
    write_pool(tmp_path / "pool", n, lambda a, b: (flux[a:b], ivar[a:b]), 250, block_size=128)
    return tmp_path / "pool", heights


def test_window_step_is_the_pure_function_block_by_block(pool, tmp_path):
    data = open_pool(pool).load()
    grid = window_grid(6519, 6732, 140)
    expected, _, valid = normalised_window(
        data.wavelength.values, data.flux.values, data.ivar.values, grid, "standard", 0.5, 100
    )
    stored = open_store(pool / "window.zarr")
    assert stored.flux.dims == ("spectrum", "window_wavelength")
    assert list(stored.id.values) == list(data.id.values)
    np.testing.assert_array_equal(stored.valid.values, valid)
    np.testing.assert_allclose(stored.flux.values, expected, atol=1e-5)


def test_continuum_window_of_a_pool(tmp_path):
    pool_dir, heights = line_pool(tmp_path, n=300)
    run_alspec(
        "window",
        "--pool",
        pool_dir,
        "--out",
        tmp_path / "w.zarr",
        "--set",
        "window.normalisation=continuum",
        "--set",
        "pool.block_size=128",
        "--threads",
        2,
    )
    window = open_store(tmp_path / "w.zarr")
    assert window.attrs["normalisation"] == "continuum"
    top = window.flux.sel(window_wavelength=HALPHA.centre, method="nearest")
    # the line as sampled by the pool's pixels, then interpolated onto the window
    profile = np.interp(float(top.window_wavelength), GRID, gaussian(GRID, HALPHA.centre, 3.0))
    np.testing.assert_allclose(top.values, 1 + heights * profile, atol=0.02)


def test_features_step_measures_lines_and_finds_the_line_in_pca(tmp_path):
    pool_dir, heights = line_pool(tmp_path)
    out = tmp_path / "features.zarr"
    result = run_alspec(
        "features",
        "--pool",
        pool_dir,
        "--out",
        out,
        *("--set", "features.pca.components=3", "--set", "features.pca.sample=400"),
        *("--set", "features.map.method=tsne", "--set", "pool.block_size=128"),
        "--threads",
        2,
    )
    assert "features: 600 spectra; 3 PCA components" in result.stdout
    stored = xr.open_zarr(out, consolidated=False)
    assert stored.pca.dims == ("spectrum", "component") and stored.sizes["component"] == 3
    assert stored.ew.dims == ("spectrum", "line") and list(stored.line.values) == ["halpha"]
    assert (
        stored.map_coordinates.dims == ("spectrum", "map_axis")
        and stored.attrs["map_method"] == "tsne"
    )
    np.testing.assert_allclose(
        stored.ew.values[:, 0],
        -heights * 3.0 * np.sqrt(2 * np.pi),
        rtol=0.02,
        atol=0.25,  # noise: 1 % a pixel, about 20 pixels in the core
    )
    # the only thing that varies is the line: the first component is its height
    assert abs(np.corrcoef(stored.pca.values[:, 0], heights)[0, 1]) > 0.999
    assert stored.explained_variance_ratio.values[0] > 0.9
    # the stored model projects a spectrum as the step did
    spectrum = open_pool(pool_dir).isel(spectrum=[7])
    matrix = spectra_matrix(spectrum, 100, 4).compute()
    projected = (matrix - stored.pca_mean.values) @ stored.pca_components.values.T
    np.testing.assert_allclose(projected[0], stored.pca.values[7], rtol=1e-4, atol=1e-4)
    # the map keeps spectra with similar lines together
    order = np.argsort(heights)
    coordinates = stored.map_coordinates.values
    near = np.linalg.norm(coordinates[order[:50]].mean(0) - coordinates[order[:50]], axis=1)
    far = np.linalg.norm(coordinates[order[:50]].mean(0) - coordinates[order[-50:]], axis=1)
    assert near.mean() < far.min()


def test_pca_matches_scikit_learn_on_the_sample(tmp_path):
    from sklearn.decomposition import PCA

    pool_dir, _ = line_pool(tmp_path, n=300, seed=2)
    pool = open_pool(pool_dir)
    with connect("local", threads=2):
        matrix = spectra_matrix(pool, 100, 4)
        fitted = fit_pca(matrix, 3, sample=300, seed=0)
    reference = PCA(3).fit(matrix.compute())
    # the line's component; the other two are noise, equal in variance and so in any order
    ratio = fitted.explained_variance_ratio_[0]
    assert ratio == pytest.approx(reference.explained_variance_ratio_[0], rel=1e-4)
    assert abs(fitted.components_[0] @ reference.components_[0]) == pytest.approx(1, abs=1e-4)
    np.testing.assert_allclose(fitted.components_ @ fitted.components_.T, np.eye(3), atol=1e-5)


@pytest.mark.slow
def test_umap_map_is_fitted_on_a_sample_and_applied_to_every_spectrum(tmp_path):
    """...the same map every time, the blocks computed by two threads."""
    import dask.array as da

    rng = np.random.default_rng(0)
    groups = np.repeat([0, 1], 400)
    scores = da.from_array((rng.normal(0, 1, (800, 5)) + 20 * groups[:, None]), chunks=(100, 5))
    with connect("local", threads=2):
        coordinates, again = (
            embed(scores.astype(np.float32), "umap", 200, seed=0).compute() for _ in range(2)
        )
    np.testing.assert_array_equal(coordinates, again)
    assert coordinates.shape == (800, 2) and np.isfinite(coordinates).all()
    nearest = np.argsort(np.linalg.norm(coordinates[:, None] - coordinates[None], axis=2))[:, 1]
    assert (groups[nearest] == groups).mean() > 0.99


def test_map_method_auto_picks_tsne_for_small_pools():
    assert map_method("auto", 4000, 5000) == "tsne"
    assert map_method("auto", 6000, 5000) == "umap"
    assert map_method("none", 10, 5000) == "none"


def test_lines_of_simulated_be_stars_are_in_emission(pool, survey, tmp_path):
    run_alspec(
        "features",
        "--pool",
        pool,
        "--out",
        tmp_path / "f.zarr",
        *("--set", "features.map.method=none", "--set", "features.pca.components=2"),
        *("--set", "pool.block_size=64"),
        "--threads",
        2,
    )
    stored = xr.open_zarr(tmp_path / "f.zarr", consolidated=False)
    assert "map_coordinates" not in stored
    ew = pd.Series(stored.ew.values[:, 0], index=stored.id.values)
    truth = pd.read_parquet(survey / "truth.parquet").set_index("id")["label"]
    by_class = ew.groupby(truth.reindex(ew.index)).median()
    assert by_class["single_peak"] < 0 and by_class["double_peak"] < 0 < by_class["other"]


@pytest.fixture(scope="module")
def one_shard_window(survey, tmp_path_factory) -> xr.Dataset:
    """The survey's window from a pool in a single shard: what any sharding must give."""
    pool = tmp_path_factory.mktemp("one-shard")
    build_pool([survey / "spectra"], pool, shard_size=1000)
    run_alspec(
        "window", "--pool", pool, "--out", pool / "window.zarr", "--set", "pool.block_size=64"
    )
    return open_store(pool / "window.zarr").load()


@pytest.mark.parametrize(("shard_size", "spectra"), [(1, 20), (7, 200), (90, 200)])
def test_any_shard_size_reads_as_one_pool(survey, tmp_path, one_shard_window, shard_size, spectra):
    """Shards of sizes that do not divide the block (64 here, 1,024 by default; the last
    shard smaller than the rest) give the same window, and the features step runs over
    them: a shard's Zarr chunks are not carried into the pool's stores."""
    files = sorted((survey / "spectra").iterdir())[:spectra]
    build_pool(files, tmp_path, shard_size=shard_size)
    block = "pool.block_size=64"
    run_alspec("window", "--pool", tmp_path, "--out", tmp_path / "window.zarr", "--set", block)
    window = open_store(tmp_path / "window.zarr").load()
    ids = [str(i) for i in window.id.values]
    expected = one_shard_window.isel(
        spectrum=pd.Index([str(i) for i in one_shard_window.id.values]).get_indexer(ids)
    )
    assert len(ids) == spectra
    np.testing.assert_array_equal(window.flux.values, expected.flux.values)
    assert window.flux.encoding["chunks"] == (64, window.sizes["window_wavelength"])
    run_alspec(
        "features", "--pool", tmp_path, "--out", tmp_path / "features.zarr", "--set", block,
        "--set", "features.map.method=none", "--set", "features.pca.components=3",
    )  # fmt: skip
    assert open_store(tmp_path / "features.zarr").sizes["spectrum"] == spectra
